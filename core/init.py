"""Weight initialization: where the weights start decides whether gradients can flow.

For a layer with n_in inputs and n_out outputs, W has shape (n_out, n_in):

    zeros:   W = 0                       (every neuron identical: symmetry is never broken)
    normal:  W ~ N(0, std²)              (std chosen by hand; N(0, 1) saturates deep nets)
    xavier:  W ~ N(0, 2 / (n_in + n_out))   (Glorot & Bengio 2010: keeps variance for tanh/sigmoid)
    he:      W ~ N(0, 2 / n_in)          (He et al. 2015: keeps variance through ReLU)

Biases start at zero.
"""
import numpy as np

from core.checks import check_known

INITS = ("zeros", "normal", "xavier", "he")


def init_weights(init, n_in, n_out, rng, std=0.01, dtype=np.float32):
    """W of shape (n_out, n_in) drawn from the chosen scheme (std: the hand-chosen one of "normal")."""
    check_known(init, list(INITS), "init")
    stds = {"zeros": 0.0, "normal": std, "xavier": np.sqrt(2.0 / (n_in + n_out)), "he": np.sqrt(2.0 / n_in)}
    return (stds[init] * rng.standard_normal((n_out, n_in))).astype(dtype)   # (n_out, n_in)
