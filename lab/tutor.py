"""A tutor for every run: rules over the statistics a run records, each finding with its evidence in numbers,
a Why? (a few sentences and a formula) and, where a fix exists, an Apply: a settings change as data.

The rules read one record, RunStats, built from what the runs already keep:

    stats_from_snapshot(snap)   a Train-page run: lab.trainer.Snapshot (Trainer or LiveRun)
    stats_from_playground(pg)   a Playground experiment: lab.playground.Playground (its history and health)

and `diagnose(stats)` returns the findings, warnings first. An Apply is a dict of the run's own settings
(TrainConfig fields for a Train-page run, lab.playground.Config fields for the Playground), so the page
applies it with `dataclasses.replace(config, **finding.apply)` and restarts (or continues) the run.

The thresholds are named below with the measurements that set them: runs of the Train page's trainer on
1,350 MNIST images (784-32-10 momentum η = 0.1 is the healthy reference) and the Playground's lessons.
"""
import math
from dataclasses import dataclass, field

import numpy as np

# Measured on the healthy reference runs and on the situations each rule is for (tests/test_tutor.py):
VANISHING_RATIO = 1e-2      # first/last layer gradient RMS: healthy 0.13–0.16; 3 sigmoid layers 0.004; 6: 7e-4
EXPLODING_RMS = 1.0         # a layer's gradient RMS: healthy ≤ 0.06; η = 10: 1.2; raw 0–255 pixels: ~400
GROWTH = 100.0              # … or a layer's gradient RMS grown 100× since the first record
DEAD_FRACTION = 0.5         # dead ReLUs in a layer: healthy 0.19–0.23 (batches of 64); η = 10: 0.88
SATURATED_FRACTION = 0.3    # sigmoid/tanh units with |z| > 4: healthy tanh XOR 0.23; η = 10 tanh: 1.0
LOW_UPDATE = 1e-4           # median ‖ΔW‖/‖W‖: healthy 8e-3–6e-2; η = 1e-4 SGD: 6e-6–2e-5
GUIDE_UPDATE = 1e-3         # the usual guide line for ‖ΔW‖/‖W‖ (Karpathy's "about 1e-3")
NOT_LEARNING = 0.9          # the loss still ≥ 90 % of a guess's, and fallen < 10 % since the start
UNDERFIT = 0.5              # a training loss above half a guess's after 2 epochs (MNIST) / 300 (Playground:
                            # the deep spiral lesson needs a few hundred)
STUCK = 0.3                 # saturation matters while the loss is above 0.3× a guess's (solved tanh XOR: 0.2×)
OVERFIT_RISE = 1.2          # the validation loss 20 % above its best while the training loss kept falling
SWING = 1.15                # an oscillation: the loss rises 15 % above a low, then falls 15 % below that high …
SWINGS = 2                  # … at least twice
SMALL_BATCH = {"mnist": 4, "playground": 2}
BAD_INIT_STD = (1e-4, 0.5)  # N(0, σ²) init outside this σ range starts far from a working scale
PLATEAU_GAIN = 0.02         # info: the last epoch lowered the loss by less than 2 % with a constant η


@dataclass(frozen=True)
class Finding:
    """One thing the tutor noticed about a run."""
    code: str               # "vanishing_gradients", "loss_exploding", … (tests and pages key on it)
    level: str              # "warning" or "info"
    title: str
    evidence: str           # what was measured, in numbers
    why: str                # two or three sentences
    formula: str            # LaTeX
    apply: dict = None      # the settings change that fixes it (the run's own setting names), or None
    apply_label: str = None  # what the Apply button says: "Set η = 0.1"


