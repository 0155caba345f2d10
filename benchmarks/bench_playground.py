"""Playground frame rate: one animation frame = train a few epochs + evaluate the 50 × 50 grid + build figures.

Run:  python benchmarks/bench_playground.py
Target (issue 7): ≥ 5 frames/s with 4 hidden layers × 8 neurons, every neuron's surface on a 50 × 50 grid.
The grid evaluation is ONE batched forward pass of 2,500 points; each neuron's map is read from the Pass it returns.
"""
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.playground import FEATURES, Config, Playground  # noqa: E402
from pages.ui.playground_svg import loss_svg, network_svg, surface_svg  # noqa: E402

TARGET_FPS = 5.0


def time_frames(cfg, frames=20):
    """Median seconds per frame for (train, grid, figures); figures = the SVG text the page sends.

    The median, because the machine may be shared: a few frames slowed by other processes don't count.
    """
    pg = Playground(cfg)
    pg.train_epochs(1)                                   # warm up buffers
    times = {"train": [], "grid": [], "figures": []}
    for _ in range(frames):
        t0 = time.perf_counter()
        pg.train_epochs(cfg.speed)
        t1 = time.perf_counter()
        surfaces = pg.surfaces()
        pg.losses()
        t2 = time.perf_counter()
        network_svg(pg, surfaces), surface_svg(pg, surfaces, show_test=True), loss_svg(pg.history)
        t3 = time.perf_counter()
        times["train"].append(t1 - t0)
        times["grid"].append(t2 - t1)
        times["figures"].append(t3 - t2)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    cases = {
        "4×8 relu, x1 x2, spiral": replace(Config(), data="spiral", hidden=(8, 8, 8, 8), act="relu"),
        "4×8 tanh, all 7 features": replace(Config(), data="spiral", hidden=(8, 8, 8, 8), features=tuple(FEATURES)),
        "6×8 sigmoid, all 7 features": replace(Config(), data="circle", hidden=(8,) * 6, act="sigmoid",
                                               features=tuple(FEATURES)),
    }
    print(f"{'case':30s} {'epochs/frame':>12s} {'train ms':>9s} {'grid ms':>8s} {'figures ms':>10s} "
          f"{'frame ms':>9s} {'frames/s':>9s}")
    worst = float("inf")
    for name, cfg in cases.items():
        t = time_frames(cfg)
        frame = sum(t.values())
        worst = min(worst, 1 / frame)
        print(f"{name:30s} {cfg.speed:12d} {1e3 * t['train']:9.1f} {1e3 * t['grid']:8.1f} "
              f"{1e3 * t['figures']:10.1f} {1e3 * frame:9.1f} {1 / frame:9.1f}")
    print(f"slowest: {worst:.1f} frames/s (target ≥ {TARGET_FPS:g}) -> {'OK' if worst >= TARGET_FPS else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
