"""Train on MNIST: set up an MLP, press Train, and watch it learn live.

The network trains in a worker process of its own (lab.live.LiveRun, one per run), so this page only
sends commands and draws what the run reports. pages/ui/train_session.py holds the session's run,
its settings and the run history on disk; pages/ui/train_charts.py draws the figures.

While a run is live, what the learner watches most (the status line, the numbers, loss and accuracy) is
the live panel (pages/ui/live_feed.py): the browser fetches them from the server a few times a second,
without rerunning the page, because every rerun makes the browser render the whole page again; the views
inside the network are a second such panel. What the learner steers with (η, schedule, λ, speed,
Pause/Resume) is a fragment rerun only by its own widgets (the panel also sends a new η and Pause/Resume
straight to the run, so they show before that rerun is drawn); the results rerun when an epoch has ended.
"""
import time

import numpy as np
import streamlit as st

from core.activations import get_activation
from lab.modelfile import model_bytes
from core.optim import OPTIMIZERS
from lab.data import DataUnavailableError, eta_text, file_deadline, offline
from lab.models import read_model_upload
from lab.runstore import settings_columns, settings_diff, run_label
from lab.surfaces import OPTIMIZER_TITLES
from lab.trainer import HIDDEN_ACTIVATIONS, N_WEIGHT_IMAGES, PRESETS, SLOTS, data_summary, evaluate
from pages.ui import train_charts as charts
from pages.ui import inside_views, live_feed, train_tutor
from pages.ui import train_session as session
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app
from pages.ui.svg_figure import figure_svg
from pages.ui.text import plain
from pages.ui.live_feed import fmt_speed, pct
from pages.ui.train_session import (DATASETS, K, PITFALLS, PRESET_TITLES, SPEEDS, STORE_DEFAULTS,
                                    apply_preset, current_run, data_notice, data_words, end_run, get_dataset, get_store,
                                    matching_preset, preset_comparison, reset_run, restore_defaults, skip_layers,
                                    start_run, step_once, pause_run, resume_run, sync_live_settings)

run_inside_app()

DOWNLOAD_MB = {"MNIST": 11.6, "Fashion-MNIST": 30.9}
LR_OPTIONS = [m * 10.0 ** e for e in range(-5, 1) for m in (1, 2, 5)] + [10.0]
WIDTHS = [16, 32, 64, 128, 256, 512]
SIZES = [500, 1000, 2000, 5000, 10000, 20000, 30000]
L2_OPTIONS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
INIT_NAMES = {"zeros": "zeros", "normal": "N(0, σ²)", "xavier": "Xavier", "he": "He"}
SCHED_NAMES = {"constant": "constant", "step": "step (halve every epoch)", "cosine": "cosine (to 0)",
               "plateau": "plateau (halve when stalled)"}
