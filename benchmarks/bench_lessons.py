"""The lessons' network, core against PyTorch CPU, trained side by side: speed and test accuracy.

    python benchmarks/bench_lessons.py             # 5 epochs of Fashion-MNIST 60k, 3 seeds, then MNIST
    python benchmarks/bench_lessons.py --quick     # 2 epochs of 20k Fashion-MNIST images, 3 seeds (about 3 min)
    python benchmarks/bench_lessons.py --epochs 20 # the lessons' own length

The network is lab.trainer.PRESETS["lessons"]: 784→256→256→10, each hidden layer Linear → BatchNorm →
ReLU → Dropout(0.3), AdamW η = 1e-3 with decoupled weight decay 1e-4, η annealed by a cosine over all
the steps, gradients clipped to global norm 1.0, batches of 64. PyTorch (`pip install torch==2.13.0`,
a test and benchmark oracle only) trains the identical nn.Sequential:

- the same initial weights (copied from the core's network; γ = 1, β = 0 in both);
- the same batches in the same order (one permutation per epoch, shared);
- BatchNorm1d's defaults are the core's (ε = 1e-5, momentum 0.1, the unbiased variance in the running
  average), CrossEntropyLoss is the core's softmax + cross-entropy, batch mean;
- torch.optim.AdamW is the core's AdamW: θ ← θ − η λ θ on every parameter (weights, biases, γ, β),
  then Adam with β = (0.9, 0.999), ε = 1e-8 (not Adam with λθ added to the gradient, which is what
  L2 in Adam would be);
- clip_grad_norm_(…, 1.0) before each step, like the core's clip (it scales by 1/(‖g‖ + 1e-6), the
  core by exactly 1/‖g‖);
- η of every step is the core's cosine schedule (lab.schedules.scheduled_lr), written into PyTorch's
  param group, so the two schedules are one.
The dropout masks differ (each side draws its own), so the two runs are two samples of one recipe.

Throughput: each epoch is timed for both, interleaved (core epoch, PyTorch epoch); the machine is
shared, so the ratio is the median over the interleaved pairs of (PyTorch time / core time), which saw
the same load. Test accuracy is in evaluation mode (running statistics, no dropout) after the last
epoch. Fashion-MNIST 60k/10k is Debian's `dataset-fashion-mnist`; MNIST is the 5,000 bundled training
images (assets/), tested on the real 10,000 test images (../shared/data/mnist).
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
from core.optim import make_optimizer  # noqa: E402
from lab.schedules import scheduled_lr  # noqa: E402
from lab.data import load_fashion_mnist, load_sample, read_split  # noqa: E402
from lab.trainer import PRESETS  # noqa: E402

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
CFG = PRESETS["lessons"]
SIZES = [784, *CFG.hidden, 10]


def as_inputs(images):
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def lessons_net(seed):
    """Our side: the preset's network (MLP with batchnorm=True, dropout=0.3)."""
    return MLP(SIZES, activation=CFG.activation, init=CFG.init, seed=seed, batchnorm=CFG.batchnorm,
               dropout=CFG.dropout)


def torch_twin(net):
    """PyTorch's nn.Sequential of the same layers, with the core network's initial weights."""
    import torch
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if l < len(net.weights) - 1:
            layers += [torch.nn.BatchNorm1d(W.shape[0], eps=1e-5, momentum=0.1), torch.nn.ReLU(),
                       torch.nn.Dropout(CFG.dropout)]
    return torch.nn.Sequential(*layers)


def train_side_by_side(seed, X, y, X_test, y_test, epochs, B=CFG.batch_size):
    """Train both for `epochs` on the same batches; returns (core times, torch times, core acc, torch acc)."""
    import torch
    torch.manual_seed(seed)
    net = lessons_net(seed)
    model = torch_twin(net)
    opt = make_optimizer(CFG.optimizer, CFG.lr, weight_decay=CFG.l2)
    topt = torch.optim.AdamW(model.parameters(), lr=CFG.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=CFG.l2)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps_per_epoch = -(-len(X) // B)
    total = steps_per_epoch * epochs
    order = np.random.default_rng(seed)
    core_t, torch_t = [], []
    for epoch in range(epochs):
        perm = order.permutation(len(X))
        Xs, ys = X[perm], y[perm]                                     # (N, 784), (N,)  this epoch's order
        tX, ty = torch.from_numpy(Xs), torch.from_numpy(ys)
        rates = [scheduled_lr(CFG.schedule, CFG.lr, epoch * steps_per_epoch + k, total)
                 for k in range(steps_per_epoch)]
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(X), B)):                   # the Trainer's step (lab/trainer.py)
            net.learn(Xs[i:i + B], ys[i:i + B], opt, lr=rates[k], clip=CFG.clip, l2=0.0, weight_decay=CFG.l2)
        core_t.append(time.perf_counter() - t0)
        model.train()
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(X), B)):
            for group in topt.param_groups:
                group["lr"] = rates[k]
            topt.zero_grad(set_to_none=True)
            loss_fn(model(tX[i:i + B]), ty[i:i + B]).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CFG.clip)
            topt.step()
        torch_t.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean())
    return core_t, torch_t, net.accuracy(X_test, y_test), torch_acc