@dataclass
class RunStats:
    """What the rules read about one run; every array may be empty (a run that has not started)."""
    source: str                       # "mnist" (Train page) or "playground"
    loss: np.ndarray                  # (T,) training loss per step (MNIST) or per epoch (Playground)
    smoothed: np.ndarray              # (T,) the curve whose trend the rules read
    chance_loss: float                # the loss of a network that guesses (ln K, ln 2, or Var y for regression)
    lr: float
    optimizer: str
    schedule: str
    batch_size: int
    activation: str
    init: str
    init_std: float
    normalize: bool = True
    shuffle: bool = True
    hidden: tuple = ()
    l2: float = 0.0
    grad_scale: np.ndarray = None     # (R, L) gradient RMS per layer at each record
    dead: np.ndarray = None           # (R, L−1)
    saturated: np.ndarray = None      # (R, L−1)
    update_ratio: np.ndarray = None   # (R, L) ‖ΔW‖/‖W‖
    epochs: list = field(default_factory=list)   # [{"loss", "val_loss"}] per epoch (val_loss may be None)
    diverged: str = None              # the run's own explanation when it diverged
    first_layer: np.ndarray = None    # (n, …) some first-layer neurons' weights (a symmetric init shows here)
    unit: str = "step"                # what one point of `loss` is

    def __post_init__(self):
        L = len(self.hidden) + 1
        self.loss = np.asarray(self.loss, dtype=np.float64).ravel()
        self.smoothed = np.asarray(self.smoothed, dtype=np.float64).ravel()
        for name, width in (("grad_scale", L), ("dead", L - 1), ("saturated", L - 1), ("update_ratio", L)):
            rows = np.zeros((0, width)) if getattr(self, name) is None else \
                np.asarray(getattr(self, name), dtype=np.float64)
            setattr(self, name, rows.reshape(len(rows), width) if rows.size == 0 else rows.reshape(-1, width))


def stats_from_snapshot(snap):
    """RunStats of a Train-page run from its lab.trainer.Snapshot (a Trainer's or a LiveRun's)."""
    c = snap.config
    losses = snap.losses if snap.losses is not None else []
    smoothed = snap.smoothed if snap.smoothed is not None else []
    latest = snap.latest or {}
    epochs = [{"loss": e["loss"], "val_loss": e.get("val_loss")} for e in (snap.epochs_log or [])]
    return RunStats(
        source="mnist", loss=losses, smoothed=smoothed, chance_loss=math.log(10), lr=c.lr, optimizer=c.optimizer,
        schedule=c.schedule, batch_size=c.batch_size, activation=c.activation, init=c.init, init_std=c.init_std,
        normalize=c.normalize, shuffle=c.shuffle, hidden=tuple(c.hidden), l2=c.l2, grad_scale=snap.grad_scale,
        dead=snap.dead, saturated=snap.saturated, update_ratio=snap.update_ratio, epochs=epochs,
        diverged=snap.divergence, first_layer=latest.get("first_layer"), unit="step")


def stats_from_record(record):
    """RunStats of a stored Train-page run (lab.live.run_record's dict, as the run store keeps it): its settings,
    thinned smoothed loss and epoch log — no gradient statistics, so only the rules over those can fire."""
    c = record["settings"]
    epochs = [{"loss": e["loss"], "val_loss": e.get("val_loss")} for e in record.get("epochs_log") or []]
    diverged = record.get("message") if record.get("state") == "diverged" else None
    return RunStats(
        source="mnist", loss=record.get("loss") or [], smoothed=record.get("loss") or [], chance_loss=math.log(10),
        lr=c["lr"], optimizer=c["optimizer"], schedule=c["schedule"], batch_size=c["batch_size"],
        activation=c["activation"], init=c["init"], init_std=c["init_std"], normalize=c["normalize"],
        shuffle=c.get("shuffle", True), hidden=tuple(c["hidden"]), l2=c["l2"], epochs=epochs, diverged=diverged,
        unit="point")


def findings_for_snapshot(snap):
    """The tutor's findings for a Train-page run now (a Trainer's or LiveRun's Snapshot)."""
    return diagnose(stats_from_snapshot(snap))


def findings_for_record(record):
    """The tutor's findings for a stored run (the run store's record of lab.live.run_record)."""
    return diagnose(stats_from_record(record))


def stats_from_playground(pg):
    """RunStats of a 2-D Playground experiment (lab.playground.Playground) from its history and health."""
    from lab.playground import CORE_ACTIVATION

    cfg = pg.cfg
    train = np.array([h[1] for h in pg.history[1:]])                     # per epoch, after training
    if cfg.problem == "classification":
        chance = math.log(2)
    else:
        chance = float(np.var(pg.data.y_train))                           # MSE of always predicting the mean
    health = pg.health
    def column(name):
        return [h[name] for h in health]
    return RunStats(
        source="playground", loss=train, smoothed=train, chance_loss=chance, lr=cfg.lr, optimizer="sgd",
        schedule="constant", batch_size=cfg.batch, activation=CORE_ACTIVATION[cfg.act],
        init="he" if cfg.act == "relu" else "xavier", init_std=0.0, hidden=tuple(cfg.hidden),
        l2=cfg.rate if cfg.reg == "l2" else 0.0, grad_scale=column("grad"), dead=column("dead"),
        saturated=column("saturated"), update_ratio=column("update"),
        epochs=[{"loss": h[1], "val_loss": h[2]} for h in pg.history[1:]],
        diverged=None if np.all(np.isfinite(train)) else "the loss became NaN or infinite", unit="epoch")