CLIP_OPTIONS = [None, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
DROPOUT_OPTIONS = [round(0.1 * i, 1) for i in range(9)]          # 0 … 0.8
LESSONS = PRESETS["lessons"]


@st.cache_resource(show_spinner=False)
def get_glance(name, source):
    """Counts per class, average digit per class and 3 examples per class (computed once per data set)."""
    ds = get_dataset(name)
    counts, means = data_summary(ds.x_train, ds.y_train)
    examples = [np.flatnonzero(ds.y_train == k)[:3] for k in range(10)]
    return counts, means, [ds.x_train[i] for i in np.concatenate(examples)], np.concatenate(examples)


def fmt_lr(x):
    return f"{x:g}"


def fmt_clip(c):
    return "off" if c is None else f"{c:g}"


def fmt_on(flag):
    return "on" if flag else "off"


def now(name, fmt=str):
    """" Now: <value>." for a control's help, so explaining a control also says where it stands."""
    value = st.session_state.get(K + name)
    return "" if value is None and name != "clip" else f" Now: **{fmt(value)}**."


def big(image, k=3):
    """A 28×28 image enlarged k× with crisp pixels (uint8)."""
    return np.kron(np.clip(image, 0, 255), np.ones((k, k))).astype(np.uint8)


def chart(where, fig, key, live):
    """A figure in `where` (st or a column): while the run trains or is paused an inline SVG, which the browser swaps in
    a few milliseconds, where a plotly chart sent again would be mounted afresh each refresh and keep the
    page from answering (pages/ui/svg_figure.py says how much); once it has ended, the plotly chart itself."""
    if live:
        where.markdown(figure_svg(fig, live_feed.HALF_WIDTH), unsafe_allow_html=True)
    else:
        where.plotly_chart(fig, key=key)


def phase(state):
    """"none", "live" (starting, queued, training or paused) or "ended": whether the live panels show the run.
    Paused counts as live: the panels keep showing it, so Pause and Resume need no rerun of the whole page,
    during which Streamlit dropped a click on the other button (seen in Chromium: a Resume right after
    "paused" appeared was lost)."""
    return live_feed.phase(state)


# ---- page ----------------------------------------------------------------------------------

session.init_state()
st.html(live_feed.HIDE_BUTTONS)            # the buttons only the live panels' scripts click (see live_panel)
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
run = current_run()
session.adopt_model(run)
snap = run.snapshot() if run is not None else None
active = snap is not None and not snap.done
locked = dict(disabled=active)

st.subheader("1 · The data")
c1, c2, c3 = st.columns([1, 2, 1])
c1.selectbox("Data set", list(DATASETS), persist_state="session", key=K + "data", **locked,
             on_change=session.data_set_changed,
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
                     format_func=lambda n: "all" if n == "all" else f"{n:,}",
                     help="A random subset of the training set (fewer images train faster but generalise worse).")
    c3.slider("Validation split (%)", 0, 30, step=5, persist_state="session", key=K + "val", **locked,
              help="Share of the training images held out to measure accuracy on data the network never trained on.")
    st.caption(plain(f"Source: {ds.source}"))
    notice = data_notice(ds, name, offline(), st.session_state.get("train_download_failed"))
    if notice:
        st.info(plain(notice), icon=":material/info:")
if st.session_state.get("train_notice"):
    st.info(st.session_state.pop("train_notice"), icon=":material/info:")

wants_download = ds is None or (ds.is_sample and name == "MNIST")
if wants_download:
    st.button(f"Download full {name} (≈ {DOWNLOAD_MB[name]} MB)", icon=":material/download:",
              disabled=active or offline(), on_click=st.session_state.update, args=({"train_download": True},),
              help="Downloads are turned off on this server ($BACKPROP_LAB_OFFLINE)." if offline() else
                   "Fetches the four IDX files from the public mirrors, checks their SHA-256 and caches them "
                   "in ~/.cache/backprop-lab (used by every later session).")
    # A flag set by the click, not the button's return value: that survives a fragment's rerun in between.
    if st.session_state.pop("train_download", False):
        holder = st.empty()            # the bar and Cancel go away when the download ends, however it ends
        with holder.container():
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
            holder.empty()
            st.error(plain(f"Download failed: {e}"))
        else:
            holder.empty()
            if new.is_sample:
                st.session_state["train_download_failed"] = new.notice.split(". Using the bundled")[0]
                st.rerun()             # the notice above says what happened and what the page uses now
            else:
                st.session_state.pop("train_download_failed", None)
                get_dataset.clear()
                get_glance.clear()
                st.rerun()


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
    n_layers = st.segmented_control("Hidden layers", [1, 2, 3], persist_state="session", key=K + "layers", **locked,
                                    required=True,
                                    help="How many hidden layers between the 784 inputs and the 10 outputs." + now("layers"))
    for i in range(1, (n_layers or 1) + 1):
        st.select_slider(f"Width of hidden layer {i}", WIDTHS, persist_state="session", key=f"{K}width{i}", **locked,
                         help="Number of neurons in this layer." + now(f"width{i}"))
    st.selectbox("Activation", HIDDEN_ACTIVATIONS, format_func=lambda name: get_activation(name).title,
                 persist_state="session", key=K + "act", **locked,
                 help="The non-linearity f in a = f(z) of every hidden neuron." + now("act"))
    st.selectbox("Initialization", list(INIT_NAMES), format_func=INIT_NAMES.get, persist_state="session", key=K + "init",
                 **locked,
                 help="How the weights start: He keeps the signal's size through ReLUs, Xavier through "
                      "sigmoid/tanh; zeros never breaks the symmetry between neurons." + now("init", INIT_NAMES.get))
    if st.session_state[K + "init"] == "normal":
        st.select_slider("σ of N(0, σ²)", [0.001, 0.01, 0.1, 1.0], persist_state="session", key=K + "std", **locked,
                         help="Standard deviation of the initial weights.")
    st.number_input("Seed", 0, 10**6, step=1, persist_state="session", key=K + "seed", **locked,
                    help="Fixes the initial weights, the training subset and the batch order: same seed, same run.")
with o:
    st.markdown("**Optimisation**")
    st.selectbox("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZER_TITLES.get, persist_state="session",
                 key=K + "opt", **locked,
                 help="SGD: θ ← θ − ηg. Momentum adds a running sum of past gradients; RMSProp and Adam give each "
                      "weight its own step size; AdamW decays the weights directly." + now("opt"))
    st.select_slider("Batch size", [8, 16, 32, 64, 128, 256, 512], persist_state="session", key=K + "batch", **locked,
                     help="Images per step: small batches give noisy but many steps per epoch." + now("batch"))
    st.number_input("Epochs", 1, 100, step=1, persist_state="session", key=K + "epochs", **locked,
                    help="Passes over the training set." + now("epochs"))
    st.select_slider("Gradient clipping (max ‖g‖)", CLIP_OPTIONS, persist_state="session", key=K + "clip", **locked,
                     format_func=fmt_clip,
                     help="If the norm of all gradients together, ‖g‖, exceeds this, every gradient is scaled by "
                          "max/‖g‖ before the step: the direction stays, the step cannot explode." + now("clip", fmt_clip))
with d:
    st.markdown("**Inputs**")
    st.toggle("Scale inputs to [0, 1]", persist_state="session", key=K + "normalize", **locked,
              help="x = pixel / 255. Off feeds raw 0–255 values (a pitfall)." + now("normalize", fmt_on))
    st.toggle("Shuffle every epoch", persist_state="session", key=K + "shuffle", **locked,
              help="Off feeds the images sorted by class (all 0s, then all 1s, …), the same order every epoch "
                   "(a pitfall)." + now("shuffle", fmt_on))
    st.markdown("**Inside each hidden layer**")
    st.toggle("BatchNorm", persist_state="session", key=K + "bn", **locked,
              help="Linear → BatchNorm → activation: each neuron's z is normalized over the batch, then scaled "
                   "by a learned γ and shifted by a learned β." + now("bn", fmt_on))
    st.select_slider("Dropout rate p", DROPOUT_OPTIONS, persist_state="session", key=K + "dropout", **locked,
                     help="While training, each hidden neuron's output is zeroed with probability p and the rest "
                          "scaled by 1/(1−p); when evaluating, dropout is off." + now("dropout"))
    widths = [int(st.session_state[f"{K}width{i}"]) for i in range(1, (n_layers or 1) + 1)]
    skips = skip_layers(widths)
    wants_skips = bool(st.session_state[K + "residual"])
    st.toggle("Skip connections", persist_state="session", key=K + "residual",
              disabled=active or (not skips and not wants_skips),
              help="A hidden layer whose input has its width adds that input to its output, a + F(a): the "
                   "gradient gets a highway around the layer. Needs two hidden layers of equal width.")
    if wants_skips and not skips:
        st.warning(f"Skip connections need two consecutive hidden layers of equal width (a + F(a) adds arrays of "
                   f"one shape); the widths are {' → '.join(map(str, widths))}. Make two neighbours equal, or "
                   f"switch skip connections off.", icon=":material/call_split:")
    elif skips:
        st.caption(f"With skips on, hidden layer {', '.join(map(str, skips))} computes a + F(a).")
    else:
        st.caption("Skip connections need two hidden layers of equal width.")
    st.button("Restore defaults", on_click=restore_defaults, disabled=active,
              help="Back to the page's defaults: 784-256-10 ReLU, He init, momentum η = 0.1, batches of 64, 10 epochs.")
    if active:
        st.caption("The settings above are locked while a run is in progress; η, the schedule and λ below "
                   "can change at any time.")

with st.container(border=True):
    st.button(PRESET_TITLES["lessons"], icon=":material/school:", on_click=apply_preset, args=("lessons",),
              disabled=active, key="train_preset_lessons")
    st.caption(f"Sets exactly the network the lessons train: 784 → 256 → 256 → 10, each hidden layer Linear → "
               f"BatchNorm → ReLU → Dropout({LESSONS.dropout:g}); AdamW η = {LESSONS.lr:g} with weight decay "
               f"{LESSONS.l2:g}, cosine schedule, gradients clipped to norm {LESSONS.clip:g}, {LESSONS.epochs} epochs of "
               f"batches of {LESSONS.batch_size}. The lesson reports 98.12 % test accuracy on full MNIST after 20 "
               f"epochs.")

with st.expander("Pitfalls — one click each", icon=":material/warning:", expanded=False):
    cols = st.columns(3)
    for i, (key, (title, _, line1, line2)) in enumerate(PITFALLS.items()):
        with cols[i % 3].container(border=True):
            st.button(title, key=f"train_pitfall_{key}", on_click=train_tutor.ask_pitfall, args=(key,),
                      width="stretch",
                      help="Sets these settings (the rest back to defaults), asks what you expect the loss to do, "
                           "then trains.")
            st.caption(f"{line1} {line2}")

# ---- 3. train -------------------------------------------------------------------------------
st.subheader("3 · Train")
state = snap.state if snap else "none"
with st.container(horizontal=True, vertical_alignment="center"):     # buttons at their own width; they wrap
    st.button("Train", type="primary", icon=":material/play_arrow:", on_click=start_run)
    st.button("Stop", icon=":material/stop:", on_click=end_run, disabled=not active)
    st.button("Step one batch", icon=":material/skip_next:", on_click=step_once)
    st.button("Reset", icon=":material/restart_alt:", on_click=reset_run, disabled=snap is None)
    st.caption(f"Training slots on this server: {SLOTS.in_use} of {SLOTS.size} busy"
               + (f", {SLOTS.waiting} waiting." if SLOTS.waiting else "."))
# What the buttons do is said here, not in tooltips: a tooltip opens above its button and covers the controls there.
st.caption("**Train** starts a new run with the settings above (a run in progress is stopped and kept) · **Stop** "
           "ends it, keeping its model and curves · **Step one batch** trains one mini-batch, then pauses · "
           "**Reset** clears the live views (finished runs stay in the run history) · **Pause** / **Resume** below "
           "stop after the current batch and carry on.")
train_tutor.prediction_view(snap, st.session_state.get("train_run_info"))


def live_controls():
    """What can change while the network trains: η, the schedule, λ and the speed (drawn by steer_view)."""
    l1, l2c, l3, l4 = st.columns([3, 2.2, 2.2, 2.2], vertical_alignment="bottom")
    l1.select_slider("Learning rate η (log scale)", LR_OPTIONS, persist_state="session", key=K + "lr",
                     format_func=fmt_lr,
                     help="The step size. Can be changed while training: the next batch uses it, and the loss "
                          "curve marks where it changed." + now("lr", fmt_lr))
    l2c.selectbox("Learning-rate schedule", list(SCHED_NAMES), format_func=SCHED_NAMES.get, persist_state="session",
                  key=K + "sched",
                  help="η_t over the run: constant; step halves η every epoch; cosine glides from η to 0; "
                       "plateau halves η when an epoch's validation loss did not improve on the best so far."
                       + now("sched", SCHED_NAMES.get))
    l3.select_slider("L2 / weight decay λ", L2_OPTIONS, persist_state="session", key=K + "l2", format_func=fmt_lr,
                     help="Adds λ/2·ΣW² to the loss (so dW += λW); with AdamW it decays the weights directly. "
                          "Pulls weights towards 0 to fight overfitting." + now("l2", fmt_lr))
    l4.select_slider("Speed", SPEEDS, persist_state="session", key=K + "speed", format_func=fmt_speed,
                     help="Slow a run down to watch it: at 1 batch/s every step is visible. Small data sets start "
                          "at 30 batches/s; full speed is as fast as this server trains." + now("speed", fmt_speed))


def last_batch_view(snap, data):
    """After "Step one batch": that batch's digits (true → predicted), its loss and the gradients it produced."""
    last, latest = snap.last_batch, snap.latest
    if not last:
        return
    names = data.class_names
    show = min(16, len(last["rows"]))
    with st.container(border=True):
        st.markdown(f"**Batch {last['step']}** — {len(last['rows'])} images, loss **{last['loss']:.4f}**, "
                    f"η = {last['lr']:.3g}. The first {show}, true → predicted (before this step's update):")
        images = data.images[last["rows"][:show]].reshape(-1, 28, 28)
        st.image([big(x, 2) for x in images],
                 caption=[f"{names[t]} → {names[p]}" + ("" if t == p else " ✗")
                          for t, p in zip(last["labels"][:show], last["predictions"][:show])])
        if latest and latest.get("layer_grad") and latest["step"] == last["step"]:
            sizes = snap.config.sizes(data.images.shape[1], len(names))
            st.markdown("Gradients this batch produced, ‖dW‖/√size per layer: " + ", ".join(
                f"{n}: **{g:.3g}**" for n, g in zip(charts.layer_names(sizes), latest["layer_grad"])))


def pause_buttons(run):
    """Pause and Resume: two buttons with their own keys, both always there, the one that does not apply
    disabled. A single toggle had a click delivered twice (see train_session.pause_run). A click's own redraw
    of the steer_view fragment can be cut short when another fragment's timer reruns the script, which left
    the buttons showing the state before the click (seen in Chromium: Resume clicked, the run training, Pause
    still disabled): the live panel's script compares them with the run and redraws the fragment if needed.
    Returns their row (steer_view adds the live panel's poke to it)."""
    live = run is not None and not run.done
    row = st.container(horizontal=True)
    row.button("Pause", icon=":material/pause:", on_click=pause_run, disabled=not live or run.paused,
               key=live_feed.PAUSE_KEY)
    row.button("Resume", icon=":material/play_arrow:", on_click=resume_run, disabled=not live or not run.paused,
               key=live_feed.RESUME_KEY)
    return row


@st.fragment
def steer_view():
    """The live settings and Pause/Resume; once the run has ended, its status line, numbers and curves.

    One fragment, rerun only by its own widgets (no timer): moving the η slider reruns this part, sends η
    to the run and waits the few milliseconds until the run's worker reports it (LiveRun.settle). While
    the run is live, the status line, the numbers and the curves are the live panel's (drawn after this
    fragment, see pages/ui/live_feed.py): the browser asks the server for them every few hundred
    milliseconds, so the new η shows at the panel's next request (a new η and Pause/Resume the panel has
    already sent to the run itself, see live_feed.steer). Each rerun also makes the run's η, schedule, λ
    and speed equal to the widgets' (an on_change can be lost, this comparison cannot).
    """
    live_controls()
    if st.session_state.get("train_error"):
        st.error(plain(st.session_state["train_error"]))
    run = current_run()
    buttons = pause_buttons(run)
    st.button(live_feed.STEER_LABEL, key=live_feed.STEER_KEY)          # hidden (live_panel's style): the panel's script
    if run is None:                                       # clicks it if Pause/Resume show the wrong state
        st.info("Press **Train** to start, or **Step one batch** to go one step at a time.")
        return
    if sync_live_settings(run, run.snapshot(last=1)):
        run.settle()
    snap = run.snapshot(last=live_feed.EMA_TAIL)            # the end of the series is all this part reads live,
    ended = phase(snap.state) == "ended"                     # and copying a long run's whole took milliseconds
    if ended:
        snap = run.snapshot()
    if not ended:                               # the panel asks the feed now: the new η or "paused" shows at once
        buttons.html(live_feed.poke(), unsafe_allow_javascript=True)
    if ended:                                   # live, the panel shows these (and the notes) by itself
        st.progress(min(snap.progress, 1.0), text=live_feed.status_text(snap))
        for column, (label, value, explained) in zip(st.columns(6), live_feed.numbers(snap)):
            column.metric(label, value, help=explained)
        for kind, text in live_feed.notes(snap):
            (st.info if kind == "info" else st.warning)(text)
    if snap.state == "diverged":
        st.error(snap.divergence, icon=":material/error:")
    elif snap.state in ("abandoned", "error"):
        st.warning(snap.message)
    info = st.session_state.get("train_run_info")
    if info is not None and info.preset in PITFALLS:
        st.info(f"**{PITFALLS[info.preset][0]}** — what to look for: {PITFALLS[info.preset][3]}",
                icon=":material/search:")
    preset = matching_preset(snap.config)
    if preset is not None and info is not None:
        words = data_words(get_dataset(info.data_name), info.data_name)
        st.info(f"**{PRESET_TITLES[preset]}** — " + plain(preset_comparison(preset, snap, words, run.data.n_train)),
                icon=":material/school:")
    if run.paused and not snap.done and st.session_state.get("train_show_batch"):
        last_batch_view(snap, run.data)       # after "Step one batch" only
    if ended:
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.loss_figure(snap), key="train_live_loss")
        c2.plotly_chart(charts.accuracy_figure(snap), key="train_live_acc")


