"""A multilayer perceptron: a sequence of layers (core/layers.py), forward and backward, in NumPy.

Notation (layer l = 1..L, batch of B examples as rows):

    a_0 = X                              (B, n_0)     the inputs
    z_l = a_{l−1} W_lᵀ + b_l             (B, n_l)     Linear: z = W a + b for each example, W_l (n_l, n_{l−1})
    a_l = f(z_l)                         (B, n_l)     Activation f (hidden layers)
    ŷ   = out(z_L)                       (B, K)       softmax / sigmoid / identity

Backward (the chain rule, one layer at a time, each layer's own backward):

    δ_L     = ∂L/∂z_L                    (B, K)       the loss record's δ_out, e.g. (ŷ − y)/B
    dW_l    = δ_lᵀ a_{l−1}               (n_l, n_{l−1})   (the sum over the batch of δ aᵀ)
    db_l    = Σ_b δ_l                    (n_l,)
    δ_{l−1} = (δ_l W_l) ⊙ f'(z_{l−1})    (B, n_{l−1})     i.e. (Wᵀ δ) ⊙ f'(z) for each example

With batchnorm, dropout=p or residual a hidden layer is Linear → [BatchNorm] → f → [Dropout(p)] [→ + a].

`run(X)` returns a Pass (every layer's input and output), `backward(pass, y)` the Gradients.
Speed: `learn(X, y, opt)` writes into the arrays of its previous step of the same batch size, so a step
makes few large allocations; `forward` and `run` make new arrays, so many threads can share a network.
"""
from typing import NamedTuple

import numpy as np

from core.activations import LEAKY_ALPHA, get_activation
from core.checks import (check_inputs, check_mask_count, check_network, check_norm_arrays, check_params,
                         check_residual_sizes, check_targets)
from core.init import init_weights
from core.layers import NORM_ARRAYS, Activation, BatchNorm, Dropout, Linear, ResidualAdd, Step
from core.losses import LOSSES, OUTPUTS
from core.optim import clip_by_global_norm

SETTINGS = ("activation", "output", "loss", "init", "dtype", "init_std", "alpha", "l1", "l2", "batchnorm", "dropout",
            "residual")              # MLP's arguments besides sizes and seed: MLP(sizes, **net.settings(), seed=s)


class Pass(NamedTuple):
    """One forward pass: every layer's Step (input, output, state) and the prediction ŷ."""
    steps: list             # one core.layers.Step per layer of the network
    layers: list            # the layers that made them
    output: np.ndarray      # (B, K)  ŷ = out(z_L)
    train: bool             # training mode (later layers such as dropout behave differently)

    @property
    def zs(self):
        """[z_1, ..., z_L]: the pre-activations, i.e. the outputs of the Linear layers."""
        return [s.output for s, layer in zip(self.steps, self.layers) if isinstance(layer, Linear)]

    @property
    def activations(self):
        """[a_0 = X, a_1, ..., a_{L−1}, a_L = ŷ]: the inputs of the Linear layers, then ŷ."""
        return [s.input for s, layer in zip(self.steps, self.layers) if isinstance(layer, Linear)] + [self.output]

    @property
    def logits(self):
        """z_L (B, K): the output layer's pre-activation."""
        return self.steps[-1].output


class Gradients(NamedTuple):
    """One backward pass: ∂L/∂W_l, ∂L/∂b_l and the errors δ_l = ∂L/∂z_l, for l = 1..L (and BatchNorm's)."""
    dW: list                # [(n_l, n_{l−1})]
    db: list                # [(n_l,)]
    deltas: list            # [(B, n_l)]  δ_1 .. δ_L
    input: np.ndarray       # (B, n_0) ∂L/∂X when asked for (saliency), else None
    dgamma: list            # [(n_l,)]  ∂L/∂γ of each BatchNorm layer, in order (empty without BatchNorm)
    dbeta: list             # [(n_l,)]  ∂L/∂β
    params: list            # [dW_1, db_1, (dγ_1, dβ_1,) dW_2, ...]: parallel to MLP.params, what an optimizer takes


class Learned(NamedTuple):
    """One training step: the loss, the forward pass before the update, and its gradients."""
    loss: float
    pass_: Pass
    grads: Gradients
    grad_norm: tuple = None   # (‖g‖ before, after) clipping by global norm, when learn() was asked to clip


