"""The Train page's live panels — the status line, the run's numbers, its loss and accuracy curves, and the
views inside the network — redrawn by the browser from a small feed rather than by Streamlit reruns.

Why not a fragment that reruns a few times a second: every rerun, a fragment's too, makes Streamlit's
frontend render the whole page again. On the Train page that is 150–250 ms of JavaScript per rerun on a
2-core machine (a CPU profile of Chromium: React reconciling the page's ~100 elements, the markdown ones
parsed again); with the live views refreshing 2.6 times a second the browser was busy 60–90 % of the time,
and a key press on the η slider or a click on Pause waited behind it (p95 0.8–1.2 s in
benchmarks/bench_live.py). The panel is one st.html element whose script asks the server for
GET FEED_PATH/<token> every POLL_MS (with the curves every CURVES_MS) and swaps the new HTML in: no
rerun, no React, a few milliseconds of the browser's time. A second panel does the same for the views
inside the network every INSIDE_MS. When the steering fragment has changed the run (the schedule, λ, the
speed), it draws poke(), and the panel asks at once.

The two things a learner does most while watching — move the η slider, click Pause or Resume — the panel's
script also sends straight to the run (POST FEED_PATH/<token>?lr=…|do=…, see steer()) and shows the answer:
a change still made through Streamlit reruns the steering fragment, and the browser shows what follows only
after rendering the whole page again (0.2–0.4 s on 2 busy cores; the status line waited for it). The
fragment's rerun still comes and makes the run agree with the widgets (train_session.sync_live_settings):
the POST only comes first.

The feed is served by the Streamlit server itself: app.py hands route() to st.App. A run's token is 128
random bits made when its page first shows it; only a page that holds the run knows it.

When the run leaves the live phase (it finished, was stopped, diverged), the page must rerun to unlock
the settings and show the results: the panel's script then clicks the page's hidden button SYNC_KEY.
When an epoch has ended it clicks the results' hidden button (RESULTS_KEY, RESULTS_MS, QUIET_MS).
"""
import html
import re
import secrets
import threading
import time
import weakref
from dataclasses import replace

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab.trainer import DONE_STATES, smooth
from pages.ui import inside_views
from pages.ui import train_charts as charts
from pages.ui.svg_figure import figure_svg
from pages.ui.train_session import K

FEED_PATH = "/train-feed"
SYNC_KEY = "train_feed_sync"      # the page's hidden button the panel clicks when the run's phase changes
STEER_KEY = "train_steer_sync"    # the steering part's hidden button, clicked when Pause/Resume show the
                                  # wrong state (a click's redraw of that part can be cut short by another
                                  # part's timed rerun; seen in Chromium: Resume clicked, Pause still disabled)
PAUSE_KEY = "train_pause"         # the Pause button's key (disabled while the run is paused)
RESUME_KEY = "train_resume"       # the Resume button's key (disabled while the run is not paused)
LR_KEY = K + "lr"                 # the η slider's key: the panel sends its new value straight to the run
RESULTS_KEY = "train_results_sync"  # the results' hidden button, clicked when an epoch has ended
RESULTS_MS = 4000                 # ms at least between two such clicks (on the sample at full speed an epoch
                                  # ends every 0.6 s; each rerun costs the browser 150–250 ms)
QUIET_MS = 1500                   # ...and not within this long of the learner's last key press or click: a rerun
                                  # then would make the next key press wait behind it
SYNC_LABEL, STEER_LABEL, RESULTS_LABEL = "Show the ended run", "Redraw", "Redraw the results"   # never shown
HIDE_BUTTONS = (f"<style>.st-key-{SYNC_KEY}, .st-key-{STEER_KEY}, .st-key-{RESULTS_KEY} {{display:none}}</style>")
POLL_MS = 150                     # ms between the panel's requests for the status line and numbers (a change
                                  # the learner made is asked for at once, see poke())
ACTED_MS = (120, 250)             # ms after a key press or click at which the panel asks the feed again: a change
                                  # made through Streamlit (the schedule, λ, the speed) is applied ~0.1 s after the
                                  # key press (the rerun's request and LiveRun.settle), the browser draws that
                                  # rerun 0.2–0.4 s later
CURVES_MS = 500                   # ms between the curves' updates (two SVGs of ~13 kB: ~10 ms to build)
INSIDE_MS = 3000                  # ms between updates of the views inside the network (nine SVGs, ~70 kB, ~60 ms to
                                  # build: what they show moves slowly, one record every few dozen batches)
