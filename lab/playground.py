"""The Playground's engine: 2-D toy data, input features, a training loop, surfaces over the plane,
1-D function fitting (universal approximation), and the experiment's settings as a URL query string.

The input plane is the square [−6, 6]² (as in TensorFlow Playground). A network sees each point
x = (x₁, x₂) through the chosen features φ(x) ⊂ {x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂} and outputs

    classification:  ŷ = σ(z_L) = P(class 1 | x)      loss: binary cross-entropy
    regression:      ŷ = z_L                          loss: mean squared error

Pure NumPy (no Streamlit, no plotly): the page draws what these functions compute.
"""
import math
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

import numpy as np

from core.checks import parse_number
from core.network import MLP
from core.optim import SGD, Adam
from lab.stats import activation_stats, layer_gradient_stats

R = 6.0                    # the input plane is [−R, R]²
GRID = 50                  # surfaces are drawn on a GRID × GRID lattice


# ---- 2-D data sets ------------------------------------------------------------------------
# Every generator takes (n, noise, rng) with noise in [0, 0.5] and returns X (n, 2), y (n,):
# int labels 0/1 for classification, float targets in about [−1, 1] for regression.

def _balanced_halves(n):
    """How many points each class gets: n // 2 and the rest (so the classes differ by at most 1)."""
    return n // 2, n - n // 2


def xor_data(n, noise, rng):
    """Class 1 where x₁ and x₂ have the same sign (quadrants I and III), class 0 elsewhere.

    Points keep 0.3 away from the axes; noise moves the point used for the label (not the point drawn)
    by up to ±5·noise per coordinate, so labels near the axes flip.
    """
    n_same, n_diff = _balanced_halves(n)
    mag = rng.uniform(0.3, 5.3, (n, 2))                             # (n, 2) |x₁|, |x₂|
    s1 = rng.choice([-1.0, 1.0], n)                                 # (n,) sign of x₁
    s2 = np.concatenate([s1[:n_same], -s1[n_same:]])                # same sign for the first half
    X = mag * np.stack([s1, s2], axis=1)                            # (n, 2)
    noisy = X + rng.uniform(-5, 5, (n, 2)) * noise
    y = (noisy[:, 0] * noisy[:, 1] > 0).astype(np.int64)
    return _shuffled(X, y, rng)


def circle_data(n, noise, rng):
    """Class 1 inside radius 2.5, class 0 on a ring 3.5 … 5; noise as in xor_data (±5·noise)."""
    n_in, n_out = _balanced_halves(n)
    r = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5.0, n_out)])    # (n,)
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)                       # (n, 2)
    noisy = X + rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.linalg.norm(noisy, axis=1) < 3.0).astype(np.int64)
    return _shuffled(X, y, rng)


def gaussians_data(n, noise, rng):
    """Two Gaussian blobs: class 1 around (2, 2), class 0 around (−2, −2); variance 0.5 + 7·noise."""
    n1, n0 = _balanced_halves(n)
    std = math.sqrt(0.5 + 7.0 * noise)
    X = np.concatenate([rng.normal(2, std, (n1, 2)), rng.normal(-2, std, (n0, 2))])  # (n, 2)
    y = np.concatenate([np.ones(n1, np.int64), np.zeros(n0, np.int64)])
    return _shuffled(np.clip(X, -R, R), y, rng)


