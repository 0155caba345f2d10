"""Train on MNIST: set up an MLP, press Train, and watch it learn live.

The network trains in a background thread owned by lab.trainer.Trainer (one per browser session);
this page only sends commands and draws snapshots, inside st.fragment(run_every=...).
"""
import time

import numpy as np
import streamlit as st

from core.modelfile import DATASET_NAMES, ModelCard, model_bytes
from lab.data import DataUnavailableError, eta_text, file_deadline, load_fashion_mnist, load_mnist
from lab.models import read_model_upload
from lab.trainer import (
    DONE_STATES,
    HIDDEN_ACTIVATIONS,
    SLOTS,
    TrainConfig,
    Trainer,
    data_summary,
    downsample,
    evaluate,
    make_train_data,
    smooth,
)
from pages.ui import train_charts as charts
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app
from pages.ui.text import plain

run_inside_app()

DEFAULTS = TrainConfig()
DATASETS = {"MNIST": load_mnist, "Fashion-MNIST": load_fashion_mnist}
DOWNLOAD_MB = {"MNIST": 11.6, "Fashion-MNIST": 30.9}
LR_OPTIONS = [m * 10.0 ** e for e in range(-5, 1) for m in (1, 2, 5)] + [10.0]
WIDTHS = [16, 32, 64, 128, 256, 512]
SIZES = [500, 1000, 2000, 5000, 10000, 20000, 30000]
L2_OPTIONS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
ACT_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU", "gelu": "GELU"}
INIT_NAMES = {"zeros": "zeros", "normal": "N(0, σ²)", "xavier": "Xavier", "he": "He"}
OPT_NAMES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}
SCHED_NAMES = {"constant": "constant", "step": "step (halve every epoch)", "cosine": "cosine (to 0)"}
LIVE_EVERY, PAUSED_EVERY = 0.4, 5.0       # seconds between fragment refreshes

K = "keep_train_"                          # widget keys (persist_state="session" keeps them across pages)
DEFAULT_STATE = {
    K + "data": "MNIST", K + "size": "all", K + "val": 10,
    K + "layers": 1, K + "width1": 256, K + "width2": 128, K + "width3": 64,
    K + "act": DEFAULTS.activation, K + "init": DEFAULTS.init, K + "std": DEFAULTS.init_std,
    K + "seed": DEFAULTS.seed, K + "opt": DEFAULTS.optimizer, K + "lr": DEFAULTS.lr,
    K + "batch": DEFAULTS.batch_size, K + "epochs": DEFAULTS.epochs, K + "sched": DEFAULTS.schedule,
    K + "l2": DEFAULTS.l2, K + "normalize": DEFAULTS.normalize, K + "shuffle": DEFAULTS.shuffle,
}
DATA_KEYS = (K + "data", K + "size", K + "val")

# One click each: (title, settings changed from the defaults, two lines of explanation, what to look for).
PITFALLS = {
    "lr_high": ("η too high", {K + "opt": "sgd", K + "lr": 10.0},
                "SGD with η = 10: every step overshoots the minimum, so the loss grows instead of shrinking.",
                "The loss explodes within a few batches; the trainer stops, explains, and restores the last "
                "good weights."),
    "lr_low": ("η too low", {K + "opt": "sgd", K + "lr": 1e-4, K + "epochs": 3},
               "SGD with η = 0.0001: each step moves the weights by a ten-thousandth of the gradient.",
               "The loss crawls down and the accuracy creeps; compare with the default run in the history."),
    "zero_init": ("Zero init", {K + "init": "zeros", K + "act": "sigmoid", K + "epochs": 3},
                  "All weights start at 0, so every hidden neuron computes the same thing and gets the same "
                  "gradient.",
                  "The 16 first-layer weight images stay identical: the neurons never become different, and "
                  "the network behaves like one with a single hidden neuron."),
    "raw_inputs": ("Inputs not normalised", {K + "normalize": False},
                   "Pixels fed as raw 0–255 instead of x/255: every z is about 255× larger.",
                   "The huge z values blow the loss up at once; scaling the inputs to [0, 1] fixes it."),
    "no_shuffle": ("No shuffling", {K + "shuffle": False, K + "epochs": 3},
                   "Batches come sorted by class (all 0s, then all 1s, …), the same order every epoch.",
                   "Validation accuracy stays near chance and the epoch loss rises: each run of same-class "
                   "batches pulls the network towards that class, and it forgets the others."),
    "deep_sigmoid": ("Sigmoid in a deep net",
                     {K + "layers": 3, K + "width1": 128, K + "width2": 128, K + "width3": 128,
                      K + "act": "sigmoid", K + "init": "xavier", K + "opt": "sgd", K + "lr": 0.1, K + "epochs": 3},
                     "Three sigmoid layers: backprop multiplies the gradient by σ'(z) ≤ 0.25 once per layer.",
                     "In the gradient heatmap the first layer is much darker (smaller) than the last, and the "
                     "loss hardly moves at first: vanishing gradients. Try ReLU with the same settings."),
}


