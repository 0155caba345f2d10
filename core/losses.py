"""Output layers and loss functions.

The network's last layer turns logits z into predictions ŷ = out(z), and a loss L(ŷ, y)
scores them; L is the *mean over the batch* (and, for MSE, over the outputs too).

Backprop starts from the output error  δ_out = ∂L/∂z_out.  Three pairings make it simple:

    softmax + cross-entropy:   δ = (ŷ − y) / B
    sigmoid + binary CE:       δ = (ŷ − y) / B
    identity + MSE:            δ = 2 (ŷ − y) / (B K)
    sigmoid + MSE:             δ = 2 (ŷ − y) / (B K) ⊙ ŷ (1 − ŷ)     (the sigmoid's slope stays in)

Losses on logits use log-sum-exp so they never take log(0).
"""
import numpy as np

from core.activations import identity, sigmoid, softmax

OUTPUTS = {"softmax": softmax, "sigmoid": sigmoid, "identity": identity}
LOSSES_FOR_OUTPUT = {"softmax": ("cross_entropy",), "sigmoid": ("bce", "mse"), "identity": ("mse",)}
EPS = 1e-12  # keeps log() finite for losses computed from probabilities


# ---- losses from predictions (what a learner computes by hand) ---------------------------

def mse(y_hat, y):
    """MSE = (1 / (B K)) Σ_b Σ_k (ŷ_bk − y_bk)²   (mean over batch and outputs)."""
    y_hat, y = _pair(y_hat, y)
    return float(np.mean((y_hat - y) ** 2))


def cross_entropy(p, y):
    """CE = −(1/B) Σ_b Σ_k y_bk log p_bk   (p are probabilities, y one-hot or soft targets)."""
    p, y = _pair(p, y)
    return float(-np.sum(y * np.log(np.clip(p, EPS, 1.0))) / _batch(p))


def binary_cross_entropy(p, y):
    """BCE = −(1/B) Σ_b Σ_k [y log p + (1 − y) log(1 − p)]."""
    p, y = _pair(p, y)
    p = np.clip(p, EPS, 1.0 - EPS)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / _batch(p))


# ---- losses from logits (what the network uses: stable for any z) ---------------------------

def log_softmax(z):
    """log softmax(z)_k = z_k − logsumexp(z),  logsumexp(z) = m + log Σ_j e^(z_j − m),  m = max z."""
    z = np.asarray(z)
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def cross_entropy_from_logits(z, y):
    """CE(softmax(z), y) = −(1/B) Σ y · log_softmax(z)."""
    z, y = _pair(z, y)
    return float(-np.sum(y * log_softmax(z)) / _batch(z))


def bce_from_logits(z, y):
    """BCE(σ(z), y) = (1/B) Σ [max(z, 0) − z y + log(1 + e^(−|z|))]."""
    z, y = _pair(z, y)
    return float(np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) / _batch(z))


def loss_value(loss, z, y_hat, y):
    """The loss of a batch, from logits z where that is more stable, else from predictions ŷ."""
    if loss == "cross_entropy":
        return cross_entropy_from_logits(z, y)
    if loss == "bce":
        return bce_from_logits(z, y)
    return mse(y_hat, y)


def output_delta(output, loss, y_hat, y, out=None):
    """δ_out = ∂L/∂z_out for a batch (see the module docstring for the four formulas)."""
    B, K = y_hat.shape
    delta = np.subtract(y_hat, y, out=out)        # (B, K)  ŷ − y
    if loss == "mse":
        delta *= 2.0 / (B * K)
        if output == "sigmoid":
            delta *= y_hat * (1.0 - y_hat)        # chain rule through σ'(z) = ŷ (1 − ŷ)
    else:
        delta *= 1.0 / B
    return delta


def check_output_loss(output, loss):
    """Raise a clear error unless (output, loss) is one of the supported pairs."""
    if output not in LOSSES_FOR_OUTPUT:
        raise ValueError(f"unknown output {output!r}; expected one of {sorted(LOSSES_FOR_OUTPUT)}")
    if loss not in LOSSES_FOR_OUTPUT[output]:
        raise ValueError(f"loss {loss!r} does not go with output {output!r}; "
                         f"use one of {list(LOSSES_FOR_OUTPUT[output])}")


def one_hot(labels, K, dtype=np.float32):
    """Row b is all zeros except a 1 at column labels[b].   (B,) ints -> (B, K)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of ints, got shape {labels.shape} dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(f"labels must be in 0..{K - 1}, got values from {labels.min()} to {labels.max()}")
    Y = np.zeros((labels.shape[0], K), dtype=dtype)   # (B, K)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


def _pair(a, b):
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    if a.shape != b.shape:
        raise ValueError(f"prediction and target shapes differ: {a.shape} vs {b.shape}")
    return a, b


def _batch(a):
    return a.shape[0]
