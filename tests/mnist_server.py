"""A loopback HTTP server that stands in for the MNIST mirrors in tests.

It serves a folder on 127.0.0.1 (a free port) from a background thread and
records every request path.  Files under ``cut/`` are announced with their
full Content-Length but the connection is closed halfway through, like a
dropped download.  Files under ``slow/`` trickle out 1 KB at a time with
``slow_delay`` seconds between pieces (2 s by default: a mirror at 0.5 KB/s).
"""

import functools
import http.server
import socket
import threading
import time
from pathlib import Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files, counts requests, prints nothing."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/cut/"):
            return self.send_half()
        if self.path.startswith("/slow/"):
            return self.send_slowly()
        return super().do_GET()

    def send_slowly(self):
        """Promise the whole file, then send it 1 KB per slow_delay seconds (until the client hangs up)."""
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(0, len(data), 1024):
                self.wfile.write(data[i:i + 1024])
                self.wfile.flush()
                time.sleep(self.server.slow_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def send_half(self):
        """Promise the whole file, send half of it, hang up."""
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True

    def log_message(self, *args):
        pass


class MirrorServer:
    """``with MirrorServer(root) as s:`` serves ``root`` at ``s.url("good")`` etc."""

    def __init__(self, root):
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.httpd.slow_delay = 2.0
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def requests(self):
        """Paths requested so far, in order."""
        return self.httpd.requests

    def url(self, folder):
        """Base URL of a mirror served from ``root/folder``."""
        return f"http://127.0.0.1:{self.httpd.server_port}/{folder}/"


def closed_port_url():
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"