# ---- shared resources ----------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the data set…")
def get_dataset(name):
    """The data set, loaded once per server (never downloads: that is the download button's job)."""
    return DATASETS[name](download=False)


@st.cache_resource(show_spinner=False)
def get_glance(name, source):
    """Counts per class, average digit per class and 3 examples per class (computed once per data set)."""
    ds = get_dataset(name)
    counts, means = data_summary(ds.x_train, ds.y_train)
    examples = [np.flatnonzero(ds.y_train == k)[:3] for k in range(10)]
    return counts, means, [ds.x_train[i] for i in np.concatenate(examples)], np.concatenate(examples)


class SessionRun:
    """Holds this browser session's trainer so that its thread is stopped when the session ends."""

    def __init__(self):
        self.trainer = None

    def release(self):
        if self.trainer is not None:
            self.trainer.stop(message="Stopped because the browser session ended (tab closed or connection lost).")


def _release(run):
    run.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_run():
    return SessionRun()


def current_trainer():
    """The session's trainer. Kept in session_state too: it outlives a reconnect, which clears the cache."""
    trainer = st.session_state.get("train_trainer")
    session_run().trainer = trainer
    return trainer


def set_trainer(trainer):
    st.session_state["train_trainer"] = trainer
    session_run().trainer = trainer


# ---- settings ------------------------------------------------------------------------------

def init_state():
    for key, value in DEFAULT_STATE.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("train_runs", [])
    st.session_state.setdefault("train_archived", [])
    st.session_state.setdefault("train_next_id", 1)


def config_from_state():
    s = st.session_state
    hidden = tuple(int(s.get(f"{K}width{i}", 64)) for i in range(1, int(s[K + "layers"]) + 1))
    return TrainConfig(hidden=hidden, activation=s[K + "act"], init=s[K + "init"], init_std=float(s[K + "std"]),
                       seed=int(s[K + "seed"]), optimizer=s[K + "opt"], lr=float(s[K + "lr"]),
                       schedule=s[K + "sched"], l2=float(s[K + "l2"]), batch_size=int(s[K + "batch"]),
                       epochs=int(s[K + "epochs"]), normalize=bool(s[K + "normalize"]),
                       shuffle=bool(s[K + "shuffle"])).check()


def restore_defaults(keep_data=False):
    for key, value in DEFAULT_STATE.items():
        if not (keep_data and key in DATA_KEYS):
            st.session_state[key] = value


def apply_pitfall(name):
    restore_defaults(keep_data=True)
    st.session_state.update(PITFALLS[name][1])
    start_run(preset=name)


def fmt_lr(x):
    return f"{x:g}"


# ---- commands (button callbacks: they run before the page is drawn) ------------------------

