"""How many learners one server holds: N simulated learners play a lesson against a running app.

    python benchmarks/bench_capacity.py                      # N = 1, 5, 10, 20, 40 against one server
    python benchmarks/bench_capacity.py --learners 1 5 --watch 10
    python benchmarks/bench_capacity.py --replicas 2         # the same behind deploy/replicas.py's HAProxy

Each learner is a deploy.learner.Learner: a client of Streamlit's real websocket protocol (the protobuf
messages in the `streamlit` package), including the fragment refreshes the browser drives. Its lesson:

  open the app (Home)                                          page load
  go to Activation functions, move the "Probe x" slider ×3     page load, 3 interactions
  go to Train on MNIST, change the batch size, press Train     page load, 2 interactions
  watch the run for --watch seconds (the live fragments refresh), press Stop       queue wait, 1 interaction
  go to Draw a digit, choose "Upload a photo", upload a digit photo                page load, 2 interactions

The learners start --stagger seconds apart (a class does not click in the same millisecond). Measured:

  interaction   widget change (slider, segmented control) sent → the page's run finished (every delta
                of the answer received)
  action        the same for the buttons that do more: Train (starts a worker), Stop (waits for the run
                to end and be stored), an upload (the PUT and the page's run on the photo)
  page load     for the first page: GET /, the health check, the websocket and the first run; for a page
                switch: the switch sent → its run finished
  queue wait    Train pressed → the status line says running (the server has one slot per core)
  memory        the server's proportional set size (PSS: shared pages counted once) before the class,
                with N idle learners (per learner), and at the peak while they train, the run's worker
                processes included (per training learner)
  errors        exceptions shown on a page, closed connections, answers that did not come

A server whose p95 interaction latency stays ≤ 1 s holds that class; the README's capacity table
comes from this script.
"""
import argparse
import asyncio
import io
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from deploy import replicas  # noqa: E402
from deploy.learner import Learner, LearnerError  # noqa: E402

TARGET_P95 = 1.0             # seconds: the largest interaction latency (95th percentile) a class should see


def digit_photo():
    """A PNG of a handwritten-looking "7": dark ink on light paper, as a phone photo would be."""
    from PIL import Image, ImageDraw
    image = Image.new("L", (120, 160), 235)
    pen = ImageDraw.Draw(image)
    pen.line([(25, 30), (95, 30), (50, 140)], fill=20, width=12)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def lesson(url, watch, record, rng):
    """One learner's lesson (see the module docstring); timings go into record, by kind and by action."""
    learner = Learner(url)

    def note(kind, action, seconds):
        record[kind].append(seconds)
        record["by_action"].setdefault(action, []).append(seconds)

    try:
        note("page", "open the app", await learner.open())
        note("page", "switch page", await learner.go_to("Activation functions"))
        for _ in range(3):
            await asyncio.sleep(rng.uniform(0.5, 1.5))          # a learner reads before moving the slider
            note("interaction", "slider", await learner.set_slider("Probe x", round(rng.uniform(-4, 4), 2)))
        note("page", "switch page", await learner.go_to("Train on MNIST"))
        note("interaction", "batch size (Train page)", await learner.set_slider("Batch size", rng.choice(["32", "64", "128"])))
        note("action", "Train", await learner.click("Train"))
        t0 = time.perf_counter()
        wait = await learner.wait_for_text(lambda t: t.startswith(("**running**", "**finished**")), watch)
        record["queue"].append(wait if wait is not None else float("inf"))
        await asyncio.sleep(max(watch - (time.perf_counter() - t0), 0))
        note("action", "Stop", await learner.click("Stop"))
        note("page", "switch page", await learner.go_to("Draw a digit"))
        note("interaction", "Digit from", await learner.choose("Digit from", "Upload a photo"))
        note("action", "upload a photo", await learner.upload("Photo or scan of one handwritten digit",
                                                                  "seven.png", digit_photo(), "image/png"))
    except (LearnerError, OSError, asyncio.TimeoutError) as e:
        learner.errors.append(f"{type(e).__name__}: {e}")
    finally:
        record["errors"].extend(learner.errors)
        record["failed"] += bool(learner.errors)
        await learner.close()


# ---- memory of the server and its worker processes --------------------------------------------

def _pss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def memory_mb(pids, with_children):
    """PSS in MB of the server processes (and their workers)."""
    every = list(pids) + ([c for p in pids for c in _children(p)] if with_children else [])
    return sum(_pss_kb(p) for p in every) / 1024


class PeakMemory:
    """Samples the server's memory (workers included) every `every` seconds; keeps the peak."""

    def __init__(self, pids, every=0.5):
        self.pids, self.every, self.peak = pids, every, 0.0

    async def run(self):
        while True:
            self.peak = max(self.peak, await asyncio.to_thread(memory_mb, self.pids, True))
            await asyncio.sleep(self.every)


