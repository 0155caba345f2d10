"""Layers: each one a forward function and its backward function, side by side.

micrograd's idea at the scale of matrices. A layer maps its input a to an output; backward takes
δ = ∂L/∂output and returns ∂L/∂input, and the gradients of the layer's own parameters. The batch
is the rows (B examples):

    Linear       z = a Wᵀ + b            dW = δᵀ a,  db = Σ_b δ,  δ_in = δ W
    Activation   a = f(z)                δ_in = δ ⊙ f'(z)
    BatchNorm    y = γ x̂ + β             dγ = Σ_b δ ⊙ x̂,  dβ = Σ_b δ,  δ_in = (γ/√(σ²+ε))(δ − mean δ − x̂ mean(δ ⊙ x̂))
    Dropout      y = x ⊙ m / (1 − p)     δ_in = δ ⊙ m / (1 − p)
    ResidualAdd  y = F(a) + a            δ to F's output, and δ again to a (the skip)

forward returns (output, state): `state` is what backward needs beyond the layer's input and output
(the dropout mask, batch norm's x̂ and 1/√(σ² + ε)). The network keeps input, output and state in one
`Step` per layer and hands it back to backward, so a layer keeps nothing of a pass (one layer can
serve many passes and threads at once); only BatchNorm's running statistics, part of the model, change,
once per training step. Both directions take optional `out` arrays so a training loop can reuse memory.
"""
from typing import NamedTuple

import numpy as np

from core.checks import check_dropout_rate, check_mask, check_norm_batch


class Step(NamedTuple):
    """What one layer saw and did in one forward pass."""
    input: np.ndarray       # (B, n_in)
    output: np.ndarray      # (B, n_out)
    state: object = None    # anything else backward needs (None for Linear and Activation)


class Linear:
    """z = a Wᵀ + b: every output neuron is a weighted sum of all inputs plus a bias.

    W is (n_out, n_in), the math convention z = W a + b for one example (a column); for a batch of
    rows that is z = a Wᵀ + b. Speed: W is stored column-major (Fortran order), so Wᵀ is a plain
    row-major matrix and a Wᵀ, δ W and δᵀ a are untransposed GEMMs for BLAS.
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


class BatchNorm:
    """Batch normalization of each feature j over the batch, then a learnable scale γ and shift β.

    Training mode, for a batch x (B, n):

        μ_j  = (1/B) Σ_b x_bj                         (n,)    the batch mean
        σ²_j = (1/B) Σ_b (x_bj − μ_j)²                (n,)    the batch variance (biased: divide by B)
        x̂_bj = (x_bj − μ_j) / √(σ²_j + ε)             (B, n)  zero mean, unit variance per feature
        y_bj = γ_j x̂_bj + β_j                         (B, n)

    Evaluation mode uses running averages, so one example's output does not depend on its batch.
    After every training step (MLP.learn calls update_running), with momentum m = 0.1:

        running_mean ← (1 − m) running_mean + m μ
        running_var  ← (1 − m) running_var  + m σ² · B / (B − 1)     (the unbiased variance)

    as PyTorch's BatchNorm1d does. ε = 1e-5 (PyTorch's too) keeps the division finite for a feature
    that is constant over the batch.

    Backward, the long form (every path from x to L; x̂ depends on x directly and through μ and σ²):

        dβ   = Σ_b δ_b                                 (n,)
        dγ   = Σ_b δ_b ⊙ x̂_b                           (n,)
        dx̂   = δ ⊙ γ                                   (B, n)
        dσ²  = Σ_b dx̂_b ⊙ (x_b − μ) · (−½)(σ² + ε)^(−3/2)                  (n,)
        dμ   = −Σ_b dx̂_b / √(σ² + ε) + dσ² · (−2/B) Σ_b (x_b − μ)        (n,)  (the second sum is 0)
        dx_b = dx̂_b / √(σ² + ε) + dσ² · 2 (x_b − μ) / B + dμ / B         (B, n)

    which simplifies (substitute x_b − μ = x̂_b √(σ² + ε)) to the compact form computed here:

        dx = (γ / √(σ² + ε)) ⊙ (δ − mean_b(δ) − x̂ ⊙ mean_b(δ ⊙ x̂))

    In evaluation mode μ and σ² are constants, and dx = dx̂ / √(running_var + ε).
    """

    EPS = 1e-5           # PyTorch's default ε
    MOMENTUM = 0.1       # PyTorch's default: running = 0.9 running + 0.1 batch

    def __init__(self, n, dtype=np.float32):
        self.gamma = np.ones(n, dtype=dtype)             # (n,)  γ: starts as "keep the normalized value"
        self.beta = np.zeros(n, dtype=dtype)             # (n,)  β
        self.running_mean = np.zeros(n, dtype=dtype)     # (n,)  not learned: averaged over training steps
        self.running_var = np.ones(n, dtype=dtype)       # (n,)
        self.params = [self.gamma, self.beta]

    def forward(self, x, train=False, out=None):
        """y = γ x̂ + β:   (B, n) -> (B, n). state: NormState for backward and update_running."""
        if train:
            B = check_norm_batch(x.shape[0])
            mean = x.mean(axis=0)                                  # (n,)  μ
            x_hat = x - mean                                       # (B, n)  x − μ
            var = np.einsum("bj,bj->j", x_hat, x_hat) / B          # (n,)  σ² (biased)
        else:
            mean, var = self.running_mean, self.running_var        # (n,)  constants in evaluation
            x_hat = x - mean                                       # (B, n)
        inv_std = (1.0 / np.sqrt(var + self.EPS)).astype(x.dtype)  # (n,)  1/√(σ² + ε)
        x_hat *= inv_std                                           # (B, n)  x̂ = (x − μ)/√(σ² + ε)
        y = np.multiply(x_hat, self.gamma, out=out)                # (B, n)  γ x̂
        y += self.beta                                             # (B, n)  + β
        return y, NormState(x_hat, inv_std, mean, var, train)

    def backward(self, step, delta, grads=None, out=None, input_grad=True):
        """δ = ∂L/∂y (B, n) -> (δ_in = ∂L/∂x (B, n), [dγ, dβ]) in the compact form of the docstring."""
        s = step.state
        dgamma, dbeta = grads if grads is not None else (np.empty_like(self.gamma), np.empty_like(self.beta))
        np.einsum("bj,bj->j", delta, s.x_hat, out=dgamma)         # (n,)  dγ = Σ_b δ ⊙ x̂
        delta.sum(axis=0, out=dbeta)                               # (n,)  dβ = Σ_b δ
        if not input_grad:
            return None, [dgamma, dbeta]
        scale = self.gamma * s.inv_std                             # (n,)  γ / √(σ² + ε)
        if not s.train:                                            # μ, σ² constants: dx = dx̂ / √(var + ε)
            return np.multiply(delta, scale, out=out), [dgamma, dbeta]
        B = delta.shape[0]
        dx = np.multiply(s.x_hat, dgamma / B, out=out)             # (B, n)  x̂ ⊙ mean_b(δ ⊙ x̂)
        dx += dbeta / B                                            # (B, n)  + mean_b(δ)
        np.subtract(delta, dx, out=dx)                             # (B, n)  δ − mean(δ) − x̂ ⊙ mean(δ ⊙ x̂)
        dx *= scale                                                # (B, n)  ⊙ γ / √(σ² + ε)
        return dx, [dgamma, dbeta]

    def update_running(self, state, momentum=MOMENTUM):
        """running ← (1 − m) running + m · batch, with the unbiased batch variance σ² B/(B − 1)."""
        B = state.x_hat.shape[0]
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * state.mean
        self.running_var *= 1 - momentum
        self.running_var += momentum * state.var * (B / (B - 1))


NORM_ARRAYS = ("gamma", "beta", "running_mean", "running_var")     # what a BatchNorm layer is made of (saved)


class NormState(NamedTuple):
    """What BatchNorm's backward (and the running averages) need from its forward pass."""
    x_hat: np.ndarray       # (B, n)  the normalized input
    inv_std: np.ndarray     # (n,)    1/√(σ² + ε)
    mean: np.ndarray        # (n,)    μ used (the batch's in training, the running one in evaluation)
    var: np.ndarray         # (n,)    σ² used (biased batch variance in training)
    train: bool