def start_run(step_only=False, preset=None):
    """Archive the current run and start a new one from the settings on the page."""
    st.session_state.pop("train_error", None)
    end_run()
    name = st.session_state[K + "data"]
    try:
        config = config_from_state()
        ds = get_dataset(name)
        size = st.session_state[K + "size"]
        data = make_train_data(ds.x_train, ds.y_train, ds.x_test, ds.y_test,
                               None if size == "all" else int(size), st.session_state[K + "val"] / 100,
                               config.seed, ds.class_names)
    except (ValueError, OSError, DataUnavailableError) as e:      # OSError: a data folder missing or unreadable
        st.session_state["train_error"] = f"Cannot start: {e}"
        return
    trainer = Trainer(config, data)
    trainer.run_id = st.session_state["train_next_id"]
    st.session_state["train_next_id"] += 1
    trainer.preset, trainer.data_source, trainer.data_name = preset, ds.source, name
    set_trainer(trainer)
    if step_only:
        step_once()
    else:
        trainer.start()


def end_run():
    """Stop the current run (if any) and keep it in the run history."""
    trainer = current_trainer()
    if trainer is not None:
        trainer.stop(wait=True)
        archive(trainer)


def toggle_pause():
    trainer = current_trainer()
    if trainer is None:
        return
    if trainer.snapshot().state == "paused":
        trainer.resume()
    else:
        trainer.pause()


def step_once():
    """Train one batch (starting a paused run if there is none) and wait briefly for it."""
    trainer = current_trainer()
    if trainer is None or trainer.done:
        return start_run(step_only=True)
    before = trainer.snapshot().step
    trainer.step_once()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and trainer.snapshot().step == before and not trainer.done:
        time.sleep(0.02)


def reset_run():
    end_run()
    set_trainer(None)


def live_setting_changed():
    """η, the schedule and λ can change while training: the trainer reads them at the next batch."""
    trainer = current_trainer()
    if trainer is not None and not trainer.done:
        trainer.set_lr(st.session_state[K + "lr"])
        trainer.set_schedule(st.session_state[K + "sched"])
        trainer.set_l2(st.session_state[K + "l2"])


def archive(trainer):
    """Keep a finished or stopped run (settings, curves, results) and make its model the session's model."""
    if not trainer.done or trainer.run_id in st.session_state["train_archived"]:
        return
    st.session_state["train_archived"].append(trainer.run_id)
    snap = trainer.snapshot()
    if snap.step == 0:
        return
    keep = downsample(snap.losses, 400)
    logs = snap.epochs_log
    test_acc = snap.evaluation["accuracy"] if snap.evaluation else None
    st.session_state["train_runs"].append({
        "id": trainer.run_id, "label": snap.config.label(), "settings": snap.config.as_dict(),
        "state": snap.state, "epochs_log": logs, "time": snap.elapsed, "data": trainer.data_name,
        "curve_x": (keep + 1) / snap.batches_per_epoch, "curve_loss": smooth(snap.losses)[keep],
        "epoch1_acc": logs[0]["test_acc"] if logs else None, "test_acc": test_acc})
    st.session_state["trained_model"] = trainer.model()
    st.session_state["trained_model_card"] = ModelCard(
        dataset=DATASET_NAMES[trainer.data_name],
        normalize=snap.config.normalize, test_accuracy=test_acc, test_size=int(len(trainer.data.test_labels)),
        test_data=trainer.data_source, origin="page", origin_note=f"run #{trainer.run_id}, {snap.state}",
        run_id=trainer.run_id, train_size=int(trainer.data.n_train), settings=snap.config.as_dict(), epochs_log=logs)


# ---- drawing helpers -----------------------------------------------------------------------

def big(image, k=3):
    """A 28×28 image enlarged k× with crisp pixels (uint8)."""
    return np.kron(np.clip(image, 0, 255), np.ones((k, k))).astype(np.uint8)


def category(state):
    if state in ("running", "waiting"):
        return "live"
    return "done" if state in DONE_STATES else state


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


# ---- page ----------------------------------------------------------------------------------