# ---- one class size --------------------------------------------------------------------------

def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(int(round(q / 100 * (len(values) - 1))), len(values) - 1)]


async def idle_memory(url, pids, n):
    """MB per learner who has opened the app and one page and sits there (after one learner has warmed
    the server's caches: the data sets, the default model, the imports of the pages)."""
    warm = Learner(url)
    await warm.open()
    await warm.go_to("Activation functions")
    await warm.close()
    before = memory_mb(pids, False)
    learners = [Learner(url) for _ in range(n)]
    for learner in learners:
        await learner.open()
        await learner.go_to("Activation functions")
    await asyncio.sleep(1.0)
    after = memory_mb(pids, False)
    for learner in learners:
        await learner.close()
    return (after - before) / n


async def one_class(url, pids, n, watch, stagger, seed):
    idle_per = await idle_memory(url, pids, n)
    before = memory_mb(pids, True)
    record = {"page": [], "interaction": [], "action": [], "queue": [], "errors": [], "failed": 0, "by_action": {}}
    peak = PeakMemory(pids)
    sampler = asyncio.create_task(peak.run())

    async def learner(i):
        await asyncio.sleep(i * stagger)
        await lesson(url, watch, record, random.Random(seed + i))

    t0 = time.perf_counter()
    await asyncio.gather(*(learner(i) for i in range(n)))
    sampler.cancel()
    return {"n": n, "record": record, "idle_mb": idle_per, "train_mb": (peak.peak - before) / n,
            "seconds": time.perf_counter() - t0}


async def released_memory(url, pids, n, ttl):
    """Server MB (workers included) before a class, with n learners who trained, uploaded a photo and
    left, right after they left, and once the sessions' time-to-live has passed (their state released)."""
    warm = Learner(url)
    await warm.open()
    await warm.go_to("Draw a digit")
    await warm.close()
    figures = {"before": memory_mb(pids, True)}
    learners = []
    for i in range(n):
        learner = Learner(url)
        await learner.open()
        await learner.go_to("Train on MNIST")
        await learner.click("Train")
        await asyncio.sleep(1.0)
        await learner.click("Stop")
        await learner.go_to("Draw a digit")
        await learner.choose("Digit from", "Upload a photo")
        await learner.upload("Photo or scan of one handwritten digit", "seven.png", digit_photo(), "image/png")
        learners.append(learner)
    figures["with the class"] = memory_mb(pids, True)
    for learner in learners:
        await learner.close()
    await asyncio.sleep(2.0)
    figures["just after they left"] = memory_mb(pids, True)
    await asyncio.sleep(ttl + 15.0)
    figures[f"{ttl:.0f} s + 15 s later"] = memory_mb(pids, True)
    return figures


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


async def browser_lesson(browser, url, record, rng):
    """The slider part of the lesson in a real Chromium tab: page load, then three key presses on
    "Probe x", each timed to the moment the page shows the new x (the cross-check of the protocol's numbers)."""
    import re
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(url + "/activation_functions")
        await page.get_by_text(re.compile(r"At x = ")).first.wait_for(timeout=120_000)
        record["browser page"].append(time.perf_counter() - t0)
        # The sliders' code loads after the page's text; the thumb carries its label as aria-label.
        await page.get_by_role("slider").nth(2).wait_for(timeout=120_000)
        slider = page.get_by_role("slider").and_(page.locator("[aria-label='Probe x']"))
        for _ in range(3):
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            shown = await page.get_by_text(re.compile(r"At x = ")).first.inner_text()
            before = float(re.search(r"At x = (-?[0-9.]+)", shown).group(1))
            await slider.focus()
            t0 = time.perf_counter()
            await slider.press("ArrowRight")
            await page.get_by_text(f"At x = {round(before + 0.05, 2):g}:").first.wait_for(timeout=120_000)
            record["browser slider"].append(time.perf_counter() - t0)
    except Exception as e:                          # noqa: BLE001 — a timeout or a vanished element: an error to count
        record["errors"].append(f"browser: {type(e).__name__}: {str(e)[:80]}")
    finally:
        await context.close()


