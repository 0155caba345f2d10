"""Output layers and loss functions.

The network's last layer turns logits z into predictions ŷ = out(z), and a loss L(ŷ, y) scores
them. Every loss here is a *mean*: over the batch for cross-entropy (its K outputs are one
distribution), over the batch and the K outputs for binary cross-entropy and MSE (K independent
yes/no or number outputs, as PyTorch's and Keras's defaults).

Each loss is a record, like an activation: its value, its value from logits, its slope ∂L/∂ŷ and
the output error δ_out = ∂L/∂z_out that backprop starts from. The chain rule gives
δ_out = ∂L/∂ŷ ⊙ out'(z); for the natural pairings it simplifies:

    loss            ∂L/∂ŷ (one entry)               δ_out with its output
    cross-entropy   −y / (B ŷ)                      softmax:  (ŷ − y) / B
    binary CE       (ŷ − y) / (B K ŷ (1 − ŷ))       sigmoid:  (ŷ − y) / (B K)
    MSE             2 (ŷ − y) / (B K)               identity: 2 (ŷ − y) / (B K)
                                                    sigmoid:  2 (ŷ − y) / (B K) ⊙ ŷ (1 − ŷ)

Losses on logits use log-sum-exp so they never take log(0).
"""
from typing import Callable, NamedTuple

import numpy as np

from core.activations import identity, sigmoid, softmax
from core.checks import check_labels, check_pair

OUTPUTS = {"softmax": softmax, "sigmoid": sigmoid, "identity": identity}
EPS = 1e-12  # keeps log() finite for losses computed from probabilities


# ---- losses from predictions (what a learner computes by hand) ---------------------------

def mse(y_hat, y):
    """MSE = (1 / (B K)) Σ_b Σ_k (ŷ_bk − y_bk)²   (mean over batch and outputs)."""
    y_hat, y = check_pair(y_hat, y)
    return float(np.mean((y_hat - y) ** 2))


def cross_entropy(p, y):
    """CE = −(1/B) Σ_b Σ_k y_bk log p_bk   (p are probabilities, y one-hot or soft targets)."""
    p, y = check_pair(p, y)
    return float(-np.sum(y * np.log(np.clip(p, EPS, 1.0))) / p.shape[0])


def binary_cross_entropy(p, y):
    """BCE = −(1 / (B K)) Σ_b Σ_k [y log p + (1 − y) log(1 − p)]   (mean over batch and outputs)."""
    p, y = check_pair(p, y)
    p = np.clip(p, EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


# ---- losses from logits (what the network uses: stable for any z) ---------------------------

def log_softmax(z):
    """log softmax(z)_k = z_k − logsumexp(z),  logsumexp(z) = m + log Σ_j e^(z_j − m),  m = max z."""
    z = np.asarray(z)
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def cross_entropy_from_logits(z, y):
    """CE(softmax(z), y) = −(1/B) Σ y · log_softmax(z)."""
    z, y = check_pair(z, y)
    return float(-np.sum(y * log_softmax(z)) / z.shape[0])


def bce_from_logits(z, y):
    """BCE(σ(z), y) = (1 / (B K)) Σ [max(z, 0) − z y + log(1 + e^(−|z|))]."""
    z, y = check_pair(z, y)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


# ---- ∂L/∂ŷ and δ_out = ∂L/∂z_out (one formula each; see the table in the module docstring) ----------

def _sizes(y_hat):
    """(B, K) of a batch (B, K), or (1, K) for one example (K,)."""
    return (1, y_hat.shape[-1]) if y_hat.ndim == 1 else y_hat.shape


def cross_entropy_slope(y_hat, y):
    """∂CE/∂ŷ = −y / (B ŷ)."""
    B, _ = _sizes(y_hat)
    return -y / (B * np.clip(y_hat, EPS, None))


def bce_slope(y_hat, y):
    """∂BCE/∂ŷ = (ŷ − y) / (B K ŷ (1 − ŷ))."""
    B, K = _sizes(y_hat)
    return (y_hat - y) / (B * K * np.clip(y_hat * (1 - y_hat), EPS, None))


def mse_slope(y_hat, y):
    """∂MSE/∂ŷ = 2 (ŷ − y) / (B K)."""
    B, K = _sizes(y_hat)
    return 2 * (y_hat - y) / (B * K)


def cross_entropy_delta(output, y_hat, y, out=None):
    """δ_out = (ŷ − y) / B with softmax: −y/(Bŷ) through the softmax Jacobian (see core/graph.py)."""
    B, _ = _sizes(y_hat)
    delta = np.subtract(y_hat, y, out=out)        # (B, K)
    delta *= 1.0 / B
    return delta


def bce_delta(output, y_hat, y, out=None):
    """δ_out = (ŷ − y) / (B K) with sigmoid: σ'(z) = ŷ (1 − ŷ) cancels the slope's denominator."""
    B, K = _sizes(y_hat)
    delta = np.subtract(y_hat, y, out=out)        # (B, K)
    delta *= 1.0 / (B * K)
    return delta


def mse_delta(output, y_hat, y, out=None):
    """δ_out = 2 (ŷ − y) / (B K), times σ'(z) = ŷ (1 − ŷ) behind a sigmoid (nothing cancels it)."""
    B, K = _sizes(y_hat)
    delta = np.subtract(y_hat, y, out=out)        # (B, K)
    delta *= 2.0 / (B * K)
    if output == "sigmoid":
        delta *= y_hat * (1.0 - y_hat)
    return delta


class Loss(NamedTuple):
    """A loss L(ŷ, y), its slope ∂L/∂ŷ and the output error δ_out = ∂L/∂z_out (formulas: the table above)."""
    name: str
    title: str                # display name
    outputs: tuple            # the output layers it goes with
    value: Callable           # L(ŷ, y) from predictions
    from_logits: Callable     # L(out(z), y) from logits, stable for any z (None: computed from ŷ)
    slope: Callable           # ∂L/∂ŷ (same shape as ŷ)
    delta: Callable           # delta(output, ŷ, y, out=None) -> δ_out = ∂L/∂z_out


LOSSES = {loss.name: loss for loss in (
    Loss("cross_entropy", "cross-entropy", ("softmax",), cross_entropy, cross_entropy_from_logits,
         cross_entropy_slope, cross_entropy_delta),
    Loss("bce", "binary cross-entropy", ("sigmoid",), binary_cross_entropy, bce_from_logits, bce_slope, bce_delta),
    Loss("mse", "mean squared error", ("identity", "sigmoid"), mse, None, mse_slope, mse_delta),
)}


def one_hot(labels, K, dtype=np.float32):
    """Row b is all zeros except a 1 at column labels[b].   (B,) ints -> (B, K)."""
    labels = check_labels(labels, K)
    Y = np.zeros((labels.shape[0], K), dtype=dtype)   # (B, K)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