init_state()
st.title("Train a network on MNIST")
st.markdown(r"""
Here a real network learns to read handwritten digits, and you watch it happen. Each image is
$28\times28$ pixels, flattened into $x \in \mathbb{R}^{784}$; the network outputs ten probabilities
$\hat y = \mathrm{softmax}(z_L)$ and is scored with the cross-entropy $L = -\log \hat y_{\text{true class}}$.

Training repeats one small move: take a **mini-batch** of $B$ images, compute the average gradient by
backpropagation, and step downhill,
""")
st.latex(r"\theta \leftarrow \theta - \eta\,\frac{1}{B}\sum_{b=1}^{B} \nabla_\theta L(x_b, y_b)")
st.markdown(r"""
One pass over the training set is an **epoch**. The learning rate $\eta$ can be changed while the network
trains: it takes effect on the next batch. The gradient views show $\|dW_l\| / \sqrt{\text{size of } W_l}$ —
the typical size of one weight's gradient — on a $\log_{10}$ scale, so a layer whose gradients vanish shows
up as a dark row. Start with the defaults, then try the pitfalls below.
""")

# ---- 1. data -------------------------------------------------------------------------------
trainer = current_trainer()
if trainer is not None and trainer.done:
    archive(trainer)
snap = trainer.snapshot() if trainer is not None else None
active = snap is not None and not snap.done
locked = dict(disabled=active)

st.subheader("1 · The data")
c1, c2, c3 = st.columns([1, 2, 1])
c1.selectbox("Data set", list(DATASETS), persist_state="session", key=K + "data", **locked,
             help="MNIST: handwritten digits. Fashion-MNIST: the same format with clothing — harder.")
name = st.session_state[K + "data"]
try:
    ds = get_dataset(name)
except (DataUnavailableError, OSError, ValueError) as e:
    ds = None
    st.error(plain(f"{name} is not available on this computer: {e}"))

if ds is not None:
    n_all = len(ds.y_train)
    options = [n for n in SIZES if n < n_all] + ["all"]
    if st.session_state[K + "size"] not in options:
        st.session_state[K + "size"] = "all"
    c2.select_slider("Training images", options, persist_state="session", key=K + "size", **locked,
                     format_func=lambda n: f"all ({n_all:,})" if n == "all" else f"{n:,}",
                     help="A random subset of the training set (fewer images train faster but generalise worse).")
    c3.slider("Validation split (%)", 0, 30, step=5, persist_state="session", key=K + "val", **locked,
              help="Share of the training images held out to measure accuracy on data the network never trained on.")
    st.caption(plain(f"Source: {ds.source}"))
    if ds.notice:
        st.info(plain(ds.notice))

wants_download = ds is None or (ds.is_sample and name == "MNIST")
if wants_download:
    if st.button(f"Download full {name} (≈ {DOWNLOAD_MB[name]} MB)", icon=":material/download:", disabled=active,
                 help="Fetches the four IDX files from the public mirrors, checks their SHA-256 and caches them "
                      "in ~/.cache/backprop-lab (used by every later session)."):
        bar = st.progress(0.0, text="Connecting…")
        # Pressing Cancel reruns the page, which stops this script at its next progress update; the
        # download's cleanup then deletes the partial file (see lab.data.fetch).
        st.button("Cancel download", icon=":material/cancel:", key="train_download_cancel")
        started = {}

        def show_progress(done, total, filename):
            t0 = started.setdefault(filename, time.monotonic())
            eta = eta_text(done, total, time.monotonic() - t0, file_deadline(total))
            bar.progress(min(done / max(total, 1), 1.0),
                         text=f"{filename}: {done / 1e6:.1f} of {total / 1e6:.1f} MB · {eta}")

        try:
            new = DATASETS[name](download=True, progress=show_progress)
        except (DataUnavailableError, OSError, ValueError) as e:
            st.error(plain(f"Download failed: {e}"))
        else:
            if new.is_sample:
                st.error(plain(f"Download failed. {new.notice}"))
            else:
                get_dataset.clear()
                get_glance.clear()
                st.rerun()
if st.session_state.get("train_error"):
    st.error(plain(st.session_state["train_error"]))