async def cross_check(url, n, browsers, watch, stagger, seed):
    """`browsers` Chromium tabs doing the slider lesson beside n - browsers protocol learners doing the whole one."""
    from playwright.async_api import async_playwright
    record = {"page": [], "interaction": [], "action": [], "queue": [], "errors": [], "failed": 0, "by_action": {},
              "browser page": [], "browser slider": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        async def one(i):
            await asyncio.sleep(i * stagger)
            if i < browsers:
                await browser_lesson(browser, url, record, random.Random(seed + i))
            else:
                await lesson(url, watch, record, random.Random(seed + i))

        await asyncio.gather(*(one(i) for i in range(n)))
        await browser.close()
    return record


def summary_line(result):
    r = result["record"]
    queue = [q for q in r["queue"] if q != float("inf")]
    waited_out = len(r["queue"]) - len(queue)
    return (f"| {result['n']:>3} | {pct(r['interaction'], 50):.2f} / {pct(r['interaction'], 95):.2f} "
            f"| {pct(r['action'], 50):.2f} / {pct(r['action'], 95):.2f} "
            f"| {pct(r['page'], 50):.2f} / {pct(r['page'], 95):.2f} "
            f"| {pct(queue, 50):.1f} / {pct(queue, 95):.1f}" + (f" ({waited_out} still queued)" if waited_out else "")
            + f" | {result['idle_mb']:.1f} | {result['train_mb']:.0f} "
            f"| {r['failed']} of {result['n']}" + (f": {r['errors'][0][:60]}" if r["errors"] else "") + " |")


HEADER = ("|   N | interaction p50 / p95 (s) | Train, Stop, upload p50 / p95 (s) | page load p50 / p95 (s) "
          "| queue wait p50 / p95 (s) | MB per idle learner | MB per training learner | learners with an error |\n"
          "|----:|---:|---:|---:|---:|---:|---:|---|")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 5, 10, 20, 40])
    parser.add_argument("--watch", type=float, default=20.0, help="seconds each learner watches its run")
    parser.add_argument("--stagger", type=float, default=0.25, help="seconds between two learners' arrivals")
    parser.add_argument("--replicas", type=int, default=1, help="app processes behind HAProxy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--release", type=int, metavar="N", default=0,
                        help="instead: memory before, with N learners who trained and uploaded, and after they left "
                             "(sessions kept --ttl seconds after their websocket closes)")
    parser.add_argument("--browsers", type=int, default=0, metavar="B",
                        help="instead: for each N, B learners are real Chromium tabs (the slider part of the lesson), "
                             "the others simulated; prints both slider latencies side by side")
    parser.add_argument("--ttl", type=float, default=20.0, help="server.disconnectedSessionTTL for --release (seconds)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.release:
        env = {**os.environ, "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(int(args.ttl))}
        with replicas.start(1, env=env) as cluster:
            figures = asyncio.run(released_memory(cluster.replicas[0].url, [cluster.replicas[0].process.pid],
                                                  args.release, args.ttl))
        print(" · ".join(f"{name}: {mb:.0f} MB" for name, mb in figures.items()))
        return
    if args.browsers:
        for n in args.learners:
            with replicas.start(1) as cluster:
                r = asyncio.run(cross_check(cluster.replicas[0].url, n, min(args.browsers, n), args.watch,
                                            args.stagger, args.seed))
            sliders = r["by_action"].get("slider", [])
            print(f"N = {n}: Chromium slider p50 / p95 {pct(r['browser slider'], 50):.2f} / "
                  f"{pct(r['browser slider'], 95):.2f} s, page load {pct(r['browser page'], 50):.2f} / "
                  f"{pct(r['browser page'], 95):.2f} s ({len(r['browser slider'])} presses) · simulated slider "
                  f"{pct(sliders, 50):.2f} / {pct(sliders, 95):.2f} s ({len(sliders)} moves) · errors: {r['errors'][:2]}",
                  flush=True)
        return
    print(f"{os.cpu_count()} cores; {args.replicas} replica(s); each learner watches its run {args.watch:.0f} s; "
          f"arrivals {args.stagger} s apart", flush=True)
    print(HEADER, flush=True)
    worst_ok = 0
    for n in args.learners:
        with replicas.start(args.replicas) as cluster:     # a fresh server for every class size
            pids = [r.process.pid for r in cluster.replicas]
            url = cluster.url if args.replicas > 1 else cluster.replicas[0].url     # one server: no balancer
            result = asyncio.run(one_class(url, pids, n, args.watch, args.stagger, args.seed))
        print(summary_line(result), flush=True)
        print("      p50 / p95 by action: " + "; ".join(f"{a} {pct(v, 50):.2f} / {pct(v, 95):.2f}"
                                                        for a, v in result["record"]["by_action"].items()), flush=True)
        if pct(result["record"]["interaction"], 95) <= TARGET_P95 and not result["record"]["errors"]:
            worst_ok = max(worst_ok, n)
    print(f"Largest N with p95 interaction ≤ {TARGET_P95:.0f} s and no errors: {worst_ok} "
          f"({worst_ok / (os.cpu_count() or 1):.1f} per core, "
          f"{args.replicas} replica(s) on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
