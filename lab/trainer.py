"""Train an MLP on MNIST in a background thread while a page (or a script) watches.

One Trainer = one run: a network, an optimizer, and a thread that loops over mini-batches

    for each epoch:  for each batch (X, y):   η ← schedule(η₀, t);  θ ← θ − η · step(∇L)

The page never touches the network while it trains. It talks to the trainer in three ways:

* commands:      start(), pause(), resume(), stop(), step_once()   (threading.Events, answered next batch)
* live settings: set_lr(), set_schedule(), set_l2(), set_speed()   (read at every step)
* snapshots:     snapshot() copies the metrics under a lock — small arrays, safe to plot.

On a server the Trainer does not run in the server's own process: lab/live.py runs it in a worker
process per run (so training never holds the server's GIL) and gives the page the same methods.

Live statistics (gradient scale per layer, pre-activations, dead ReLUs, first-layer weights) are
read from the last step's Pass and gradients (lab.stats), every ~0.15 s rather than
every step, so watching costs almost nothing.

The thread stops by itself when the run ends, when the loss diverges (then the last good
weights are put back), or when nobody has read a snapshot for `abandon_after` seconds (a closed
browser tab). At most `SLOTS.size` trainers compute at once on a server; others wait for a slot.

Pure NumPy and threading: no Streamlit here.
"""
import math
import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from enum import Enum

import numpy as np
from threadpoolctl import threadpool_limits

from core.checks import finite_number
from core.init import INITS
from core.network import MLP
from core.optim import OPTIMIZERS, global_norm
from lab.schedules import SCHEDULES, scheduled_lr
from lab.plateau import ReduceLROnPlateau
from lab.stats import activation_stats, layer_gradient_stats, neuron_gradient_magnitude

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
RECORD_EVERY = 0.15          # seconds between live-statistics records
ABANDON_AFTER = 120.0        # seconds without a snapshot read before a trainer gives up
N_WEIGHT_IMAGES = 16         # first-layer neurons shown as 28×28 images
N_MISTAKES = 36              # misclassified test images kept for the gallery
HIST_BINS = 40
# ReduceLROnPlateau for the "plateau" schedule, fed once per epoch: PyTorch's defaults (factor 0.1, patience
# 10 epochs) never act in a 10–20-epoch run; halving η after one epoch without a 0.01 % better loss does.
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 1
SMOOTHING = 0.1              # α of the loss's exponential moving average s ← (1 − α) s + α L: the one smoothed
                             # loss the page plots and quotes and the divergence check uses (~10-batch memory)


class RunState(str, Enum):
    """Where a run is. A str, so `snap.state == "paused"` and f-strings read naturally."""
    IDLE = "idle"              # built, not started
    WAITING = "waiting"        # wants to train, queued for a free training slot
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"      # all epochs done
    STOPPED = "stopped"        # the learner pressed Stop (or the session ended)
    DIVERGED = "diverged"      # the loss exploded or became NaN: the last good weights were restored
    ABANDONED = "abandoned"    # nobody watched for a while (tab closed)
    ERROR = "error"            # an unexpected exception, reported in the message

    def __str__(self):
        return self.value

    @property
    def done(self):
        return self in DONE_STATES


DONE_STATES = frozenset({RunState.FINISHED, RunState.STOPPED, RunState.DIVERGED, RunState.ABANDONED,
                         RunState.ERROR})


# ---- settings -------------------------------------------------------------------------------