if ds is not None:
    with st.expander("A glance at the data"):
        counts, means, examples, rows = get_glance(name, ds.source)
        g1, g2 = st.columns([3, 2])
        with g1:
            st.markdown("**Three examples of each class**")
            st.image([big(x, 2) for x in examples], caption=[ds.class_names[ds.y_train[i]] for i in rows])
        with g2:
            st.plotly_chart(charts.class_counts_figure(counts, ds.class_names), key="train_counts")
        st.markdown("**The average image of each class** — what a pixel-by-pixel template would look for")
        st.image([big(m, 3) for m in means], caption=list(ds.class_names))

# ---- 2. the network and its training --------------------------------------------------------
st.subheader("2 · The network and how it trains")
a, o, d = st.columns(3)
with a:
    st.markdown("**Architecture**")
    n_layers = st.segmented_control("Hidden layers", [1, 2, 3], persist_state="session", key=K + "layers", **locked, required=True,
                                    help="How many hidden layers between the 784 inputs and the 10 outputs.")
    for i in range(1, (n_layers or 1) + 1):
        st.select_slider(f"Width of hidden layer {i}", WIDTHS, persist_state="session", key=f"{K}width{i}", **locked,
                         help="Number of neurons in this layer.")
    st.selectbox("Activation", HIDDEN_ACTIVATIONS, format_func=ACT_NAMES.get, persist_state="session", key=K + "act", **locked,
                 help="The non-linearity f in a = f(z) of every hidden neuron.")
    st.selectbox("Initialization", list(INIT_NAMES), format_func=INIT_NAMES.get, persist_state="session", key=K + "init", **locked,
                 help="How the weights start: He keeps the signal's size through ReLUs, Xavier through "
                      "sigmoid/tanh; zeros never breaks the symmetry between neurons.")
    if st.session_state[K + "init"] == "normal":
        st.select_slider("σ of N(0, σ²)", [0.001, 0.01, 0.1, 1.0], persist_state="session", key=K + "std", **locked,
                         help="Standard deviation of the initial weights.")
    st.number_input("Seed", 0, 10**6, step=1, persist_state="session", key=K + "seed", **locked,
                    help="Fixes the initial weights, the training subset and the batch order: same seed, same run.")
with o:
    st.markdown("**Optimisation**")
    st.selectbox("Optimizer", list(OPT_NAMES), format_func=OPT_NAMES.get, persist_state="session", key=K + "opt", **locked,
                 help="SGD: θ ← θ − ηg. Momentum adds a running sum of past gradients; RMSProp and Adam give each "
                      "weight its own step size; AdamW decays the weights directly.")
    st.select_slider("Batch size", [8, 16, 32, 64, 128, 256, 512], persist_state="session", key=K + "batch", **locked,
                     help="Images per step: small batches give noisy but many steps per epoch.")
    st.number_input("Epochs", 1, 100, step=1, persist_state="session", key=K + "epochs", **locked,
                    help="Passes over the training set.")
with d:
    st.markdown("**Inputs**")
    st.toggle("Scale inputs to [0, 1]", persist_state="session", key=K + "normalize", **locked,
              help="x = pixel / 255. Off feeds raw 0–255 values (a pitfall).")
    st.toggle("Shuffle every epoch", persist_state="session", key=K + "shuffle", **locked,
              help="Off feeds the images sorted by class (all 0s, then all 1s, …), the same order every epoch "
                   "(a pitfall).")
    st.button("Restore default settings", on_click=restore_defaults, disabled=active, icon=":material/settings_backup_restore:",
              help="Back to the page's defaults: 784-256-10 ReLU, He init, momentum η = 0.1, batches of 64, 10 epochs.")
    if active:
        st.caption("The settings above are locked while a run is in progress; η, the schedule and λ below "
                   "can change at any time.")

with st.expander("Pitfalls — one click each", icon=":material/warning:", expanded=False):
    cols = st.columns(3)
    for i, (key, (title, _, line1, line2)) in enumerate(PITFALLS.items()):
        with cols[i % 3].container(border=True):
            st.button(title, key=f"train_pitfall_{key}", on_click=apply_pitfall, args=(key,),
                      width="stretch", help="Sets these settings (the rest back to defaults) and trains.")
            st.caption(f"{line1} {line2}")

