"""The plateau schedule's record: PyTorch's ReduceLROnPlateau rule, fed the validation loss after each epoch.

The η it gives is lab.schedules.plateau_lr(η, t, scale=record.scale), like every schedule (lab/schedules.py);
this is the state the trainer keeps between epochs, so it lives here beside lab/trainer.py.
"""
import math

from core.checks import finite_number


class ReduceLROnPlateau:
    """Cut η by `factor` when the validation loss has not improved for `patience` evaluations (PyTorch's rule).

        improved:  loss < best · (1 − threshold)     (a relative improvement, PyTorch's default mode)
        else:      bad += 1;  if bad > patience:  scale ← max(scale · factor, min_scale),  bad ← 0

    It is stateful, so it is a small record the trainer feeds (observe(loss) after each epoch's
    evaluation); the step-by-step η is then plateau_lr(η, t, scale=self.scale), like every schedule.
    PyTorch's defaults are factor 0.1, patience 10 (epochs); a 10–20-epoch MNIST run never waits 10
    epochs, so the trainer uses factor 0.5, patience 1 (lab/trainer.py).
    """

    def __init__(self, factor=0.1, patience=10, threshold=1e-4, min_scale=0.0):
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1); got {factor!r}")
        if int(patience) != patience or patience < 0:
            raise ValueError(f"patience must be a whole number ≥ 0; got {patience!r}")
        self.factor, self.patience = float(factor), int(patience)
        self.threshold, self.min_scale = finite_number(threshold, "threshold", low=0), float(min_scale)
        self.scale = 1.0          # η = η₀ · scale
        self.best = math.inf      # the lowest loss seen
        self.bad = 0              # evaluations since the last improvement

    def observe(self, loss):
        """Take one validation loss; returns the (possibly reduced) scale. NaN counts as no improvement."""
        loss = float(loss)
        if loss < self.best * (1 - self.threshold):
            self.best, self.bad = loss, 0
        else:
            self.bad += 1
            if self.bad > self.patience:
                self.scale = max(self.scale * self.factor, self.min_scale)
                self.bad = 0
        return self.scale

    def __repr__(self):
        return (f"ReduceLROnPlateau(factor={self.factor:g}, patience={self.patience}, scale={self.scale:g}, "
                f"best={self.best:.4g})")