@dataclass
class TrainConfig:
    """Everything that defines a run. The defaults are the page's defaults.

    [784, 256, 10] ReLU with He init, momentum SGD η = 0.1, batches of 64: ≥ 94 % test accuracy
    from the 5k sample within a few epochs, ~98 % from full MNIST (benchmarks/bench_trainer.py).
    """
    hidden: tuple = (256,)       # widths of the hidden layers
    activation: str = "relu"
    init: str = "he"
    init_std: float = 0.01       # σ of the "normal" init
    seed: int = 0                # initial weights and batch order
    optimizer: str = "momentum"
    lr: float = 0.1              # η₀: the learning rate before the schedule
    schedule: str = "constant"   # constant / step (halve every epoch) / cosine (to 0 at the end) /
                                 # plateau (halve when the validation loss stalls; the training loss without one)
    l2: float = 0.0              # λ: L2 penalty λ/2 ΣW² (AdamW: decoupled weight decay θ ← θ − ηλθ)
    batch_size: int = 64
    epochs: int = 10
    normalize: bool = True       # pixels / 255 → [0, 1]; False feeds raw 0–255 (a pitfall)
    shuffle: bool = True         # False feeds the data sorted by class, same order every epoch (a pitfall)
    batchnorm: bool = False      # BatchNorm after each hidden Linear
    dropout: float = 0.0         # dropout rate p after each hidden activation (0: none)
    residual: bool = False       # skip connections a + F(a) around hidden layers of equal width
    clip: float = None           # clip the gradients to this global norm each step (None: no clipping)

    def __post_init__(self):
        self.hidden = tuple(self.hidden)

    def check(self):
        """Raise ValueError naming the first setting that is out of range; return self."""
        if not 1 <= len(self.hidden) <= 3 or any(int(n) != n or not 1 <= n <= 4096 for n in self.hidden):
            raise ValueError(f"hidden must be 1–3 layer widths between 1 and 4096; got {list(self.hidden)}")
        _choice("activation", self.activation, HIDDEN_ACTIVATIONS)
        _choice("init", self.init, INITS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        finite_number(self.init_std, "init_std", low=0, above=True)
        finite_number(self.lr, "lr", 0, 1e3, above=True)
        finite_number(self.l2, "l2", 0, 10.0)
        finite_number(self.dropout, "dropout", 0, MAX_DROPOUT)
        if self.clip is not None:
            finite_number(self.clip, "clip (the maximum gradient norm)", 0, 1e6, above=True)
        if self.residual and not any(a == b for a, b in zip(self.hidden[:-1], self.hidden[1:])):
            raise ValueError(f"residual connections need two consecutive hidden layers of equal width (a + F(a) "
                             f"adds arrays of one shape); got hidden {list(self.hidden)}")
        if int(self.batch_size) != self.batch_size or not 1 <= self.batch_size <= 60000:
            raise ValueError(f"batch_size must be a whole number from 1 to 60000; got {self.batch_size!r}")
        if int(self.epochs) != self.epochs or not 1 <= self.epochs <= 1000:
            raise ValueError(f"epochs must be a whole number from 1 to 1000; got {self.epochs!r}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0; got {self.seed!r}")
        return self

    def sizes(self, n_in=784, n_out=10):
        return [n_in, *[int(n) for n in self.hidden], n_out]

    def network_settings(self):
        """The MLP constructor arguments this configuration sets (besides sizes and seed)."""
        return dict(activation=self.activation, init=self.init, init_std=self.init_std,
                    batchnorm=bool(self.batchnorm), dropout=float(self.dropout), residual=bool(self.residual))

    def as_dict(self):
        """JSON-able settings (for run history and saved models)."""
        d = asdict(self)
        d["hidden"] = [int(n) for n in self.hidden]
        return d

    def label(self):
        """A short name for a run, e.g. "784-256-10 relu · momentum η=0.1"."""
        arch = "-".join(str(n) for n in self.sizes())
        extras = "".join([" +BN" if self.batchnorm else "", f" +dropout {self.dropout:g}" if self.dropout else "",
                          " +skips" if self.residual else "", f" · clip {self.clip:g}" if self.clip else ""])
        return f"{arch} {self.activation}{extras} · {self.optimizer} η={self.lr:g}"


MAX_DROPOUT = 0.9            # above this almost nothing gets through a layer in training


# The lessons' network (issue 13): 784→256→256→10, Linear → BatchNorm → ReLU → Dropout(0.3), AdamW η = 1e-3
# with weight decay 1e-4 (the lessons' "Adam with weight decay" gives no value; 1e-4 is the usual
# `AdamW(lr=1e-3, weight_decay=1e-4)` of such code — PyTorch's AdamW default 1e-2 is meant for longer
# runs), cosine annealing over the epochs, clip_grad_norm_(…, 1.0) every step, 20 epochs of batches of 64.
PRESETS = {
    "lessons": TrainConfig(hidden=(256, 256), activation="relu", init="he", optimizer="adamw", lr=1e-3,
                           schedule="cosine", l2=1e-4, batch_size=64, epochs=20, batchnorm=True, dropout=0.3,
                           clip=1.0),
}
PRESET_REPORTS = {"lessons": "The lesson reports a best test accuracy of 98.12 % on full MNIST after 20 epochs."}


def _choice(name, value, options):
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; expected one of {list(options)}")


# ---- data -----------------------------------------------------------------------------------

@dataclass
class TrainData:
    """Images as uint8 rows (N, 784) shared read-only between runs; a run picks rows by index.

    Batches are converted to float32 (and scaled) one at a time, so no run copies the data set.
    """
    images: np.ndarray          # (N, 784) uint8
    labels: np.ndarray          # (N,) int64
    train_idx: np.ndarray       # rows to train on
    val_idx: np.ndarray         # rows held out for validation (may be empty)
    test_images: np.ndarray     # (M, 784) uint8
    test_labels: np.ndarray     # (M,) int64
    class_names: list = field(default_factory=lambda: [str(d) for d in range(10)])

    @property
    def n_train(self):
        return len(self.train_idx)


def flatten_images(images):
    """(N, 28, 28) uint8 → (N, 784) uint8 (a view when possible)."""
    images = np.asarray(images)
    return images.reshape(len(images), -1)


def make_train_data(x_train, y_train, x_test, y_test, train_size=None, val_fraction=0.1, seed=0,
                    class_names=None):
    """Pick `train_size` rows of the training set (all if None), hold out `val_fraction` of them.

    The rows are a random subset (seeded); validation rows are the first ⌊val_fraction · n⌋ of it.
    """
    images, labels = flatten_images(x_train), np.asarray(y_train, dtype=np.int64)
    n_all = len(labels)
    n = n_all if train_size is None else int(train_size)
    if not 1 <= n <= n_all:
        raise ValueError(f"train_size must be between 1 and {n_all:,} (the size of the training set); got {n:,}")
    if not (0 <= val_fraction < 1):
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    rows = np.random.default_rng(seed).permutation(n_all)[:n]
    n_val = int(val_fraction * n)
    if n - n_val < 1:
        raise ValueError(f"no examples left to train on: {n} rows with a validation fraction of {val_fraction}")
    return TrainData(images, labels, np.sort(rows[n_val:]), np.sort(rows[:n_val]),
                     flatten_images(x_test), np.asarray(y_test, dtype=np.int64),
                     list(class_names or [str(d) for d in range(10)]))


def to_inputs(images, normalize=True):
    """uint8 rows → float32 network inputs: x / 255 ∈ [0, 1], or raw 0–255 when normalize is False."""
    X = images.astype(np.float32)   # (B, 784)
    if normalize:
        X *= np.float32(1 / 255)
    return X


def data_summary(images, labels, n_classes=10):
    """Counts per class (K,) and the average image of each class (K, 28, 28) as floats in [0, 255]."""
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=n_classes)
    flat = flatten_images(images)
    means = np.zeros((n_classes, flat.shape[1]))
    for k in range(n_classes):
        if counts[k]:
            means[k] = flat[labels == k].mean(axis=0)
    return counts, means.reshape(n_classes, 28, 28)