HALF_WIDTH, FULL_WIDTH = 480, 940  # px a chart is drawn at in half / all of the page's width (it scales to its
                                   # column; these keep its text near the size of the plotly charts')
EMA_TAIL = 200                    # the batch accuracy's moving average over the last EMA_TAIL batches only: the
                                  # weight left on older ones, 0.9^200 ≈ 7e-10, changes no digit shown, and a
                                  # request stays O(1) however long the run (60,000 steps took 20 ms otherwise)

NO_STORE = {"Cache-Control": "no-store"}

_lock = threading.Lock()
_runs = weakref.WeakValueDictionary()      # token -> LiveRun (gone with the run)
_tokens = weakref.WeakKeyDictionary()      # LiveRun -> token


def token(run):
    """The run's feed token (made on first use): 128 random bits, URL-safe."""
    with _lock:
        t = _tokens.get(run)
        if t is None:
            t = _tokens[run] = secrets.token_urlsafe(16)
            _runs[t] = run
        return t


def phase(state):
    """"none", "live" (starting, queued, training or paused) or "ended"."""
    if state == "none":
        return "none"
    return "ended" if state in DONE_STATES else "live"


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def fmt_speed(x):
    return "full speed" if x is None else f"{x:g} batch/s" if x == 1 else f"{x:g} batches/s"


def shown_lr(snap):
    """The η the status line quotes: the run's current one (the configured one before its first step)."""
    return snap.lr_now if snap.step or snap.state != "idle" else snap.config.lr


def status_text(snap):
    """The status line, e.g. "**running** — epoch 1/10, batch 12/57 · η = 0.1 · 30 batches/s" (markdown)."""
    return (f"**{snap.state}** — {snap.status()} · η = {shown_lr(snap):.3g}"
            + ("" if snap.speed is None else f" · {fmt_speed(snap.speed)}"))


def numbers(snap):
    """[(label, value, help)] of the six numbers under the status line."""
    last = snap.epochs_log[-1] if snap.epochs_log else {}
    accs = snap.batch_accs
    cores = "" if not snap.cores else (f" This run computes on {snap.cores} core(s): at full speed a run gets the "
                                       "server's cores but the one that draws the pages, shared with the runs "
                                       "training at the same time; a slowed run uses one.")
    return [
        ("Loss (smoothed)", "—" if snap.loss_now is None else f"{snap.loss_now:.4f}",
         "Moving average of the batch losses, s ← 0.9·s + 0.1·L: the same number the divergence check uses."),
        ("Batch accuracy", pct(smooth(accs[-EMA_TAIL:])[-1]) if len(accs) else "—",
         "Moving average of the accuracy on the training batches (before each update)."),
        ("Validation acc.", pct(last.get("val_acc")), "At the end of the last epoch."),
        ("Test acc.", pct(snap.evaluation["accuracy"]) if snap.evaluation else "—",
         "On the test set, at the last epoch end (or when the run ended)."),
        ("Samples / s", f"{snap.samples_per_s:,.0f}", "Training throughput (pauses excluded)." + cores),
        ("Elapsed", f"{snap.elapsed:.1f} s", "Time spent training (pauses and evaluation excluded)."),
    ]


def notes(snap):
    """What the run needs to say while it is live: its place in the queue, layers of dead ReLUs."""
    out = []
    if snap.state == "waiting" and snap.queue_position:
        out.append(("info", snap.message))
    if snap.config.activation == "relu" and len(snap.dead):
        dead = [l + 1 for l, f in enumerate(snap.dead[-1]) if f >= 1.0]
        if dead:
            out.append(("warning", f"Every ReLU in hidden layer {', '.join(map(str, dead))} is dead (z ≤ 0 for the "
                                   "whole batch): no gradient flows through it any more."))
    return out


# ---- the HTML the panel shows ---------------------------------------------------------------------

def _bold(text):
    """Markdown's **bold** as <b>, everything else escaped."""
    parts = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def status_html(snap):
    width = 100 * min(max(snap.progress, 0.0), 1.0)
    return (f'<div class="bl-text">{_bold(status_text(snap))}</div>'
            f'<div class="bl-bar"><div style="width:{width:.1f}%"></div></div>')


