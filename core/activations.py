"""Activation functions and their derivatives.

Every activation is a pair of element-wise functions of the pre-activation z:

    a = f(z)          (the neuron's output)
    f'(z) = da/dz     (what backprop multiplies by)

All of them accept an optional ``out`` array so the network can reuse buffers,
and all are numerically stable: no overflow warnings for |z| up to 1e4.
"""
from typing import Callable, NamedTuple

import numpy as np

from core.checks import check_alpha, check_known

LEAKY_ALPHA = 0.01  # slope of leaky ReLU for z < 0


def sigmoid(z, out=None):
    """σ(z) = 1 / (1 + e^(−z)), computed from e^(−|z|) so it never overflows."""
    z = _as_float(z)
    e = np.exp(-np.abs(z))                     # in (0, 1]: never overflows
    return _write(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), out)


def sigmoid_prime(z):
    """σ'(z) = σ(z) (1 − σ(z)); at most 0.25 (at z = 0)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z, out=None):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), in (−1, 1), zero-centred."""
    return np.tanh(_as_float(z), out=out)


def tanh_prime(z):
    """tanh'(z) = 1 − tanh²(z)."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z, out=None):
    """ReLU(z) = max(0, z)."""
    return np.maximum(_as_float(z), 0, out=out)


def relu_prime(z):
    """ReLU'(z) = 1 if z > 0 else 0 (we take 0 at z = 0)."""
    z = _as_float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, out=None, alpha=LEAKY_ALPHA):
    """LeakyReLU(z) = z if z > 0 else α z (a small slope keeps neurons alive)."""
    z = _as_float(z)
    return _write(np.where(z > 0, z, alpha * z), out)


def leaky_relu_prime(z, alpha=LEAKY_ALPHA):
    """LeakyReLU'(z) = 1 if z > 0 else α."""
    z = _as_float(z)
    return np.where(z > 0, 1.0, alpha).astype(z.dtype)


_GELU_C = float(np.sqrt(2.0 / np.pi))


def gelu(z, out=None):
    """GELU(z) ≈ ½ z (1 + tanh(√(2/π) (z + 0.044715 z³)))  (the tanh form used by BERT/GPT-2).

    For |z| > 10 the result is z or 0 to float precision; clipping first keeps z³ finite.
    """
    z = np.asarray(z)
    zc = np.clip(z, -10.0, 10.0)
    t = np.tanh(_GELU_C * (zc + 0.044715 * zc**3))
    return _write(np.where(np.abs(z) > 10.0, np.maximum(z, 0), 0.5 * zc * (1.0 + t)), out)


def gelu_prime(z):
    """GELU'(z) = ½(1 + t) + ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²),  t = tanh(√(2/π)(z + 0.044715 z³))."""
    z = np.asarray(z)
    zc = np.clip(z, -10.0, 10.0)
    t = np.tanh(_GELU_C * (zc + 0.044715 * zc**3))
    d = 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * zc**2)
    return np.where(np.abs(z) > 10.0, (z > 0).astype(d.dtype), d).astype(_as_float(z).dtype, copy=False)


def identity(z, out=None):
    """identity(z) = z (a linear neuron)."""
    return _write(np.array(_as_float(z), copy=True), out)


def identity_prime(z):
    """identity'(z) = 1."""
    return np.ones_like(_as_float(z))


def softmax(z, axis=-1, out=None):
    """softmax(z)_k = e^(z_k − max z) / Σ_j e^(z_j − max z)   (subtracting the max avoids overflow)."""
    z = _as_float(z)
    e = np.subtract(z, np.max(z, axis=axis, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _as_float(z):
    """z as a float array (ints become float64; float32 stays float32)."""
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


def _write(result, out):
    """Return ``result``, copied into ``out`` when a buffer is given (keeps out's dtype)."""
    if out is None:
        return result
    out[...] = result
    return out


class Activation(NamedTuple):
    """An activation function f and its derivative f' (the formulas are in their docstrings above)."""
    name: str
    title: str            # display name: "leaky ReLU", "GELU"
    f: Callable
    prime: Callable


ACTIVATIONS = {act.name: act for act in (
    Activation("sigmoid", "sigmoid", sigmoid, sigmoid_prime),
    Activation("tanh", "tanh", tanh, tanh_prime),
    Activation("relu", "ReLU", relu, relu_prime),
    Activation("leaky_relu", "leaky ReLU", leaky_relu, leaky_relu_prime),
    Activation("gelu", "GELU", gelu, gelu_prime),
    Activation("identity", "identity", identity, identity_prime),
)}


def get_activation(name, alpha=LEAKY_ALPHA):
    """Look up an activation by name; ``alpha`` sets the leaky-ReLU slope."""
    check_known(name, sorted(ACTIVATIONS), "activation")
    if name == "leaky_relu" and alpha != LEAKY_ALPHA:
        check_alpha(alpha)
        return ACTIVATIONS[name]._replace(
            f=lambda z, out=None: leaky_relu(z, out=out, alpha=alpha),
            prime=lambda z: leaky_relu_prime(z, alpha=alpha))
    return ACTIVATIONS[name]
