"""The Train page's session side: its settings, its current live run, and the run history on disk.

The page (pages/train_mnist.py) draws; this module holds what a browser session owns and the button
callbacks that change it. A run trains in a worker process (lab.live.LiveRun); when it ends, for any
reason, it is saved to the run store under this browser's owner id, so a reload, a closed tab or a
server restart loses nothing that was finished.
"""
import io
import time
from dataclasses import replace

import streamlit as st

from lab.modelfile import DATASET_NAMES, ModelCard, load_model, model_bytes, with_origin

from lab.data import DataUnavailableError, load_fashion_mnist, load_mnist
from lab.live import LiveRun, RunInfo, run_record
from lab.runstore import MAX_MODEL_BYTES, RunStore, RunStoreUnavailable
from lab.trainer import PRESET_REPORTS, PRESETS, TrainConfig, make_train_data

DEFAULTS = TrainConfig()
DATASETS = {"MNIST": load_mnist, "Fashion-MNIST": load_fashion_mnist}
K = "keep_train_"                          # widget keys (persist_state="session" keeps them across pages)

# Speeds a learner can pick (batches per second; None = as fast as the machine goes). On the bundled
# 4,000-image sample an epoch is 57 batches: full speed finishes 10 epochs in ~3 s, too fast to watch,
# so small data sets start at WATCH_SPEED (an epoch in ~2 s, the curves and heatmaps visibly move).
SPEEDS = [1, 2, 5, 10, 30, 100, None]
WATCH_SPEED = 30
WATCH_BELOW = 20_000                       # training images below which a new data set starts at WATCH_SPEED
STEP_WAIT = 1.0                            # seconds "Step one batch" waits for the worker's report
STOP_WAIT = 1.0                            # seconds Stop waits for the run to end and be stored (20–200 ms on a
                                           # quiet server). Waiting for it whatever it took held the learner's
                                           # page 10–35 s with five learners training on 2 cores (bench_capacity);
                                           # past this the page answers, the status line says "Stopping…", and
                                           # the live panel has the page rerun when the run has ended

DEFAULT_STATE = {
    K + "data": "MNIST", K + "size": "all", K + "val": 10,
    K + "layers": 1, K + "width1": 256, K + "width2": 128, K + "width3": 64,
    K + "act": DEFAULTS.activation, K + "init": DEFAULTS.init, K + "std": DEFAULTS.init_std,
    K + "seed": DEFAULTS.seed, K + "opt": DEFAULTS.optimizer, K + "lr": DEFAULTS.lr,
    K + "batch": DEFAULTS.batch_size, K + "epochs": DEFAULTS.epochs, K + "sched": DEFAULTS.schedule,
    K + "l2": DEFAULTS.l2, K + "normalize": DEFAULTS.normalize, K + "shuffle": DEFAULTS.shuffle,
    K + "bn": DEFAULTS.batchnorm, K + "dropout": DEFAULTS.dropout, K + "residual": DEFAULTS.residual,
    K + "clip": DEFAULTS.clip,
}
DATA_KEYS = (K + "data", K + "size", K + "val")
# The settings a stored run is compared with: what differs appears in the history table and labels.
STORE_DEFAULTS = {**DEFAULTS.as_dict(), "data": "MNIST", "train_size": None, "val_percent": 10, "preset": None}

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


# Presets: complete configurations a learner can start from (unlike a pitfall, they do not start a run).
PRESET_TITLES = {"lessons": "The lessons' network"}


def state_from_config(config):
    """The page's widget values that make config_from_state() give `config` back (the data choices untouched)."""
    hidden = [int(n) for n in config.hidden]
    state = {K + "layers": len(hidden), K + "act": config.activation, K + "init": config.init,
             K + "std": config.init_std, K + "seed": config.seed, K + "opt": config.optimizer, K + "lr": config.lr,
             K + "sched": config.schedule, K + "l2": config.l2, K + "batch": config.batch_size,
             K + "epochs": config.epochs, K + "normalize": config.normalize, K + "shuffle": config.shuffle,
             K + "bn": config.batchnorm, K + "dropout": config.dropout, K + "residual": config.residual,
             K + "clip": config.clip}
    state.update({f"{K}width{i}": n for i, n in enumerate(hidden, 1)})
    return state