def numbers_html(snap):
    return "".join(f'<div class="bl-number"><div class="bl-label" title="{html.escape(h)}">{html.escape(label)}</div>'
                   f'<div class="bl-value">{html.escape(value)}</div></div>' for label, value, h in numbers(snap))


def notes_html(snap):
    return "".join(f'<div class="bl-note bl-{kind}" role="status">{_bold(text)}</div>' for kind, text in notes(snap))


def inside_html(snap, sizes, neuron):
    """The views inside the network (pages/ui/inside_views.py's rows) as HTML: SVG charts and captions."""
    def item(kind, content, width):
        return (f'<div class="bl-cell">{figure_svg(content, width)}</div>' if kind == "chart" else
                f'<div class="bl-cell"><p class="bl-caption">{_bold(content)}</p></div>')
    return "".join('<div class="bl-row">' + "".join(item(kind, content, FULL_WIDTH if len(row) == 1 else HALF_WIDTH)
                                                    for kind, content, *_ in row) + "</div>"
                   for row in inside_views.rows(snap, sizes, neuron))


def explain_html(snap):
    return "".join(f"<li><b>{html.escape(topic)}</b>: {_bold(text)}</li>" for topic, text in inside_views.explanations(snap))


def feed(run, curves=False, inside=False, neuron=1):
    """What the panels show now: {"phase", "paused", "epochs", "lr" (the η the learner set, before the schedule),
    "status", "numbers", "notes"}; with curves=True also
    "loss" and "accuracy" (SVG), with inside=True "inside" and "explain" (the views inside the network with
    first-layer neuron `neuron` shown large, and what they mean)."""
    snap = run.snapshot() if curves or inside else run.snapshot(last=EMA_TAIL)   # the status line reads the end
    out = {"phase": phase(snap.state), "paused": run.paused, "epochs": len(snap.epochs_log), "lr": snap.config.lr,
           "status": status_html(snap), "numbers": numbers_html(snap), "notes": notes_html(snap)}
    if curves:
        out["loss"] = figure_svg(charts.loss_figure(snap), HALF_WIDTH)
        out["accuracy"] = figure_svg(charts.accuracy_figure(snap), HALF_WIDTH)
    if inside:
        sizes = snap.config.sizes(run.data.images.shape[1], len(run.data.class_names))
        out["inside"], out["explain"] = inside_html(snap, sizes, neuron), explain_html(snap)
    return out


def steer(run, query):
    """What the learner just did on the page, applied to the run at once (POST, see serve()): ?lr=<η> the η
    slider's new value, ?do=pause or ?do=resume a click on Pause or Resume; both may come together. Waits for
    the worker's report (LiveRun.settle), so the answer's status line quotes the run's own η and state.

    The page's own path for these stays: the steering fragment's rerun makes the run's settings equal to the
    widgets' (train_session.sync_live_settings), so the widget and the run agree even if this request never
    came. This one only comes first: it does not wait for that rerun, which the browser draws by rendering
    the whole page again (0.2–0.4 s on 2 busy cores). Raises ValueError for what the page never sends."""
    lr, do = query.get("lr"), query.get("do")
    if do not in (None, "pause", "resume"):
        raise ValueError(f"do must be pause or resume, not {do!r}")
    if lr is not None:
        try:
            lr = float(lr)
        except ValueError:
            raise ValueError(f"lr must be a number, not {lr!r}") from None
        replace(run.snapshot(last=1).config, lr=lr).check()   # the trainer's own limits, its own message
    if run.done:                                          # an ended run takes no more orders: the page reruns
        return                                            # to show it (the panel clicks SYNC_KEY)
    if lr is not None:                                    # (the same η again is no change: no new mark)
        run.set_lr(lr)
    if do == "pause":
        run.pause()
    elif do == "resume":
        run.resume()
    run.settle()


def serve(request):
    """GET FEED_PATH/<token>[?curves=1][&inside=1&neuron=N]: the feed of the run with that token as JSON
    (404: no such run). POST FEED_PATH/<token>?lr=<η>&do=pause|resume: steer() the run first, then the same
    answer (400 with {"error": why} for a value the page never sends).
    A plain function: Starlette runs it on a worker thread, so building the curves (or waiting for the worker's
    report of a new η) never holds up the server's event loop (the websockets of every session)."""
    run = _runs.get(request.path_params["token"])
    if run is None:
        return Response(status_code=404, headers=NO_STORE)
    query = request.query_params
    if request.method == "POST":
        try:
            steer(run, query)
        except ValueError as e:
            return JSONResponse({"error": str(e)}, status_code=400, headers=NO_STORE)
    neuron = int(query["neuron"]) if query.get("neuron", "").isdigit() else 1
    return JSONResponse(feed(run, curves=query.get("curves") == "1", inside=query.get("inside") == "1",
                             neuron=neuron), headers=NO_STORE)


