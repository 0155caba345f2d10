"""Layers: each one a forward function and its backward function, side by side.

micrograd's idea at the scale of matrices. A layer maps its input a to an output; backward takes
δ = ∂L/∂output and returns ∂L/∂input, and the gradients of the layer's own parameters. The batch
is the rows (B examples):

    Linear       z = a Wᵀ + b            dW = δᵀ a,  db = Σ_b δ,  δ_in = δ W
    Activation   a = f(z)                δ_in = δ ⊙ f'(z)

A forward call returns (output, state): `state` is whatever backward needs beyond the layer's input
and output (a dropout mask, batch norm's x̂); None for these two. The network keeps input, output and
state of every layer in one `Step` per layer, and hands that Step back to backward: a layer keeps
nothing of a pass in its attributes, so one layer can serve many passes (and threads) at once.

Both directions take optional `out` arrays to write into, so a training loop can reuse memory.
"""
from typing import NamedTuple

import numpy as np


class Step(NamedTuple):
    """What one layer saw and did in one forward pass."""
    input: np.ndarray       # (B, n_in)
    output: np.ndarray      # (B, n_out)
    state: object = None    # anything else backward needs (None for Linear and Activation)


class Linear:
    """z = a Wᵀ + b: every output neuron is a weighted sum of all inputs plus a bias.

    W is (n_out, n_in), the math convention z = W a + b for one example (a column); for a batch of
    rows that is z = a Wᵀ + b. W is stored column-major (Fortran order): then Wᵀ is a plain row-major
    matrix and a Wᵀ, δ W and δᵀ a are untransposed GEMMs for BLAS, which is faster. The shape and the
    math are unchanged.
    """

    def __init__(self, W, b):
        self.W = np.asfortranarray(W)       # (n_out, n_in)
        self.b = b                          # (n_out,)
        self.params = [self.W, self.b]      # what an optimizer updates, in place

    def forward(self, a, train=False, out=None):
        """z = a Wᵀ + b:   (B, n_in) -> (B, n_out)."""
        z = np.matmul(a, self.W.T, out=out)     # (B, n_out)
        z += self.b                             # (B, n_out)  b broadcast over the batch
        return z, None

    def backward(self, step, delta, grads=None, out=None, input_grad=True):
        """δ = ∂L/∂z (B, n_out) -> (δ_in = ∂L/∂a (B, n_in), [dW, db]).

            dW = δᵀ a    (n_out, n_in)   the sum over the batch of δ_b a_bᵀ
            db = Σ_b δ   (n_out,)
            δ_in = δ W   (B, n_in)       each input's share of the error

        grads: [dW, db] arrays to write into (else new ones); input_grad=False skips δ_in (the first
        layer's input is the data, whose gradient nobody needs).
        """
        dW, db = grads if grads is not None else (np.empty_like(self.W), np.empty_like(self.b))
        np.matmul(step.input.T, delta, out=dW.T)          # (n_in, n_out)  dWᵀ = aᵀ δ, i.e. dW = δᵀ a
        delta.sum(axis=0, out=db)                          # (n_out,)
        delta_in = np.matmul(delta, self.W, out=out) if input_grad else None   # (B, n_in)
        return delta_in, [dW, db]


class Activation:
    """a = f(z), element by element (one record of core.activations: f and its derivative f')."""

    params = []

    def __init__(self, act):
        self.act = act

    def forward(self, z, train=False, out=None):
        """a = f(z):   (B, n) -> (B, n)."""
        return self.act.f(z, out=out), None

    def backward(self, step, delta, grads=None, out=None, input_grad=True):
        """δ = ∂L/∂a (B, n) -> (δ_in = ∂L/∂z = δ ⊙ f'(z) (B, n), no parameter gradients).

        out may be delta itself: the product is then taken in place.
        """
        return np.multiply(delta, self.act.prime(step.input), out=out), []
