"""How fast the Train page answers while a network trains, measured in a real browser.

    python benchmarks/bench_live.py                  # 20 tries each, MNIST sample and Fashion-MNIST 60k
    python benchmarks/bench_live.py --tries 30 --data sample
    python benchmarks/bench_live.py --repo /tmp/old-checkout   # the same measurement of another version

Playwright drives Debian's Chromium (headless) against `streamlit run app.py` on 127.0.0.1, as a learner's
browser would, and times two interactions from the browser's side:

  η      a key press on the learning-rate slider → the new η in the status line
  pause  a click on Pause (or Resume) → the status line saying "paused" (or "running")

each `--tries` times, in three situations:

  idle      a run that is paused (nothing trains; the page is as quiet as it gets); each try resumes it
            for a moment, at 1 batch/s
  sample    the default network (784-256-10) training on the bundled 4,000-image sample at 100 batches/s
            (full speed would end its 100 epochs in ~10 s, before the tries are done)
  fashion   the same network training at full speed on Fashion-MNIST's 60,000 images (Debian's
            dataset-fashion-mnist; skipped when it is not installed)

and prints p50 / p95 in seconds, and the ratio of each to idle. Targets (issue "Live training you can
steer"): p95 ≤ 0.5 s while training, and within 1.5× of idle.

--repo runs the same script against another checkout (e.g. the version that trained in a server
thread), to compare before and after on the same machine.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
STATUS = "[data-testid='blStatus'], [data-testid='stProgress']"   # the live panel's status line; once
                                                                   # the run has ended, Streamlit's own
FASHION = Path("/usr/share/datasets/fashion-mnist")
SHOTS = os.environ.get("BENCH_LIVE_SHOTS")       # a folder: a screenshot of every failed try goes there


def start_server(repo, port):
    env = {**os.environ, "BACKPROP_LAB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.setdefault("BACKPROP_LAB_DATA", str(Path("/tmp") / f"bench-live-data-{port}"))
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                "--server.port", str(port), "--server.address", "127.0.0.1",
                                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                               cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


# Timing inside the page as well: the key press's or click's own event time → the first change of the status line
# that shows the new η or state (a MutationObserver). What Playwright measures from Python adds its own round
# trips (the press, then reading the slider; a click's actionability checks): 0.1–0.2 s a try on this machine.
INSTRUMENT = """([css]) => {
  if (window.blBench) return;
  const b = window.blBench = {armed: false, at: null, log: []};
  ["keydown", "pointerdown"].forEach(type => document.addEventListener(type, e => {
    if (b.armed && b.at === null) b.at = performance.now();
  }, true));
  let last = null;
  new MutationObserver(() => {
    if (b.at === null) return;
    const text = document.querySelector(css)?.innerText ?? "";
    if (text !== last) { last = text; b.log.push([performance.now() - b.at, text]); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def arm(page):
    """The next key press or pointer press starts the in-page clock."""
    page.evaluate("([css]) => { Object.assign(window.blBench, {armed: true, at: null, log: []}); }", [STATUS])


def in_page(page, pattern):
    """Seconds from the armed press to the status line's first text matching `pattern`, as the page saw it."""
    log = page.evaluate("window.blBench.log")
    return next(t for t, text in log if re.search(pattern, text)) / 1000


def status(page):
    return page.locator(STATUS).first.inner_text()


def wait_text(page, pattern, timeout=30.0):
    """Seconds until the status line matches `pattern` (polled every 10 ms in the page itself)."""
    t0 = time.perf_counter()
    page.wait_for_function(
        "([re, css]) => new RegExp(re).test(document.querySelector(css)?.innerText || '')",
        arg=[pattern, STATUS], timeout=timeout * 1000, polling=10)
    return time.perf_counter() - t0


def idle(page):
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)


def set_slider(page, name, key):
    s = page.get_by_role("slider", name=re.compile(name))
    s.focus()
    s.press(key)
    idle(page)


def setup_run(page, url, data, epochs=100, speed_key="End"):
    page.goto(url)
    idle(page)
    page.get_by_role("link", name="Train on MNIST").first.click()
    idle(page)
    if data == "fashion":
        page.get_by_role("combobox", name=re.compile("Data set")).click()
        page.get_by_role("option", name="Fashion-MNIST").click()
        idle(page)
    epochs_box = page.get_by_role("spinbutton", name="Epochs")
    epochs_box.fill(str(epochs))
    epochs_box.press("Enter")
    idle(page)
    speed = page.get_by_role("slider", name=re.compile("Speed"))
    if speed.count():
        set_slider(page, "Speed", speed_key)               # End: full speed; Home: 1 batch/s
        if data == "sample" and speed_key == "End":
            set_slider(page, "Speed", "ArrowLeft")         # 100 batches/s: at full speed the sample's 100
                                                           # epochs end in ~10 s, before 20 tries are done
    page.get_by_role("button", name="Train", exact=True).click()
    wait_text(page, "running", 60)
    page.wait_for_timeout(2000)                            # let it settle into its stride


def ensure_running(page):
    """A full-speed run on the 4,000-image sample ends in ~10 s: start the next one when it has."""
    if re.search(r"finished|stopped|diverged", status(page)):
        idle(page)                                     # the page's rerun after the end unlocks the buttons
        page.get_by_role("button", name="Train", exact=True).click()
        wait_text(page, "running", 60)


def one_try(page, i, situation):
    """((η seconds, in the page), (pause seconds, in the page)) of one key press (left on even tries, right on odd
    ones) and one Pause/Resume click; raises when the run ended meanwhile."""
    page.evaluate(INSTRUMENT, [STATUS])
    thumb = page.get_by_role("slider", name=re.compile("Learning rate"))
    thumb.focus()
    before = float(thumb.get_attribute("aria-valuetext"))
    arm(page)
    t0 = time.perf_counter()
    thumb.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
    after = before
    for _ in range(200):                               # the slider itself moves at once (browser side)
        after = float(thumb.get_attribute("aria-valuetext"))
        if after != before:
            break
    shows_eta = rf"η = {re.escape(f'{after:.3g}')}(\D|$)"
    wait_text(page, shows_eta)
    eta = time.perf_counter() - t0, in_page(page, shows_eta)
    target = "paused" if page.get_by_role("button", name="Pause", exact=True).is_enabled() else "running"
    button = page.get_by_role("button", name="Pause" if target == "paused" else "Resume", exact=True)
    arm(page)
    t0 = time.perf_counter()
    button.click(timeout=5000)
    wait_text(page, target)
    pause = time.perf_counter() - t0, in_page(page, target)
    back = page.get_by_role("button", name="Resume" if target == "paused" else "Pause", exact=True)
    back.click(timeout=5000)                                   # undo: the same situation for the next try
    wait_text(page, "running" if target == "paused" else "paused")
    return eta, pause


def measure(page, tries, situation):
    """([(η seconds, in the page)], [(pause seconds, in the page)]) over `tries` interactions."""
    eta, pause = [], []
    failures = presses = 0
    while len(eta) < tries:
        if situation != "idle":
            ensure_running(page)
        presses += 1               # counted per try, failed ones included, so η goes left, right, left…
        try:                       # and stays near where it started (it walked up to divergence before)
            e, p = one_try(page, presses, situation)
        except Exception as problem:                   # the run ended under our feet: start again
            failures += 1
            if SHOTS:                                  # what the learner would have seen then
                page.screenshot(path=str(Path(SHOTS) / f"bench-live-{situation}-{failures}.png"))
            if failures > tries:
                raise SystemExit(f"{situation}: too many failed tries; last: {problem}; status {status(page)!r}")
            continue
        eta.append(e)
        pause.append(p)
    return eta, pause


def quantiles(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--data", choices=["sample", "fashion", "both"], default="both")
    parser.add_argument("--repo", default=str(REPO), help="the checkout whose app is measured")
    parser.add_argument("--port", type=int, default=8597)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    situations = ["idle", "sample"] + (["fashion"] if args.data != "sample" and FASHION.exists() else [])
    if args.data == "fashion":
        situations = ["idle", "fashion"]
    server = start_server(args.repo, args.port)
    results = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for situation in situations:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                setup_run(page, f"http://127.0.0.1:{args.port}", "fashion" if situation == "fashion" else "sample",
                          speed_key="Home" if situation == "idle" else "End")   # idle: resumed a moment per try
                if situation == "idle":
                    page.get_by_role("button", name="Pause", exact=True).click()
                    wait_text(page, "paused")
                    page.wait_for_timeout(1000)
                results[situation] = measure(page, args.tries, situation)
                page.get_by_role("button", name="Stop", exact=True).click()
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"Train page interaction latency, {args.tries} tries each, Chromium headless against streamlit run "
          f"({args.repo})")
    for title, which in (("as Playwright sees it (from Python: its own round trips included)", 0),
                         ("in the page (the press's event → the status line's change)", 1)):
        print(f"\n{title}")
        print(f"{'situation':<10} {'η p50':>7} {'η p95':>7} {'×idle':>6}   {'pause p50':>9} {'pause p95':>9} {'×idle':>6}")
        table = {k: ([e[which] for e in eta], [p[which] for p in pause]) for k, (eta, pause) in results.items()}
        base = {k: quantiles(v) for k, v in zip(("eta", "pause"), table["idle"])}
        for situation, (eta, pause) in table.items():
            e50, e95 = quantiles(eta)
            p50, p95 = quantiles(pause)
            print(f"{situation:<10} {e50:7.3f} {e95:7.3f} {e95 / base['eta'][1]:6.2f}   {p50:9.3f} {p95:9.3f} "
                  f"{p95 / base['pause'][1]:6.2f}")


if __name__ == "__main__":
    main()
