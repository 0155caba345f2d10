"""A multilayer perceptron, forward and backward, in NumPy.

Notation (layer l = 1..L, batch of B examples as rows):

    a_0 = X                              (B, n_0)     the inputs
    z_l = a_{l−1} W_lᵀ + b_l             (B, n_l)     i.e. z = W a + b for each example
    a_l = f(z_l)                         (B, n_l)     hidden activation f
    ŷ   = out(z_L)                       (B, K)       softmax / sigmoid / identity

W_l has shape (n_l, n_{l−1}) — the math convention z = W a + b.

Backward (the chain rule, one layer at a time):

    δ_L     = ∂L/∂z_L                    (B, K)       e.g. (ŷ − y)/B for softmax + cross-entropy
    dW_l    = δ_lᵀ a_{l−1}               (n_l, n_{l−1})   (the sum over the batch of δ aᵀ)
    db_l    = Σ_b δ_l                    (n_l,)
    δ_{l−1} = (δ_l W_l) ⊙ f'(z_{l−1})    (B, n_{l−1})     i.e. (Wᵀ δ) ⊙ f'(z) for each example

The arrays of one batch size are allocated once and reused (float32 by default), so a training
step does no large allocations: that is most of what makes it fast.
"""
import io

import numpy as np

from core.activations import LEAKY_ALPHA, get_activation
from core.init import INITS, init_weights
from core.losses import OUTPUTS, check_output_loss, loss_value, one_hot, output_delta