# ---- evaluation -----------------------------------------------------------------------------

def evaluate(net, images, labels, normalize=True, n_mistakes=N_MISTAKES, n_classes=10, chunk=2000):
    """Accuracy, loss −mean log ŷ_y, confusion matrix C[true, predicted], per-class accuracy,
    and the most confident mistakes (indices into `images`, with predicted label and confidence)."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return None
    P = np.concatenate([net.forward(to_inputs(images[i:i + chunk], normalize))
                        for i in range(0, len(labels), chunk)])            # (N, K)
    pred = np.argmax(P, axis=1)                                              # (N,)
    confidence = P[np.arange(len(P)), pred]                                  # (N,)
    p_true = P[np.arange(len(P)), labels]
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    wrong = np.flatnonzero(pred != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:n_mistakes]
    return {"accuracy": float(np.mean(pred == labels)),
            "loss": float(-np.mean(np.log(np.clip(p_true, 1e-12, 1.0)))),
            "confusion": confusion, "per_class": per_class,
            "mistakes": {"index": wrong, "true": labels[wrong], "pred": pred[wrong],
                         "confidence": confidence[wrong]}}


def smooth(values, alpha=SMOOTHING):
    """Exponential moving average: s_0 = x_0, s_t = (1 − α) s_{t−1} + α x_t  (NaN and ±inf pass through).

    The trainer keeps the same average step by step (Trainer._after_step): the smoothed loss on the
    page, in the divergence check and in its message is one statistic.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    s = None
    for t, x in enumerate(values):
        s = x if s is None else (1 - alpha) * s + alpha * x
        out[t] = s
    return out


def downsample(x, max_points=600):
    """Indices that keep at most `max_points` evenly spaced points of a series of length len(x)."""
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


# ---- the server-wide cap on running trainers ------------------------------------------------