def diagnose(stats):
    """Every finding of every rule for this run: warnings first, then notes."""
    findings = [f for rule in RULES for f in [rule(stats)] if f is not None]
    return sorted(findings, key=lambda f: f.level != "warning")


def apply_finding(config, finding):
    """The run's configuration with the finding's Apply (a dataclass: TrainConfig or playground Config)."""
    from dataclasses import replace

    if not finding.apply:
        raise ValueError(f"the finding {finding.code!r} has no settings change to apply")
    return replace(config, **finding.apply)


# ---- helpers -----------------------------------------------------------------------------------

def fmt(x):
    """3e-06, 0.0123, 2.3, 1.2e+03 — with the minus sign the pages print."""
    if x is None or not np.isfinite(x):
        return str(x)
    text = f"{x:.2g}" if (abs(x) < 1e-3 or abs(x) >= 1e4) and x != 0 else f"{x:.3g}"
    return text.replace("-", "\u2212")


def _recent(rows, n=20):
    """The last n records (rows of an (R, …) array)."""
    return rows[-n:]


def _lr_choice(stats, lr):
    """η as the run's settings take it: any positive number on the Train page, the nearest choice on the
    Playground's slider."""
    if stats.source == "playground":
        from lab.playground import LEARNING_RATES

        return min(LEARNING_RATES, key=lambda v: abs(math.log(v) - math.log(lr)))
    return float(f"{lr:.2g}")


def _lr_fix(stats, factor):
    lr = _lr_choice(stats, stats.lr * factor)
    return ({"lr": lr}, f"Set η = {lr:g}") if lr != stats.lr else (None, None)


def _steps_seen(stats):
    return len(stats.loss)


def _enough(stats, mnist_steps, playground_epochs):
    return _steps_seen(stats) >= (mnist_steps if stats.source == "mnist" else playground_epochs)


def _typical_lr(stats):
    return 1e-3 if stats.optimizer in ("adam", "adamw", "rmsprop") else 0.1


def swings(series, rise=SWING):
    """How many times the series rose `rise`× above a low and then fell back `rise`× below that high."""
    count, low, high, rising = 0, None, None, False
    for v in series:
        if not np.isfinite(v):
            break
        if low is None or (not rising and v < low):
            low = v
        if not rising and v > rise * low:
            rising, high = True, v
        elif rising:
            high = max(high, v)
            if v * rise < high:
                count, rising, low = count + 1, False, v
    return count


# ---- the rules -----------------------------------------------------------------------------------

def loss_not_finite(s):
    bad = np.flatnonzero(~np.isfinite(s.loss))
    if not bad.size:
        return None
    apply, label = _lr_fix(s, 0.1)
    return Finding(
        "loss_nan", "warning", "The loss became NaN or infinite",
        f"the training loss at {s.unit} {bad[0] + 1} was {s.loss[bad[0]]} (η = {fmt(s.lr)}).",
        "Once a number overflows, every gradient computed from it is NaN too and the weights can never recover. "
        "It happens when the steps are so large that the weights, and with them z and exp(z), grow without "
        "bound.", r"W \leftarrow W - \eta\,\nabla L \;\Rightarrow\; \|W\|\to\infty,\; e^{z}\to\infty",
        apply, label)