def spiral_data(n, noise, rng):
    """Two interleaved spirals: r = 5 t, angle = 3.5π t (+π for class 0), t ∈ [0, 1); jitter ±noise."""
    n1, n0 = _balanced_halves(n)
    parts = []
    for count, label, shift in ((n1, 1, 0.0), (n0, 0, np.pi)):
        t = np.arange(count) / max(count, 1)                        # (count,)
        angle = 1.75 * 2 * np.pi * t + shift
        xy = 5 * t[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
        parts.append((xy + rng.uniform(-1, 1, (count, 2)) * noise, np.full(count, label, np.int64)))
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return _shuffled(X, y, rng)


def plane_data(n, noise, rng):
    """Regression on a tilted plane: y = (x₁ + x₂) / 12 ∈ [−1, 1], read at a point moved by ±6·noise."""
    X = rng.uniform(-R, R, (n, 2))
    noisy = X + rng.uniform(-R, R, (n, 2)) * noise
    return X, (noisy[:, 0] + noisy[:, 1]) / (2 * R)


GAUSSIAN_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def multi_gaussian_data(n, noise, rng):
    """Regression on six bumps: y = Σ_k s_k exp(−‖x − c_k‖² / 2), s_k = ±1, read at a point moved by ±6·noise."""
    X = rng.uniform(-R, R, (n, 2))
    noisy = X + rng.uniform(-R, R, (n, 2)) * noise
    return X, multi_gaussian(noisy)


def multi_gaussian(X):
    """The noise-free multi-Gaussian surface at the points X (n, 2)."""
    y = np.zeros(len(X))
    for cx, cy, sign in GAUSSIAN_BUMPS:
        y += sign * np.exp(-((X[:, 0] - cx) ** 2 + (X[:, 1] - cy) ** 2) / 2)
    return y


def _shuffled(X, y, rng):
    order = rng.permutation(len(X))
    return X[order], y[order]


class DataSpec(NamedTuple):
    title: str
    problem: str            # "classification" or "regression"
    make: object            # (n, noise, rng) -> X, y


DATASETS = {
    "xor": DataSpec("XOR", "classification", xor_data),
    "circle": DataSpec("Circle", "classification", circle_data),
    "gauss": DataSpec("Two Gaussians", "classification", gaussians_data),
    "spiral": DataSpec("Spiral", "classification", spiral_data),
    "plane": DataSpec("Plane", "regression", plane_data),
    "multigauss": DataSpec("Multi-Gaussian", "regression", multi_gaussian_data),
}
PROBLEMS = ("classification", "regression")


class Split(NamedTuple):
    X_train: np.ndarray     # (n_train, 2) points in the plane
    y_train: np.ndarray     # (n_train,)
    X_test: np.ndarray
    y_test: np.ndarray


def make_data(name, n=400, noise=0.0, train_fraction=0.5, seed=0):
    """Generate data set `name` with n points and split it at random into train and test (seeded)."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {list(DATASETS)}")
    if not (isinstance(n, (int, np.integer)) and n >= 4):
        raise ValueError(f"n must be an integer ≥ 4, got {n!r}")
    if not (0 <= noise <= 0.5):
        raise ValueError(f"noise must be in [0, 0.5], got {noise!r}")
    if not (0 < train_fraction < 1):
        raise ValueError(f"train_fraction must be strictly between 0 and 1, got {train_fraction!r}")
    rng = np.random.default_rng(seed)
    X, y = DATASETS[name].make(int(n), float(noise), rng)
    n_train = min(max(round(n * train_fraction), 1), n - 1)
    order = rng.permutation(n)
    train, test = order[:n_train], order[n_train:]
    return Split(X[train], y[train], X[test], y[test])


# ---- input features -----------------------------------------------------------------------

class Feature(NamedTuple):
    label: str               # plain text
    latex: str
    f: object                # (x1, x2) arrays -> array


FEATURES = {
    "x1": Feature("x₁", r"x_1", lambda x1, x2: x1),
    "x2": Feature("x₂", r"x_2", lambda x1, x2: x2),
    "x1sq": Feature("x₁²", r"x_1^2", lambda x1, x2: x1 * x1),
    "x2sq": Feature("x₂²", r"x_2^2", lambda x1, x2: x2 * x2),
    "x1x2": Feature("x₁x₂", r"x_1 x_2", lambda x1, x2: x1 * x2),
    "sinx1": Feature("sin x₁", r"\sin x_1", lambda x1, x2: np.sin(x1)),
    "sinx2": Feature("sin x₂", r"\sin x_2", lambda x1, x2: np.sin(x2)),
}


def feature_matrix(X, names):
    """φ(X): one column per chosen feature, in the order given.   (n, 2) -> (n, F)"""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be points of shape (n, 2); got {X.shape}")
    unknown = [f for f in names if f not in FEATURES]
    if unknown or not names:
        raise ValueError(f"features must be a non-empty list from {list(FEATURES)}; got {list(names)}")
    return np.stack([FEATURES[f].f(X[:, 0], X[:, 1]) for f in names], axis=1)   # (n, F)


# ---- the experiment's settings ------------------------------------------------------------

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ACTIVATIONS_2D = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear"}
REGULARIZATIONS = {"none": "None", "l1": "L1", "l2": "L2"}
MAX_LAYERS, MAX_WIDTH = 6, 8
MAX_UNITS_1D = 50
STEPS_PER_FRAME_1D = (1, 5, 10, 25, 50, 100, 200, 500)


@dataclass(frozen=True)
class Config:
    """Everything that defines a Playground experiment (and nothing else: it is what the URL stores)."""
    mode: str = "2d"                        # "2d" playground or "1d" universal approximation
    data: str = "xor"
    noise: int = 0                          # percent, 0 … 50
    train: int = 50                         # percent of the points used for training, 10 … 90
    n: int = 400                            # number of points, 100 … 1000
    seed: int = 0                           # data and initial weights
    features: tuple = ("x1", "x2")
    hidden: tuple = (4, 2)                  # 0 … 6 hidden layers of 1 … 8 neurons
    act: str = "tanh"
    lr: float = 0.03
    batch: int = 10
    reg: str = "none"
    rate: float = 0.0
    speed: int = 5                          # epochs per animation frame
    show_test: bool = False
    discretize: bool = False
    fn: str = "sine"                        # 1-D mode: the target function
    units: int = 8                          # 1-D mode: neurons per hidden layer, 1 … 50
    depth: int = 1                          # 1-D mode: 1 or 2 hidden layers
    act1d: str = "relu"
    lr1d: float = 0.01
    steps1d: int = 50                       # 1-D mode: training steps per frame (one of STEPS_PER_FRAME_1D)

    @property
    def problem(self):
        return DATASETS[self.data].problem


# The valid range of each setting: ("choice", options) | ("int", lo, hi) | ("snap", options)
# | ("bool",) | ("features",) | ("hidden",)
RULES = {
    "mode": ("choice", ("2d", "1d")),
    "data": ("choice", tuple(DATASETS)),
    "noise": ("int", 0, 50),
    "train": ("int", 10, 90),
    "n": ("int", 100, 1000),
    "seed": ("int", 0, 9999),
    "features": ("features",),
    "hidden": ("hidden",),
    "act": ("choice", tuple(ACTIVATIONS_2D)),
    "lr": ("snap", LEARNING_RATES),
    "batch": ("int", 1, 30),
    "reg": ("choice", tuple(REGULARIZATIONS)),
    "rate": ("snap", REG_RATES),
    "speed": ("int", 1, 20),
    "show_test": ("bool",),
    "discretize": ("bool",),
    "fn": ("choice", ("sine", "step", "abs", "bump", "sawtooth")),
    "units": ("int", 1, MAX_UNITS_1D),
    "depth": ("int", 1, 2),
    "act1d": ("choice", tuple(ACTIVATIONS_2D)),
    "lr1d": ("snap", LEARNING_RATES),
    "steps1d": ("snap", STEPS_PER_FRAME_1D),
}


def check_config(cfg):
    """Raise ValueError naming the first setting outside its range (what the page passes to the engine)."""
    for key, value in asdict(cfg).items():
        parsed, problem = _parse(key, _format(key, value))
        if problem or parsed != value:
            raise ValueError(f"setting {key}={value!r} is invalid: {problem or 'not an allowed value'}")
    return cfg


def config_to_query(cfg):
    """The settings as URL query parameters {key: str}, e.g. hidden=4,2 features=x1,x2 lr=0.03."""
    return {key: _format(key, value) for key, value in asdict(cfg).items()}


def config_from_query(params):
    """Read settings from URL query parameters; anything missing keeps its default.

    A value that can't be read (garbage) falls back to the default, one out of range is clamped or
    snapped to the nearest allowed value. Returns (Config, notice) where notice says what was
    changed, or is None when everything was fine. Unknown keys are ignored.
    """
    values, problems = {}, []
    for key in RULES:
        if key not in params:
            continue
        raw = params[key]
        if isinstance(raw, (list, tuple)):          # a repeated key: the last one wins
            raw = raw[-1] if raw else ""
        value, problem = _parse(key, str(raw))
        if problem:
            problems.append(f"{key}={str(raw)[:40]!r} ({problem})")
        if value is not None:
            values[key] = value
    cfg = replace(Config(), **values)
    notice = None
    if problems:
        notice = "Some settings in the link could not be used: " + "; ".join(problems) + "."
    return cfg, notice


def _format(key, value):
    kind = RULES[key][0]
    if kind in ("features", "hidden"):
        return ",".join(str(v) for v in value) if value else "none"
    if kind == "bool":
        return "1" if value else "0"
    if kind == "snap":
        return f"{value:g}"
    return str(value)


def _parse(key, text):
    """(value, problem): value None means "use the default"; problem is None when the text was fine."""
    rule, text = RULES[key], text.strip().lower()
    kind = rule[0]
    if kind == "choice":
        return (text, None) if text in rule[1] else (None, f"expected one of {', '.join(rule[1])}")
    if kind == "bool":
        if text in ("1", "true", "yes", "on"):
            return True, None
        if text in ("0", "false", "no", "off"):
            return False, None
        return None, "expected 0 or 1"
    if kind == "int":
        return _parse_int(text, rule[1], rule[2])
    if kind == "snap":
        return _parse_snap(text, rule[1])
    if kind == "features":
        names = [t.strip() for t in text.split(",") if t.strip()]
        good = tuple(dict.fromkeys(f for f in names if f in FEATURES))   # keep order, drop repeats
        if not good:
            return None, f"expected a comma list from {', '.join(FEATURES)}"
        return good, (None if len(good) == len(names) else "unknown features dropped")
    return _parse_hidden(text)


def _parse_int(text, lo, hi):
    try:
        number = parse_number(text, "the number")            # core.checks' rule: "−3" reads, "0,5" does not
    except ValueError:
        return None, f"expected a whole number {lo} … {hi}"
    value = int(min(max(round(number), lo), hi))
    return value, (None if value == number else f"used {value}: the range is {lo} … {hi}")


def _parse_snap(text, options):
    """A number snapped to the nearest option (on a log scale for positive numbers)."""
    try:
        number = parse_number(text, "the number")
    except ValueError:
        return None, f"expected a number {options[0]:g} … {options[-1]:g}"
    if number < 0:
        return None, f"expected a number {options[0]:g} … {options[-1]:g}"
    def distance(v):                   # on a log scale: the choices are 1, 3, 10, 30, …
        return abs(math.log(max(v, 1e-12)) - math.log(max(number, 1e-12)))
    value = min(options, key=distance) if number > 0 else options[0]
    return value, (None if math.isclose(value, number, rel_tol=1e-9) else f"used the nearest choice {value:g}")


def _parse_hidden(text):
    if text in ("none", "0", ""):
        return (), None
    try:
        widths = [int(parse_number(t, "a width")) for t in text.split(",")]
    except ValueError:                                  # "abc", "nan", "inf"
        return None, f"expected up to {MAX_LAYERS} comma-separated widths 1 … {MAX_WIDTH}, or none"
    clamped = tuple(min(max(w, 1), MAX_WIDTH) for w in widths[:MAX_LAYERS])
    ok = len(widths) <= MAX_LAYERS and list(clamped) == widths
    used = ",".join(map(str, clamped))
    return clamped, (None if ok else f"used {used}: at most {MAX_LAYERS} layers of 1 … {MAX_WIDTH}")


# ---- networks for the playground ----------------------------------------------------------

CORE_ACTIVATION = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "identity"}


def build_net(n_in, hidden, act, problem, seed=0, l1=0.0, l2=0.0, dtype=np.float32):
    """An MLP [n_in, *hidden, 1]: sigmoid + BCE for classification, identity + MSE for regression.

    He init for ReLU, Xavier for tanh / sigmoid / linear; biases start at 0.
    """
    output, loss = ("sigmoid", "bce") if problem == "classification" else ("identity", "mse")
    return MLP([n_in, *hidden, 1], activation=CORE_ACTIVATION[act], output=output, loss=loss,
               init="he" if act == "relu" else "xavier", seed=seed, dtype=dtype, l1=l1, l2=l2)


def regularization_strengths(reg, rate):
    """(λ₁, λ₂) for the chosen regularization."""
    return (rate if reg == "l1" else 0.0), (rate if reg == "l2" else 0.0)


class Playground:
    """One 2-D experiment: data, features, network, SGD, and the loss history, trained epoch by epoch."""

    def __init__(self, cfg):
        self.cfg = check_config(cfg)
        self.data = make_data(cfg.data, cfg.n, cfg.noise / 100, cfg.train / 100, cfg.seed)
        self.F_train = feature_matrix(self.data.X_train, cfg.features).astype(np.float32)   # (n_train, F)
        self.F_test = feature_matrix(self.data.X_test, cfg.features).astype(np.float32)     # (n_test, F)
        self.net = build_net(len(cfg.features), cfg.hidden, cfg.act, cfg.problem, seed=cfg.seed)
        self.opt = SGD(cfg.lr)
        self.rng = np.random.default_rng(cfg.seed + 1)       # the order of the mini-batches
        self.epoch = 0
        self.history = []                                     # (epoch, train loss, test loss)
        self.health = []                                      # per epoch: what the tutor reads (see _health)
        self.update_live_settings(cfg)
        self._record()

    def update_live_settings(self, cfg):
        """Settings that change without restarting: learning rate, batch size, regularization, display.

        They live in self.cfg only; each training step passes η, λ₁ and λ₂ to the network.
        """
        self.cfg = replace(self.cfg, lr=cfg.lr, batch=cfg.batch, reg=cfg.reg, rate=cfg.rate, speed=cfg.speed,
                           show_test=cfg.show_test, discretize=cfg.discretize)

    def needs_rebuild(self, cfg):
        """True when cfg changes the data or the network (then the experiment starts over)."""
        keys = ("data", "noise", "train", "n", "seed", "features", "hidden", "act")
        return any(getattr(cfg, k) != getattr(self.cfg, k) for k in keys)

    def train_epochs(self, epochs=1):
        """Run `epochs` passes of mini-batch SGD over the shuffled training set; returns the number of steps."""
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is explained by the tutor (NaN loss)
            return self._train_epochs(epochs)

    def _train_epochs(self, epochs):
        X, Y = self.F_train, self._targets(self.data.y_train)            # (n, F), (n, 1)
        B, steps = self.cfg.batch, 0
        l1, l2 = regularization_strengths(self.cfg.reg, self.cfg.rate)
        for _ in range(epochs):
            order = self.rng.permutation(len(X))
            X_epoch, Y_epoch = X[order], Y[order]                        # shuffled once per epoch
            starts = range(0, len(X), B)
            for start in starts:
                last = start == starts[-1]
                before = [W.copy() for W in self.net.weights] if last else None
                learned = self.net.learn(X_epoch[start:start + B], Y_epoch[start:start + B], self.opt,
                                         lr=self.cfg.lr, l1=l1, l2=l2)
                steps += 1
            self.epoch += 1
            self._record()
            self.health.append(_health(self.epoch, learned, before, self.net.weights))
        return steps

    def losses(self):
        """(train loss, test loss): the data loss only, without the regularization penalty."""
        return (self.data_loss(self.F_train, self.data.y_train), self.data_loss(self.F_test, self.data.y_test))

    def data_loss(self, F, y):
        """Mean BCE or MSE of the network on features F (n, F) with labels / targets y (n,)."""
        return self.net.batch_loss(F, self._targets(y))     # the net's own λ are 0: each step is given them

    def accuracy(self, split="test"):
        """Fraction classified right (classification only)."""
        F, y = (self.F_test, self.data.y_test) if split == "test" else (self.F_train, self.data.y_train)
        return self.net.accuracy(F, y)

    def surfaces(self, size=GRID):
        """Everything drawn over the plane, from ONE batched forward pass over a size × size grid."""
        return grid_surfaces(self.net, self.cfg.features, size)

    def _targets(self, y):
        """Labels 0/1 or regression targets as the network's (n, 1) float targets."""
        return y[:, None].astype(np.float32)                              # (n,) -> (n, 1)

    def _record(self):
        train, test = self.losses()
        self.history.append((self.epoch, train, test))


def _health(epoch, learned, before, after):
    """The last step of an epoch as the tutor (lab/tutor.py) reads it: per layer the gradient RMS and the
    update-to-data ratio ‖ΔW‖/‖W‖, per hidden layer the dead and saturated fractions, and the batch loss."""
    acts = activation_stats(learned.pass_, sample=1)
    ratios = []
    for W0, W1 in zip(before, after):
        norm = float(np.linalg.norm(W1))
        ratios.append(float(np.linalg.norm(W1 - W0)) / norm if norm > 0 and np.isfinite(norm) else math.nan)
    return {"epoch": epoch, "loss": float(learned.loss), "grad": [g["rms"] for g in layer_gradient_stats(learned.grads.dW)],
            "dead": [a["dead"] for a in acts], "saturated": [a["saturated"] for a in acts], "update": ratios}


class Surfaces(NamedTuple):
    axis: np.ndarray         # (size,) coordinates along x₁ and x₂
    features: list           # one (size, size) array per input feature
    hidden: list             # per hidden layer: (n_l, size, size), neuron i's output a_i over the plane
    output: np.ndarray       # (size, size) the network's output ŷ


def grid_points(size=GRID):
    """The lattice over [−R, R]²: row i has x₂ = axis[i], column j has x₁ = axis[j].   -> (size², 2)"""
    axis = np.linspace(-R, R, size)
    x1, x2 = np.meshgrid(axis, axis)                  # (size, size) each
    return axis, np.stack([x1.ravel(), x2.ravel()], axis=1)


def grid_surfaces(net, features, size=GRID):
    """Output and every neuron's activation over the grid, from the Pass of one batched forward pass."""
    axis, points = grid_points(size)
    F = feature_matrix(points, features)                            # (size², F)
    acts = net.run(F).activations                                   # [a_0 = F, a_1, ..., ŷ]
    to_maps = lambda a: a.T.reshape(a.shape[1], size, size)         # (size², n) -> (n, size, size)  # noqa: E731
    hidden = [to_maps(a) for a in acts[1:-1]]
    return Surfaces(axis, list(to_maps(acts[0])), hidden, to_maps(acts[-1])[0])


# ---- lessons ------------------------------------------------------------------------------

class Lesson(NamedTuple):
    title: str
    text: str                # what to watch for
    settings: dict           # changes from the default Config


LESSONS = {
    "xor_perceptron": Lesson(
        "XOR defeats a perceptron",
        "No hidden layer: the output is σ(w·x + b), one straight line. No line separates XOR, so the "
        "loss stalls at log 2 ≈ 0.69 (a coin toss) and test accuracy stays far from 100 %.",
        dict(data="xor", features=("x1", "x2"), hidden=(), act="tanh", lr=0.03)),
    "xor_hidden": Lesson(
        "One hidden layer solves XOR",
        "Three tanh neurons each draw a line; the output combines them into a region that matches XOR. "
        "Test accuracy passes 95 % within about 100 epochs.",
        dict(data="xor", features=("x1", "x2"), hidden=(3,), act="tanh", lr=0.1, batch=10)),
    "spiral_deep": Lesson(
        "Spiral: depth",
        "From x₁ and x₂ alone the spiral needs several layers: first-layer ReLUs cut the plane along "
        "lines, later layers combine the pieces into curls. Give it a few hundred epochs.",
        dict(data="spiral", features=("x1", "x2"), hidden=(8, 8, 8, 8), act="relu", lr=0.03, batch=10,
             speed=10)),
    "spiral_sin": Lesson(
        "Spiral: sin features",
        "Give the network sin x₁ and sin x₂ and a small one quickly fits the spiral: good features "
        "can replace depth.",
        dict(data="spiral", features=("x1", "x2", "sinx1", "sinx2"), hidden=(8, 4), act="tanh", lr=0.03,
             batch=10, speed=10)),
    "sigmoid_deep": Lesson(
        "Six sigmoid layers barely learn",
        "σ′(z) ≤ 0.25, so the error signal shrinks at every layer on its way back: the first layers "
        "hardly change and the loss crawls (vanishing gradients).",
        dict(data="circle", features=("x1", "x2"), hidden=(8, 8, 8, 8, 8, 8), act="sigmoid", lr=0.03)),
    "lr_diverges": Lesson(
        "Learning rate 10 diverges",
        "Each step overshoots the minimum by more than it started: the loss jumps around or grows "
        "instead of falling. Lower the learning rate while it plays.",
        dict(data="circle", features=("x1", "x2"), hidden=(4, 2), act="tanh", lr=10.0)),
    "overfit": Lesson(
        "Over-fitting noisy data",
        "A big network and few noisy training points: the training loss keeps falling while the test "
        "loss rises. The boundary wraps around single noisy points.",
        dict(data="gauss", noise=50, train=20, features=tuple(FEATURES), hidden=(8, 8, 8), act="relu",
             lr=0.03, show_test=True)),
    "l2_tames": Lesson(
        "L2 tames it",
        "The same experiment with L2 (λ₂ = 0.03): the penalty λ₂/2 ΣW² pulls weights toward 0, the "
        "boundary stays smooth and the test loss stays low.",
        dict(data="gauss", noise=50, train=20, features=tuple(FEATURES), hidden=(8, 8, 8), act="relu",
             lr=0.03, reg="l2", rate=0.03, show_test=True)),
    "ua_relu": Lesson(
        "Universal approximation: ReLU hinges",
        "One hidden layer of ReLUs: each neuron adds a hinge w·max(0, v x + c). Their sum is a bent line "
        "that can follow any continuous curve given enough neurons.",
        dict(mode="1d", fn="sine", units=12, depth=1, act1d="relu", lr1d=0.01)),
    "ua_two_layers": Lesson(
        "Two layers, fewer neurons",
        "The sawtooth with two hidden layers of 6: the same 12 neurons as one layer of 12, but each "
        "second-layer piece (below) is a ReLU of a sum of hinges, bent several times, and together they "
        "make the jump far more sharply (MSE ≈ 0.0004 against ≈ 0.009 after 2,000 steps).",
        dict(mode="1d", fn="sawtooth", units=6, depth=2, act1d="relu", lr1d=0.01, steps1d=100)),
}


def lesson_config(name):
    """The Config of a lesson (the defaults plus the lesson's changes)."""
    return check_config(replace(Config(), **LESSONS[name].settings))


# ---- universal approximation in 1-D -------------------------------------------------------

TARGETS_1D = {
    "sine": ("sine", r"\sin(\pi x)", lambda x: np.sin(np.pi * x)),
    "step": ("step", r"[x \ge 0]", lambda x: (x >= 0).astype(np.float64)),
    "abs": ("|x|", r"|x|", lambda x: np.abs(x)),
    "bump": ("bump", r"e^{-x^2 / (2 \cdot 0.2^2)}", lambda x: np.exp(-x ** 2 / (2 * 0.2 ** 2))),
    "sawtooth": ("sawtooth", r"2x + 1 - 2\,[x \ge 0]", lambda x: 2 * x + 1 - 2 * (x >= 0)),
}
N_POINTS_1D = 200


def target_1d(name, x):
    """The target function f(x) on x ∈ [−1, 1] ([·] is 1 when the condition holds, else 0)."""
    if name not in TARGETS_1D:
        raise ValueError(f"unknown target {name!r}; expected one of {list(TARGETS_1D)}")
    return TARGETS_1D[name][2](np.asarray(x, dtype=np.float64))


def spread_kinks(net, rng, lo=-1.0, hi=1.0):
    """Put each first-layer neuron's kink (where z = w x + b = 0, i.e. x = −b/w) at a random x in [lo, hi].

    With zero biases every ReLU would bend at x = 0; spreading them gives the sum pieces all over the range.
    """
    W, b = net.weights[0], net.biases[0]               # (n_1, 1), (n_1,)
    b[...] = -W[:, 0] * rng.uniform(lo, hi, len(b))


class Fit1D:
    """Fit f(x) on [−1, 1] with hidden layer(s) of `units` neurons, full-batch Adam, MSE."""

    def __init__(self, fn, units, depth=1, act="relu", lr=0.01, seed=0):
        if not (1 <= units <= MAX_UNITS_1D and depth in (1, 2)):
            raise ValueError(f"need 1 … {MAX_UNITS_1D} units and depth 1 or 2; got {units}, {depth}")
        self.fn = fn
        self.x = np.linspace(-1, 1, N_POINTS_1D)                       # (N,)
        self.y = target_1d(fn, self.x)                                  # (N,)
        self.net = MLP([1, *[units] * depth, 1], activation=CORE_ACTIVATION[act], output="identity",
                       loss="mse", init="he" if act == "relu" else "xavier", seed=seed)
        spread_kinks(self.net, np.random.default_rng(seed + 1))
        self.lr, self.opt = lr, Adam(lr)
        self.steps = 0
        self.history = [(0, self.loss())]

    def train_steps(self, k, lr=None):
        """k steps of Adam on all N points, with η = lr (None: the η the fit was made with)."""
        X, Y = self.x[:, None], self.y[:, None]                         # (N, 1)
        for _ in range(k):
            self.net.learn(X, Y, self.opt, lr=self.lr if lr is None else lr)
        self.steps += k
        self.history.append((self.steps, self.loss()))

    def loss(self):
        """MSE of the fit on the N points."""
        return self.net.batch_loss(self.x[:, None], self.y[:, None])

    def contributions(self, x=None):
        """Each last-hidden-layer neuron's share of the output.

        ŷ(x) = Σ_i W_L[0, i] a_i(x) + b_L, so returns (terms (n, len(x)) with terms[i] = W_L[0, i] a_i(x),
        the bias b_L, and ŷ (len(x),)). For ReLU in one layer each term is a hinge.
        """
        x = self.x if x is None else np.asarray(x, dtype=np.float64)
        run = self.net.run(x[:, None])
        y_hat = run.output[:, 0]                                        # (len(x),)
        a = run.activations[-2]                                         # (len(x), n) last hidden layer
        w = self.net.weights[-1][0]                                     # (n,)
        terms = (a * w).T.astype(np.float64)                            # (n, len(x))
        return terms, float(self.net.biases[-1][0]), y_hat.astype(np.float64)