class SlotPool:
    """At most `size` runs compute at the same time; the others queue, first come first served.

    A run names itself with a ticket (any hashable object); while it waits it keeps its place, and
    `position(ticket)` says where it stands, so the page can show "number 2 in the queue". A run that
    waits asks again at least every few tenths of a second; a ticket not asked for in STALE_TICKET
    seconds (its run died without leaving) loses its place, so it can never block the queue.
    """
    STALE_TICKET = 5.0

    def __init__(self, size=None):
        self.size = max(1, int(size or os.cpu_count() or 1))
        self.in_use = 0
        self._queue = deque()                     # tickets waiting, oldest first
        self._asked = {}                          # ticket -> when it last asked (time.monotonic)
        self._cond = threading.Condition()

    def _first_in_line(self, ticket):
        while self._queue and self._queue[0] is not ticket and \
                time.monotonic() - self._asked.get(self._queue[0], 0) > self.STALE_TICKET:
            self._asked.pop(self._queue.popleft(), None)
        return self._queue[0] is ticket

    def acquire(self, timeout=None, ticket=None):
        """Take a slot; False if none came free within `timeout` seconds (the ticket keeps its place)."""
        anonymous = ticket is None
        ticket = object() if anonymous else ticket
        with self._cond:
            if ticket not in self._queue:
                self._queue.append(ticket)
            self._asked[ticket] = time.monotonic()
            got = self._cond.wait_for(lambda: self.in_use < self.size and self._first_in_line(ticket), timeout)
            if got:
                self._asked.pop(self._queue.popleft(), None)
                self.in_use += 1
                self._cond.notify_all()           # the next in line may now be first
            elif anonymous:                       # nobody can ask for its place: don't block the queue
                self._queue.remove(ticket)
                self._asked.pop(ticket, None)
                self._cond.notify_all()
            return got

    def leave(self, ticket):
        """Give up a place in the queue (a run stopped or paused while waiting)."""
        with self._cond:
            if ticket in self._queue:
                self._queue.remove(ticket)
                self._asked.pop(ticket, None)
                self._cond.notify_all()

    def position(self, ticket):
        """1 for the first in line, 2 for the next, …; 0 when the ticket is not waiting."""
        with self._cond:
            return self._queue.index(ticket) + 1 if ticket in self._queue else 0

    @property
    def waiting(self):
        return len(self._queue)

    def cores_each(self):
        """The cores each computing run may use: all but one, shared among the runs in progress (at least one
        each). The one left over is the server's: it draws every learner's pages, and a run whose BLAS threads
        have to wait for the server's turn on a core is slower, not faster (benchmarks/bench_trainer.py on
        2 cores, the page's figures drawn beside the run: 0.91 of the bare loop with one BLAS thread, 0.77
        with two). On 2 cores that is one thread; on 8, a run alone computes on 7.
        """
        with self._cond:
            return max(1, (self.size - 1) // max(1, self.in_use))

    def release(self):
        with self._cond:
            self.in_use = max(0, self.in_use - 1)
            self._cond.notify_all()


SLOTS = SlotPool()      # shared by every session of a server; size = number of CPU cores


# ---- snapshots ------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """A copy of a trainer's state and metrics at one moment (safe to keep and plot)."""
    state: RunState
    message: str                  # one human sentence about the state
    config: TrainConfig           # with the live values of lr, schedule, l2
    epoch: int                    # epochs completed
    batch: int                    # batches done in the current epoch
    batches_per_epoch: int
    step: int                     # batches done in total
    total_steps: int
    lr_now: float                 # η after the schedule: the next step's (the last step's until a setting changes)
    elapsed: float                # seconds spent training (waiting and pauses excluded)
    samples_per_s: float
    losses: np.ndarray            # (step,) loss of every batch
    smoothed: np.ndarray          # (step,) its moving average s_t = (1 − α) s_{t−1} + α L_t (see SMOOTHING)
    batch_accs: np.ndarray        # (step,) accuracy on every batch (predictions before its update)
    epochs_log: list              # one dict per finished epoch
    record_steps: np.ndarray      # (R,) step of each live-statistics record
    grad_scale: np.ndarray        # (R, L) ‖dW_l‖/√size per layer
    dead: np.ndarray              # (R, L−1) fraction of dead ReLUs per hidden layer
    saturated: np.ndarray         # (R, L−1) fraction of |z| > 4 per hidden layer
    latest: dict                  # the last record's detail (per-neuron gradients, z samples, weights)
    evaluation: dict              # test-set evaluation at the last epoch end (or None)
    divergence: str               # explanation + suggestion when the run diverged, else None
    lr_marks: list = field(default_factory=list)   # [(step, η₀)]: where the learner set η (step 0: the start)
    speed: float = None           # batches per second the run is held to (None: as fast as it can)
    last_batch: dict = None       # the last batch: rows, labels, predictions, loss (for "Step one batch")
    queue_position: int = 0       # 1, 2, … while waiting for a training slot
    # training health (issue 15): per layer ‖ΔW_l‖/‖W_l‖ of the step before each record — the update-to-data
    # ratio, ~1e-3 in a healthy run (the change the optimizer made, so it is η·Δ for SGD, Adam's step for Adam)
    update_ratio: np.ndarray = None   # (R, L) the last measured step at each record (NaN before one was)
    weight_hist_init: list = None     # per layer (counts, edges) of the initial weights, beside latest["weight_hist"]
    grad_norms: np.ndarray = None  # (R, 2) global gradient norm ‖g‖ before and after clipping (equal without it)
    bn_stats: np.ndarray = None    # (R, n_bn, 4) per BatchNorm layer: mean γ, std γ, mean β, std β
    cores: int = None              # BLAS threads the run computes with (set_cores; None: the process's own)

    @property
    def done(self):
        return self.state in DONE_STATES

    @property
    def loss_now(self):
        """The smoothed loss at the last step (what the page quotes), or None before the first step."""
        return float(self.smoothed[-1]) if len(self.smoothed) else None

    @property
    def progress(self):
        return self.step / max(self.total_steps, 1)

    def status(self):
        """e.g. "epoch 3/10, batch 120/469"."""
        epoch = min(self.epoch + 1, self.config.epochs) if self.batch else max(self.epoch, 1)
        batch = self.batch or (self.batches_per_epoch if self.epoch else 0)
        return f"epoch {epoch}/{self.config.epochs}, batch {batch}/{self.batches_per_epoch}"


# ---- the trainer ----------------------------------------------------------------------------

class Trainer:
    """Trains one MLP on `data` with `config`, in a background thread (start) or in the caller's (run)."""

    def __init__(self, config, data, slots=SLOTS, record_every=RECORD_EVERY, abandon_after=ABANDON_AFTER,
                 on_epoch=None):
        self.config = replace(config).check()          # our own copy: live settings change it
        self.data = data
        self.slots, self.record_every = slots, record_every
        self.abandon_after = abandon_after             # None: never (a worker process whose parent watches)
        self.on_epoch = on_epoch                       # called with each epoch's log (in the thread)
        n_out = len(data.class_names)
        self.net = MLP(self.config.sizes(data.images.shape[1], n_out), **self.config.network_settings(),
                       seed=self.config.seed)
        self._plateau = ReduceLROnPlateau(PLATEAU_FACTOR, PLATEAU_PATIENCE)   # fed each epoch's loss
        self.opt = OPTIMIZERS[self.config.optimizer](self.config.lr)
        self._last = None                                  # the last step's Learned record (pass and gradients)
        self.batches_per_epoch = len(batch_starts(data.n_train, self.config.batch_size, self.config.batchnorm))
        self.total_steps = self.batches_per_epoch * self.config.epochs
        self._rng = np.random.default_rng(self.config.seed)            # batch order: same seed, same run
        self._sample_rng = np.random.default_rng(self.config.seed + 1)  # which z values the live views show

        self._lock = threading.Lock()
        self._stop_event, self._run_event, self._wake = threading.Event(), threading.Event(), threading.Event()
        self._step_requests = 0
        self._stop_message, self._stop_state = "Stopped.", RunState.STOPPED
        self._thread = None
        self._has_slot = False
        self._last_read = time.monotonic()
        self._speed = None                             # batches per second, None = full speed
        self._cores = self._cores_used = None          # BLAS threads asked for (set_cores) / in use
        self._next_batch_at = 0.0

        L = self.net.n_layers
        self._state, self._message = RunState.IDLE, "Ready: press Train."
        self._epoch = self._batch = self._step = 0
        self._lr_now = self.config.lr
        self._lr_marks = [(0, self.config.lr)]
        self._elapsed, self._samples = 0.0, 0
        self._losses = np.zeros(self.total_steps)
        self._smoothed = np.zeros(self.total_steps)
        self._accs = np.zeros(self.total_steps)
        self._epochs_log = []
        self._rec_steps, self._rec_grad, self._rec_dead, self._rec_sat = [], [], [], []
        self._rec_update = []
        self._update_ratio = [math.nan] * L            # ‖ΔW_l‖/‖W_l‖ of the last step measured (see _step_on)
        self._init_hist = [_histogram(W) for W in self.net.weights]
        self._rec_norm, self._rec_bn = [], []
        self._latest, self._evaluation, self._divergence, self._last_batch = None, None, None, None
        self._good = self._copy_params()               # the last weights known to be good
        self._loss_ema, self._next_record = None, 0.0
        self._L = L

    # ---- commands (any thread) --------------------------------------------------------------

    def start(self, paused=False):
        """Start the thread (once). paused=True waits for resume() or step_once()."""
        with self._lock:
            if self._thread is not None or self._state in DONE_STATES:
                return
            if not paused:
                self._run_event.set()
            self._state = RunState.WAITING if not paused else RunState.PAUSED
            self._message = "Starting…" if not paused else "Paused before the first batch."
            self._thread = threading.Thread(target=self.run, name="backprop-lab-trainer", daemon=True)
        self._last_read = time.monotonic()
        self._thread.start()

    def pause(self):
        self._run_event.clear()
        self._wake.set()

    def resume(self):
        self._last_read = time.monotonic()
        if self._thread is None:
            self.start()
        self._run_event.set()
        self._wake.set()

    def step_once(self):
        """Train exactly one batch, then stay paused (starts the thread paused if needed)."""
        self._run_event.clear()
        with self._lock:
            self._step_requests += 1
        if self._thread is None:
            self.start(paused=True)
        self._wake.set()

    def stop(self, wait=False, message="Stopped.", state=RunState.STOPPED):
        """Ask the thread to stop after the current batch (the weights are kept); `state` names why."""
        self._stop_message, self._stop_state = message, RunState(state)
        self._stop_event.set()
        self._wake.set()
        if self._thread is None:
            with self._lock:
                if self._state not in DONE_STATES:
                    self._state, self._message = self._stop_state, message
        if wait:
            self.join()

    def join(self, timeout=10.0):
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self):
        return self._state in DONE_STATES

    # ---- live settings (read at every step) -------------------------------------------------

    def set_lr(self, lr):
        """η₀ for the next step on (the schedule still scales it). Marked on the loss curve."""
        lr = finite_number(lr, "lr", 0, 1e3, above=True)
        with self._lock:
            if lr != self.config.lr:
                self.config.lr = lr
                step = self._step
                self._lr_marks = [m for m in self._lr_marks if m[0] != step] + [(step, lr)]
                self._lr_now = self._scheduled_lr(step)   # the status line shows what the next step will use,
                                                          # at once: not after an epoch-end evaluation

    def set_schedule(self, schedule):
        _choice("schedule", schedule, SCHEDULES)
        with self._lock:
            self.config.schedule = schedule
            self._lr_now = self._scheduled_lr(self._step)     # the η the next step will use

    def set_l2(self, l2):
        with self._lock:
            self.config.l2 = finite_number(l2, "l2", 0, 10.0)

    def set_cores(self, n):
        """Compute with n BLAS threads from the next batch on (a worker process's share of the server's cores;
        a run slowed by set_speed uses one: it waits between batches, and OpenBLAS's idle threads spin).

        Applied by the training thread itself, between two batches: OpenBLAS's thread count must not change
        under a matrix product that is running.
        """
        if int(n) != n or n < 1:
            raise ValueError(f"cores must be a whole number ≥ 1; got {n!r}")
        with self._lock:
            self._cores = int(n)

    def set_speed(self, batches_per_second):
        """Hold the run to at most this many batches a second (None or 0: as fast as it can)."""
        if batches_per_second:
            batches_per_second = finite_number(batches_per_second, "speed (batches per second)", 0, 1e6, above=True)
        with self._lock:
            self._speed = batches_per_second or None
        self._wake.set()

    def _l2_args(self):
        """λ goes into the gradient (L2) for every optimizer but AdamW, which decays θ directly."""
        if self.config.optimizer == "adamw":
            return {"l2": 0.0, "weight_decay": self.config.l2}
        return {"l2": self.config.l2}

    def _scheduled_lr(self, step):
        cfg = self.config
        extra = {"step": {"every": self.batches_per_epoch}, "plateau": {"scale": self._plateau.scale}}
        return scheduled_lr(cfg.schedule, cfg.lr, step, self.total_steps, **extra.get(cfg.schedule, {}))

    # ---- reading ----------------------------------------------------------------------------

    def snapshot(self):
        """A consistent copy of everything the page shows; also tells the trainer someone is watching."""
        self._last_read = time.monotonic()
        with self._lock:
            n = self._step
            return Snapshot(
                state=self._state, message=self._message, config=replace(self.config),
                epoch=self._epoch, batch=self._batch, batches_per_epoch=self.batches_per_epoch,
                step=n, total_steps=self.total_steps, lr_now=self._lr_now, elapsed=self._elapsed,
                samples_per_s=self._samples / self._elapsed if self._elapsed > 0 else 0.0,
                losses=self._losses[:n].copy(), smoothed=self._smoothed[:n].copy(),
                batch_accs=self._accs[:n].copy(), epochs_log=[dict(e) for e in self._epochs_log],
                record_steps=np.array(self._rec_steps, dtype=np.int64),
                grad_scale=np.array(self._rec_grad, dtype=np.float64).reshape(-1, self._L),
                dead=np.array(self._rec_dead, dtype=np.float64).reshape(-1, self._L - 1),
                saturated=np.array(self._rec_sat, dtype=np.float64).reshape(-1, self._L - 1),
                update_ratio=np.array(self._rec_update, dtype=np.float64).reshape(-1, self._L),
                weight_hist_init=self._init_hist, latest=self._latest, evaluation=self._evaluation,
                divergence=self._divergence, lr_marks=list(self._lr_marks), speed=self._speed,
                last_batch=self._last_batch, cores=self._cores_used,
                grad_norms=np.array(self._rec_norm, dtype=np.float64).reshape(-1, 2),
                bn_stats=np.array(self._rec_bn, dtype=np.float64).reshape(len(self._rec_bn), len(self.net.norms), 4))

    def model(self):
        """A copy of the network with the last good weights (safe to call while training)."""
        with self._lock:
            net = MLP(self.net.sizes, **self.net.settings(), seed=self.config.seed)
            net.set_params(*self._good)
        return net

    def good_params(self):
        """(weights, biases, BatchNorm arrays): copies of the last parameters known to be good."""
        with self._lock:
            weights, biases, norms = self._good
            return ([W.copy() for W in weights], [b.copy() for b in biases],
                    [{k: v.copy() for k, v in norm.items()} for norm in norms])

    # ---- the loop (runs in the thread, or in the caller's thread for scripts) ----------------

    def run(self):
        """Train until the last epoch, a stop, divergence or abandonment. Returns the final Snapshot."""
        if self._thread is None:                 # called directly (the command-line trainer)
            self._run_event.set()
        try:
            with np.errstate(all="ignore"):      # overflow is detected and explained, not warned about
                self._train()
        except Exception as e:                   # a thread must never die silently
            self._end(RunState.ERROR, f"Training stopped by an unexpected error: {type(e).__name__}: {e}")
        finally:
            self._drop_slot()
        return self.snapshot()

    def _train(self):
        X, y = self.data.images, self.data.labels
        B = self.config.batch_size
        start_epoch = self._epoch
        for epoch in range(start_epoch, self.config.epochs):
            order = self._epoch_order()
            hits = seen = 0
            loss_sum = 0.0
            starts = batch_starts(len(order), B, self.config.batchnorm)
            for start, end in zip(starts, starts[1:] + [len(order)]):
                if not self._wait_turn():
                    return self._end(*self._why_stopped())
                rows = order[start:end]
                t0 = time.perf_counter()
                loss, predictions = self._step_on(to_inputs(X[rows], self.config.normalize), y[rows])
                if not math.isfinite(loss):
                    self._after_step(loss, rows, predictions, time.perf_counter() - t0)
                    return self._diverge(f"the loss of batch {self._step} was {loss}")
                hit = int(np.sum(predictions == y[rows]))
                hits, seen, loss_sum = hits + hit, seen + len(rows), loss_sum + loss * len(rows)
                self._after_step(loss, rows, predictions, time.perf_counter() - t0)
                if self._exploded():
                    return self._diverge(self._explosion())
                if self.done:                    # the weights overflowed (found by _record)
                    return
            self._end_epoch(epoch, loss_sum / max(seen, 1), hits / max(seen, 1))
            if self.done:
                return
        self._end(RunState.FINISHED, f"Finished {self.config.epochs} epochs.")

    def _epoch_order(self):
        """Training rows in the order of this epoch: shuffled, or sorted by class (shuffle off)."""
        idx = self.data.train_idx
        if self.config.shuffle:
            return self._rng.permutation(idx)
        return idx[np.argsort(self.data.labels[idx], kind="stable")]

    def _step_on(self, X, y):
        """One batch: η from the schedule, forward, backward, update. Returns (loss, predicted labels (B,))."""
        with self._lock:
            self._lr_now = self._scheduled_lr(self._step)
            cores = self._cores if self._speed is None or self._cores is None else 1   # a slowed run waits
        if cores != self._cores_used:              # between batches anyway: more threads would only spin
            threadpool_limits(cores, user_api="blas")     # process-wide; set here, between two products
            self._cores_used = cores
        before = [W.copy() for W in self.net.weights] if self._record_due(self._step + 1) else None
        step = self.net.learn(X, y, self.opt, lr=self._lr_now, clip=self.config.clip, **self._l2_args())
        self._last = step                                  # for _record, before the next step reuses its arrays
        if before is not None:                             # only for steps that get recorded: copies cost time
            self._update_ratio = update_ratios(before, self.net.weights)
        return step.loss, np.argmax(step.pass_.output, axis=1)          # (B,) predictions before the update

    def _exploded(self):
        """The smoothed loss is over 10× that of random guessing, ln K."""
        return self._step >= 5 and self._loss_ema > 10 * math.log(self.net.sizes[-1])

    def _explosion(self):
        """The explanation, quoting the smoothed loss the page shows (the statistic the check used)."""
        return (f"the loss exploded (smoothed loss {self._loss_ema:.4g}, more than 10× the "
                f"{math.log(self.net.sizes[-1]):.2f} of a network that guesses at random)")

    def _after_step(self, loss, rows, predictions, seconds):
        if math.isfinite(loss):
            self._loss_ema = loss if self._loss_ema is None else (1 - SMOOTHING) * self._loss_ema + SMOOTHING * loss
        labels = self.data.labels[rows]
        with self._lock:
            self._losses[self._step] = loss
            self._smoothed[self._step] = self._loss_ema if self._loss_ema is not None else loss
            self._accs[self._step] = float(np.mean(predictions == labels))
            self._last_batch = {"step": self._step + 1, "rows": np.asarray(rows).copy(), "labels": labels.copy(),
                                "predictions": np.asarray(predictions).copy(), "loss": float(loss),
                                "lr": self._lr_now}
            self._step += 1
            self._batch += 1
            self._samples += len(rows)
            self._elapsed += seconds
            running = self._run_event.is_set()
            self._state = RunState.RUNNING if running else RunState.PAUSED
            self._message = "Training." if running else "Paused (stepped one batch)."
            if not running:                        # the status line shows the η the next step will use
                self._lr_now = self._scheduled_lr(self._step)
        now = time.monotonic()
        if self._record_due(self._step):
            t0 = time.perf_counter()
            self._record()
            self._next_record = now + self.record_every
            with self._lock:
                self._elapsed += time.perf_counter() - t0

    def _record_due(self, step):
        """Whether the live statistics are recorded after step number `step` (1 for the first)."""
        return step == 1 or time.monotonic() >= self._next_record or not self._run_event.is_set()

    def _record(self):
        """Live statistics of the last step, read from the arrays it left (no extra forward pass)."""
        net, dWs = self.net, self._last.grads.dW
        grads = layer_gradient_stats(dWs)
        acts = activation_stats(self._last.pass_, sample=600, rng=self._sample_rng)
        W1 = net.weights[0]
        latest = {"step": self._step,
                  "neuron_grad": [neuron_gradient_magnitude(dW) for dW in dWs],      # per layer (n_l,)
                  "layer_grad": [g["rms"] for g in grads],                           # per layer
                  "z_sample": [a["z_sample"] for a in acts],                          # per hidden layer
                  "first_layer": W1[:N_WEIGHT_IMAGES].reshape(-1, 28, 28).copy() if W1.shape[1] == 784 else None,
                  "weight_hist": [_histogram(W) for W in net.weights],
                  # (‖g‖ before, ‖g‖ after) clipping in the last step; None when clipping is off
                  "grad_norm": self._last.grad_norm,
                  # per BatchNorm layer: γ and β summarized (mean, std, min, max) — [] without BatchNorm
                  "batchnorm": [{"gamma": _summary(layer.gamma), "beta": _summary(layer.beta)}
                                for layer in net.norms]}
        # ‖g‖ before and after clipping; without clipping the norm is measured here (the gradients are as computed)
        norm = self._last.grad_norm or (global_norm(self._last.grads.params),) * 2
        bn = [[s["gamma"]["mean"], s["gamma"]["std"], s["beta"]["mean"], s["beta"]["std"]] for s in latest["batchnorm"]]
        finite = all(np.isfinite(W).all() for W in net.weights)
        better_than_guessing = self._loss_ema is None or self._loss_ema <= math.log(net.sizes[-1])
        params = self._copy_params() if finite and better_than_guessing else None
        with self._lock:
            self._rec_steps.append(self._step)
            self._rec_grad.append([g["rms"] for g in grads])
            self._rec_dead.append([a["dead"] for a in acts])
            self._rec_sat.append([a["saturated"] for a in acts])
            self._rec_update.append(list(self._update_ratio))
            self._rec_norm.append(list(norm))
            self._rec_bn.append(bn)
            self._latest = latest
            if params is not None:
                self._good = params
        if not finite:
            self._diverge("the weights overflowed to infinity")

    def _end_epoch(self, epoch, train_loss, train_acc):
        self._record()
        val = evaluate(self.net, self.data.images[self.data.val_idx], self.data.labels[self.data.val_idx],
                       self.config.normalize, n_mistakes=0)
        test = evaluate(self.net, self.data.test_images, self.data.test_labels, self.config.normalize)
        self._plateau.observe(val["loss"] if val else train_loss)     # the plateau schedule's evidence
        log = {"epoch": epoch + 1, "loss": train_loss, "train_acc": train_acc,
               "val_loss": val["loss"] if val else None, "val_acc": val["accuracy"] if val else None,
               "test_loss": test["loss"] if test else None, "test_acc": test["accuracy"] if test else None,
               "time": self._elapsed, "step": self._step, "lr": self._lr_now}
        with self._lock:
            self._epoch, self._batch = epoch + 1, 0
            self._epochs_log.append(log)
            self._evaluation = test
        if self.on_epoch:
            self.on_epoch(dict(log))

    # ---- waiting: pause, pace, slots, abandonment --------------------------------------------

    def _wait_turn(self):
        """Block until this thread may train one batch; False when it must stop instead."""
        while not self._stop_event.is_set():
            if self._abandoned():
                return False
            if self._take_step_request():
                return self._hold_slot()
            if self._run_event.is_set():
                delay = self._pace_delay()
                if delay <= 0:
                    return self._hold_slot()
                self._wake.wait(min(delay, 0.25))       # a slowed run: wait, but answer commands at once
                self._wake.clear()
                continue
            self._drop_slot()
            with self._lock:
                if self._state != RunState.PAUSED:
                    self._state, self._message = RunState.PAUSED, "Paused."
            self._wake.wait(0.25)
            self._wake.clear()
        return False

    def _pace_delay(self):
        """Seconds until the next batch is due at the chosen speed (≤ 0: now)."""
        with self._lock:
            speed = self._speed
        now = time.monotonic()
        if speed is None:
            self._next_batch_at = now
            return 0.0
        if self._next_batch_at - now > 1.0 / speed:   # the speed went up: don't wait out the old interval
            self._next_batch_at = now
        if now >= self._next_batch_at:
            # Due. The next one an interval later on the same beat; when more than an interval late (the first
            # batch, after a pause or an evaluation) a new beat from now, not two batches at once to catch up.
            late = now - self._next_batch_at > 1.0 / speed
            self._next_batch_at = (now if late else self._next_batch_at) + 1.0 / speed
            return 0.0
        return self._next_batch_at - now

    def _take_step_request(self):
        with self._lock:
            if self._step_requests:
                self._step_requests -= 1
                return True
            return False

    def _hold_slot(self):
        if self._has_slot or self.slots is None:
            return True
        while not self._stop_event.is_set() and not self._abandoned():
            if self.slots.acquire(timeout=0.25, ticket=self):
                self._has_slot = True
                return True
            with self._lock:
                self._state = RunState.WAITING
                self._message = waiting_message(self.slots.size, self.slots.position(self))
        self.slots.leave(self)
        return False

    def _drop_slot(self):
        if self._has_slot:
            self._has_slot = False
            self.slots.release()

    def _abandoned(self):
        return (self.abandon_after is not None and self._thread is not None
                and time.monotonic() - self._last_read > self.abandon_after)

    def _why_stopped(self):
        if self._stop_event.is_set():
            return self._stop_state, self._stop_message
        return RunState.ABANDONED, (f"Stopped because nobody looked at this run for {self.abandon_after:.0f} s "
                                    f"(the browser tab was closed or left the page).")

    # ---- endings ------------------------------------------------------------------------------

    def _diverge(self, what):
        """Stop, put the last good weights back, and explain."""
        self.net.set_params(*self._good)
        with self._lock:
            step, epoch = max(self._step, 1), self._epoch + 1
        self._divergence = (f"Training diverged at step {step} (epoch {epoch}): {what}. "
                            f"{_diagnosis(self.config, self._lr_now)} The last good weights were restored.")
        self._end(RunState.DIVERGED, "Diverged: " + self._divergence)

    def _end(self, state, message):
        self._drop_slot()
        if self._step and state != RunState.ERROR:
            try:
                evaluation = evaluate(self.net, self.data.test_images, self.data.test_labels, self.config.normalize)
            except Exception:          # noqa: BLE001 — the run is over either way
                evaluation = None
        else:
            evaluation = self._evaluation
        with self._lock:
            self._state, self._message = state, message
            if evaluation is not None:
                self._evaluation = evaluation
            if state != RunState.DIVERGED and all(np.isfinite(W).all() for W in self.net.weights):
                self._good = self._copy_params()

    def _copy_params(self):
        return [W.copy() for W in self.net.weights], [b.copy() for b in self.net.biases], self.net.norm_arrays()


