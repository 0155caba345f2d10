"""The perceptron: a threshold unit and Rosenblatt's learning rule.

    score  s = w · x + b
    output ŷ = 1 if s > 0 else 0
    update w ← w + η (y − ŷ) x,   b ← b + η (y − ŷ)

It only changes when it is wrong. It visits the examples in order, one at a time, and has
converged once a whole pass needs no correction. It converges on any linearly separable data set
(AND, OR, NAND) and never on XOR, which no single line can split.
"""
from dataclasses import dataclass

import numpy as np

from core.checks import check_binary_label, check_example, check_vector, finite_number


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
        self.w = check_vector(w, "w").copy()                       # (n,)
        self.b, self.lr = finite_number(b, "b"), finite_number(lr, "the learning rate")

    def score(self, x):
        """s = w · x + b."""
        return float(self.w @ check_example(x, self.w.size) + self.b)

    def predict(self, x):
        """ŷ = 1 if w · x + b > 0 else 0."""
        return int(self.score(x) > 0)

    def update(self, x, y):
        """Apply w ← w + η (y − ŷ) x, b ← b + η (y − ŷ) once; return the Update record."""
        x, y = check_example(x, self.w.size), check_binary_label(y)
        s = self.score(x)
        y_hat = int(s > 0)
        error = y - y_hat
        w_old, b_old = self.w.copy(), self.b
        self.w = self.w + self.lr * error * x
        self.b = self.b + self.lr * error
        return Update(x, y, s, y_hat, error, w_old, b_old, self.w.copy(), self.b)

    def errors(self, X, y):
        """How many examples are misclassified."""
        return sum(self.predict(x_i) != y_i for x_i, y_i in zip(np.asarray(X, dtype=float), y))

    def train(self, X, y, max_epochs=100):
        """Sweep the data in order until a whole pass needs no correction; return the number of passes
        that took, or None after max_epochs passes."""
        for epoch in range(1, max_epochs + 1):
            corrections = sum(self.update(x_i, int(y_i)).changed for x_i, y_i in zip(np.asarray(X, dtype=float), y))
            if corrections == 0:
                return epoch
        return None