def live_panel():
    """While the run is live: the status line, numbers, notes and curves, kept current by the browser
    (pages/ui/live_feed.py), and the hidden button its script clicks when the run ends, so the page
    reruns to show the results and unlock the settings."""
    run = current_run()
    snap = run.snapshot() if run is not None else None
    if snap is None or phase(snap.state) != "live":
        return
    st.html(live_feed.panel_html(run, snap), unsafe_allow_javascript=True)
    st.button(live_feed.SYNC_LABEL, key=live_feed.SYNC_KEY)


@st.fragment
def inside_view():
    """Inside the network: gradients per layer and per neuron, activations, weights (pages/ui/inside_views.py).

    While the run is live the views are a panel the browser refreshes from the live feed every few seconds
    (no rerun of the page); the fragment reruns only when the learner picks another neuron to enlarge.
    """
    run = current_run()
    if run is None:
        return
    snap = run.snapshot()
    shown = min(snap.config.hidden[0], N_WEIGHT_IMAGES)          # the first-layer neurons the weight images show
    neuron = st.columns([1, 3])[0].selectbox("Enlarge neuron", range(1, shown + 1), key="train_enlarge",
                                             help=inside_views.ENLARGE_HELP)
    if phase(snap.state) == "live":
        st.html(live_feed.inside_panel_html(run, snap, neuron), unsafe_allow_javascript=True)
        return
    sizes = snap.config.sizes(run.data.images.shape[1], len(run.data.class_names))
    for row in inside_views.rows(snap, sizes, neuron):
        for place, (kind, content, *key) in zip([st] if len(row) == 1 else st.columns(2), row):
            if kind == "chart":
                place.plotly_chart(content, key=key[0])
            else:
                place.caption(content)
    with st.expander("Explain these charts, with this run's numbers", icon=":material/help:"):
        st.markdown("\n".join(f"- **{topic}**: {text}" for topic, text in inside_views.explanations(snap)))


