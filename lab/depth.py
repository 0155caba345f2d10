"""The vanishing-gradients experiment: how big are the gradients in each layer of a deep MLP?

Backprop multiplies the error by one factor per layer on its way down:

    δ_{l−1} = (W_lᵀ δ_l) ⊙ f'(z_{l−1}),      dW_l = δ_l a_{l−1}ᵀ

With sigmoid, f'(z) ≤ ¼, so with weights of ordinary size every layer shrinks δ by about ¼ and the
first layers of a deep stack barely learn. With ReLU, f' is 1 on the active half and He init
(W ~ N(0, 2/n_in)) makes ‖W_lᵀ δ‖ keep its size, so the gradients stay steady. Zero init makes every
hidden neuron of a layer identical forever (symmetry); N(0, 1) weights push z far out, where
sigmoid and tanh are flat (saturation).

The network is MLP([width] * (depth + 1) + [CLASSES]): `depth` hidden layers of `width` neurons on
a fixed random batch X ~ N(0, 1) with random labels. The numbers come from core.network and
lab.stats: nothing here does backprop of its own.

The remedies (remedies_experiment) train the same deep sigmoid stack four ways, from the same random
weights where the init is the same: plain, with BatchNorm after each hidden Linear, with every hidden
layer a residual block a + F(a), and with ReLU + He instead of sigmoid + Xavier.
"""
from typing import NamedTuple

import numpy as np

from core.activations import ACTIVATIONS
from core.init import INITS
from core.network import MLP
from core.optim import SGD
from lab.stats import activation_stats, gradient_scale, layer_gradient_stats

CLASSES = 10
BATCH = 64
DEPTHS = (2, 20)            # smallest and largest number of hidden layers
WIDTHS = (2, 256)
MAX_STD = 100.0
MAX_TRAIN_STEPS = 200

# What the diagnosis calls each case (ratio = RMS(dW) of the first hidden layer / of the last hidden layer):
VANISHING_RATIO = 1e-2     # two orders of magnitude: 10 sigmoid layers give ~1e-6, 10 tanh/Xavier ~1.4
EXPLODING_RATIO = 1e2
SATURATED_SHARE = 0.1      # sigmoid/tanh pre-activations with |z| > SATURATION_Z (4): σ′ < 0.018, tanh′ < 0.0014
DEAD_SHARE = 0.1           # ReLU neurons with z ≤ 0 on the whole batch
SATURATING = ("sigmoid", "tanh")

REMEDY_WIDTH = 32          # every stack of the remedies: 32 inputs, hidden layers of 32, 10 outputs
REMEDIES = {               # name -> (title, the MLP settings of that stack)
    "plain": ("Plain: sigmoid + Xavier", dict(activation="sigmoid", init="xavier")),
    "batchnorm": ("+ BatchNorm", dict(activation="sigmoid", init="xavier", batchnorm=True)),
    "residual": ("+ skip connections", dict(activation="sigmoid", init="xavier", residual=True)),
    "relu_he": ("ReLU + He (no sigmoid)", dict(activation="relu", init="he")),
}


class DepthResult(NamedTuple):
    """At initialization, per weight layer l = 1..L (L = depth + 1): gradient sizes; per hidden layer:
    activations. Then the gradient sizes during the optional training steps."""
    sizes: list
    grad_norms: np.ndarray          # (L,)  ‖dW_l‖
    grad_rms: np.ndarray            # (L,)  ‖dW_l‖ / √(size of W_l)
    activation_samples: list        # depth arrays: a sample of a_l = f(z_l) values of hidden layer l
    z_std: np.ndarray               # (depth,)  std of z_l
    saturated: np.ndarray           # (depth,)  fraction of |z_l| > 4
    dead: np.ndarray                # (depth,)  fraction of neurons with z_l ≤ 0 on the whole batch
    loss: float                     # at initialization
    final_loss: float               # after the training steps (= loss when steps = 0)
    net: MLP                        # the network (after training, if steps > 0)
    history: np.ndarray             # (L, steps)  RMS gradient of each layer at each training step

    @property
    def decay_per_layer(self):
        """Geometric mean of ‖dW_l‖ / ‖dW_{l+1}‖ over the hidden layers: how much the gradient
        is multiplied by for each layer it travels down (1 = steady, < 1 vanishing, > 1 exploding)."""
        hidden = self.grad_rms[:-1]                          # the output layer has another shape
        if np.any(hidden <= 0):
            return float("nan")
        return float(np.exp(np.mean(np.diff(np.log(hidden[::-1])))))