def route():
    """The feed's route, for st.App(routes=[...]) in app.py."""
    return Route(FEED_PATH + "/{token}", serve, methods=["GET", "POST"])


# ---- the panel ----------------------------------------------------------------------------------

STYLE = """
.bl-live .bl-text{margin:0 0 .35rem 0}
.bl-live .bl-bar{height:.5rem;border-radius:.25rem;background:rgba(151,166,195,.25);overflow:hidden}
.bl-live .bl-bar>div{height:100%;background:#ff4b4b}
.bl-live .bl-numbers{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.bl-live .bl-number{flex:1 1 8rem;min-width:8rem}
.bl-live .bl-label{font-size:.875rem;cursor:help;text-decoration:underline dotted rgba(49,51,63,.4)}
.bl-live .bl-value{font-size:2.25rem;line-height:1.2}
.bl-live .bl-note{padding:.75rem 1rem;border-radius:.5rem;margin:.5rem 0}
.bl-live .bl-info{background:rgba(28,131,225,.1);color:#0054a3}
.bl-live .bl-warning{background:rgba(255,227,18,.15);color:#926c05}
.bl-live .bl-curves{display:flex;gap:1rem}
.bl-live .bl-curves>div{flex:1 1 0;min-width:0;min-height:300px}
.bl-inside .bl-row{display:flex;gap:1rem;margin:.5rem 0}
.bl-inside .bl-cell{flex:1 1 0;min-width:0}
.bl-inside .bl-caption{font-size:.875rem;opacity:.7;margin:.25rem 0}
.bl-inside summary{cursor:pointer;padding:.5rem 0}
"""

