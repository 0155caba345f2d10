"""A learning-rate sweep ("LR finder"): train the same tiny network with each η on a log grid.

Every run starts from the same weights and takes the same number of full-batch steps on the
same small data set (three interleaved spirals in 2-D); only η differs. Each η is then called

    diverging:  at some step the loss rose above RISE · L₀ (L₀ the starting loss), or it ended
                above L₀ or not finite
    too low:    it removed less than half of what the best η removed:  L₀ − L < ½ (L₀ − L_best)
    good:       everything else

The good η form a band: below it learning crawls, above it the steps overshoot.

Why the whole curve and not just the final loss: overshooting does not always end in infinity. The
hidden layer is tanh, so however large the weights grow each hidden output stays within ±1 and the
loss stays finite. Adam moves every weight by about η per step whatever the gradient, so with η ≥ 0.3
the loss here jumps to 1.4–22× L₀ and then wanders; after 60 steps it may land anywhere, and judged by
the last step alone η ≈ 1.7 looked best (measured: it peaks at 12 L₀ and ends at 0.003, by luck and by
memorising 150 points with huge weights). An LR finder looks for where the loss starts to rise.
"""
from typing import NamedTuple

import numpy as np

from core.network import MLP
from core.optim import make_optimizer

RISE = 1.1      # a loss above 1.1 L₀ at any step counts as overshooting; Adam's first steps can lift it
                # by ~1 % (η = 0.17 peaks at 1.01 L₀ and ends at 0.05), which is not divergence


class Sweep(NamedTuple):
    lrs: np.ndarray             # (n,)  the η tried, increasing
    final_losses: np.ndarray    # (n,)  loss after `steps` steps (inf if it blew up)
    curves: np.ndarray          # (n, steps + 1)  the loss at every step (inf after blowing up)
    start_loss: float           # L₀, the same for every η
    verdicts: list              # (n,)  "too low" / "good" / "diverging"
    optimizer: str
    steps: int

    @property
    def best_lr(self):
        """The η with the lowest final loss among those that did not diverge (None if all diverged)."""
        stable = [i for i, v in enumerate(self.verdicts) if v != "diverging"]
        return float(self.lrs[min(stable, key=lambda i: self.final_losses[i])]) if stable else None


def spirals(n_per_class=50, classes=3, seed=0):
    """Three interleaved spirals: X (n·classes, 2) in about [−1, 1]², y (n·classes,) int labels."""
    rng = np.random.default_rng(seed)
    r = np.linspace(0.1, 1.0, n_per_class)                               # (n,)
    X, y = [], []
    for k in range(classes):
        angle = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + 0.2 * rng.standard_normal(n_per_class)
        X.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))    # (n, 2)
        y.append(np.full(n_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


def lr_grid(lr_min=1e-3, lr_max=30.0, n=19):
    """n learning rates evenly spaced on a log scale from lr_min to lr_max."""
    if not (0 < lr_min < lr_max and np.isfinite(lr_max)):
        raise ValueError(f"need 0 < lr_min < lr_max; got {lr_min!r}, {lr_max!r}")
    if not 2 <= n <= 60:
        raise ValueError(f"the grid needs 2 to 60 learning rates; got {n}")
    return np.logspace(np.log10(lr_min), np.log10(lr_max), n)


def lr_sweep(lrs=None, steps=60, optimizer="sgd", hidden=16, seed=0):
    """Train MLP([2, hidden, 3]) for `steps` full-batch steps with each η in lrs; return a Sweep."""
    lrs = lr_grid() if lrs is None else np.sort(np.asarray(lrs, dtype=np.float64))
    if not 1 <= steps <= 1000:
        raise ValueError(f"steps must be from 1 to 1000; got {steps!r}")
    X, y = spirals(seed=seed)                                            # (150, 2), (150,)
    start = MLP([2, hidden, 3], activation="tanh", init="xavier", seed=seed)
    curves = np.full((len(lrs), steps + 1), np.inf)                      # (n, steps + 1)
    for i, lr in enumerate(lrs):
        curves[i, :] = _train_curve(start.copy(), X, y, make_optimizer(optimizer, lr), steps)
    start_loss = float(curves[0, 0])
    finals = curves[:, -1]
    return Sweep(lrs, finals, curves, start_loss, classify(curves), optimizer, steps)


def _train_curve(net, X, y, opt, steps):
    """Losses L₀..L_steps of one run; the run stops (inf from then on) once the loss is not finite."""
    curve = np.full(steps + 1, np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            loss = net.train_step(X, y, opt)
            if not np.isfinite(loss):
                return curve
            curve[t] = loss
        curve[steps] = net.batch_loss(X, y)
    return curve


def classify(curves):
    """The verdict for each run, from its losses L₀..L_T (curves (n, T + 1), every row starting at the
    same L₀): see the module docstring."""
    curves = np.asarray(curves, dtype=np.float64)                        # (n, T + 1)
    start_loss, finals = curves[0, 0], curves[:, -1]
    with np.errstate(invalid="ignore"):
        peaks = np.max(curves, axis=1)                                   # (n,)  NaN if any step was NaN
        stable = np.isfinite(finals) & (peaks <= RISE * start_loss) & (finals <= start_loss)
    best_gain = start_loss - finals[stable].min() if stable.any() else 0.0
    verdicts = []
    for loss, ok in zip(finals, stable):
        if not ok:
            verdicts.append("diverging")
        elif start_loss - loss < 0.5 * best_gain:
            verdicts.append("too low")
        else:
            verdicts.append("good")
    return verdicts
