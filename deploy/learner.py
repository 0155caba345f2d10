"""A simulated learner: a client of the app that speaks Streamlit's own protocol, as the browser does.

What a browser does, and so what this does:

    GET /                          the page (a load balancer sets its affinity cookie on this answer)
    GET /_stcore/health            Streamlit sets its XSRF cookie `_streamlit_xsrf` on this answer
    websocket /_stcore/stream      subprotocols "streamlit, <xsrf cookie>": the second entry is the XSRF
                                   token Streamlit checks against the cookie (double submit)
    → BackMsg rerun_script         ClientState: the page's script hash, the widgets' values
    ← ForwardMsg new_session, navigation, delta…, auto_rerun, script_finished
    PUT /_stcore/upload_file/<session>/<file>   an upload, with the X-Xsrftoken header; the URL comes
                                   from a BackMsg file_urls_request, and names the session: only the
                                   process that holds that session accepts it (hence sticky sessions)

Fragments that refresh themselves (st.fragment(run_every=…)) are driven by the browser: the server
sends auto_rerun (interval, fragment id) and the browser asks for a rerun of that fragment every
interval. The Train page's live panels (pages/ui/live_feed.py) are driven by their scripts: they fetch
GET /train-feed/<token> a few times a second and click the page's hidden buttons when the run has ended
or an epoch has. A Learner does the same, so a simulated class loads the server as a real one does.

The messages are the protobuf classes that ship in the `streamlit` package; nothing is mocked.
"""
import asyncio
import html
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pages.ui import live_feed

XSRF_COOKIE = "_streamlit_xsrf"
PANEL = re.compile(r'class="bl-live" data-feed="([^"]+)" data-phase="(\w+)" data-epochs="(\d+)"')
INSIDE = re.compile(r'class="bl-inside" data-feed="([^"]+)" data-neuron="(\d+)"')
FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY                  # a whole-page run ended
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class LearnerError(RuntimeError):
    """The app did not answer as a browser expects (closed connection, time-out, an exception shown)."""


