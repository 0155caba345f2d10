"""How fast is the NumPy core, next to PyTorch CPU, on this machine?

    python benchmarks/bench_core.py            # full run (a few minutes)
    python benchmarks/bench_core.py --quick    # fewer repetitions, one epoch on 12k images

Prints the temporaries one training step allocates (tracemalloc; needs no PyTorch), then, for
[784,256,10] and [784,256,128,10] at batch 64 and 128 (plain SGD, one epoch of the 60,000
Fashion-MNIST training images from Debian's `dataset-fashion-mnist`):
  - training samples/second of the core and of PyTorch (`pip install torch==2.13.0`), and their ratio;
  - the fraction of the machine's float32 GEMM FLOP/s that a training step reaches;
then single-image and 10,000-image predict latency, and test accuracy of both trained the same way
(same initial weights, same batches) on the bundled 5k MNIST sample, tested on the real 10k test set
(../shared/data/mnist), mean of 3 seeds.

The machine is noisy (shared with other jobs): core and PyTorch epochs are interleaved, one of each in
turn, and each figure is the median of the repetitions; the ratio is the median of the ratios of each
interleaved pair (core epoch, PyTorch epoch), which saw the same machine load.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.network import MLP  # noqa: E402
from core.optim import SGD  # noqa: E402
from lab.data import load_fashion_mnist, load_sample, read_split  # noqa: E402

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ARCHS = ([784, 256, 10], [784, 256, 128, 10])
BATCHES = (64, 128)


# ---- data ------------------------------------------------------------------------------------

def as_inputs(images):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def fashion_train(n):
    ds = load_fashion_mnist(data_dir=FASHION_DIR, download=False)
    return as_inputs(ds.x_train[:n]), ds.y_train[:n]


# ---- the two trainers ------------------------------------------------------------------------

def core_epoch(net, opt, X, y, B):
    for i in range(0, len(X), B):
        net.train_step(X[i:i + B], y[i:i + B], opt)


def torch_model(net):
    """A PyTorch copy of ``net`` (same weights): Linear/ReLU layers."""
    import torch
    layers = []
    for W, b in zip(net.weights, net.biases):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def torch_epoch(model, opt, X, y, B):
    import torch
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(0, len(X), B):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(X[i:i + B]), y[i:i + B]).backward()
        opt.step()


# ---- measurements ----------------------------------------------------------------------------

def gemm_peak(n=1024, reps=10):
    """Float32 FLOP/s of a large square matrix multiply (the machine's practical peak for NumPy)."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    best = min(_timed(lambda: np.matmul(a, a, out=out)) for _ in range(reps))
    return 2 * n ** 3 / best


def step_flops(sizes, B):
    """FLOPs of one training step: forward 2·B·n_in·n_out per layer, backward the same for dW and
    (except the first layer) again for δ of the layer below."""
    total = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        total += 2 * B * n_in * n_out * (2 if l == 0 else 3)
    return total


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def training_throughput(X, y, reps):
    import torch
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    peak = gemm_peak()
    print(f"float32 GEMM peak (1024³ matmul, NumPy): {peak / 1e9:.1f} GFLOP/s")
    print(f"\n## Training throughput: one epoch of {len(X):,} images, SGD, median of {reps} interleaved pairs")
    print("| network | batch | core samples/s | PyTorch samples/s | core / PyTorch | core % of GEMM peak |")
    print("|---|---|---|---|---|---|")
    for sizes in ARCHS:
        for B in BATCHES:
            net = MLP(sizes, seed=0)
            opt = SGD(0.01)
            model = torch_model(net)
            topt = torch.optim.SGD(model.parameters(), lr=0.01)
            core_times, torch_times = [], []
            core_epoch(net, opt, X[:B * 20], y[:B * 20], B)            # warm up both
            torch_epoch(model, topt, tX[:B * 20], ty[:B * 20], B)
            for _ in range(reps):                                       # interleaved
                core_times.append(_timed(lambda: core_epoch(net, opt, X, y, B)))
                torch_times.append(_timed(lambda: torch_epoch(model, topt, tX, ty, B)))
            core_rate, torch_rate = len(X) / np.median(core_times), len(X) / np.median(torch_times)
            ratio = np.median(np.array(torch_times) / np.array(core_times))   # per pair: same load
            flops = step_flops(sizes, B) * (len(X) / B) / np.median(core_times)
            print(f"| {sizes} | {B} | {core_rate:,.0f} | {torch_rate:,.0f} | {ratio:.2f}× "
                  f"| {100 * flops / peak:.0f} % |")


def predict_latency(X, reps):
    import torch
    net = MLP([784, 256, 10], seed=0)
    model = torch_model(net).eval()
    one, many = X[:1], X[:10000]
    t_one, t_many = torch.from_numpy(one), torch.from_numpy(many)

    def best(fn, n):
        fn()
        return min(_timed(fn) for _ in range(n))

    def torch_predict(x):
        with torch.no_grad():
            return model(x).argmax(1)

    rows = [("1 image", best(lambda: net.predict(one), 200 * reps), best(lambda: torch_predict(t_one), 200 * reps)),
            ("10,000 images", best(lambda: net.predict(many), 3 * reps), best(lambda: torch_predict(t_many), 3 * reps))]
    print("\n## Predict latency, [784, 256, 10] (best of many)")
    print("| input | core | PyTorch | PyTorch time / core time |")
    print("|---|---|---|---|")
    for name, core_t, torch_t in rows:
        print(f"| {name} | {core_t * 1e3:.3f} ms | {torch_t * 1e3:.3f} ms | {torch_t / core_t:.2f}× |")


def accuracy_parity(seeds, epochs):
    """Train both on the 4k/1k bundled sample's training images, test both on the real MNIST test set."""
    import torch
    sample = load_sample()
    X = as_inputs(np.concatenate([sample["x_train"], sample["x_test"]]))
    y = np.concatenate([sample["y_train"], sample["y_test"]])
    x_test, y_test = read_split(SHARED_MNIST, "test")
    X_test = as_inputs(x_test)
    core_acc, torch_acc = [], []
    for seed in seeds:
        net = MLP([784, 256, 10], seed=seed)
        model = torch_model(net)
        opt, topt = SGD(0.1), torch.optim.SGD(model.parameters(), lr=0.1)
        order = np.random.default_rng(seed)
        for _ in range(epochs):
            perm = order.permutation(len(X))
            Xs, ys = X[perm], y[perm]
            core_epoch(net, opt, Xs, ys, 64)
            torch_epoch(model, topt, torch.from_numpy(Xs), torch.from_numpy(ys), 64)
        core_acc.append(net.accuracy(X_test, y_test))
        with torch.no_grad():
            torch_acc.append(float((model(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean()))
    print(f"\n## Test accuracy: [784, 256, 10] ReLU, SGD η=0.1, batch 64, {epochs} epochs on the "
          f"{len(X):,} bundled MNIST images, tested on the real 10,000; seeds {list(seeds)}")
    print("| | core | PyTorch |")
    print("|---|---|---|")
    print(f"| per seed | {', '.join(f'{100 * a:.2f} %' for a in core_acc)} "
          f"| {', '.join(f'{100 * a:.2f} %' for a in torch_acc)} |")
    print(f"| mean | {100 * np.mean(core_acc):.2f} % | {100 * np.mean(torch_acc):.2f} % |")
    print(f"difference: {100 * abs(np.mean(core_acc) - np.mean(torch_acc)):.2f} percentage points")


def step_allocations(B=64):
    """The most memory a ReLU training step of [784, 256, 10] allocates on top of what it keeps (tracemalloc)."""
    import tracemalloc
    from core.optim import Adam
    rng = np.random.default_rng(0)
    X, y = rng.random((B, 784), dtype=np.float32), rng.integers(0, 10, B)
    print(f"\n## Temporaries of one training step, [784, 256, 10] ReLU, batch {B} (tracemalloc, after 3 warm-up steps)")
    for make in (SGD, Adam):
        net, opt = MLP([784, 256, 10], seed=0), make(0.001)
        for _ in range(3):
            net.train_step(X, y, opt)
        tracemalloc.start()
        peaks = []
        for _ in range(10):
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            net.train_step(X, y, opt)
            peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
        print(f"{make.__name__}: {max(peaks) / 1024:.0f} KB")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and 12k training images")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS threads for NumPy and PyTorch alike (default: every core; 1 is steadier on a busy machine)")
    args = parser.parse_args()
    step_allocations()
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is needed for the comparison: pip install torch==2.13.0")
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)       # NumPy's BLAS: the same number of threads as PyTorch's
    print(f"NumPy {np.__version__}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"NumPy's BLAS {args.threads} threads, {os.cpu_count()} cores")
    n, reps = (12_000, 3) if args.quick else (60_000, 5)
    X, y = fashion_train(n)
    training_throughput(X, y, reps)
    predict_latency(X, reps)
    accuracy_parity(seeds=(0, 1, 2), epochs=3 if args.quick else 10)


if __name__ == "__main__":
    main()