class MLP:
    """A fully connected network: sizes=[784, 256, 10] means 784 inputs, one hidden layer of 256, 10 outputs.

    residual=True makes each hidden layer of equal input and output width a block a + Dropout(f(BN(W a + b))).
    """

    def __init__(self, sizes, activation="relu", output="softmax", loss="cross_entropy",
                 init="he", seed=0, dtype=np.float32, init_std=0.01, alpha=LEAKY_ALPHA, l1=0.0, l2=0.0,
                 batchnorm=False, dropout=0.0, residual=False):
        self.sizes, self.dtype = check_network(sizes, dtype, output, loss)
        self.activation, self.output, self.loss = activation, output, loss
        self.init, self.init_std, self.alpha, self.seed = init, float(init_std), float(alpha), seed
        self.act = get_activation(activation, alpha)
        self.out, self.criterion = OUTPUTS[output], LOSSES[loss]    # ŷ = out(z_L);  L(ŷ, y) and δ_out
        self.l1, self.l2 = float(l1), float(l2)      # default regularization strengths
        self.batchnorm, self.residual = bool(batchnorm), bool(residual)
        self.dropout = Dropout(dropout).p            # checks 0 ≤ p < 1
        check_residual_sizes(self.sizes, self.residual)
        rng = np.random.default_rng(seed)
        self.layers = []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            start = len(self.layers)
            W = init_weights(init, n_in, n_out, rng, init_std, self.dtype)          # (n_out, n_in)
            self.layers.append(Linear(W, np.zeros(n_out, dtype=self.dtype)))
            if l < len(self.sizes) - 2:
                if self.batchnorm:
                    self.layers.append(BatchNorm(n_out, self.dtype))
                self.layers.append(Activation(self.act))
                if self.dropout:
                    self.layers.append(Dropout(self.dropout))
                if self.residual and n_in == n_out:
                    self.layers.append(ResidualAdd(start))
        self.linears = [layer for layer in self.layers if isinstance(layer, Linear)]
        self.norms = [layer for layer in self.layers if isinstance(layer, BatchNorm)]
        self.dropouts = [layer for layer in self.layers if isinstance(layer, Dropout)]
        self._mask_rng = np.random.default_rng([seed, 1])             # dropout masks: same seed, same run
        self._params = [p for layer in self.layers for p in layer.params]   # the arrays themselves, fixed
        self._reuse = {}         # batch size -> the arrays of learn()'s last step of that size

    # ---- forward ------------------------------------------------------------------------

    def run(self, X, train=False, masks=None):
        """The forward pass of a batch X (B, n_in), as a Pass. train=True: batch statistics, dropout on;
        masks: a keep-mask (B, n) of 0/1 per Dropout layer instead of random ones (tests, steppers)."""
        return self._run(check_inputs(X, self.sizes[0], self.dtype), train, _Arrays(len(self.layers)), masks)

    def forward(self, X):
        """ŷ = out(z_L) for a batch X of shape (B, n_in); returns (B, K) (eval mode, new arrays: thread-safe)."""
        return self.run(X).output

    def _run(self, X, train, arrays, masks=None):
        steps, a, outs = [], X, arrays.out                         # a_0 = X   (B, n_0)
        check_mask_count(masks, len(self.dropouts))
        k = 0                                                      # the next Dropout layer's number
        for i, layer in enumerate(self.layers):
            if isinstance(layer, (Linear, Activation, BatchNorm)):
                outs[i], state = layer.forward(a, train, out=outs[i])      # (B, n_out of layer i)
            elif isinstance(layer, Dropout):
                mask = (masks[k] if masks is not None else layer.draw_mask(a.shape, self._mask_rng)) if train else None
                k += 1
                outs[i], state = layer.forward(a, train, out=outs[i], mask=mask)   # (B, n)
            else:                                                  # ResidualAdd: F(a) + a
                outs[i], state = layer.forward(a, train, out=outs[i], skip=steps[layer.start].input)
            steps.append(Step(a, outs[i], state))
            a = outs[i]
        arrays.y_hat = self.out(a, out=arrays.y_hat)               # (B, K)  ŷ = out(z_L)
        return Pass(steps, self.layers, arrays.y_hat, train)

    # ---- backward -----------------------------------------------------------------------

    def backward(self, pass_, y, l1=None, l2=None):
        """Gradients of the batch loss (plus regularization) for the batch of `pass_` with targets y."""
        Y = check_targets(y, pass_.output.shape[0], self.sizes[-1], self.dtype)
        return self._backward(pass_, Y, l1, l2, _Arrays(len(self.layers)))

    def _backward(self, pass_, Y, l1, l2, arrays):          # Y checked; learn() passes its reused arrays
        arrays.delta_out = self.criterion.delta(self.output, pass_.output, Y, out=arrays.delta_out)  # (B, K) δ_L
        grads = self.backprop(pass_, arrays.delta_out, arrays=arrays)
        l1, l2 = self._strengths(l1, l2)
        for W, dW in zip(self.weights if l1 or l2 else (), grads.dW):
            if l2:
                dW += l2 * W                # the gradient of regularization_loss (below): λ₂ W + λ₁ sign(W);
            if l1:                          #   biases are not penalised
                dW += l1 * np.sign(W)
        return grads

    def backprop(self, pass_, delta, input_grad=False, arrays=None):
        """Every layer's backward from δ_L = delta (B, K) down: Gradients without regularization
        (input_grad=True: also ∂L/∂X, Gradients.input)."""
        arrays = _Arrays(len(self.layers)) if arrays is None else arrays
        dW, db, deltas, dgamma, dbeta, params = [], [], [], [], [], []
        skips = {}                                                 # block start -> δ at the block's end
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            if isinstance(layer, Linear):
                deltas.append(delta)                               # δ_l = ∂L/∂z_l   (B, n_l)
            elif isinstance(layer, ResidualAdd):
                skips[layer.start] = delta.copy()                  # (B, n)  δ also flows down the skip
            delta, g = layer.backward(pass_.steps[i], delta, grads=arrays.grads[i], out=arrays.back[i],
                                      input_grad=input_grad or i > 0)
            if i in skips and delta is not None:
                delta += skips.pop(i)                              # ∂L/∂a = δ through F + δ over the skip
            arrays.back[i] = delta                                 # ∂L/∂(input of layer i)
            if g:
                arrays.grads[i] = g
                params[:0] = g
                (dW if isinstance(layer, Linear) else dgamma).append(g[0])
                (db if isinstance(layer, Linear) else dbeta).append(g[1])
        return Gradients(dW[::-1], db[::-1], deltas[::-1], delta, dgamma[::-1], dbeta[::-1], params)

    def regularization_loss(self, l1=None, l2=None):
        """λ₂/2 Σ_l ‖W_l‖² + λ₁ Σ_l |W_l|  (0 when both strengths are 0; None means the network's own)."""
        l1, l2 = self._strengths(l1, l2)
        total = 0.0
        for W in (self.weights if l1 or l2 else ()):
            if l2:
                total += 0.5 * l2 * float(np.sum(W * W))
            if l1:
                total += l1 * float(np.sum(np.abs(W)))
        return total

    def _strengths(self, l1, l2):
        return (self.l1 if l1 is None else float(l1)), (self.l2 if l2 is None else float(l2))

    # ---- the public training API --------------------------------------------------------

    def pass_loss(self, pass_, y, l1=None, l2=None):
        """The batch-mean loss of a Pass (from the logits z_L where that is stable), plus regularization."""
        return self._loss(pass_, check_targets(y, pass_.output.shape[0], self.sizes[-1], self.dtype), l1, l2)

    def _loss(self, pass_, Y, l1, l2):                        # Y checked (learn() checks it once per step)
        c = self.criterion
        loss = c.from_logits(pass_.logits, Y) if c.from_logits else c.value(pass_.output, Y)
        return loss + self.regularization_loss(l1, l2)

    def batch_loss(self, X, y):
        """The batch-mean loss (plus regularization) without computing gradients."""
        return self.pass_loss(self.run(X), y)

    def loss_and_grads(self, X, y, masks=None):
        """Forward + backward on a batch in training mode. y: int labels (B,) or targets (B, K).

        Returns (loss, grads): one tuple per layer with parameters, in order — (dW_l, db_l) for a Linear
        layer, (dγ, dβ) for a BatchNorm layer. masks: as for run(). The running statistics are not
        touched (only a training step moves them), so this is a function of the parameters.
        """
        p = self.run(X, train=True, masks=masks)
        grads = self.backward(p, y)
        return self.pass_loss(p, y), list(zip(grads.params[0::2], grads.params[1::2]))

    def learn(self, X, y, opt, lr=None, l1=None, l2=None, weight_decay=None, clip=None):
        """One step of gradient descent on a batch: forward, backward, opt.step(η = lr or opt.lr).

        l1, l2: this step's regularization strengths (None: the network's own); weight_decay goes to the
        optimizer (AdamW); clip: a maximum global gradient norm, the L2 term's gradient included.
        BatchNorm's running statistics move once per step. Returns Learned(loss, pass_, grads, grad_norm),
        valid until the next learn() on the same batch size (their arrays are reused).

        A NaN or infinite loss leaves the weights as they were; NumPy's overflow warnings would only repeat it.
        """
        X = check_inputs(X, self.sizes[0], self.dtype)
        Y = check_targets(y, X.shape[0], self.sizes[-1], self.dtype)
        arrays = self._reuse.get(X.shape[0])
        if arrays is None:
            if len(self._reuse) >= 4:          # e.g. train batch, last partial batch: a few sizes at most
                self._reuse.clear()
            arrays = self._reuse[X.shape[0]] = _Arrays(len(self.layers))
        with np.errstate(over="ignore", invalid="ignore"):
            p = self._run(X, True, arrays)
            loss = self._loss(p, Y, l1, l2)
            grads = self._backward(p, Y, l1, l2, arrays)
        norm = None
        if np.isfinite(loss):
            if clip is not None:
                norm = clip_by_global_norm(grads.params, clip)
            decay = {} if weight_decay is None else {"weight_decay": weight_decay}
            opt.step(self._params, grads.params, lr, **decay)
            for layer, step in zip(self.layers, p.steps):
                if isinstance(layer, BatchNorm):
                    layer.update_running(step.state)
        return Learned(loss, p, grads, norm)

    def train_step(self, X, y, opt, lr=None, clip=None):
        """learn() returning only the loss: one step with η = lr (None: opt.lr), in training mode."""
        return self.learn(X, y, opt, lr, clip=clip).loss

    def predict(self, X):
        """Class labels (B,): argmax of ŷ, or ŷ > 0.5 for a single sigmoid output."""
        P = self.forward(X)                                        # (B, K)
        return (P[:, 0] > 0.5).astype(np.int64) if P.shape[1] == 1 else np.argmax(P, axis=1)

    def accuracy(self, X, y, batch_size=2000):
        """Fraction of examples whose predicted label equals y (evaluated in chunks to bound memory)."""
        y = np.asarray(y)
        hits = sum(int(np.sum(self.predict(X[i:i + batch_size]) == y[i:i + batch_size]))
                   for i in range(0, len(X), batch_size))
        return hits / max(len(X), 1)

    @property
    def weights(self):
        """[W_1, ..., W_L], each (n_l, n_{l−1}): the Linear layers' own arrays (change them in place)."""
        return [layer.W for layer in self.linears]

    @property
    def biases(self):
        """[b_1, ..., b_L], each (n_l,)."""
        return [layer.b for layer in self.linears]

    @property
    def params(self):
        """[W_1, b_1, (γ_1, β_1,) W_2, b_2, ...]: every learnable array, in layer order, to update in place."""
        return list(self._params)

    @property
    def n_layers(self):
        """Number of weight layers L (hidden layers + output)."""
        return len(self.linears)

    @property
    def n_params(self):
        return sum(p.size for p in self.params)

    def copy(self):
        """An independent network with the same settings and a copy of the weights."""
        other = MLP(self.sizes, **self.settings(), seed=self.seed)
        other.set_params(self.weights, self.biases, self.norm_arrays())
        return other

    def set_params(self, weights, biases, norms=None):
        """Copy weights, biases and (norms, as norm_arrays() gives them) BatchNorm arrays in; shapes must match."""
        check_params(self.sizes, weights, biases)
        check_norm_arrays(norms, self.norm_arrays())
        for array, new in zip(self.weights + self.biases, [*weights, *biases]):
            array[...] = new
        for layer, arrays in zip(self.norms, norms or ()):
            for name in NORM_ARRAYS:
                getattr(layer, name)[...] = arrays[name]

    def norm_arrays(self):
        """Copies of each BatchNorm layer's γ, β and running statistics: [{name: (n,)}] (empty without BN)."""
        return [{name: getattr(layer, name).copy() for name in NORM_ARRAYS} for layer in self.norms]

    def settings(self):
        """The constructor arguments other than sizes and seed."""
        return {name: getattr(self, name) for name in SETTINGS}

    def __repr__(self):
        extra = ", batchnorm=True" * self.batchnorm + f", dropout={self.dropout:g}" * bool(self.dropout) \
            + ", residual=True" * self.residual
        return (f"MLP({self.sizes}, activation={self.activation!r}, output={self.output!r}, "
                f"loss={self.loss!r}{extra}, params={self.n_params:,})")

    # ---- save / load: the file format is a lab service (lab/modelfile.py), imported when used ----

    def save(self, path, meta=None):
        """Save to .npz (no pickles) with a model card (a ModelCard, or an old-style meta dict)."""
        from lab.modelfile import ModelCard, save_model
        save_model(self, path, meta if isinstance(meta, ModelCard) else ModelCard.from_meta(meta or {}))

    @staticmethod
    def load(path):
        """A network saved with save(), without its card (lab.modelfile.load_model gives both)."""
        from lab.modelfile import load_model
        return load_model(path)[0]


class _Arrays:
    """The arrays one pass writes into, per layer. learn() keeps one set per batch size and passes it
    again, so its next step writes over them; everything else starts from an empty set (new arrays)."""

    def __init__(self, n_layers):
        self.out = [None] * n_layers         # each layer's output
        self.back = [None] * n_layers        # ∂L/∂(each layer's input)
        self.grads = [None] * n_layers       # each layer's parameter gradients
        self.y_hat = self.delta_out = None