class Dropout:
    """Inverted dropout: in training each value is kept with probability 1 − p and scaled by 1/(1 − p).

        training:    y = x ⊙ m / (1 − p),   m_bj ~ Bernoulli(1 − p)     (B, n)
        evaluation:  y = x                                              (the expected value is unchanged)
        backward:    δ_in = δ ⊙ m / (1 − p)   in training,  δ in evaluation

    The network draws the mask (or takes a fixed one) and keeps m / (1 − p) in the Step's state for backward.
    """

    params = []

    def __init__(self, p):
        self.p = check_dropout_rate(p)

    def draw_mask(self, shape, rng):
        """A random keep-mask m (B, n) of 0s and 1s, each 1 with probability 1 − p."""
        return rng.random(shape, dtype=np.float32) >= self.p

    def forward(self, x, train=False, out=None, mask=None):
        """(B, n) -> (B, n). mask: the keep-mask m (B, n) of 0/1 (training mode needs one)."""
        if not train:
            return x, None
        mask = check_mask(mask, x.shape)
        scaled = mask.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))  # (B, n)  m / (1 − p)
        return np.multiply(x, scaled, out=out), scaled

    def backward(self, step, delta, grads=None, out=None, input_grad=True):
        """δ (B, n) -> δ ⊙ m / (1 − p) (training) or δ (evaluation)."""
        if step.state is None:
            return delta, []
        return np.multiply(delta, step.state, out=out), []


class ResidualAdd:
    """The end of a residual block: y = a + F(a), for a hidden layer whose input and output widths are equal.

    F is the layers between the block's start and this one (Linear → [BatchNorm] → activation [→ Dropout]).
    The network hands this layer F(a) as its input and a (the input of layer `start`) as `skip`:

        forward:   y = F(a) + a                         (B, n)
        backward:  ∂L/∂F(a) = δ,   and δ is also added to ∂L/∂a when backprop reaches layer `start`

    so ∂L/∂a = δ + (what flows back through F) — the "+ δ" passes every layer's gradient down unchanged,
    however small F's derivatives are: the gradient highway.
    """

    params = []

    def __init__(self, start):
        self.start = start           # index (in the network's layer list) of the block's first layer

    def forward(self, x, train=False, out=None, skip=None):
        """F(a) (B, n), a (B, n) -> F(a) + a (B, n)."""
        return np.add(x, skip, out=out), None

    def backward(self, step, delta, grads=None, out=None, input_grad=True):
        """δ (B, n) -> δ for F's output; the network adds the same δ at the block's input (the skip)."""
        return delta, []