steer_view()
live_panel()
inside_view()


@st.fragment
def results_view():
    """4: how good the model is (confusion matrix, accuracy per class, the most confident mistakes); 5: what the
    tutor sees. One fragment: both change when an epoch ends. While the run is live, the live panel's script
    reruns it by a click on its hidden button when an epoch has ended, at most every few seconds and not
    while the learner is steering (live_feed.RESULTS_MS, QUIET_MS): every rerun costs the browser."""
    st.button(live_feed.RESULTS_LABEL, key=live_feed.RESULTS_KEY)      # hidden, see the page's style
    st.subheader("4 · How good is it?")
    results()
    st.subheader("5 · What the tutor sees")
    tutor()


def results():
    run = current_run()
    snap = run.snapshot() if run is not None else None
    if snap is None or snap.evaluation is None:
        st.caption("The confusion matrix, per-class accuracy and a gallery of mistakes appear after the first epoch.")
        return
    ev, names = snap.evaluation, run.data.class_names
    st.caption(f"Test set: {len(run.data.test_labels):,} images the network never trained on — "
               f"accuracy {pct(ev['accuracy'])}.")
    live = phase(snap.state) == "live"
    c1, c2 = st.columns(2)
    chart(c1, charts.confusion_figure(ev, names), "train_confusion", live)
    chart(c2, charts.per_class_figure(ev, names), "train_per_class", live)
    mistakes = ev["mistakes"]
    if len(mistakes["index"]):
        st.markdown("**The most confident mistakes** (true → predicted, confidence)")
        images = run.data.test_images[mistakes["index"]].reshape(-1, 28, 28)
        st.image([big(x, 2) for x in images], width=84,
                 caption=[f"{names[t]} → {names[p]} ({100 * c:.0f}%)"
                          for t, p, c in zip(mistakes["true"], mistakes["pred"], mistakes["confidence"])])