def apply_preset(name):
    """Set every setting of the preset (the data choices stay): the learner looks, then presses Train."""
    restore_defaults(keep_data=True)
    st.session_state.update(state_from_config(PRESETS[name]))
    st.session_state["train_notice"] = f"Settings of “{PRESET_TITLES[name]}” applied: press **Train** to train it."


def matching_preset(config):
    """The name of the preset whose network and training `config` has (epochs and seed may differ), or None."""
    for name, preset in PRESETS.items():
        if replace(config, epochs=preset.epochs, seed=preset.seed).as_dict() == preset.as_dict():
            return name
    return None


def data_words(ds, title):
    """The data set in a few words for a sentence: "the bundled 4,000-image MNIST sample" or "full MNIST (60,000 images)"."""
    if ds.is_sample:
        return f"the bundled {len(ds.y_train):,}-image {title} sample"
    return f"full {title} ({len(ds.y_train):,} training images)"


def preset_comparison(name, snap, data_text, n_train):
    """The preset's reported result beside what this run reached, and on which data (one sentence pair).

    data_text: data_words() of the run's data set; n_train: the images the run trained on (validation excluded).
    """
    last = snap.epochs_log[-1] if snap.epochs_log else None
    if last is None or last.get("test_acc") is None:
        reached = "This run has not finished an epoch yet."
    else:
        best = max(e["test_acc"] for e in snap.epochs_log if e.get("test_acc") is not None)
        epochs = len(snap.epochs_log)
        reached = (f"This run: best test accuracy {100 * best:.2f} % after {epochs} epoch{'s' if epochs != 1 else ''}, "
                   f"trained on {n_train:,} images of {data_text}.")
    return f"{PRESET_REPORTS[name]} {reached}"


def skip_layers(hidden):
    """Hidden layers (numbered from 1) that get a skip connection a + F(a): those whose input has their width."""
    return [l + 1 for l in range(1, len(hidden)) if hidden[l] == hidden[l - 1]]


def data_notice(ds, title, downloads_off, failed=None):
    """What the page says about a data set that is the bundled sample: why, in the learner's terms.

    The page loads data without downloading (the Download button does that), so "downloads are off"
    from the loader would blame a switch the learner never touched. `failed`: the last download's error.
    """
    if not ds.is_sample:
        return ds.notice
    sample = f"the bundled sample ({len(ds.y_train):,} training and {len(ds.y_test):,} test images)"
    if failed:
        return f"The download failed — {failed}. The page goes on with {sample}; try again when this computer is online."
    if downloads_off:
        return f"Downloads are turned off on this server ($BACKPROP_LAB_OFFLINE), so the page uses {sample}."
    return (f"Full {title} is not on this computer yet, so the page uses {sample}. The Download button "
            f"below fetches it.")


# ---- what the server holds once for every session ---------------------------------------------

@st.cache_resource(show_spinner="Loading the data set…")
def get_dataset(name):
    """The data set, loaded once per server (never downloads: that is the download button's job)."""
    return DATASETS[name](download=False)


@st.cache_resource(show_spinner=False)
def get_store():
    """(the run store, None) or (an in-memory store, the sentence saying why history is not on disk)."""
    return RunStore.open()


# ---- the session's current run -------------------------------------------------------------------

class SessionRun:
    """Holds this browser session's run so that it is stopped (and so stored) when the session ends."""

    def __init__(self):
        self.run = None

    def release(self):
        if self.run is not None and not self.run.done:
            self.run.stop(message="Stopped because the browser session ended (tab closed or connection lost).")


def _release(holder):
    holder.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_holder():
    return SessionRun()


def current_run():
    """The session's LiveRun (or None). Kept in session_state too: it outlives a reconnect."""
    run = st.session_state.get("train_run")
    session_holder().run = run
    return run


def set_run(run):
    st.session_state["train_run"] = run
    session_holder().run = run


def init_state():
    for key, value in DEFAULT_STATE.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault(K + "speed", WATCH_SPEED)
    st.session_state.setdefault("train_next_id", 1)


