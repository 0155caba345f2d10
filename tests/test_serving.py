"""`streamlit run app.py` with the repository's .streamlit/config.toml: this computer only, known host names.

Started without any --server option, so what is checked is what the config file does.
"""
import base64
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                "--server.headless", "true", "--server.fileWatcherType", "none"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _websocket_status(port, host):
    """The status line of a websocket handshake sent with this Host (and the matching Origin)."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        return s.recv(200).split(b"\r\n")[0].decode()


def test_the_app_listens_on_the_loopback_address_only(server):
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs Linux's /proc/net/tcp")
    listening = [line.split()[1] for line in table.read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and line.split()[1].endswith(f":{server:04X}")]
    assert listening == [f"0100007F:{server:04X}"]          # 127.0.0.1, not 0.0.0.0


@pytest.mark.parametrize("host, status", [("localhost", "101"), ("127.0.0.1", "101"), ("evil.example", "403")])
def test_only_known_host_names_may_open_the_websocket(server, host, status):
    assert _websocket_status(server, host).split()[1] == status