def tutor():
    """The tutor reads the run's statistics and says what it sees, with Why? and a one-click fix."""
    run = current_run()
    if run is None or run.snapshot().step == 0:
        st.caption("The tutor reads the run as it trains: the loss, the gradients per layer, dead and saturated "
                   "units, train vs validation. Its findings appear here once the run has taken some steps.")
        return
    train_tutor.tutor_view(run.snapshot(), {"lr": LR_OPTIONS, "l2": L2_OPTIONS, "width": WIDTHS,
                                            "batch": [8, 16, 32, 64, 128, 256, 512], "clip": CLIP_OPTIONS,
                                            "dropout": DROPOUT_OPTIONS})


results_view()

# ---- 5. run history ------------------------------------------------------------------------
st.subheader("6 · Run history")
store, store_problem = get_store()
owner = st.session_state.get("lab_owner")
if store_problem:
    st.warning(store_problem, icon=":material/database:")
try:
    runs = store.list_runs(owner) if owner else []
except Exception as e:  # noqa: BLE001 — RunStoreUnavailable or a damaged row: the page goes on without history
    runs = []
    st.warning(f"The run history cannot be read right now: {e}")
if not runs:
    st.caption("Every finished or stopped run is kept here — also after a reload or a server restart — so you can "
               "compare, e.g., sigmoid vs ReLU, or two learning rates.")
