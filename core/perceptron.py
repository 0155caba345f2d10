"""The perceptron: a threshold unit and Rosenblatt's learning rule.

    score  s = w · x + b
    output ŷ = 1 if s > 0 else 0
    update w ← w + η (y − ŷ) x,   b ← b + η (y − ŷ)

It only changes when it is wrong. It converges on any linearly separable data set
(AND, OR, NAND) and never on XOR, which no single line can split.
"""
from dataclasses import dataclass

import numpy as np

LOGIC_GATES = {          # inputs (4, 2) and targets (4,) of the four two-input gates
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}
GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)   # (4, 2)


def gate_data(name):
    """(X (4, 2), y (4,)) for AND, OR, NAND or XOR."""
    if name not in LOGIC_GATES:
        raise ValueError(f"unknown data set {name!r}; expected one of {list(LOGIC_GATES)}")
    return GATE_INPUTS.copy(), np.array(LOGIC_GATES[name])


@dataclass
class Update:
    """One application of the learning rule, with every number in it."""
    x: np.ndarray
    y: int
    score: float
    y_hat: int
    error: int              # y − ŷ
    w_old: np.ndarray
    b_old: float
    w_new: np.ndarray
    b_new: float

    @property
    def changed(self):
        return self.error != 0


class Perceptron:
    """A threshold unit with weights w (n,) and bias b."""

    def __init__(self, w, b=0.0, lr=0.1):
        self.w = np.array(w, dtype=np.float64)
        if self.w.ndim != 1 or self.w.size == 0:
            raise ValueError(f"w must be a non-empty 1-D list of weights; got shape {self.w.shape}")
        self.b = float(b)
        self.lr = float(lr)
        if not (np.isfinite(self.w).all() and np.isfinite(self.b) and np.isfinite(self.lr)):
            raise ValueError("w, b and the learning rate must be finite numbers")

    def score(self, x):
        """s = w · x + b."""
        return float(self.w @ self._check_x(x) + self.b)

    def predict(self, x):
        """ŷ = 1 if w · x + b > 0 else 0."""
        return int(self.score(x) > 0)

    def update(self, x, y):
        """Apply w ← w + η (y − ŷ) x, b ← b + η (y − ŷ) once; return the Update record."""
        x = self._check_x(x)
        if y not in (0, 1):
            raise ValueError(f"the label y must be 0 or 1, got {y!r}")
        s = self.score(x)
        y_hat = int(s > 0)
        error = int(y) - y_hat
        w_old, b_old = self.w.copy(), self.b
        self.w = self.w + self.lr * error * x
        self.b = self.b + self.lr * error
        return Update(x, int(y), s, y_hat, error, w_old, b_old, self.w.copy(), self.b)

    def epoch(self, X, y):
        """One pass over the data in order; returns the list of updates."""
        return [self.update(x_i, y_i) for x_i, y_i in zip(np.asarray(X, dtype=float), y)]

    def errors(self, X, y):
        """How many examples are misclassified."""
        return sum(self.predict(x_i) != y_i for x_i, y_i in zip(np.asarray(X, dtype=float), y))

    def train(self, X, y, max_epochs=100):
        """Run epochs until an epoch makes no mistake; return the number of epochs, or None if it never converged."""
        for n in range(1, max_epochs + 1):
            if not any(u.changed for u in self.epoch(X, y)):
                return n
        return None

    def boundary(self):
        """The decision line w1 x1 + w2 x2 + b = 0 as (w1, w2, b), for plotting (2 inputs only)."""
        if self.w.size != 2:
            raise ValueError("a boundary line exists only for 2 inputs")
        return float(self.w[0]), float(self.w[1]), self.b

    def _check_x(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.w.shape:
            raise ValueError(f"x must have {self.w.size} numbers; got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        return x
