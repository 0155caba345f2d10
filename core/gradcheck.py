"""Check backprop against the definition of a derivative.

For each parameter θ_i, the central difference

    ∂L/∂θ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / (2ε)

is exact up to O(ε²). Backprop is right when, for each weight matrix or bias vector, the
analytic gradient a and the numerical one n agree to a small relative error

    rel_err(a, n) = ‖a − n‖ / (‖a‖ + ‖n‖)     (0 when both are zero)

(a norm over the whole array, so entries that are ~0 by nature — a dead ReLU — don't divide noise by noise).

Use float64 for checking: in float32, rounding swamps the O(ε²) term.
"""
from typing import NamedTuple

import numpy as np


def numerical_grad(net, param, X, y, eps=1e-5):
    """(L(θ + ε) − L(θ − ε)) / 2ε for every entry of one parameter array (changed and restored in place)."""
    grad = np.zeros(param.shape, dtype=np.float64)
    for i in np.ndindex(param.shape):
        old = param[i]
        param[i] = old + eps
        plus = net.batch_loss(X, y)
        param[i] = old - eps
        minus = net.batch_loss(X, y)
        param[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """‖a − n‖ / (‖a‖ + ‖n‖), or 0 when both are zero."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    return float(np.linalg.norm(a - n) / scale) if scale > 0 else 0.0


class GradCheck(NamedTuple):
    """One parameter's check: its name ("W1", "b2", ...), both gradients and their relative error."""
    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: float


def gradient_check(net, X, y, eps=1e-5):
    """Compare backprop's gradients with central differences for every W_l and b_l of net."""
    _, analytic = net.loss_and_grads(X, y)
    checks = []
    for l, (W, b, (dW, db)) in enumerate(zip(net.weights, net.biases, analytic), start=1):
        for name, param, a in ((f"W{l}", W, dW), (f"b{l}", b, db)):
            n = numerical_grad(net, param, X, y, eps)
            checks.append(GradCheck(name, a, n, relative_error(a, n)))
    return checks


def max_relative_error(net, X, y, eps=1e-5):
    """The worst relative error over all parameters (what a test asserts is < 1e-6)."""
    return max(c.rel_error for c in gradient_check(net, X, y, eps))