else:
    columns = settings_columns(runs, STORE_DEFAULTS)
    table = []
    for r in runs:
        diff = settings_diff({"data": r.data, **r.settings}, STORE_DEFAULTS)
        table.append({"run": f"#{r.id}", **{c: diff.get(c, "") for c in columns},
                      "epochs done": len(r.epochs_log),
                      "epoch-1 test acc (%)": round(100 * r.epochs_log[0]["test_acc"], 2)
                      if r.epochs_log and r.epochs_log[0].get("test_acc") is not None else None,
                      "final test acc (%)": None if r.test_acc is None else round(100 * r.test_acc, 2),
                      "time (s)": None if r.elapsed is None else round(r.elapsed, 1), "ended": r.state})
    st.dataframe(table, hide_index=True)
    st.caption("Columns between “run” and “epochs done” are the settings that differ from the page's defaults. "
               "Runs are kept on this server for the link in your address bar (?lab=…): bookmark it to come back.")
    labels = {r.id: run_label(r, STORE_DEFAULTS) for r in runs}
    newest = [r.id for r in runs][-4:]
    if st.session_state.get("train_overlay_seen") != newest:     # new runs arrived: the overlay follows them
        st.session_state["train_overlay_seen"] = newest
        st.session_state["train_overlay"] = newest
    st.multiselect("Runs to overlay", list(labels), format_func=labels.get, key="train_overlay",
                   help="Pick runs to compare their curves.")

    def last_two():
        st.session_state["train_overlay"] = [r.id for r in runs][-2:]

    st.button("Last vs the one before", on_click=last_two, disabled=len(runs) < 2,     # own row: whole at 1024 px
              icon=":material/compare_arrows:")
    chosen = [r for r in runs if r.id in st.session_state["train_overlay"]]
    if chosen:
        st.plotly_chart(charts.history_figure(chosen, labels), key="train_history")
    e1, e2, e3, e4 = st.columns(4)
    e1.download_button("Export CSV", data=lambda: store.export_csv(owner), file_name="backprop-lab-runs.csv",
                       mime="text/csv", on_click="ignore", icon=":material/table:", width="stretch")
    e2.download_button("Export JSON", data=lambda: store.export_json(owner), file_name="backprop-lab-runs.json",
                       mime="application/json", on_click="ignore", icon=":material/data_object:", width="stretch")
    doomed = e3.selectbox("Delete run", [None] + list(labels), format_func=lambda i: "—" if i is None else labels[i],
                          key="train_delete_choice", label_visibility="collapsed")
    if e4.button("Delete", icon=":material/delete:", disabled=doomed is None, width="stretch"):
        store.delete_run(owner, doomed)
        st.rerun()

# ---- 6. the model --------------------------------------------------------------------------
st.subheader("7 · Your model")
model, card = session.session_model()
uploaded, uploaded_card = st.session_state.get("uploaded_model"), st.session_state.get("uploaded_model_card")
if model is None:
    st.caption("After a run, its network is kept for the **Draw a digit** page and can be downloaded here.")
else:
    st.markdown(plain(f"Trained here: {model.sizes} {get_activation(model.activation).title}, "
                      f"{card.where_from()}, {card.accuracy_text()}."))
    st.download_button("Download model (.npz)", data=lambda: model_bytes(model, card), file_name="mnist_mlp.npz",
                       mime="application/octet-stream", on_click="ignore", icon=":material/save:",
                       help="A NumPy .npz file (no pickles): weights, settings and this run's model card.")
if uploaded is not None:
    st.markdown(plain(f"Uploaded: {uploaded.sizes} {get_activation(uploaded.activation).title}, "
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