# ---- 3. train -------------------------------------------------------------------------------
st.subheader("3 · Train")
l1, l2c, l3 = st.columns(3)
l1.select_slider("Learning rate η (log scale)", LR_OPTIONS, persist_state="session", key=K + "lr", format_func=fmt_lr,
                 on_change=live_setting_changed,
                 help="The step size. Can be changed while training: the next batch uses it.")
l2c.selectbox("Learning-rate schedule", list(SCHED_NAMES), format_func=SCHED_NAMES.get, persist_state="session", key=K + "sched",
              on_change=live_setting_changed,
              help="η_t over the run: constant; step halves η every epoch; cosine glides from η to 0.")
l3.select_slider("L2 / weight decay λ", L2_OPTIONS, persist_state="session", key=K + "l2", format_func=fmt_lr, on_change=live_setting_changed,
                 help="Adds λ/2·ΣW² to the loss (so dW += λW); with AdamW it decays the weights directly. "
                      "Pulls weights towards 0 to fight overfitting.")

state = snap.state if snap else "idle"
b = st.columns([1, 1, 1, 1.6, 1, 2.4])
b[0].button("Train", type="primary", icon=":material/play_arrow:", on_click=start_run, width="stretch",
            help="Start a new run with the settings above (the current run, if any, is stopped and kept).")
b[1].button("Resume" if state == "paused" else "Pause", icon=":material/pause:" if state != "paused" else ":material/play_arrow:", on_click=toggle_pause, disabled=not active,
            width="stretch", help="Pause the training thread after the current batch, or carry on.")
b[2].button("Stop", icon=":material/stop:", on_click=end_run, disabled=not active, width="stretch",
            help="End this run now; its model and curves are kept.")
b[3].button("Step one batch", icon=":material/skip_next:", on_click=step_once, width="stretch",
            help="Train exactly one mini-batch, then pause (starts a new paused run if none is in progress).")
b[4].button("Reset", icon=":material/restart_alt:", on_click=reset_run, disabled=snap is None, width="stretch",
            help="Stop and clear the live views (finished runs stay in the run history below).")
b[5].caption(f"Training slots on this server: {SLOTS.in_use} of {SLOTS.size} busy.")


def refresh_interval(state):
    return {"live": LIVE_EVERY, "paused": PAUSED_EVERY}.get(category(state))


@st.fragment(run_every=refresh_interval(state))
def live_views(seen_category=category(state)):
    """Everything that moves while the network trains, drawn from one snapshot of the trainer."""
    trainer = current_trainer()
    if trainer is None:
        st.info("Press **Train** to start, or **Step one batch** to go one step at a time.")
        return
    snap = trainer.snapshot()
    if category(snap.state) != seen_category:
        st.rerun()                       # the run changed state: redraw the buttons, archive it, stop refreshing
    cfg = snap.config
    st.progress(min(snap.progress, 1.0), text=f"**{snap.state}** — {snap.status()} · η = {snap.lr_now:.3g}")
    m = st.columns(6)
    loss = smooth(snap.losses)[-1] if len(snap.losses) else None
    last = snap.epochs_log[-1] if snap.epochs_log else {}
    m[0].metric("Loss (smoothed)", "—" if loss is None else f"{loss:.4f}")
    m[1].metric("Batch accuracy", pct(smooth(snap.batch_accs)[-1]) if len(snap.batch_accs) else "—",
                help="Moving average of the accuracy on the training batches (before each update).")
    m[2].metric("Validation acc.", pct(last.get("val_acc")), help="At the end of the last epoch.")
    m[3].metric("Test acc.", pct(snap.evaluation["accuracy"]) if snap.evaluation else "—",
                help="On the test set, at the last epoch end (or when the run ended).")
    m[4].metric("Samples / s", f"{snap.samples_per_s:,.0f}", help="Training throughput (pauses excluded).")
    m[5].metric("Elapsed", f"{snap.elapsed:.1f} s", help="Time spent training (pauses and evaluation excluded).")
    if snap.state == "waiting":
        st.info(snap.message, icon=":material/hourglass_top:")
    elif snap.state == "diverged":
        st.error(snap.divergence, icon=":material/error:")
    elif snap.state in ("abandoned", "error"):
        st.warning(snap.message)
    if trainer.preset:
        st.info(f"**{PITFALLS[trainer.preset][0]}** — what to look for: {PITFALLS[trainer.preset][3]}", icon=":material/search:")
    if cfg.activation == "relu" and len(snap.dead):
        dead = [l + 1 for l, f in enumerate(snap.dead[-1]) if f >= 1.0]
        if dead:
            st.warning(f"Every ReLU in hidden layer {', '.join(map(str, dead))} is dead (z ≤ 0 for the whole batch): "
                       "no gradient flows through it any more.")
    sizes = cfg.sizes()
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.loss_figure(snap), key="train_live_loss")
    c2.plotly_chart(charts.accuracy_figure(snap), key="train_live_acc")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.gradient_heatmap(snap, sizes), key="train_live_grad")
    c2.plotly_chart(charts.neuron_heatmap(snap.latest, sizes), key="train_live_neurons")
    st.plotly_chart(charts.activation_figure(snap, cfg.activation), key="train_live_act")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.weight_images(snap.latest["first_layer"] if snap.latest else None), key="train_live_w1")
    c2.plotly_chart(charts.weight_histograms(snap.latest, sizes), key="train_live_whist")


