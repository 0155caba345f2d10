"""Benchmark of the MNIST trainer behind the Train page.

    python benchmarks/bench_trainer.py              # both parts
    python benchmarks/bench_trainer.py --part overhead
    python benchmarks/bench_trainer.py --part accuracy --test-dir ../shared/data/mnist

Part 1, overhead: training throughput (samples/s) of
  a. the bare core loop        for each batch: net.train_step(X[b], y[b], opt)
  b. the Trainer in its thread, recording live statistics, with a reader taking a snapshot every 0.4 s,
  c. the app's real path: a lab.live.LiveRun (the Trainer in a worker process, as the Train page
     starts it, holding a slot of a pool as large as the machine's cores — alone, it computes on all of
     them but one, left to the server), while this process takes a snapshot every 0.4 s and builds every figure of the page's
     live views from it, as the server does;
for the page's default network (784-256-10 ReLU, momentum η = 0.1, batches of 64) on the bundled
sample. The runs are interleaved and repeated; the best throughput of each (the least disturbed by
other processes) gives the ratios. The target (≥ 0.80) is c against the bare loop on the same cores: the
BLAS threads the app gives a run (all cores but one, the server's: see lab.trainer.SlotPool.cores_each); c
against the bare loop on every core is printed beside it. Trainer throughput counts the time
of the training steps and of recording statistics, not the evaluation at each epoch end (reported
separately as wall-clock).

Part 2, accuracy: the page's default settings trained on the whole bundled 5k sample (4,000 + 1,000
images) and tested after every epoch on the real 10k MNIST test set; prints the per-epoch log and the
wall-clock time until the test accuracy first reaches 94 % (target: within 30 s on 2 cores).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.network import MLP  # noqa: E402
from core.optim import make_optimizer  # noqa: E402
from lab.data import load_sample, read_split  # noqa: E402
from lab.train import format_epoch  # noqa: E402
from lab.live import LiveRun  # noqa: E402
from lab.trainer import SlotPool, TrainConfig, Trainer, make_train_data, to_inputs  # noqa: E402

SHARED_TEST = REPO.parent / "shared" / "data" / "mnist"
POLL = 0.4            # seconds between snapshots, as on the page
TARGET_ACC, TARGET_S, TARGET_RATIO = 0.94, 30.0, 0.80


def sample_data(val_fraction=0.0, whole=False, x_test=None, y_test=None):
    """TrainData from the bundled sample: its 4,000 train images, or all 5,000 when whole=True."""
    s = load_sample()
    x, y = s["x_train"], s["y_train"]
    if whole:
        x, y = np.concatenate([s["x_train"], s["x_test"]]), np.concatenate([s["y_train"], s["y_test"]])
    if x_test is None:
        x_test, y_test = s["x_test"], s["y_test"]
    return make_train_data(x, y, x_test, y_test, None, val_fraction, seed=0)


def bare_throughput(data, config, epochs):
    """Samples/s of the minimal loop over shuffled mini-batches (inputs converted once beforehand)."""
    X, y = to_inputs(data.images[data.train_idx], config.normalize), data.labels[data.train_idx]
    net = MLP(config.sizes(), activation=config.activation, init=config.init, seed=config.seed)
    opt = make_optimizer(config.optimizer, config.lr)
    rng = np.random.default_rng(config.seed)
    B = config.batch_size
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for i in range(0, len(y), B):
            rows = order[i:i + B]
            net.train_step(X[rows], y[rows], opt)
    return epochs * len(y) / (time.perf_counter() - start)


def trainer_throughput(data, config, draw_figures=False):
    """Samples/s of the Trainer thread while a reader polls snapshots (and optionally draws the figures)."""
    return _watched_throughput(Trainer(config, data, slots=None), config, draw_figures)


def live_run_throughput(data, config):
    """Samples/s of a LiveRun (worker process) while this process polls snapshots and draws the page's figures."""
    return _watched_throughput(LiveRun(config, data, slots=SlotPool()), config, draw_figures=True)


def _watched_throughput(run, config, draw_figures):
    """(samples/s of training steps, samples/s of wall clock, snapshots taken) of a run watched as the page does."""
    figures = _figure_builders() if draw_figures else []
    started = time.perf_counter()
    run.start()
    polls = 0
    while not run.done:
        snap = run.snapshot()
        for build in figures:
            build(snap)
        polls += 1
        time.sleep(POLL)
    run.join()
    wall = time.perf_counter() - started
    snap = run.snapshot()
    return snap.samples_per_s, snap.step * config.batch_size / wall, polls


def _figure_builders():
    from pages.ui import train_charts as charts
    return [charts.loss_figure, charts.accuracy_figure,
            lambda s: charts.gradient_heatmap(s, s.config.sizes()),
            lambda s: charts.neuron_heatmap(s.latest, s.config.sizes()),
            lambda s: charts.activation_figure(s, s.config.activation),
            lambda s: charts.weight_images(s.latest["first_layer"] if s.latest else None),
            lambda s: charts.weight_histograms(s.latest, s.config.sizes()),
            lambda s: s.evaluation and charts.confusion_figure(s.evaluation, [str(d) for d in range(10)])]