def config_from_state():
    s = st.session_state
    hidden = tuple(int(s.get(f"{K}width{i}", 64)) for i in range(1, int(s[K + "layers"] or 1) + 1))
    return TrainConfig(hidden=hidden, activation=s[K + "act"], init=s[K + "init"], init_std=float(s[K + "std"]),
                       seed=int(s[K + "seed"]), optimizer=s[K + "opt"], lr=float(s[K + "lr"]),
                       schedule=s[K + "sched"], l2=float(s[K + "l2"]), batch_size=int(s[K + "batch"]),
                       epochs=int(s[K + "epochs"]), normalize=bool(s[K + "normalize"]),
                       shuffle=bool(s[K + "shuffle"]), batchnorm=bool(s[K + "bn"]), dropout=float(s[K + "dropout"]),
                       residual=bool(s[K + "residual"]) and len(hidden) > 1,
                       clip=None if s[K + "clip"] is None else float(s[K + "clip"])).check()


def stored_settings(config, info):
    """A run's settings as the history compares them: the network and training, the data choices, the preset."""
    size = st.session_state[K + "size"]
    return {**config.as_dict(), "train_size": None if size == "all" else int(size),
            "val_percent": int(st.session_state[K + "val"]), "preset": info.preset}


def restore_defaults(keep_data=False):
    for key, value in DEFAULT_STATE.items():
        if not (keep_data and key in DATA_KEYS):
            st.session_state[key] = value


def apply_pitfall(name):
    restore_defaults(keep_data=True)
    st.session_state.update(PITFALLS[name][1])
    start_run(preset=name)


def data_set_changed():
    """Keep the training-set size when the new data set has it; otherwise say what it became."""
    name = st.session_state[K + "data"]
    try:
        ds = get_dataset(name)
    except (DataUnavailableError, OSError, ValueError):
        return
    n_all = len(ds.y_train)
    size = st.session_state[K + "size"]
    if size != "all" and int(size) >= n_all:
        st.session_state[K + "size"] = "all"
        st.session_state["train_notice"] = (f"{name} has {n_all:,} training images, so “Training images” is now "
                                            f"all {n_all:,} (it was {int(size):,}).")
    else:
        chosen = n_all if size == "all" else int(size)
        st.session_state["train_notice"] = f"{name}: training on {chosen:,} of its {n_all:,} images."
    st.session_state[K + "speed"] = WATCH_SPEED if (n_all if size == "all" else int(size)) < WATCH_BELOW else None


# ---- commands (button callbacks: they run before the page is drawn) --------------------------------

def start_run(step_only=False, preset=None):
    """Stop the current run (it is stored when it ends) and start a new one from the settings on the page."""
    st.session_state.pop("train_error", None)
    st.session_state.pop("train_show_batch", None)
    end_run()
    name = st.session_state[K + "data"]
    try:
        config = config_from_state()
        ds = get_dataset(name)
        size = st.session_state[K + "size"]
        data = make_train_data(ds.x_train, ds.y_train, ds.x_test, ds.y_test,
                               None if size == "all" else int(size), st.session_state[K + "val"] / 100,
                               config.seed, ds.class_names)
    except (ValueError, DataUnavailableError, OSError) as e:
        st.session_state["train_error"] = f"Cannot start: {e}"
        return
    info = RunInfo(run_id=st.session_state["train_next_id"], data_name=name, data_source=ds.source,
                   preset=preset or matching_preset(config), owner=st.session_state.get("lab_owner"))
    st.session_state["train_next_id"] += 1
    settings = stored_settings(config, info)
    run = LiveRun(config, data, speed=st.session_state.get(K + "speed"),
                  on_end=lambda snap, net: save_ended_run(info, settings, snap, net))
    st.session_state["train_run_info"] = info
    set_run(run)
    if step_only:
        step_once()
    else:
        run.start()


def save_ended_run(info, settings, snap, net):
    """Store an ended run and its model (called from the run's watcher thread: no Streamlit calls here)."""
    if snap.step == 0 or info.owner is None:
        return
    store, _ = get_store()
    card = model_card(info, snap, settings)
    model = model_bytes(net, card) if net is not None else None
    if model is not None and len(model) > MAX_MODEL_BYTES:
        model = None                                # too big to keep: the curves and results still are
    try:
        info.saved_as = store.save_run(info.owner, run_record(snap, info, settings), model_bytes=model,
                                       card=card.to_dict())
    except (ValueError, RunStoreUnavailable) as e:
        info.saved_as = f"not saved: {e}"