def loss_exploding(s):
    if not np.all(np.isfinite(s.loss)):
        return None                       # loss_not_finite says it, with the step where it happened
    finite = s.smoothed[np.isfinite(s.smoothed)]
    if s.diverged is None and not (finite.size > 5 and finite.max() > 3 * s.chance_loss
                                   and finite[-1] > finite[0]):
        return None
    peak = float(finite.max()) if finite.size else math.nan
    typical = _typical_lr(s)              # η = 10 → 0.1, the usual value, rather than 1, still at the edge
    apply, label = _lr_fix(s, typical / s.lr if s.lr > 10 * typical else 0.1)
    if not s.normalize:
        apply, label = {"normalize": True}, "Scale the inputs to [0, 1]"
    return Finding(
        "loss_exploding", "warning", "The loss exploded",
        f"the loss reached {fmt(peak)}, {fmt(peak / s.chance_loss)}× the {fmt(s.chance_loss)} of a network that "
        f"guesses, with η = {fmt(s.lr)}." + (f" {s.diverged}" if s.diverged else ""),
        "Gradient descent only goes downhill for small enough steps: near a minimum with curvature λ, a step "
        "η·gradient overshoots to the other side once η > 2/λ, and each overshoot is larger than the last. "
        "Lowering η by 10× is the usual first fix.",
        r"L(W - \eta g) \approx L(W) - \eta\|g\|^2 + \tfrac{\eta^2}{2} g^\top H g"
        r" \quad(\text{grows when } \eta > 2/\lambda_{\max})",
        apply, label)


def not_learning(s):
    if s.diverged or not _enough(s, 30, 10):
        return None
    now, start = float(s.smoothed[-1]), float(s.smoothed[0])
    if not (np.isfinite(now) and now >= NOT_LEARNING * s.chance_loss and now > (1 - 0.1) * start):
        return None
    apply, label = (None, None)
    if s.lr < _typical_lr(s):
        apply, label = _lr_fix(s, 10)
    return Finding(
        "not_learning", "warning", "The network is not learning",
        f"after {_steps_seen(s)} {s.unit}s the loss is {fmt(now)} (it started at {fmt(start)}); a network that "
        f"guesses scores {fmt(s.chance_loss)}.",
        "The weights change, but not in a way that lowers the loss: the steps are too small, the gradient does "
        "not reach the layers that matter, or the model cannot express the pattern. The other findings say "
        "which.", r"\Delta L \approx -\eta\,\|\nabla L\|^2 \approx 0", apply, label)


def oscillating(s):
    if s.diverged or not _enough(s, 30, 10):
        return None
    n = swings(s.smoothed)
    if n < SWINGS:
        return None
    apply, label = _lr_fix(s, 0.1)
    return Finding(
        "oscillating", "warning", "The loss oscillates",
        f"the loss rose by more than {SWING - 1:.0%} and fell back {n} times (now {fmt(s.smoothed[-1])}, lowest "
        f"{fmt(np.nanmin(s.smoothed))}), at η = {fmt(s.lr)}.",
        "Each step jumps across the valley of the loss instead of down it: the step is too large for the "
        "curvature, so the weights bounce between the walls. A smaller η (or momentum with a smaller η) "
        "settles into the valley.", r"w_{t+1} - w^* = (1 - \eta\lambda)(w_t - w^*),\quad |1 - \eta\lambda| > 1 "
                                    r"\text{ flips sides}", apply, label)


def vanishing_gradients(s):
    g = _recent(s.grad_scale)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return None
    first, last = np.median(g[:, 0]), np.median(g[:, -1])
    if not (last > 0 and first / last < VANISHING_RATIO):
        return None
    L = g.shape[1]
    fix = {"act": "relu"} if s.source == "playground" else {"activation": "relu", "init": "he"}
    if s.activation == "relu":
        fix = {"init": "he"} if s.source == "mnist" and s.init != "he" else None
    factor = r"\sigma'(z) \le \tfrac14" if s.activation == "sigmoid" else r"f'(z)"
    return Finding(
        "vanishing_gradients", "warning", "Vanishing gradients in the early layers",
        f"layer 1's gradient is {fmt(first / last)}× layer {L}'s (RMS {fmt(first)} against {fmt(last)}, median of "
        f"the last {g.shape[0]} records).",
        "Backprop multiplies the error by Wᵀ and by the activation's slope once per layer on its way down. With "
        f"{s.activation} each slope is small, so after several layers almost nothing reaches layer 1: the early "
        "layers barely learn. ReLU (slope 1 where active) with He init keeps the signal's size.",
        rf"\delta_1 = \Big(\prod_{{l=2}}^{{L}} W_l^\top \operatorname{{diag}} f'(z_{{l-1}})\Big)\delta_L,\quad {factor}",
        fix, "Switch to ReLU" + (" and He init" if fix and "init" in fix else "") if fix else None)