def compare(name, X, y, X_test, y_test, epochs, seeds):
    print(f"\n## {name}: {len(X):,} training images, {epochs} epochs, tested on {len(X_test):,}; seeds {list(seeds)}")
    print("| seed | core samples/s | PyTorch samples/s | core / PyTorch (median of pairs) | core test acc | "
          "PyTorch test acc |")
    print("|---|---|---|---|---|---|")
    ratios, core_accs, torch_accs, core_rates, torch_rates = [], [], [], [], []
    for seed in seeds:
        core_t, torch_t, core_acc, torch_acc = train_side_by_side(seed, X, y, X_test, y_test, epochs)
        pair = np.array(torch_t) / np.array(core_t)
        ratios += list(pair)
        core_accs.append(core_acc)
        torch_accs.append(torch_acc)
        core_rates.append(len(X) / np.median(core_t))
        torch_rates.append(len(X) / np.median(torch_t))
        print(f"| {seed} | {core_rates[-1]:,.0f} | {torch_rates[-1]:,.0f} | {np.median(pair):.2f}× "
              f"| {100 * core_acc:.2f} % | {100 * torch_acc:.2f} % |", flush=True)
    diff = 100 * (np.mean(core_accs) - np.mean(torch_accs))
    print(f"| all | {np.median(core_rates):,.0f} | {np.median(torch_rates):,.0f} | {np.median(ratios):.2f}× "
          f"| {100 * np.mean(core_accs):.2f} % (mean) | {100 * np.mean(torch_accs):.2f} % (mean) |")
    print(f"core − PyTorch test accuracy: {diff:+.2f} points (mean of {len(seeds)} seeds); "
          f"pair ratios range {min(ratios):.2f}–{max(ratios):.2f}×")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 epochs of 20,000 Fashion-MNIST images, 5 of MNIST")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of Fashion-MNIST (default 5; quick: 2)")
    parser.add_argument("--mnist-epochs", type=int, default=None, help="epochs of the MNIST sample (default 20)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--data", choices=("both", "fashion", "mnist"), default="both", help="which comparison to run")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS threads for NumPy and PyTorch alike (default: every core; 1 is steadier on a busy machine)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is needed for the comparison: pip install torch==2.13.0")
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)       # NumPy's BLAS: the same number of threads as PyTorch's
    print(f"NumPy {np.__version__}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"NumPy's BLAS {args.threads} threads, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"the network: {lessons_net(0)!r}; {CFG.optimizer} η = {CFG.lr:g}, weight decay {CFG.l2:g}, "
          f"{CFG.schedule} schedule, clip {CFG.clip:g}, batch {CFG.batch_size}")
    seeds = range(args.seeds)
    epochs = args.epochs or (2 if args.quick else 5)
    n = 20_000 if args.quick else 60_000
    if args.data in ("both", "fashion"):
        fashion = load_fashion_mnist(data_dir=FASHION_DIR, download=False)
        compare("Fashion-MNIST", as_inputs(fashion.x_train[:n]), fashion.y_train[:n], as_inputs(fashion.x_test),
                fashion.y_test, epochs, seeds)
    if args.data in ("both", "mnist"):
        sample = load_sample()
        X = as_inputs(np.concatenate([sample["x_train"], sample["x_test"]]))
        y = np.concatenate([sample["y_train"], sample["y_test"]])
        x_test, y_test = read_split(SHARED_MNIST, "test")
        compare("MNIST (the bundled sample)", X, y, as_inputs(x_test), y_test,
                args.mnist_epochs or (5 if args.quick else CFG.epochs), seeds)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
