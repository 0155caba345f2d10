"""Weight initialization: where the weights start decides whether gradients can flow.

For a layer with n_in inputs and n_out outputs, W has shape (n_out, n_in):

    zeros:   W = 0                       (every neuron identical: symmetry is never broken)
    normal:  W ~ N(0, std²)              (std chosen by hand; N(0, 1) saturates deep nets)
    xavier:  W ~ N(0, 2 / (n_in + n_out))   (Glorot & Bengio 2010: keeps variance for tanh/sigmoid)
    he:      W ~ N(0, 2 / n_in)          (He et al. 2015: keeps variance through ReLU)

Biases start at zero.
"""
import numpy as np

INITS = ("zeros", "normal", "xavier", "he")


def init_std(init, n_in, n_out, std=0.01):
    """The standard deviation each scheme draws W with."""
    if init == "zeros":
        return 0.0
    if init == "normal":
        return std
    if init == "xavier":
        return np.sqrt(2.0 / (n_in + n_out))
    if init == "he":
        return np.sqrt(2.0 / n_in)
    raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")


def init_weights(init, n_in, n_out, rng, std=0.01, dtype=np.float32):
    """W of shape (n_out, n_in) drawn from the chosen scheme."""
    s = init_std(init, n_in, n_out, std)
    return (s * rng.standard_normal((n_out, n_in))).astype(dtype)   # (n_out, n_in)