def exploding_gradients(s):
    g = s.grad_scale[np.all(np.isfinite(s.grad_scale), axis=1)] if s.grad_scale.size else s.grad_scale
    if g.shape[0] < 2:
        return None
    peak = np.max(g[-5:], axis=0)
    layer = int(np.argmax(peak))
    grown = peak[layer] / g[0, layer] if g[0, layer] > 0 else math.inf
    if not (peak[layer] > EXPLODING_RMS or (grown > GROWTH and peak[layer] > 1e-2)):
        return None
    apply, label = _lr_fix(s, 0.1)
    if not s.normalize:
        apply, label = {"normalize": True}, "Scale the inputs to [0, 1]"
    return Finding(
        "exploding_gradients", "warning", "Exploding gradients",
        f"layer {layer + 1}'s gradient RMS is {fmt(peak[layer])} ({fmt(grown)}× its first value {fmt(g[0, layer])}); "
        f"healthy runs stay below {fmt(EXPLODING_RMS / 10)}.",
        "When the products Wᵀ·f′ along the backward path are larger than 1, the error grows layer by layer and "
        "the steps become huge. Large inputs, large initial weights or a large η feed it; a smaller η (or "
        "clipping the gradient's norm) caps each step.", r"g \leftarrow g\cdot\min\!\left(1, \frac{c}{\|g\|}\right)",
        apply, label)


def dead_relus(s):
    if s.activation != "relu" or not s.dead.size:
        return None
    last = s.dead[-1]
    layer = int(np.argmax(last))
    if last[layer] < DEAD_FRACTION:
        return None
    apply, label = ({"activation": "leaky_relu"}, "Switch to leaky ReLU") if s.source == "mnist" else \
        _lr_fix(s, 1 / 3)
    return Finding(
        "dead_relus", "warning", "Many ReLUs are dead",
        f"{last[layer]:.0%} of layer {layer + 1}'s ReLUs output 0 for every example of the batch (η = {fmt(s.lr)}).",
        "A ReLU with z ≤ 0 for every input has slope 0, so its δ is 0 and its weights never change again: it is "
        "dead for good. A large step that pushes the bias far negative is the usual cause; a smaller η or "
        "leaky ReLU (slope α > 0 below 0) keeps the units alive.",
        r"z \le 0 \;\Rightarrow\; \mathrm{ReLU}'(z) = 0 \;\Rightarrow\; \delta = 0,\; \partial L/\partial W = \delta a^\top = 0",
        apply, label)


def saturated_units(s):
    if s.activation not in ("sigmoid", "tanh") or not s.saturated.size:
        return None
    last = s.saturated[-1]
    layer = int(np.argmax(last))
    if last[layer] < SATURATED_FRACTION or not (s.smoothed.size and s.smoothed[-1] > STUCK * s.chance_loss):
        return None             # confident units of a network that has learned are saturated too, and fine
    apply, label = _lr_fix(s, 0.1) if s.source == "playground" else ({"init": "xavier"}, "Use Xavier init")
    if s.source == "mnist" and s.init == "xavier":
        apply, label = {"activation": "relu", "init": "he"}, "Switch to ReLU and He init"
    return Finding(
        "saturated_units", "warning", f"Saturated {s.activation} units",
        f"{last[layer]:.0%} of layer {layer + 1}'s z values have |z| > 4, where {s.activation}′ is below 0.07.",
        f"On its flat tails {s.activation} passes almost no gradient back, so saturated units learn very "
        "slowly. Too large weights (init, or a large η) or large inputs put z there.",
        r"\sigma'(4) = 0.018,\quad \tanh'(4) = 0.0013", apply, label)


def overfitting(s):
    vals = [(e["loss"], e["val_loss"]) for e in s.epochs if e.get("val_loss") is not None]
    if len(vals) < 3:
        return None
    train, val = np.array(vals).T
    best = int(np.argmin(val))
    if not (val[-1] > OVERFIT_RISE * val[best] and train[-1] < train[best] and val[-1] - train[-1] > 0.1):
        return None
    apply, label = ({"l2": 1e-3}, "Add L2, λ = 0.001") if s.source == "mnist" else \
        ({"reg": "l2", "rate": 0.03}, "Add L2, λ = 0.03")
    return Finding(
        "overfitting", "warning", "Over-fitting",
        f"the validation loss rose from its best {fmt(val[best])} (epoch {best + 1}) to {fmt(val[-1])} while the "
        f"training loss fell to {fmt(train[-1])}.",
        "The network is fitting the noise of its training examples: what it learns now does not carry over to "
        "new data. A penalty on large weights (L2), more data or stopping at the best epoch help.",
        r"L = L_{\text{data}} + \tfrac{\lambda}{2}\sum W^2", apply, label)