SCRIPT = """
(function () {
  const box = document.currentScript.parentElement.querySelector(".bl-live");
  if (!box) return;
  const gen = String(Math.random());
  box.dataset.gen = gen;                        // a newer panel in this place stops this one
  const mine = () => box.isConnected && box.dataset.gen === gen;
  const shown = {};
  const put = (part, content) => {
    if (content === undefined || shown[part] === content) return;
    const el = box.querySelector(".bl-" + part);
    if (el) { el.innerHTML = content; shown[part] = content; }
  };
  let curvesAt = -1e9, synced = false, wrong = 0, lrWrong = 0, epochs = Number(box.dataset.epochs), resultsAt = 0;
  if (window.blTouched === undefined) {          // the learner's last key press or click (one listener a page)
    window.blTouched = -1e9;
    ["keydown", "pointerdown"].forEach(e => document.addEventListener(e, () => { window.blTouched = performance.now(); }, true));
  }
  // Requests are numbered. An answer to a request sent before a steering answer came back may predate
  // the change (the old η): it is not shown (`fresh`: the first number sent after that answer).
  let sent = 0, fresh = 0;
  let timer = null, busy = false, again = false, poked = false;
  async function tick() {
    if (!mine()) return;
    if (busy) { again = true; return; }         // a poke while a request is out: one more right after it
    busy = true; clearTimeout(timer);
    const now = performance.now(), curves = !poked && now - curvesAt >= CURVES_MS;
    poked = false;
    const number = ++sent;
    try {
      const answer = await fetch(box.dataset.feed + (curves ? "?curves=1" : ""), {cache: "no-store"});
      if (answer.status === 404) { busy = false; return; }   // the run is gone (a new one replaced it)
      if (answer.ok) {
        const d = await answer.json();
        if (number >= fresh && !steering) {
          ["status", "numbers", "notes", "loss", "accuracy"].forEach(p => put(p, d[p]));
          if (curves) curvesAt = now;
        }
        if (d.phase !== box.dataset.phase && !synced) {   // the run ended: the page reruns to show it
          synced = true;
          const sync = document.querySelector(".st-key-SYNC_KEY button");
          if (sync) sync.click();
        }
        if (d.epochs !== epochs && now - resultsAt >= RESULTS_MS && performance.now() - window.blTouched >= QUIET_MS) {
          const results = document.querySelector(".st-key-RESULTS_KEY button");   // an epoch ended: the
          if (results) { results.click(); epochs = d.epochs; resultsAt = now; }   // results change
        }
        const pause = document.querySelector(".st-key-PAUSE_KEY button");
        wrong = pause && d.phase === "live" && pause.disabled !== d.paused ? wrong + 1 : 0;
        if (wrong === 3) {                      // Pause/Resume show the other state for 3 requests in a row
          const steer = document.querySelector(".st-key-STEER_KEY button");
          if (steer) steer.click();
        }
        const slider = thumb();                 // the η slider and the run disagree for 3 requests in a row (a
        lrWrong = slider && d.phase === "live" && !dragging && !steering && number >= fresh &&   // change lost
          Number(slider.getAttribute("aria-valuetext")) !== d.lr ? lrWrong + 1 : 0;        // on its way):
        if (lrWrong === 3) { lrWrong = 0; wantLr = slider.getAttribute("aria-valuetext"); steer(); }  // send it again
      }
    } catch (e) {}                              // a failed request: the next one may get through
    busy = false;
    if (again) { again = false; tick(); } else timer = setTimeout(tick, POLL_MS);
  }
  box.addEventListener("bl-poke", () => {      // see poke(): the status now (a small answer), then the curves
    poked = true; curvesAt = -1e9; tick();     // with the η mark at the next request
  });

  // Steering: the η slider's new value and clicks on Pause / Resume go to the feed at once (POST, see
  // steer() in live_feed.py), one request at a time, the newest wish. Streamlit's own rerun of the steering
  // part carries the same change and makes the run agree with the widgets whatever happens here.
  const thumb = () => document.querySelector(".st-key-LR_KEY input[type=range]");
  let lrSent = thumb()?.getAttribute("aria-valuetext"), wantLr = null, wantDo = null, steering = false, dragging = false;
  async function steer() {
    if (steering) return;
    steering = true;
    while (mine() && (wantLr !== null || wantDo !== null)) {
      const query = new URLSearchParams();
      if (wantLr !== null) query.set("lr", wantLr);
      if (wantDo !== null) query.set("do", wantDo);
      lrSent = wantLr ?? lrSent; wantLr = wantDo = null;
      ++sent;
      try {
        const answer = await fetch(box.dataset.feed + "?" + query, {method: "POST", cache: "no-store"});
        fresh = sent + 1;
        if (answer.ok) {
          const d = await answer.json();
          if (wantLr === null && wantDo === null) ["status", "numbers", "notes"].forEach(p => put(p, d[p]));
          curvesAt = -1e9;                     // the loss curve's η mark at the next request
        }
      } catch (e) {}
    }
    steering = false;
  }
  const lrMoved = () => {
    const now = thumb()?.getAttribute("aria-valuetext");
    if (now == null || now === lrSent || dragging) return;
    wantLr = now; steer();
  };
  const watch = new MutationObserver(() => { if (mine()) lrMoved(); else watch.disconnect(); });
  watch.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["aria-valuetext"]});
  const acted = (event) => {                   // a key press or click anywhere: if it changed the run through
    if (!mine()) {                             // Streamlit (the schedule, λ, speed), the server has it within
      ["keydown", "click", "pointerdown", "pointerup"].forEach(e => document.removeEventListener(e, acted, true));
      return;                                  // ~0.1 s, long before the browser has drawn the rerun it causes
    }                                          // (the page is drawn again whole): ask then, and once more.
    // A drag of the η slider is sent when it is let go (each notch on the way would mark the loss curve).
    if (event.type === "pointerdown") { dragging = !!event.target.closest?.(".st-key-LR_KEY"); return; }
    if (event.type === "pointerup") { if (dragging) { dragging = false; setTimeout(lrMoved, 0); } return; }
    if (event.type === "keydown") dragging = false;   // a pointer released outside the window
    const button = event.type === "click" && event.target.closest?.(".st-key-PAUSE_KEY button, .st-key-RESUME_KEY button");
    if (button && !button.disabled) { wantDo = button.closest(".st-key-PAUSE_KEY") ? "pause" : "resume"; steer(); }
    ACTED_MS.forEach(ms => setTimeout(() => box.dispatchEvent(new Event("bl-poke")), ms));
  };
  ["keydown", "click", "pointerdown", "pointerup"].forEach(e => document.addEventListener(e, acted, true));
  tick();
})();
"""