def part_overhead(rounds, epochs):
    config = TrainConfig(epochs=epochs)
    data = sample_data()
    print(f"Part 1: throughput, {config.label()}, batch {config.batch_size}, {data.n_train:,} images × "
          f"{epochs} epochs, {rounds} interleaved rounds")
    cores = SlotPool().cores_each()          # the BLAS threads a run alone gets in the app (all cores but one)
    print(f"  a run alone computes on {cores} of {os.cpu_count()} cores in the app; the bare loop is timed with "
          f"all cores and with those {cores}")
    rows = []
    for r in range(rounds):
        bare = bare_throughput(data, config, epochs)
        with threadpool_limits(cores, user_api="blas"):
            bare_same = bare_throughput(data, config, epochs)
        live, live_wall, polls = trainer_throughput(data, config)
        drawn, drawn_wall, _ = live_run_throughput(data, config)
        rows.append((bare, bare_same, live, drawn))
        print(f"  round {r + 1}: bare {bare:8,.0f}/s (on {cores} core(s) {bare_same:8,.0f}/s) | trainer thread + "
              f"snapshots {live:8,.0f}/s (wall clock incl. epoch-end evaluation {live_wall:,.0f}/s, {polls} "
              f"snapshots) | live run in a worker + page figures {drawn:8,.0f}/s (wall {drawn_wall:,.0f}/s)")
    best = [max(column) for column in zip(*rows)]
    ratio, ratio_same, ratio_all = best[2] / best[0], best[3] / best[1], best[3] / best[0]
    median = statistics.median(drawn / same for _, same, _, drawn in rows)
    print(f"  best of {rounds}: bare {best[0]:,.0f}/s (on {cores} core(s) {best[1]:,.0f}/s), trainer thread "
          f"{best[2]:,.0f}/s, live run (the app's path) {best[3]:,.0f}/s")
    print(f"  ratio live run/bare on the same cores = {ratio_same:.2f} (target ≥ {TARGET_RATIO}) "
          f"{'PASS' if ratio_same >= TARGET_RATIO else 'FAIL'}; live run/bare on all cores {ratio_all:.2f}; "
          f"trainer thread/bare {ratio:.2f}; median of per-round same-cores ratios {median:.2f} (noisy on a shared "
          f"machine)")
    return ratio_same


def part_accuracy(test_dir):
    if not (Path(test_dir) / "t10k-images-idx3-ubyte.gz").exists() and not (Path(test_dir) / "t10k-images-idx3-ubyte").exists():
        print(f"Part 2 skipped: no MNIST test set in {test_dir} (pass --test-dir)")
        return None
    x_test, y_test = read_split(test_dir, "test")
    config = TrainConfig()
    data = sample_data(whole=True, x_test=x_test, y_test=y_test)
    print(f"Part 2: page defaults ({config.label()}, batch {config.batch_size}, {config.epochs} epochs) trained on "
          f"the 5k sample ({data.n_train:,} images), tested on {len(y_test):,} images from {test_dir}")
    reached = {}
    started = time.perf_counter()

    def on_epoch(log):
        wall = time.perf_counter() - started
        print("  " + format_epoch(log) + f" | wall {wall:.1f}s")
        if log["test_acc"] >= TARGET_ACC and "at" not in reached:
            reached.update(at=wall, epoch=log["epoch"])

    snap = Trainer(config, data, slots=None, on_epoch=on_epoch).run()
    final = snap.evaluation["accuracy"]
    if reached:
        ok = reached["at"] <= TARGET_S
        print(f"  reached {100 * TARGET_ACC:.0f}% after epoch {reached['epoch']}, {reached['at']:.1f}s wall clock "
              f"(target ≤ {TARGET_S:.0f}s) {'PASS' if ok else 'FAIL'}; final test accuracy {100 * final:.2f}%")
    else:
        print(f"  never reached {100 * TARGET_ACC:.0f}% (final {100 * final:.2f}%) FAIL")
    return reached.get("at")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=["overhead", "accuracy", "both"], default="both")
    p.add_argument("--rounds", type=int, default=5, help="interleaved repetitions of part 1")
    p.add_argument("--epochs", type=int, default=20, help="epochs per measurement in part 1")
    p.add_argument("--test-dir", default=str(SHARED_TEST), help="folder with the real MNIST t10k files")
    args = p.parse_args(argv)
    if args.part in ("overhead", "both"):
        part_overhead(args.rounds, args.epochs)
    if args.part in ("accuracy", "both"):
        part_accuracy(args.test_dir)


if __name__ == "__main__":
    main()