def underfitting(s):
    if s.diverged or len(s.epochs) < (2 if s.source == "mnist" else 300):
        return None
    train = s.epochs[-1]["loss"]
    val = s.epochs[-1].get("val_loss")
    if not (train > UNDERFIT * s.chance_loss and (val is None or val - train < 0.1 * train)):
        return None
    wider = (256,) if s.source == "mnist" else ((4, 2) if not s.hidden else tuple(min(8, 2 * n) for n in s.hidden))
    apply, label = ({"hidden": wider}, f"Use hidden layers {list(wider)}") if tuple(s.hidden) != wider else (None, None)
    return Finding(
        "underfitting", "warning", "Under-fitting",
        f"after {len(s.epochs)} epochs the training loss is still {fmt(train)}, "
        f"{fmt(train / s.chance_loss)}× a guess's {fmt(s.chance_loss)}"
        + (f", and the validation loss {fmt(val)} is no worse" if val is not None else "") + ".",
        "The network does not even fit its training data: it is too small (or too shallow) for the pattern, or "
        "training is too slow to get there. A wider or deeper network, better features or a larger η help.",
        r"L_{\text{train}} \approx L_{\text{val}} \gg 0", apply, label)


def lr_too_low(s):
    u = _recent(s.update_ratio)[:, -1]        # the output layer: vanishing gradients do not shrink its steps
    if u.shape[0] < 3:
        return None
    median = float(np.nanmedian(u)) if np.isfinite(u).any() else math.nan
    if not (np.isfinite(median) and 0 < median < LOW_UPDATE) or s.lr >= _typical_lr(s):
        return None
    apply, label = _lr_fix(s, 10)
    return Finding(
        "lr_too_low", "warning", "η is too low",
        f"each step changes the output layer's weights by {fmt(median)} of their size (median ‖ΔW‖/‖W‖); about "
        f"{fmt(GUIDE_UPDATE)} is healthy. η = {fmt(s.lr)}.",
        "With such small steps the loss falls so slowly that the run ends long before the network has learned. "
        "Raising η by 10× moves the update-to-data ratio toward its usual ~1e-3.",
        r"\frac{\|\eta\,\Delta W\|}{\|W\|} \approx 10^{-3}", apply, label)