def model_card(info, snap, settings=None):
    """The ModelCard of a run's model: what the Draw page and the model file say about it."""
    ev = snap.evaluation
    return ModelCard(dataset=DATASET_NAMES.get(info.data_name, info.data_name), normalize=snap.config.normalize,
                     test_accuracy=ev["accuracy"] if ev else None,
                     test_size=int(ev["confusion"].sum()) if ev else None, test_data=info.data_source,
                     origin="page", origin_note=f"run of {snap.step:,} steps, {snap.state}",
                     train_size=(settings or {}).get("train_size"), settings=snap.config.as_dict(),
                     epochs_log=snap.epochs_log)


def end_run():
    """Stop the current run (if any); it is stored by its on_end when its worker has finished."""
    run = current_run()
    if run is not None and not run.done:
        run.stop()
        run.join(STOP_WAIT)
    adopt_model(run)


def adopt_model(run):
    """Make an ended run's network the session's model (for the Draw page and the download button)."""
    info = st.session_state.get("train_run_info")
    if run is not None and not run.done and run.snapshot().done:
        run.join(STOP_WAIT)                         # it has ended; its worker is handing over the weights
    if run is None or not run.done or info is None or st.session_state.get("train_adopted") == info.run_id:
        return
    st.session_state["train_adopted"] = info.run_id
    snap = run.snapshot()
    if snap.step == 0:
        return
    try:
        net = run.model()
    except RuntimeError:
        return
    st.session_state["trained_model"] = net
    st.session_state["trained_model_card"] = model_card(info, snap)


def pause_run():
    """Pause (idempotent: a click Streamlit delivers twice pauses once, where a toggle would resume)."""
    run = current_run()
    if run is not None and not run.done:
        run.pause()


def resume_run():
    st.session_state.pop("train_show_batch", None)
    run = current_run()
    if run is not None and not run.done:
        run.resume()


def step_once():
    """Train one batch (starting a paused run if there is none) and wait briefly for its report."""
    st.session_state["train_show_batch"] = True     # the status shows this batch until the run carries on
    run = current_run()
    if run is None or run.done:
        return start_run(step_only=True)
    before = run.snapshot().step
    run.step_once()
    deadline = time.monotonic() + STEP_WAIT
    while time.monotonic() < deadline and run.snapshot().step == before and not run.done:
        time.sleep(0.02)


def reset_run():
    end_run()
    set_run(None)


def sync_live_settings(run, snap):
    """Make the run use what the η, schedule, λ and speed widgets show (on every rerun of the steering part).

    A widget's on_change callback can be lost when a rerun interrupts another; comparing the run's
    own report with the widgets on every rerun of that part cannot be: its last rerun settles it.
    Returns whether anything was sent (then run.settle() waits for the worker's report of it).
    """
    if run is None or run.done:
        return False
    s, cfg = st.session_state, snap.config
    changes = [(float(s[K + "lr"]) != cfg.lr, run.set_lr, float(s[K + "lr"])),
               (s[K + "sched"] != cfg.schedule, run.set_schedule, s[K + "sched"]),
               (float(s[K + "l2"]) != cfg.l2, run.set_l2, float(s[K + "l2"])),
               (s.get(K + "speed") != snap.speed, run.set_speed, s.get(K + "speed"))]
    for differs, send, value in changes:
        if differs:
            send(value)
    return any(differs for differs, _, _ in changes)


def session_model():
    """(net, card) of the model trained in this session; after a reload, the newest model in this
    browser's run history (looked up once per session). (None, None) when there is none."""
    net = st.session_state.get("trained_model")
    if net is not None:
        return net, st.session_state.get("trained_model_card")
    owner = st.session_state.get("lab_owner")
    if owner is None or st.session_state.get("train_restored") == owner:
        return None, None
    st.session_state["train_restored"] = owner
    store, _ = get_store()
    try:
        for stored in reversed(store.list_runs(owner)):
            data = store.model_bytes(owner, stored.id) if stored.model_size else None
            if data:
                net, card = load_model(io.BytesIO(data))
                card = with_origin(card, "page", f"run #{stored.id} of your run history")
                st.session_state["trained_model"], st.session_state["trained_model_card"] = net, card
                return net, card
    except (RunStoreUnavailable, ValueError):
        pass
    return None, None