def batch_starts(n, batch_size, batchnorm=False):
    """Where each mini-batch of n rows starts. With BatchNorm a last batch of one row joins the one
    before it: one example has no batch variance to normalize with (and PyTorch refuses it)."""
    starts = list(range(0, n, batch_size))
    if batchnorm and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return starts


def update_ratios(before, after):
    """Per layer ‖W_after − W_before‖ / ‖W_after‖: the update-to-data ratio of one step (NaN for W = 0).

    With plain SGD the change is η·dW; around 1e-3 the weights move steadily, far above it they are being
    thrown around (η too large), far below they barely learn (η too small)."""
    ratios = []
    for W0, W1 in zip(before, after):
        norm = float(np.linalg.norm(W1))
        ratios.append(float(np.linalg.norm(W1 - W0)) / norm if norm > 0 and np.isfinite(norm) else math.nan)
    return ratios


def _summary(x):
    """mean, std, min, max of an array, as floats."""
    return {"mean": float(np.mean(x)), "std": float(np.std(x)), "min": float(np.min(x)), "max": float(np.max(x))}


def waiting_message(n_slots, position):
    """What a queued run says while it waits for one of the server's training slots."""
    place = f"You are number {position} in the queue. " if position else ""
    return (f"Waiting for a free training slot: all {n_slots} of this server are busy. {place}"
            f"Training starts by itself when one frees up.")