live_views()


@st.fragment(run_every=2.0 if category(state) == "live" else None)
def results_view():
    """How good the model is: confusion matrix, accuracy per class, the most confident mistakes."""
    trainer = current_trainer()
    snap = trainer.snapshot() if trainer is not None else None
    if snap is None or snap.evaluation is None:
        st.caption("The confusion matrix, per-class accuracy and a gallery of mistakes appear after the first epoch.")
        return
    ev, names = snap.evaluation, trainer.data.class_names
    st.caption(f"Test set: {len(trainer.data.test_labels):,} images the network never trained on — "
               f"accuracy {pct(ev['accuracy'])}.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.confusion_figure(ev, names), key="train_confusion")
    c2.plotly_chart(charts.per_class_figure(ev, names), key="train_per_class")
    mistakes = ev["mistakes"]
    if len(mistakes["index"]):
        st.markdown("**The most confident mistakes** (true → predicted, confidence)")
        images = trainer.data.test_images[mistakes["index"]].reshape(-1, 28, 28)
        st.image([big(x, 2) for x in images],
                 caption=[f"{names[t]} → {names[p]} ({100 * c:.0f}%)"
                          for t, p, c in zip(mistakes["true"], mistakes["pred"], mistakes["confidence"])])


st.subheader("4 · How good is it?")
results_view()

# ---- 5. run history ------------------------------------------------------------------------
st.subheader("5 · Run history")
runs = st.session_state["train_runs"]
if not runs:
    st.caption("Every finished or stopped run is kept here, so you can compare, e.g., sigmoid vs ReLU, "
               "or two learning rates.")
else:
    table = [{"run": f"#{r['id']}", "data": r["data"], "hidden": "-".join(map(str, r["settings"]["hidden"])),
              "activation": ACT_NAMES[r["settings"]["activation"]], "init": INIT_NAMES[r["settings"]["init"]],
              "optimizer": OPT_NAMES[r["settings"]["optimizer"]], "η": r["settings"]["lr"],
              "batch": r["settings"]["batch_size"], "epochs": len(r["epochs_log"]),
              "epoch-1 test acc (%)": None if r["epoch1_acc"] is None else round(100 * r["epoch1_acc"], 2),
              "final test acc (%)": None if r["test_acc"] is None else round(100 * r["test_acc"], 2),
              "time (s)": round(r["time"], 1), "ended": r["state"]} for r in runs]
    st.dataframe(table, hide_index=True)
    labels = {r["id"]: f"#{r['id']} {r['label']}" for r in runs}
    chosen = st.multiselect("Runs to overlay", list(labels), default=list(labels)[-4:], format_func=labels.get,
                            key="train_overlay", help="Pick runs to compare their curves.")
    if chosen:
        st.plotly_chart(charts.history_figure([r for r in runs if r["id"] in chosen]), key="train_history")
    if st.button("Clear run history", icon=":material/delete:"):
        st.session_state["train_runs"] = []
        st.rerun()

# ---- 6. the model --------------------------------------------------------------------------
st.subheader("6 · Your model")
model, card = st.session_state.get("trained_model"), st.session_state.get("trained_model_card")
uploaded, uploaded_card = st.session_state.get("uploaded_model"), st.session_state.get("uploaded_model_card")
if model is None:
    st.caption("After a run, its network is kept for the **Draw a digit** page and can be downloaded here.")
else:
    st.markdown(plain(f"Trained here: {model.sizes} {ACT_NAMES.get(model.activation, model.activation)}, "
                      f"{card.where_from()}, {card.accuracy_text()}."))
    st.download_button("Download model (.npz)", data=lambda: model_bytes(model, card), file_name="mnist_mlp.npz",
                       mime="application/octet-stream", on_click="ignore", icon=":material/save:",
                       help="A NumPy .npz file (no pickles): weights, settings and this run's model card.")
if uploaded is not None:
    st.markdown(plain(f"Uploaded: {uploaded.sizes} {ACT_NAMES.get(uploaded.activation, uploaded.activation)}, "
                      f"{uploaded_card.where_from()}, {uploaded_card.accuracy_text()}."))
if model is not None or uploaded is not None:
    st.page_link("pages/draw_digit.py", label="Try it on your own handwriting (choose the model there)",
                 icon=":material/draw:")

upload = st.file_uploader("Upload a model (.npz saved by this page or `python -m lab.train`)", type=["npz"],
                          key="train_upload", help="Must take 784 inputs and give 10 outputs. It is kept beside the "
                                                   "model you trained here; the Draw page lets you choose.")
if upload is not None and st.session_state.get("train_upload_id") != upload.file_id:
    st.session_state["train_upload_id"] = upload.file_id
    try:
        net, new_card, measured = read_model_upload(upload.name, upload.getvalue(), get_dataset, evaluate)
    except ValueError as e:
        st.session_state["train_upload_msg"] = ("error", f"Could not use {upload.name}: {e}")
    else:
        st.session_state["uploaded_model"], st.session_state["uploaded_model_card"] = net, new_card
        st.session_state["train_upload_msg"] = ("success", f"Loaded {upload.name}: {net}. {measured}.")
    st.rerun()
if st.session_state.get("train_upload_msg"):
    kind, text = st.session_state["train_upload_msg"]
    (st.error if kind == "error" else st.success)(plain(text))

check_yourself([
    Question("The loss shoots up to hundreds after a few batches. What is the first thing to change?",
             ["Add a hidden layer", "Lower the learning rate η", "Train for more epochs", "Use a bigger batch"], 1,
             "Each step moves the weights by η times the gradient; too large a step overshoots the minimum and "
             "the loss grows. Dividing η by 10 is the usual first fix."),
    Question("With three sigmoid hidden layers, the first layer's row in the gradient heatmap is far darker than "
             "the last. Why?",
             ["The first layer has more weights", "Backprop multiplies by σ'(z) ≤ 0.25 at every layer, so the "
              "gradient shrinks on its way back", "The learning rate is too high", "The inputs are not shuffled"], 1,
             "δ_{l−1} = (δ_l W_l) ⊙ σ'(z_{l−1}) and σ' is at most 1/4: the gradient shrinks by roughly that factor per "
             "layer (the heatmap divides by √size, so it is not the number of weights)."),
    Question("A ReLU layer shows “100% dead”. What does that mean for learning?",
             ["Nothing, ReLUs recover by themselves", "No gradient flows through that layer: ReLU'(z) = 0 wherever "
              "z ≤ 0, so its weights and everything below stop learning", "The network has converged",
              "The batch size is too small"], 1,
             "A neuron with z ≤ 0 for every input outputs 0 and passes back 0; a too-large η or bad init often "
             "kills them. Leaky ReLU keeps a small slope α for z < 0."),
], key="train_quiz")