def batch_too_small(s):
    if s.batch_size > SMALL_BATCH[s.source] or not _enough(s, 30, 5):
        return None
    tail = s.loss[len(s.loss) // 2:]
    spread = float(np.std(tail) / np.mean(tail)) if tail.size and np.mean(tail) > 0 else math.nan
    size = 32 if s.source == "mnist" else 10
    return Finding(
        "batch_too_small", "warning", "The batch is very small",
        f"batches of {s.batch_size}: each gradient comes from {s.batch_size} example(s); the batch losses of the "
        f"second half vary by ±{spread:.0%} of their mean.",
        "A gradient from one or two examples points in a random direction much of the time: the noise grows "
        "like 1/√B, so the step must be small to stay stable and the run is slow. Batches of 32–64 average the "
        "noise away.", r"\operatorname{std}(\hat g_B) \propto \frac{1}{\sqrt{B}}",
        {"batch_size" if s.source == "mnist" else "batch": size}, f"Use batches of {size}")


def unnormalised_input(s):
    if s.normalize:
        return None
    return Finding(
        "unnormalised_input", "warning", "The inputs are not normalised",
        "the pixels enter as 0–255, so every first-layer z is about 255× what it would be with x/255"
        + (f"; layer 1's gradient RMS reached {fmt(np.max(s.grad_scale[:, 0]))}" if s.grad_scale.size else "") + ".",
        "z = W x + b grows with x: huge inputs give huge z (saturated or exploding units) and huge gradients "
        "∂L/∂W = δ xᵀ, so no single η suits both the first layer and the rest.",
        r"\frac{\partial L}{\partial W_1} = \delta_1 x^\top \propto x", {"normalize": True},
        "Scale the inputs to [0, 1]")


def bad_initialisation(s):
    if s.init != "normal" or BAD_INIT_STD[0] <= s.init_std <= BAD_INIT_STD[1]:
        return None
    good = "he" if s.activation in ("relu", "leaky_relu", "gelu") else "xavier"
    start = f"; the first loss was {fmt(s.loss[0])} against a guess's {fmt(s.chance_loss)}" if s.loss.size else ""
    return Finding(
        "bad_init", "warning", "Bad initialisation",
        f"weights start as N(0, {fmt(s.init_std)}²){start}.",
        "The spread of z = W a is about √n_in · σ · |a|: too large a σ saturates or explodes the first layers, "
        "too small a σ makes every layer's signal and gradient shrink. He (σ² = 2/n_in) and Xavier "
        "(σ² = 1/n_in) keep it near 1.",
        r"\operatorname{Var}(z) = n_{\text{in}}\,\sigma^2\,\operatorname{E}[a^2],\quad \sigma^2_{\text{He}} = 2/n_{\text{in}}",
        {"init": good}, f"Use {'He' if good == 'he' else 'Xavier'} init")


def symmetric_init(s):
    identical = None
    if s.first_layer is not None and len(s.first_layer) > 1:
        rows = np.asarray(s.first_layer, dtype=np.float64).reshape(len(s.first_layer), -1)
        identical = float(np.max(np.std(rows, axis=0)))
    if s.init != "zeros" and not (identical is not None and identical < 1e-7):
        return None
    good = "he" if s.activation in ("relu", "leaky_relu", "gelu") else "xavier"
    seen = f"; the first-layer neurons' weights differ by at most {fmt(identical)}" if identical is not None else ""
    return Finding(
        "symmetric_init", "warning", "Symmetric (zero) initialisation",
        f"every weight started at 0{seen}.",
        "Neurons that start equal compute the same z, receive the same δ and make the same update, so they "
        "stay equal forever: a layer of n neurons works like one. Random initial weights break the symmetry.",
        r"W_{i\cdot} = W_{j\cdot} \;\Rightarrow\; \delta_i = \delta_j \;\Rightarrow\; \Delta W_{i\cdot} = \Delta W_{j\cdot}",
        {"init": good}, f"Use {'He' if good == 'he' else 'Xavier'} init")


def not_shuffled(s):
    if s.shuffle:
        return None
    val = [e["val_loss"] for e in s.epochs if e.get("val_loss") is not None]
    seen = f"; the validation loss is {fmt(val[-1])} (a guess: {fmt(s.chance_loss)})" if val else ""
    return Finding(
        "not_shuffled", "warning", "The data is not shuffled",
        f"the batches come sorted by class, in the same order every epoch{seen}.",
        "A run of same-class batches pulls the network toward that class and it forgets the others; each "
        "gradient is then a biased estimate of the full one. Shuffling makes every batch a fair sample.",
        r"\operatorname{E}[\hat g_{\text{batch}}] = \nabla L \text{ only for random batches}",
        {"shuffle": True}, "Shuffle the data")


def plateau_with_constant_lr(s):
    if s.schedule != "constant" or len(s.epochs) < 3 or s.diverged:
        return None
    before, now = s.epochs[-2]["loss"], s.epochs[-1]["loss"]
    if not (before > 0 and (before - now) / before < PLATEAU_GAIN and now < UNDERFIT * s.chance_loss):
        return None
    return Finding(
        "plateau", "info", "The loss has levelled off",
        f"the last epoch lowered the training loss only from {fmt(before)} to {fmt(now)} "
        f"({(before - now) / before:.1%}) with a constant η = {fmt(s.lr)}.",
        "With a constant η the noise of the mini-batch steps keeps the weights jittering around the minimum. "
        "Lowering η as training goes on (a schedule) lets them settle.",
        r"\eta_t = \tfrac{\eta_0}{2}\left(1 + \cos\frac{\pi t}{T}\right)",
        {"schedule": "cosine"} if s.source == "mnist" else None, "Use the cosine schedule" if s.source == "mnist"
        else None)


RULES = (loss_not_finite, loss_exploding, not_learning, oscillating, vanishing_gradients, exploding_gradients,
         dead_relus, saturated_units, overfitting, underfitting, lr_too_low, batch_too_small, unnormalised_input,
         bad_initialisation, symmetric_init, not_shuffled, plateau_with_constant_lr)