def _histogram(W, max_values=20000):
    """(counts, edges) of the weights of one layer (a strided subset of at most `max_values`)."""
    flat = W.ravel()
    flat = flat[::max(1, flat.size // max_values)]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return np.zeros(HIST_BINS), np.linspace(-1, 1, HIST_BINS + 1)
    return np.histogram(flat, bins=HIST_BINS)


def _diagnosis(cfg, lr_now=None):
    """Why a run may have diverged, and what to try, from its settings. Never suggests the η in use."""
    tips = []
    if not cfg.normalize:
        tips.append("the inputs are raw 0–255 pixels, so every z is ~255× larger than with x/255: "
                    "switch “Scale inputs to [0, 1]” back on")
    if cfg.init == "normal" and cfg.init_std > 0.5:
        tips.append(f"N(0, {cfg.init_std:g}²) weights are very large: use He or Xavier init")
    adaptive = cfg.optimizer in ("adam", "adamw", "rmsprop")
    typical = 1e-3 if adaptive else 0.1
    lr = cfg.lr
    used = "" if lr_now is None or math.isclose(lr_now, lr) else f" (η = {lr_now:.3g} after the schedule)"
    if lr > typical:
        tips.append(f"the learning rate η = {lr:g}{used} makes each step overshoot the minimum, so the loss "
                    f"grows instead of shrinking: try η = {lr / 10:g}, or {typical:g}, a usual value "
                    f"for {cfg.optimizer}")
    elif not tips:
        tips.append(f"η = {lr:g}{used} is a usual value for {cfg.optimizer}, yet one step overshot (an unlucky "
                    f"batch can do that): try η = {lr / 10:g}, or a schedule that lowers η as training goes on")
    return "Likely cause: " + "; ".join(tips) + "."