class MLP:
    """A fully connected network: sizes=[784, 256, 10] means 784 inputs, one hidden layer of 256, 10 outputs."""

    def __init__(self, sizes, activation="relu", output="softmax", loss="cross_entropy",
                 init="he", seed=0, dtype=np.float32, init_std=0.01, alpha=LEAKY_ALPHA, l1=0.0, l2=0.0):
        self.sizes = _check_sizes(sizes)
        self.dtype = _check_dtype(dtype)
        check_output_loss(output, loss)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")
        self.activation, self.output, self.loss = activation, output, loss
        self.init, self.init_std, self.alpha, self.seed = init, float(init_std), float(alpha), seed
        self.act = get_activation(activation, alpha)
        self.l1, self.l2 = float(l1), float(l2)      # regularization strengths (may change any time)
        rng = np.random.default_rng(seed)
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        # W is stored column-major (Fortran order): then a Wᵀ is a plain, untransposed matrix product for
        # BLAS, which is faster. The math and the shape (n_out, n_in) are unchanged.
        self.weights = [np.asfortranarray(init_weights(init, n_in, n_out, rng, init_std, self.dtype))
                        for n_in, n_out in pairs]
        self.biases = [np.zeros(n_out, dtype=self.dtype) for _, n_out in pairs]
        self.dW = [np.zeros_like(W) for W in self.weights]   # gradients, reused every step
        self.db = [np.zeros_like(b) for b in self.biases]
        self._buffers = {}                                   # batch size -> arrays for that size

    # ---- forward ------------------------------------------------------------------------

    def forward(self, X):
        """ŷ = out(z_L) for a batch X of shape (B, n_in); returns (B, K)."""
        return self._forward(self._check_X(X)).copy()

    def _forward(self, X):
        """Forward pass into reused buffers; keeps every z_l and a_l for backward and the stats pages."""
        buf = self._buffers_for(X.shape[0])
        buf["a"][0] = X                                            # a_0 = X   (B, n_0)
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = np.matmul(buf["a"][l], W.T, out=buf["z"][l])      # (B, n_l)  a W^T
            z += b                                                 # (B, n_l)  + b
            f = self.act.f if l < self.n_layers - 1 else OUTPUTS[self.output]
            f(z, out=buf["a"][l + 1])                              # (B, n_l)  a_l = f(z_l)
        self.zs, self.activations = buf["z"], buf["a"]
        return buf["a"][-1]                                        # (B, K)

    # ---- backward -----------------------------------------------------------------------

    def _backward(self, Y):
        """Fill self.dW, self.db with ∂L/∂W_l, ∂L/∂b_l for the batch of the last forward pass."""
        buf = self._buffers_for(Y.shape[0])
        delta = output_delta(self.output, self.loss, buf["a"][-1], Y, out=buf["delta"][-1])  # (B, K)
        for l in reversed(range(self.n_layers)):
            np.matmul(buf["a"][l].T, delta, out=self.dW[l].T)     # (n_l, n_{l-1})  dW = δᵀ a, written as dWᵀ = aᵀ δ
            np.sum(delta, axis=0, out=self.db[l])                  # (n_l,)
            if l > 0:
                delta = np.matmul(delta, self.weights[l], out=buf["delta"][l - 1])  # (B, n_{l-1})  δ W
                delta *= self.act.prime(buf["z"][l - 1])                            # ⊙ f'(z_{l-1})
        self.deltas = buf["delta"]
        self._add_regularization_grads()

    def _add_regularization_grads(self):
        """dW += λ₂ W + λ₁ sign(W)   (the gradients of λ₂/2 ΣW² and λ₁ Σ|W|; biases are not penalised)."""
        for W, dW in zip(self.weights, self.dW):
            if self.l2:
                dW += self.l2 * W
            if self.l1:
                dW += self.l1 * np.sign(W)

    def regularization_loss(self):
        """λ₂/2 Σ_l ‖W_l‖² + λ₁ Σ_l |W_l|  (0 when both strengths are 0)."""
        total = 0.0
        for W in self.weights:
            if self.l2:
                total += 0.5 * self.l2 * float(np.sum(W * W))
            if self.l1:
                total += self.l1 * float(np.sum(np.abs(W)))
        return total

    # ---- the public training API --------------------------------------------------------

    def batch_loss(self, X, y):
        """The batch-mean loss (plus regularization) without computing gradients."""
        X, Y = self._check_X(X), self._targets(y, len(X))
        P = self._forward(X)
        return loss_value(self.loss, self.zs[-1], P, Y) + self.regularization_loss()

    def loss_and_grads(self, X, y):
        """Forward + backward on a batch. y: int labels (B,) or targets (B, K).

        Returns (loss, grads) with grads[l] = (dW_l, db_l), shaped like (weights[l], biases[l]).
        """
        loss = self._loss_and_grads(X, y)
        return loss, [(dW.copy(), db.copy()) for dW, db in zip(self.dW, self.db)]

    def _loss_and_grads(self, X, y):
        X = self._check_X(X)
        Y = self._targets(y, X.shape[0])
        P = self._forward(X)
        loss = loss_value(self.loss, self.zs[-1], P, Y) + self.regularization_loss()
        self._backward(Y)
        return loss

    def train_step(self, X, y, opt):
        """One step of gradient descent on a batch: forward, backward, opt.step. Returns the loss.

        If the loss is NaN or infinite the weights are left as they were (nothing sensible to step on);
        the caller sees the non-finite loss, so NumPy's overflow warnings would only repeat it.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            loss = self._loss_and_grads(X, y)
        if np.isfinite(loss):
            opt.step(self.params, self.grads)
        return loss

    def predict(self, X):
        """Class labels (B,): argmax of ŷ, or ŷ > 0.5 for a single sigmoid output."""
        P = self._forward(self._check_X(X))
        if P.shape[1] == 1:
            return (P[:, 0] > 0.5).astype(np.int64)
        return np.argmax(P, axis=1)

    def accuracy(self, X, y, batch_size=2000):
        """Fraction of examples whose predicted label equals y (evaluated in chunks to bound memory)."""
        y = np.asarray(y)
        hits = sum(int(np.sum(self.predict(X[i:i + batch_size]) == y[i:i + batch_size]))
                   for i in range(0, len(X), batch_size))
        return hits / max(len(X), 1)

    @property
    def params(self):
        """[W_1, b_1, W_2, b_2, ...]: the arrays an optimizer updates in place."""
        return [p for W, b in zip(self.weights, self.biases) for p in (W, b)]

    @property
    def grads(self):
        """[dW_1, db_1, dW_2, db_2, ...] from the last backward pass, in the order of params."""
        return [g for dW, db in zip(self.dW, self.db) for g in (dW, db)]

    @property
    def n_layers(self):
        """Number of weight layers L (hidden layers + output)."""
        return len(self.weights)

    @property
    def n_params(self):
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    def copy(self):
        """An independent network with the same settings and a copy of the weights."""
        other = MLP(self.sizes, **self.settings(), seed=self.seed)
        other.set_params(self.weights, self.biases)
        return other

    def set_params(self, weights, biases):
        """Copy the given weights and biases in (shapes must match)."""
        _check_params(self.sizes, weights, biases)
        for W, b, W_new, b_new in zip(self.weights, self.biases, weights, biases):
            W[...] = W_new
            b[...] = b_new

    def settings(self):
        """The constructor arguments other than sizes and seed."""
        return dict(activation=self.activation, output=self.output, loss=self.loss, init=self.init,
                    dtype=self.dtype, init_std=self.init_std, alpha=self.alpha, l1=self.l1, l2=self.l2)

    def __repr__(self):
        return (f"MLP({self.sizes}, activation={self.activation!r}, output={self.output!r}, "
                f"loss={self.loss!r}, params={self.n_params:,})")

    # ---- save / load (the file format and its checks live in core/modelfile.py) --------------

    def save(self, path, meta=None):
        """Save to .npz (no pickles): sizes, settings, weights and a model card (a ModelCard, or an old-style
        meta dict, which is turned into one)."""
        from core.modelfile import ModelCard, save_model
        save_model(self, path, meta if isinstance(meta, ModelCard) else ModelCard.from_meta(meta or {}))

    @classmethod
    def load(cls, path):
        """Load a network saved with save(); any problem raises ValueError saying what is wrong."""
        return cls.load_with_card(path)[0]

    @classmethod
    def load_with_card(cls, path):
        """(net, ModelCard) from a saved file; see core.modelfile.load_model."""
        from core.modelfile import load_model
        return load_model(path)

    @classmethod
    def load_with_meta(cls, path):
        """Like load(), also returning the model card as a plain dict."""
        net, card = cls.load_with_card(path)
        return net, card.to_dict()

    def to_bytes(self, meta=None):
        """The .npz file's bytes (for a download button)."""
        buffer = io.BytesIO()
        self.save(buffer, meta)
        return buffer.getvalue()

    # ---- input checks -------------------------------------------------------------------

    def _check_X(self, X):
        X = np.asarray(X)
        n_in = self.sizes[0]
        if X.ndim != 2 or X.shape[1] != n_in:
            hint = " (for one example use X[None, :])" if X.shape == (n_in,) else ""
            raise ValueError(f"X must have shape (B, {n_in}); got {X.shape}{hint}")
        if X.shape[0] == 0:
            raise ValueError("X is empty: need at least one example")
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError(f"X must hold real numbers; got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(np.sum(X)) and not np.isfinite(X).all():   # the sum is a quick first look
            raise ValueError("X contains NaN or infinite values")
        return X

    def _targets(self, y, B):
        """int labels (B,) -> one-hot (B, K); targets (B, K) are checked and passed through."""
        y = np.asarray(y)
        K = self.sizes[-1]
        if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
            if y.shape[0] != B:
                raise ValueError(f"y has {y.shape[0]} labels but X has {B} examples")
            if K == 1:
                return self._targets(y[:, None].astype(self.dtype), B)
            return one_hot(y, K, self.dtype)
        if y.shape != (B, K):
            raise ValueError(f"y must be int labels of shape ({B},) or targets of shape ({B}, {K}); got "
                             f"{y.shape} with dtype {y.dtype}")
        y = np.asarray(y, dtype=self.dtype)
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values")
        return y

    def _buffers_for(self, B):
        """The forward/backward arrays for batch size B, allocated on first use."""
        if B not in self._buffers:
            if len(self._buffers) >= 4:          # e.g. train batch, last partial batch, eval batch
                self._buffers.clear()
            empty = lambda n: np.empty((B, n), dtype=self.dtype)       # noqa: E731
            self._buffers[B] = {"a": [empty(n) for n in self.sizes],   # a_0..a_L
                                "z": [empty(n) for n in self.sizes[1:]],      # z_1..z_L
                                "delta": [empty(n) for n in self.sizes[1:]]}  # δ_1..δ_L
        return self._buffers[B]


# ---- validation helpers -----------------------------------------------------------------

def _check_sizes(sizes):
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be a list of layer widths like [784, 256, 10]; got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes needs at least an input and an output width, all ≥ 1; got {sizes}")
    return sizes


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return dtype.type


def _check_params(sizes, weights, biases):
    if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
        raise ValueError(f"expected {len(sizes) - 1} weight matrices and bias vectors for sizes {sizes}")
    for l, (W, b) in enumerate(zip(weights, biases)):
        W, b = np.asarray(W), np.asarray(b)
        want_W, want_b = (sizes[l + 1], sizes[l]), (sizes[l + 1],)
        if W.shape != want_W or b.shape != want_b:
            raise ValueError(f"layer {l + 1}: expected W {want_W} and b {want_b}, got {W.shape} and {b.shape}")
        if not (np.issubdtype(W.dtype, np.number) and np.issubdtype(b.dtype, np.number)):
            raise ValueError(f"layer {l + 1}: weights must be numbers")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"layer {l + 1}: weights contain NaN or infinite values")