def fixed_batch(width, seed=0):
    """The same random batch every time: X (BATCH, width) ~ N(0, 1), y (BATCH,) labels in 0..9."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, width)).astype(np.float32), rng.integers(0, CLASSES, BATCH)


def build_net(depth, width, activation="sigmoid", init="xavier", std=1.0, seed=0):
    """MLP with `depth` hidden layers of `width` neurons, inputs of size `width` and 10 softmax outputs."""
    _check(depth, width, activation, init, std)
    sizes = [width] * (depth + 1) + [CLASSES]
    return MLP(sizes, activation=activation, init=init, init_std=std, seed=seed)


def depth_experiment(depth, width, activation="sigmoid", init="xavier", std=1.0, steps=0, lr=0.5,
                     seed=0, sample=400):
    """Gradient and activation statistics of a freshly initialized deep MLP on the fixed batch.

    With steps > 0 the network then trains that many SGD steps (η = lr) on the batch, and `history`
    (L, steps) records the RMS gradient of every layer at every step; `net` is the trained network.
    """
    net = build_net(depth, width, activation, init, std, seed)
    if not (isinstance(steps, (int, np.integer)) and 0 <= steps <= MAX_TRAIN_STEPS):
        raise ValueError(f"training steps must be a whole number from 0 to {MAX_TRAIN_STEPS}; got {steps!r}")
    X, y = fixed_batch(width, seed)
    first = net.run(X, train=True)                                   # at initialization
    loss = net.pass_loss(first, y)
    grads = layer_gradient_stats(net.backward(first, y).dW)
    acts = activation_stats(first, sample=sample, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    samples = [_sample(a, sample, rng) for a in first.activations[1:-1]]
    history = np.zeros((net.n_layers, steps))                       # (L, steps)
    opt = SGD(lr)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            step = net.learn(X, y, opt)                              # gradients at θ_t, then the update
            history[:, t] = [gradient_scale(dW) for dW in step.grads.dW]
        final_loss = net.batch_loss(X, y) if steps else loss
    return DepthResult(
        sizes=net.sizes,
        grad_norms=np.array([g["norm"] for g in grads]), grad_rms=np.array([g["rms"] for g in grads]),
        activation_samples=samples, z_std=np.array([a["z_std"] for a in acts]),
        saturated=np.array([a["saturated"] for a in acts]), dead=np.array([a["dead"] for a in acts]),
        loss=float(loss), final_loss=float(final_loss), net=net, history=history)


class Diagnosis(NamedTuple):
    """What a depth experiment shows, in one word, and the numbers that decided it.

    kind, the first that applies:
        "symmetry"     zero init: every row of every hidden W is equal, each layer acts as one neuron
        "no gradient"  some hidden layer's dW is exactly 0
        "saturation"   sigmoid/tanh with more than SATURATED_SHARE of |z| > SATURATION_Z: the weights are
                       too large, and the gradient that passes is small where neurons saturate and
                       inflated by the large weights elsewhere: either way not a usable signal
        "vanishing"    ratio < VANISHING_RATIO
        "exploding"    ratio > EXPLODING_RATIO
        "steady"       otherwise
    """
    kind: str
    ratio: float           # RMS(dW_1) / RMS(dW_depth): first hidden layer over last hidden layer
    factor: float          # DepthResult.decay_per_layer
    saturated: float       # share of |z| > SATURATION_Z over the hidden layers
    dead: float            # share of hidden neurons with z ≤ 0 on the whole batch
    many_dead: bool        # ReLU with dead > DEAD_SHARE (a side note: it does not change the kind)


def diagnose(result, activation, init):
    """The Diagnosis of a DepthResult made with this activation and init (see Diagnosis for the rules)."""
    hidden = result.grad_rms[:-1]                                   # (depth,)
    ratio = float(hidden[0] / hidden[-1]) if np.all(hidden > 0) else 0.0
    saturated, dead = float(np.mean(result.saturated)), float(np.mean(result.dead))
    if init == "zeros" and all(symmetric_layers(result.net)):
        kind = "symmetry"
    elif not np.all(hidden > 0):
        kind = "no gradient"
    elif activation in SATURATING and saturated > SATURATED_SHARE:
        kind = "saturation"
    else:
        kind = ratio_kind(ratio)
    return Diagnosis(kind, ratio, result.decay_per_layer, saturated, dead,
                     activation == "relu" and dead > DEAD_SHARE)


def ratio_kind(ratio):
    """"vanishing" below VANISHING_RATIO, "exploding" above EXPLODING_RATIO, else "steady" (ratio = first
    hidden layer's RMS gradient over the last hidden layer's)."""
    if ratio < VANISHING_RATIO:
        return "vanishing"
    if ratio > EXPLODING_RATIO:
        return "exploding"
    return "steady"


class RemedyResult(NamedTuple):
    """One stack of the remedies: RMS(dW_l) per weight layer l = 1..L at initialization and after training."""
    name: str                       # a key of REMEDIES
    at_init: np.ndarray             # (L,)  RMS of ∂L/∂W_l at initialization
    trained: np.ndarray             # (L,)  the same after `steps` SGD steps (= at_init when steps = 0)
    loss: float                     # on the batch, at initialization
    final_loss: float               # after the steps

    @property
    def ratio(self):
        """RMS(dW_1) / RMS(dW_depth) at initialization: first hidden layer over the last hidden layer."""
        return float(self.at_init[0] / self.at_init[-2])

    @property
    def trained_ratio(self):
        """The same ratio after the training steps."""
        return float(self.trained[0] / self.trained[-2])


def remedies_experiment(depth=20, steps=20, lr=0.5, seed=0):
    """{name: RemedyResult} for each stack of REMEDIES, `depth` hidden layers of REMEDY_WIDTH, on the fixed batch.

    Each stack starts from MLP(..., seed=seed): plain, BatchNorm and residual share the very same initial W
    (Xavier from one random stream; BatchNorm and the skips add no random numbers). The gradients are the
    training-mode backward pass of the whole batch (BatchNorm with the batch's statistics), read from the
    Gradients record; then `steps` SGD steps (η = lr) on the batch, and the gradients again.
    """
    _check(depth, REMEDY_WIDTH, "sigmoid", "xavier", 1.0)
    if not (isinstance(steps, (int, np.integer)) and 0 <= steps <= MAX_TRAIN_STEPS):
        raise ValueError(f"training steps must be a whole number from 0 to {MAX_TRAIN_STEPS}; got {steps!r}")
    if not (isinstance(lr, (int, float, np.floating)) and 0 < lr <= 10):
        raise ValueError(f"the learning rate η must be a number above 0 and at most 10; got {lr!r}")
    X, y = fixed_batch(REMEDY_WIDTH, seed)                            # (BATCH, 32), (BATCH,)
    sizes = [REMEDY_WIDTH] * (depth + 1) + [CLASSES]
    results = {}
    for name, (_, settings) in REMEDIES.items():
        net = MLP(sizes, seed=seed, **settings)
        first = net.run(X, train=True)
        at_init = np.array([gradient_scale(dW) for dW in net.backward(first, y).dW])      # (L,)
        loss = final_loss = net.pass_loss(first, y)
        trained = at_init
        if steps:
            opt = SGD(lr)
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    net.learn(X, y, opt)
                after = net.run(X, train=True)
                trained = np.array([gradient_scale(dW) for dW in net.backward(after, y).dW])   # (L,)
                final_loss = net.pass_loss(after, y)
        results[name] = RemedyResult(name, at_init, trained, float(loss), float(final_loss))
    return results


def symmetric_layers(net, rtol=1e-3):
    """For each hidden weight matrix: True if all its rows are equal (every neuron computes the same thing).

    Equal up to float32 rounding: BLAS may sum two identical rows in different orders, and a deep stack
    amplifies those last-bit differences (measured: up to 2e-5 of the layer's largest |W| after 30 steps
    of zero init). Rows count as equal when they differ by at most rtol × the largest |W| of the layer.
    """
    return [bool(np.max(np.abs(W - W[:1])) <= rtol * np.max(np.abs(W))) for W in net.weights[:-1]]


def _sample(a, n, rng):
    flat = a.ravel()
    pick = flat if flat.size <= n else flat[rng.choice(flat.size, n, replace=False)]
    return pick.astype(np.float64)


def _check(depth, width, activation, init, std):
    if not (isinstance(depth, (int, np.integer)) and DEPTHS[0] <= depth <= DEPTHS[1]):
        raise ValueError(f"depth must be a whole number of hidden layers from {DEPTHS[0]} to {DEPTHS[1]}; got {depth!r}")
    if not (isinstance(width, (int, np.integer)) and WIDTHS[0] <= width <= WIDTHS[1]):
        raise ValueError(f"width must be a whole number from {WIDTHS[0]} to {WIDTHS[1]}; got {width!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")
    if init == "normal" and (std is None or not (np.isfinite(std) and 0 < std <= MAX_STD)):
        raise ValueError(f"σ of the normal init must be a number above 0 and at most {MAX_STD:g}; got {std!r}")
