"""Real-browser tests: Playwright drives Debian's Chromium against `streamlit run app.py`.

Fixtures (the names other browser tests rely on):

    app_url    session: a `streamlit run app.py` server on 127.0.0.1 and a free port; its base URL
    fresh_app_url  the same, but a server of its own for one test (e.g. the first visit after start-up)
    browser    session: headless Chromium from /usr/bin/chromium (Playwright never downloads one)
    page       a fresh page (own context) per test, 1400×1000
    wait_idle  wait_idle(page=None, timeout_ms=60_000): wait until the app's script has finished running
    screenshot screenshot(page, name): save the whole app to test-artifacts/screenshots/<name>.png

Everything is skipped, with the reason, when /usr/bin/chromium or the playwright package is missing.
The server's output goes to test-artifacts/streamlit-server.log (shown when it fails to start).
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SERVER_START_TIMEOUT = 90      # seconds: a loaded 2-core CI box can be slow to import streamlit + numpy


def missing_browser():
    """Why the browser tests cannot run here, or None if they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port():
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url, process, log_path, timeout=SERVER_START_TIMEOUT):
    """Poll Streamlit's health endpoint until it answers "ok"; fail with the server log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with code {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def streamlit_server(log_name="streamlit-server.log"):
    """Run `streamlit run app.py` (headless, 127.0.0.1, a free port) while the block runs; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def app_url():
    """The URL of a `streamlit run app.py` server shared by the whole session (stopped at the end)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    with streamlit_server() as url:
        yield url


@pytest.fixture
def fresh_app_url():
    """Like app_url, but a server of its own that no other test has visited (started for this test only)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    with streamlit_server("streamlit-server-fresh.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's /usr/bin/chromium) for the whole session."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own browser context (no shared cookies or storage), 1400×1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)
    yield new_page
    context.close()


@pytest.fixture
def wait_idle(page):
    """wait_idle(page=None, timeout_ms=60_000): wait until the app has finished its script run.

    A rerun starts a moment after the interaction that triggers it, so we first give it that moment
    (settle_ms) and then wait for Streamlit's own "notRunning" marker, as Streamlit's e2e tests do.
    For a result that appears after a rerun, prefer playwright's expect(...).to_have_text(...), which polls.
    """
    def wait(target=None, timeout_ms=60_000, settle_ms=300):
        target = target or page
        target.wait_for_timeout(settle_ms)
        target.wait_for_selector(IDLE, timeout=timeout_ms)
        target.wait_for_timeout(100)
    return wait


@pytest.fixture
def screenshot():
    """screenshot(page, name): save the whole app, not just the viewport, to test-artifacts/screenshots/.

    Streamlit scrolls inside its main container, so a "full page" screenshot would stop at the window;
    we grow the viewport to the content's height first.
    """
    def take(target, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = target.viewport_size
        height = target.evaluate(
            "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], "
            "[data-testid='stAppViewContainer'], body\")].map(e => e.scrollHeight))")
        target.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
        target.wait_for_timeout(500)          # let charts resize
        path = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(path))
        target.set_viewport_size(size)
        return path
    return take