INSIDE_SCRIPT = """
(function () {
  const box = document.currentScript.parentElement.querySelector(".bl-inside");
  if (!box) return;
  const gen = String(Math.random());
  box.dataset.gen = gen;
  const shown = {};
  async function tick() {
    if (!box.isConnected || box.dataset.gen !== gen) return;
    if (shown.views && performance.now() - (window.blTouched || -1e9) < QUIET_MS) {
      setTimeout(tick, 500);                   // the learner is steering: nine charts can wait half a second
      return;
    }
    try {
      const answer = await fetch(box.dataset.feed + "?inside=1&neuron=" + box.dataset.neuron, {cache: "no-store"});
      if (answer.status === 404) return;
      if (answer.ok) {
        const d = await answer.json();
        ["views", "explain"].forEach(part => {
          const content = d[part === "views" ? "inside" : part], el = box.querySelector(".bl-" + part);
          if (el && content !== undefined && shown[part] !== content) { el.innerHTML = content; shown[part] = content; }
        });
        if (d.phase !== "live") return;
      }
    } catch (e) {}
    setTimeout(tick, INSIDE_MS);
  }
  tick();
})();
"""


def inside_panel_html(run, snap, neuron):
    """The views inside the network while the run is live: drawn by the script's first request (an SVG in
    st.html's own HTML would be removed by its sanitizer) and again every INSIDE_MS."""
    return (f"<style>{STYLE}</style>"
            f'<div class="bl-inside" data-feed="{FEED_PATH}/{token(run)}" data-neuron="{int(neuron)}">'
            f'<div class="bl-views"><p class="bl-caption">Drawing the views inside the network…</p></div>'
            f"<details><summary>Explain these charts, with this run's numbers</summary>"
            f'<ul class="bl-explain">{explain_html(snap)}</ul></details>'
            f"</div><script>{INSIDE_SCRIPT.replace('INSIDE_MS', str(INSIDE_MS)).replace('QUIET_MS', str(QUIET_MS))}"
            f"</script>")


def poke():
    """A script the steering fragment draws after it changed the run (η, Pause, ...): it makes the panel ask
    the feed at once rather than at its next request, up to POLL_MS later. The time in it makes each copy
    new, so the browser runs it on every rerun of that fragment."""
    return (f"<script>/* {time.monotonic_ns()} */ document.querySelector('.bl-live')"
            f"?.dispatchEvent(new Event('bl-poke'));</script>")


def panel_html(run, snap):
    """The panel's HTML: the status line and numbers as of now (what a page without JavaScript, or a test, sees;
    the curves come with the script's first request), and the script that keeps them current."""
    script = (SCRIPT.replace("CURVES_MS", str(CURVES_MS)).replace("POLL_MS", str(POLL_MS))
              .replace("SYNC_KEY", SYNC_KEY).replace("STEER_KEY", STEER_KEY).replace("PAUSE_KEY", PAUSE_KEY)
              .replace("RESUME_KEY", RESUME_KEY).replace("LR_KEY", LR_KEY)
              .replace("RESULTS_KEY", RESULTS_KEY).replace("RESULTS_MS", str(RESULTS_MS))
              .replace("QUIET_MS", str(QUIET_MS)).replace("ACTED_MS", str(list(ACTED_MS))))
    return (f"<style>{STYLE}</style>"
            f'<div class="bl-live" data-feed="{FEED_PATH}/{token(run)}" data-phase="{phase(snap.state)}" '
            f'data-epochs="{len(snap.epochs_log)}">'
            f'<div class="bl-status" data-testid="blStatus">{status_html(snap)}</div>'
            f'<div class="bl-numbers">{numbers_html(snap)}</div>'
            f'<div class="bl-notes">{notes_html(snap)}</div>'
            f'<div class="bl-curves"><div class="bl-loss" role="img" aria-label="Loss"></div>'
            f'<div class="bl-accuracy" role="img" aria-label="Accuracy"></div></div>'
            f'</div><script>{script}</script>')


def panel_state(body):
    """(status text, {label: value}) read back from a panel's HTML (for tests and checks without a browser)."""
    status = re.search(r'<div class="bl-text">(.*?)</div>', body)
    text = html.unescape(re.sub(r"<[^>]+>", "", status.group(1))) if status else ""
    values = dict(re.findall(r'<div class="bl-label"[^>]*>([^<]*)</div><div class="bl-value">([^<]*)</div>', body))
    return text, {html.unescape(k): html.unescape(v) for k, v in values.items()}