class Learner:
    """One browser tab on the app at base_url (e.g. "http://127.0.0.1:8501"), driven by coroutines.

    Every method that waits returns the seconds it took; `errors` lists what went wrong on the page
    (exceptions the app showed, a closed connection), `texts` what the page shows now by delta path.
    """

    def __init__(self, base_url, timeout=60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self._http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.session_id = None
        self.pages = {}                  # page name -> page script hash
        self.page_hash = ""
        self.query_string = ""
        self.widgets = {}                # label -> (element type, the element's proto)
        self.texts = {}                  # delta path -> text shown there (markdown, alerts, progress)
        self.states = {}                 # widget id -> WidgetState: what this learner has set
        self.errors = []
        self.fragment_runs = 0
        self._ws = None
        self._reader = None
        self._finished = None
        self._tickers = {}
        self._panels = {}                # "live" / "inside" -> the task doing what that panel's script does
        self._file_urls = {}

    # ---- connection -------------------------------------------------------------------------

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def _get(self, path):
        with self._http.open(self.base_url + path, timeout=self.timeout) as answer:
            return answer.status, answer.read()

    async def open(self, query_string=""):
        """Load the app as a browser does, up to the end of the first page run (seconds)."""
        t0 = time.perf_counter()
        await asyncio.to_thread(self._get, "/")
        await asyncio.to_thread(self._get, "/_stcore/health")
        await self._connect()
        await self._rerun(query_string=query_string)
        return time.perf_counter() - t0

    async def reconnect(self):
        """What the browser does when its websocket closes ("Connecting…"): check the server's health,
        open a new websocket offering the old session id, and rerun the page. A server that does not
        hold that session (another replica) starts a fresh one. Seconds to the page's end."""
        t0 = time.perf_counter()
        old = self.session_id
        await self.close()
        self.widgets, self.texts, self.states = {}, {}, {}
        await asyncio.to_thread(self._get, "/_stcore/health")
        await self._connect(existing_session=old)
        await self._rerun()
        return time.perf_counter() - t0

    @property
    def connected(self):
        return self._reader is not None and not self._reader.done()

    async def _connect(self, existing_session=None):
        host = urllib.parse.urlsplit(self.base_url).netloc
        xsrf = self.cookie(XSRF_COOKIE) or ""
        cookie_header = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        ws_url = "ws" + self.base_url[4:] + "/_stcore/stream"
        self._finished = asyncio.Queue()
        protocols = ["streamlit", xsrf] + ([existing_session] if existing_session else [])
        self._ws = await asyncio.wait_for(connect(ws_url, subprotocols=protocols, origin=f"http://{host}",
                                                  additional_headers={"Cookie": cookie_header}, max_size=None,
                                                  open_timeout=self.timeout), self.timeout)
        self._reader = asyncio.create_task(self._read())

    async def close(self):
        for task in [*self._tickers.values(), *self._panels.values()]:
            task.cancel()
        self._tickers.clear()
        self._panels.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # ---- what the server sends ----------------------------------------------------------------

    async def _read(self):
        try:
            async for raw in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._receive(msg)
        except ConnectionClosed:
            pass
        finally:
            self._finished.put_nowait(None)          # wakes a waiter: the connection is gone

    def _receive(self, msg):
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id
            self._set_pages(msg.new_session.app_pages)
            # A whole-page run starts: forget every fragment timer, as the browser does (its App's
            # cleanupAutoReruns); this run's own auto_rerun messages start them again. Kept, the timers of
            # fragments the run no longer refreshes (a run that ended) asked for reruns that cut every
            # whole-page run short, and Stop seemed to take 2–38 s with five learners.
            for task in [*self._tickers.values(), *self._panels.values()]:
                task.cancel()
            self._tickers.clear()
            self._panels.clear()
        elif kind == "navigation":
            self._set_pages(msg.navigation.app_pages)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(tuple(msg.metadata.delta_path), msg.delta.new_element)
        elif kind == "script_finished":
            if msg.script_finished == FRAGMENT_FINISHED:
                self.fragment_runs += 1
            self._finished.put_nowait(msg.script_finished)
        elif kind == "auto_rerun":
            fid = msg.auto_rerun.fragment_id
            if fid in self._tickers:
                self._tickers[fid].cancel()
            self._tickers[fid] = asyncio.create_task(self._tick(fid, msg.auto_rerun.interval))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                task = self._tickers.pop(fid, None)
                if task is not None:
                    task.cancel()
        elif kind == "file_urls_response":
            future = self._file_urls.pop(msg.file_urls_response.response_id, None)
            if future is not None and not future.done():
                future.set_result(msg.file_urls_response)
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name}")

    def _set_pages(self, app_pages):
        if app_pages:
            self.pages = {p.page_name: p.page_script_hash for p in app_pages}

    def _element(self, path, element):
        etype = element.WhichOneof("type")
        if etype == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}")
            return
        proto = getattr(element, etype)
        if etype == "html":
            self._watch_panels(path, proto.body)
        if hasattr(proto, "id") and hasattr(proto, "label") and proto.id:
            self.widgets[proto.label] = (etype, proto)
        text = {"markdown": lambda: element.markdown.body, "alert": lambda: element.alert.body,
                "progress": lambda: element.progress.text}.get(etype)
        self.texts[path] = text() if text else ""

    def _watch_panels(self, path, body):
        """A live panel was drawn (again): start doing what its script does, in place of the old one's."""
        for kind, match, poll in (("live", PANEL.search(body), self._poll_live),
                                  ("inside", INSIDE.search(body), self._poll_inside)):
            if match:
                if kind in self._panels:
                    self._panels[kind].cancel()
                self._panels[kind] = asyncio.create_task(poll(path, *match.groups()))

    async def _feed(self, url):
        """The feed's answer as a dict (None: the run is gone)."""
        try:
            status, body = await asyncio.to_thread(self._get, url)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
        return json.loads(body)

    async def _press_hidden(self, label):
        """A click on a button the page hides for the panel's script: a rerun request, not waited for."""
        if label in self.widgets:
            await self._send_rerun(triggers=[WidgetState(id=self.widgets[label][1].id, trigger_value=True)])

    async def _poll_live(self, path, feed, phase, epochs):
        """What the live panel's script does: the status line every POLL_MS, the curves every CURVES_MS; a
        click on the page's hidden button when the run has ended, on the results' when an epoch has."""
        curves_at = results_at = 0.0
        epochs = int(epochs)
        try:
            while True:
                now = time.monotonic()
                curves = now - curves_at >= live_feed.CURVES_MS / 1000
                d = await self._feed(feed + ("?curves=1" if curves else ""))
                if d is None:
                    return
                curves_at = now if curves else curves_at
                # the status line as the page's markdown would read it: "**running** — epoch 1/10, …"
                text = re.sub(r"</?b>", "**", re.search(r'<div class="bl-text">(.*?)</div>', d["status"]).group(1))
                self.texts[path] = html.unescape(re.sub(r"<[^>]+>", "", text))
                if d["phase"] != phase:
                    await self._press_hidden(live_feed.SYNC_LABEL)
                    return
                if d["epochs"] != epochs and now - results_at >= live_feed.RESULTS_MS / 1000:
                    await self._press_hidden(live_feed.RESULTS_LABEL)
                    epochs, results_at = d["epochs"], now
                await asyncio.sleep(live_feed.POLL_MS / 1000)
        except (asyncio.CancelledError, ConnectionClosed):
            pass
        except OSError as e:
            self.errors.append(f"live feed: {e}")

    async def _poll_inside(self, path, feed, neuron):
        """What the panel of the views inside the network does: fetch them every INSIDE_MS while the run is live."""
        try:
            while True:
                d = await self._feed(f"{feed}?inside=1&neuron={neuron}")
                if d is None or d["phase"] != "live":
                    return
                await asyncio.sleep(live_feed.INSIDE_MS / 1000)
        except asyncio.CancelledError:
            pass
        except OSError as e:
            self.errors.append(f"inside feed: {e}")

    async def _tick(self, fragment_id, interval):
        """What the browser does for a fragment with run_every: ask for its rerun every interval."""
        try:
            while True:
                await asyncio.sleep(interval)
                await self._send_rerun(fragment_id=fragment_id, auto=True)
        except (asyncio.CancelledError, ConnectionClosed):
            pass

    # ---- what the learner does ------------------------------------------------------------------

    async def _send_rerun(self, triggers=(), fragment_id="", auto=False, query_string=None):
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query_string if query_string is None else query_string
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.widget_states.widgets.extend(list(self.states.values()) + list(triggers))
        await self._ws.send(back.SerializeToString())

    async def _rerun(self, triggers=(), query_string=None):
        """Ask for a whole-page run and wait for it to end (seconds)."""
        while not self._finished.empty():
            self._finished.get_nowait()
        t0 = time.perf_counter()
        await self._send_rerun(triggers, query_string=query_string)
        await self._wait_finished()
        return time.perf_counter() - t0

    async def _wait_finished(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                status = await asyncio.wait_for(self._finished.get(), max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                raise LearnerError(f"the page did not finish within {self.timeout:.0f} s") from None
            if status is None:
                raise LearnerError("the server closed the connection")
            if status == FINISHED:
                return

    async def go_to(self, page_name):
        """Switch to a page by its title, as a click in the sidebar does (seconds to the page's end)."""
        if page_name not in self.pages:
            raise LearnerError(f"no page {page_name!r}; the app has {sorted(self.pages)}")
        self.page_hash = self.pages[page_name]
        self.widgets, self.texts = {}, {}
        return await self._rerun()

    def widget(self, label):
        if label not in self.widgets:
            raise LearnerError(f"no widget {label!r} on this page; it has {sorted(self.widgets)}")
        return self.widgets[label]

    async def click(self, label):
        etype, proto = self.widget(label)
        return await self._rerun(triggers=[WidgetState(id=proto.id, trigger_value=True)])

    async def set_slider(self, label, value):
        """Move a slider (st.slider: a number; st.select_slider: one of its options as shown)."""
        etype, proto = self.widget(label)
        state = WidgetState(id=proto.id)
        if proto.options:
            state.string_array_value.data.append(str(value))
        else:
            state.double_array_value.data.append(float(value))
        self.states[proto.id] = state
        return await self._rerun()

    async def choose(self, label, option):
        """Pick an option of a segmented control, pills, radio or selectbox (as shown)."""
        etype, proto = self.widget(label)
        state = WidgetState(id=proto.id)
        if etype == "button_group":
            state.string_array_value.data.append(str(option))
        else:
            state.string_value = str(option)
        self.states[proto.id] = state
        return await self._rerun()

    async def upload(self, label, name, data, content_type="application/octet-stream"):
        """Put a file into a file uploader as the browser does (seconds, upload and page run)."""
        etype, proto = self.widget(label)
        t0 = time.perf_counter()
        request_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = future
        back = BackMsg()
        back.file_urls_request.CopyFrom(FileURLsRequest(request_id=request_id, file_names=[name],
                                                        session_id=self.session_id))
        await self._ws.send(back.SerializeToString())
        response = await asyncio.wait_for(future, self.timeout)
        if response.error_msg:
            raise LearnerError(f"no upload URL: {response.error_msg}")
        urls = response.file_urls[0]
        status, answer = await asyncio.to_thread(self._put, urls.upload_url, name, data, content_type)
        if status != 204:
            raise LearnerError(f"the upload was refused with HTTP {status} ({answer[:120]})")
        state = WidgetState(id=proto.id)
        state.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls))
        self.states[proto.id] = state
        await self._rerun()
        return time.perf_counter() - t0

    def _put(self, url, name, data, content_type):
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        url = url if url.startswith("http") else self.base_url + url
        request = urllib.request.Request(url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": self.cookie(XSRF_COOKIE) or ""})
        try:
            with self._http.open(request, timeout=self.timeout) as answer:
                return answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    async def wait_for_text(self, predicate, timeout):
        """Seconds until some text on the page satisfies predicate (the fragments keep redrawing it)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if any(predicate(t) for t in list(self.texts.values())):
                return time.perf_counter() - t0
            if self._reader.done():
                raise LearnerError("the server closed the connection")
            await asyncio.sleep(0.05)
        return None

    def shows(self, fragment):
        return any(fragment in t for t in self.texts.values())
