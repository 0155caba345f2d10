"""Playground: watch a small network carve a 2-D decision boundary live, and see universal approximation in 1-D.

The page is thin: lab/playground.py holds the data, features, training and settings; this file keeps the
settings in widgets and the URL; pages/ui/playground_svg.py draws (SVG, so the animation doesn't flicker).
While playing, a fragment with run_every redraws: each frame trains a few epochs, then evaluates every neuron
over a 50 × 50 grid in one batched forward pass.
"""
import re
from dataclasses import replace

import numpy as np
import streamlit as st

from lab.playground import (
    ACTIVATIONS_2D,
    DATASETS,
    FEATURES,
    LEARNING_RATES,
    LESSONS,
    MAX_LAYERS,
    MAX_UNITS_1D,
    MAX_WIDTH,
    PROBLEMS,
    REG_RATES,
    REGULARIZATIONS,
    RULES,
    STEPS_PER_FRAME_1D,
    TARGETS_1D,
    Config,
    Fit1D,
    Playground,
    config_from_query,
    check_config,
    config_to_query,
    lesson_config,
)
from lab.predict import CHOICES, FIT_STEPS, PLAYGROUND_EPOCHS, PLAYGROUND_QUESTIONS, curve_of_fit, curve_of_playground, explain
from lab.tutor import apply_finding, diagnose, fmt, stats_from_playground
from pages.ui.playground_svg import fit_svg, loss_svg, network_svg, surface_svg
from pages.ui.quiz import Question, check_yourself
from pages.ui.tutor_panel import findings_panel
from pages.ui.shell import run_inside_app

run_inside_app()

FRAME_SECONDS = 0.2          # while playing, the live part redraws this often
K = "keep_playground_"       # widget keys starting with keep_ survive page navigation (see app.py)
WIDGETS = ("mode", "noise", "train", "n", "act", "lr", "batch", "reg", "rate", "speed", "show_test", "discretize",
           "fn", "units", "depth", "act1d", "lr1d", "steps1d")
state = st.session_state


# ---- settings: widgets <-> Config <-> URL -------------------------------------------------

def load_config(cfg):
    """Put a Config into the widgets' session_state (before they are drawn) and restart the experiment."""
    restore_widgets(cfg, only_missing=False)
    stop_and_forget()


def restore_widgets(cfg, only_missing=True):
    """Set the widgets' session_state from cfg (only the keys Streamlit dropped, when only_missing).

    Streamlit forgets a widget's value when another page is shown, so the page keeps its own copy of the
    settings (state["pg_cfg"]) and puts back what was dropped: a learner who leaves finds it as they left it.
    """
    values = {K + name: getattr(cfg, name) for name in WIDGETS}
    values[K + "problem"] = cfg.problem
    for problem in PROBLEMS:
        values[K + "data_" + problem] = state.get(K + "data_" + problem,
                                                  next(k for k, d in DATASETS.items() if d.problem == problem))
    values[K + "data_" + cfg.problem] = cfg.data
    values.update({K + "features": list(cfg.features), K + "hidden": list(cfg.hidden), K + "seed": cfg.seed})
    for key, value in values.items():
        if not (only_missing and key in state):
            state[key] = value


def current_config():
    """The Config the widgets show now, or None when no input feature is selected."""
    if not state[K + "features"]:
        return None
    problem = state[K + "problem"]
    return replace(Config(), **{name: state[K + name] for name in WIDGETS}, data=state[K + "data_" + problem],
                   features=tuple(state[K + "features"]), hidden=tuple(state[K + "hidden"]), seed=state[K + "seed"])


def read_url():
    """Apply the URL's settings when it brings new ones (a shared link); first visit without them: defaults."""
    ours = {k: v for k, v in st.query_params.to_dict().items() if k in RULES}
    if ours and ours != state.get("pg_written"):
        cfg, notice = config_from_query(ours)
        load_config(cfg)
        state["pg_notice"] = (notice, cfg) if notice else None
        state["pg_written"] = ours
    elif "pg_cfg" not in state:
        load_config(Config())
    else:
        restore_widgets(state["pg_cfg"])


def write_url(cfg):
    """Keep every setting in the URL, so the address bar is a shareable link to this experiment."""
    query = config_to_query(cfg)
    if state.get("pg_written") != query or {k: st.query_params.get(k) for k in query} != query:
        st.query_params.update(query)
        state["pg_written"] = query


# ---- button callbacks (they run before the page is drawn) -----------------------------------

def stop_and_forget():
    """Pause and drop the trained network: the next run builds a fresh one from the settings."""
    state["pg_playing"] = False
    state.pop("pg_experiment", None)
    state.pop("pg_fit", None)


def set_playing(playing):
    """Play or pause (an explicit value, not a toggle: a click that arrives twice can't undo itself)."""
    state["pg_playing"] = playing


def step_once():
    state["pg_playing"] = False
    pg = state.get("pg_fit" if state[K + "mode"] == "1d" else "pg_experiment")
    if isinstance(pg, Playground):
        pg.train_epochs(1)
    elif isinstance(pg, Fit1D):
        pg.train_steps(state[K + "steps1d"], lr=state[K + "lr1d"])


def regenerate():
    state[K + "seed"] = (state[K + "seed"] + 1) % 10000
    stop_and_forget()


def change_layers(delta):
    hidden = state[K + "hidden"]
    if delta > 0 and len(hidden) < MAX_LAYERS:
        hidden.append(hidden[-1] if hidden else 4)
    elif delta < 0 and hidden:
        hidden.pop()


def change_width(layer, delta):
    hidden = state[K + "hidden"]
    hidden[layer] = min(max(hidden[layer] + delta, 1), MAX_WIDTH)


def apply_lesson():
    name = state.get("pg_lesson")
    state.pop("pg_predict", None)                    # a new lesson: a new prediction
    if name:
        load_config(lesson_config(name))


def apply_fix(finding):
    """Callback of a tutor finding's Apply: its settings change, and the experiment starts over with it."""
    load_config(check_config(apply_finding(state["pg_cfg"], finding)))


def commit_prediction(name):
    """Callback of "Commit and run": keep the learner's choice, run the lesson, explain with the run's numbers."""
    picked = state.get("pg_predict_choice")
    if picked is None:
        state["pg_predict"] = {"lesson": name, "error": "Pick one answer first."}
        return
    cfg = state["pg_cfg"]
    state["pg_playing"] = False
    if cfg.mode == "2d":
        pg = experiment_2d(cfg)
        pg.train_epochs(max(PLAYGROUND_EPOCHS - pg.epoch, 0))
        curve = curve_of_playground(pg)
    else:
        fit = experiment_1d(cfg)
        while fit.steps < FIT_STEPS:
            fit.train_steps(cfg.steps1d, lr=cfg.lr1d)
        curve = curve_of_fit(fit)
    right, text = explain(PLAYGROUND_QUESTIONS[name], CHOICES.index(picked), curve)
    state["pg_predict"] = {"lesson": name, "right": right, "text": text}


def now(key, shown=None):
    """" Now: 0.03." — the current value of a control, for its help text."""
    value = state.get(K + key) if shown is None else shown
    if isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value)) or "none"
    elif isinstance(value, bool):
        value = "on" if value else "off"
    return f" Now: {value}."


def reset_settings():
    state["pg_lesson"] = None
    load_config(Config())


# ---- the experiment in session_state ---------------------------------------------------------

def experiment_2d(cfg):
    """The running 2-D experiment, rebuilt when the data or the network changed, else updated in place."""
    pg = state.get("pg_experiment")
    if pg is None or pg.needs_rebuild(cfg):
        pg = state["pg_experiment"] = Playground(cfg)
    pg.update_live_settings(cfg)
    return pg


def experiment_1d(cfg):
    key = (cfg.fn, cfg.units, cfg.depth, cfg.act1d, cfg.seed)
    if state.get("pg_fit_key") != key or "pg_fit" not in state:
        state["pg_fit"] = Fit1D(cfg.fn, cfg.units, cfg.depth, cfg.act1d, cfg.lr1d, cfg.seed)
        state["pg_fit_key"] = key
    return state["pg_fit"]


def draw_svg(picture):
    """Show an SVG picture. Each one gets a fresh frame number: Streamlit sends a repeated large message by
    reference to its browser cache, which fragment reruns can leave out of sync ("Cached ForwardMsg MISS")."""
    state["pg_frame"] = state.get("pg_frame", 0) + 1
    st.markdown(f"{picture}<!-- frame {state['pg_frame']} -->", unsafe_allow_html=True)


def as_plain_text(text):
    """Escape Markdown (and LaTeX $) so text from a URL is shown literally, never as a link or formula."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~$-])", r"\\\1", text)


def fmt_loss(value, digits=3):
    return f"{value:.{digits}f}" if np.isfinite(value) else "diverged"


# ---- the page ---------------------------------------------------------------------------------

read_url()
st.title("Playground")
st.markdown("Pick a data set, shape a network, press **Play**, and watch it learn: the big picture is the "
            "network's output over the input plane, and every neuron's own output is drawn inside the diagram.")
if state.get("pg_notice"):
    st.warning(as_plain_text(state["pg_notice"][0]), icon=":material/link:")

lesson_col, reset_col = st.columns([5, 1.5], vertical_alignment="bottom")
lesson_col.pills("Lessons (one click sets everything up)", list(LESSONS), format_func=lambda k: LESSONS[k].title,
                 key="pg_lesson", on_change=apply_lesson, wrap=True,
                 help="Each lesson loads a ready-made experiment. Press Play and read what to watch for.")
reset_col.button("Reset all", icon=":material/restart_alt:", on_click=reset_settings,
                 help="All settings back to their defaults.")
if state.get("pg_lesson"):
    lesson = state["pg_lesson"]
    st.info(f"**{LESSONS[lesson].title}.** {LESSONS[lesson].text}", icon=":material/school:")
    with st.container(border=True):
        question = PLAYGROUND_QUESTIONS[lesson]
        runs_for = f"{PLAYGROUND_EPOCHS} epochs" if LESSONS[lesson].settings.get("mode") != "1d" else \
            f"{FIT_STEPS:,} steps"
        st.markdown(f"**Predict, then run.** {question.text}")
        st.radio("Your prediction", CHOICES, index=None, key="pg_predict_choice", label_visibility="collapsed")
        st.button(f"Commit and run {runs_for}", key="pg_predict_commit", on_click=commit_prediction, args=(lesson,),
                  icon=":material/how_to_vote:", help="Locks in your answer, trains the lesson's network and "
                                                      "explains what happened with the run's own numbers.")
        result = state.get("pg_predict")
        if result and result["lesson"] == lesson:
            if "error" in result:
                st.warning(result["error"])
            else:
                (st.success if result["right"] else st.warning)(result["text"], icon=":material/insights:")

mode_col, problem_col = st.columns([1.4, 1], vertical_alignment="bottom")   # the mode's long label needs room
mode_col.segmented_control("Mode", ["2d", "1d"], key=K + "mode", required=True,
                           format_func={"2d": "2-D playground", "1d": "1-D universal approximation"}.get,
                           on_change=stop_and_forget,
                           help="2-D: classify or regress points in the plane. 1-D: fit a curve f(x) and see each "
                                "neuron's piece of it." + now("mode"))
mode = state[K + "mode"]
if mode == "2d":
    problem_col.segmented_control("Problem type", list(PROBLEMS), key=K + "problem", required=True,
                                  format_func=str.capitalize,
                                  help="Classification: sigmoid output, binary cross-entropy. Regression: linear "
                                       "output, mean squared error. Each has its own data sets." + now("problem"))
playing = state.get("pg_playing", False)

NET_AND_OUTPUT = [2.6, 1.45]     # the network column and the output column (controls above, pictures below)
with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
    st.button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
              key="pg_play", on_click=set_playing, args=(not playing,), type="primary", width=110)
    st.button("Step", icon=":material/skip_next:", on_click=step_once, width=100)
    st.button("Reset", icon=":material/restart_alt:", on_click=stop_and_forget, width=100)
    st.caption("Play trains continuously; Step trains one epoch (2-D) or one frame's steps (1-D), then pauses; "
               "Reset starts over from the same initial weights.", width="content")

if mode == "2d":
    bar = st.columns(5, vertical_alignment="bottom")
    bar[0].select_slider("Learning rate η", LEARNING_RATES, key=K + "lr", format_func=lambda v: f"{v:g}",
                         help="Step size of gradient descent, W ← W − η ∂L/∂W. Can be changed while it plays." + now("lr"))
    bar[1].selectbox("Activation", list(ACTIVATIONS_2D), key=K + "act", format_func=ACTIVATIONS_2D.get,
                     help="f in a = f(z) for every hidden neuron. Changing it restarts the network." + now("act"))
    bar[2].selectbox("Regularization", list(REGULARIZATIONS), key=K + "reg", format_func=REGULARIZATIONS.get,
                     help="L1 adds λ Σ|W| to the loss, L2 adds λ/2 ΣW² (biases are not penalised)." + now("reg"))
    bar[3].select_slider("Regularization rate λ", REG_RATES, key=K + "rate", format_func=lambda v: f"{v:g}",
                         disabled=state[K + "reg"] == "none", help="The strength λ of the penalty." + now("rate"))
    bar[4].slider("Epochs per frame", 1, 20, key=K + "speed",
                  help="How many epochs to train between two redraws while playing." + now("speed"))

    with st.container(horizontal=True, vertical_alignment="center"):    # the button beside its heading: a
        st.markdown("**Data**", width="content")                           # sixth column cut it to "Reg…" at 1024 px
        st.button("Regenerate", icon=":material/refresh:", on_click=regenerate, type="tertiary",
                  help=f"New random points and new initial weights: the seed (now {state[K + 'seed']}) goes up "
                       "by one.")
    data = st.columns([1.6, 1, 1, 1, 1], vertical_alignment="bottom")
    problem = state[K + "problem"]
    data[0].pills("Data set", [k for k, d in DATASETS.items() if d.problem == problem], key=K + "data_" + problem,
                  required=True, format_func=lambda k: DATASETS[k].title, wrap=True,
                  help="Which points to learn." + now("data_" + problem))
    data[1].slider("Noise (%)", 0, 50, key=K + "noise", help="Blurs the classes (or the target) near boundaries." + now("noise"))
    data[2].slider("Training data (%)", 10, 90, key=K + "train",
                   help="The share of points used for training; the rest are the test set." + now("train"))
    data[3].slider("Number of points", 100, 1000, step=10, key=K + "n", help="Training plus test points." + now("n"))
    data[4].slider("Batch size", 1, 30, key=K + "batch",
                   help="Points per gradient step; an epoch is one pass over the training data." + now("batch"))

    net_col, out_col = st.columns(NET_AND_OUTPUT, gap="medium")
    with net_col:
        st.markdown("**Network**")
        st.pills("Input features", list(FEATURES), selection_mode="multi", key=K + "features",
                 format_func=lambda k: FEATURES[k].label, wrap=True,
                 help="What the first layer sees for each point (x₁, x₂). Changing them restarts the network." + now("features"))
        hidden = state[K + "hidden"]
        with st.container(horizontal=True, vertical_alignment="center", gap="medium"):   # groups wrap whole
            with st.container(horizontal=True, vertical_alignment="center", gap=None, width="content"):
                st.markdown(f"**{len(hidden)}** hidden layer{'s' * (len(hidden) != 1)}", width="content")
                st.button("", icon=":material/remove:", key="pg_less_layers", on_click=change_layers, args=(-1,),
                          disabled=not hidden, type="tertiary", help="Remove the last hidden layer.")
                st.button("", icon=":material/add:", key="pg_more_layers", on_click=change_layers, args=(1,),
                          disabled=len(hidden) >= MAX_LAYERS, type="tertiary",
                          help=f"Add a hidden layer (at most {MAX_LAYERS}).")
            for l, width in enumerate(hidden):     # "layer 1: 4 neurons − +": the count never reads as −4
                with st.container(horizontal=True, vertical_alignment="center", gap=None, width="content"):
                    st.markdown(f"layer {l + 1}: **{width}** neuron{'s' * (width != 1)}", width="content")
                    st.button("", icon=":material/remove:", key=f"pg_less_{l}", on_click=change_width,
                              args=(l, -1), disabled=width <= 1, type="tertiary",
                              help=f"One neuron fewer in layer {l + 1}.")
                    st.button("", icon=":material/add:", key=f"pg_more_{l}", on_click=change_width,
                              args=(l, 1), disabled=width >= MAX_WIDTH, type="tertiary",
                              help=f"One neuron more in layer {l + 1} (at most {MAX_WIDTH}).")
    with out_col:
        st.markdown("**Output**")
        with st.container(horizontal=True, gap="medium"):
            st.toggle("Show test data", key=K + "show_test", help="Draw the test points (black outline) too." + now("show_test"))
            st.toggle("Discretize", key=K + "discretize",
                      help="Colour each place by the decision (class 0 or 1, or the sign for regression) instead "
                           "of the value." + now("discretize"))
else:
    bar = st.columns(5, vertical_alignment="bottom")
    bar[0].select_slider("Learning rate η", LEARNING_RATES, key=K + "lr1d", format_func=lambda v: f"{v:g}",
                         help="Adam's step size (the 1-D fit trains with Adam on all points at once)." + now("lr1d"))
    bar[1].selectbox("Activation", list(ACTIVATIONS_2D), key=K + "act1d", format_func=ACTIVATIONS_2D.get,
                     help="ReLU makes each neuron's piece a hinge; tanh and sigmoid make it an S-curve." + now("act1d"))
    bar[2].segmented_control("Hidden layers", [1, 2], key=K + "depth", required=True,
                             help="One layer: the output is a weighted sum of hinges. Two layers: of bent pieces." + now("depth"))
    bar[3].slider("Neurons per hidden layer", 1, MAX_UNITS_1D, key=K + "units",
                  help="More neurons, more pieces to build the curve from." + now("units"))
    bar[4].select_slider("Steps per frame", STEPS_PER_FRAME_1D, key=K + "steps1d",
                         help="Adam steps between two redraws while playing (and per Step)." + now("steps1d"))
    st.pills("Target function f(x)", list(TARGETS_1D), key=K + "fn", required=True,
             format_func=lambda k: TARGETS_1D[k][0], help="The curve to fit on x ∈ [−1, 1]." + now("fn"))

cfg = current_config()
if cfg is None:
    st.warning("Select at least one input feature: the network needs something to look at.")
else:
    if state.get("pg_notice") and state["pg_notice"][1] != cfg:
        state["pg_notice"] = None
    state["pg_cfg"] = cfg
    write_url(cfg)


# The live parts are fragments that draw only inside themselves (never into containers made outside them:
# with run_every, a fragment rerun can race a full rerun that has just recreated those containers).

@st.fragment(run_every=FRAME_SECONDS if playing and cfg is not None else None)
def live_2d():
    """One frame: train (if playing), then redraw the network diagram, the numbers, the output and the loss."""
    pg = experiment_2d(cfg)
    if state.get("pg_playing"):
        pg.train_epochs(pg.cfg.speed)
    surfaces = pg.surfaces()
    train_loss, test_loss = pg.losses()
    loss_help = ("Binary cross-entropy for classification, mean squared error for regression (the data loss, "
                 "without the regularization penalty).")
    with st.container(horizontal=True, gap="large"):
        st.metric("Epoch", f"{pg.epoch:,}", width="content")
        st.metric("Training loss", fmt_loss(train_loss), help=loss_help, width="content")
        st.metric("Test loss", fmt_loss(test_loss), help=loss_help, width="content")
        if cfg.problem == "classification":
            st.metric("Test accuracy", f"{pg.accuracy():.1%}", width="content")
    net_col, out_col = st.columns(NET_AND_OUTPUT, gap="medium")
    with net_col:
        draw_svg(network_svg(pg, surfaces, cfg.discretize))
        st.caption("Each square is that node's output over the whole plane (orange negative, blue positive; "
                   "hover for the colour scale and biases). Lines are weights: blue w > 0, orange w < 0, "
                   "thicker = larger |w|.")
    with out_col:
        draw_svg(surface_svg(pg, surfaces, cfg.show_test, cfg.discretize))
        draw_svg(loss_svg(pg.history))
    with st.expander("Explain these pictures", icon=":material/help:"):
        st.markdown(explain_pictures(pg, train_loss, test_loss))


def explain_pictures(pg, train_loss, test_loss):
    """What each picture of the 2-D playground shows, with its current numbers."""
    cfg = pg.cfg
    layers = ", ".join(f"{w}" for w in cfg.hidden) or "none"
    last = pg.health[-1] if pg.health else None
    grads = ", ".join(f"layer {l + 1}: {fmt(g)}" for l, g in enumerate(last["grad"])) if last else "not trained yet"
    accuracy = f" Test accuracy now {pg.accuracy():.1%}." if cfg.problem == "classification" else ""
    return (f"- **Network diagram** (left): {len(cfg.features)} input features, hidden layers of {layers} neurons "
            f"and one output. Each small square is one node's output over the whole plane; each line a weight "
            f"(blue w > 0, orange w < 0, thicker = larger |w|). After the last step of epoch {pg.epoch}, the "
            f"gradient RMS per layer is {grads}.\n"
            f"- **Output** (right, top): the network's ŷ at every point of [−6, 6]², with the training points"
            f"{' and the test points' if cfg.show_test else ''} on top.{accuracy}\n"
            f"- **Loss curve** (right, bottom): the training loss (now {fmt_loss(train_loss)}) and the test loss "
            f"(now {fmt_loss(test_loss)}) after each epoch; a test loss that rises while the training loss falls "
            f"is over-fitting.")


@st.fragment(run_every=FRAME_SECONDS if playing else None)
def live_1d():
    """One frame of the 1-D fit: train (if playing), then the fit and each neuron's contribution."""
    fit = experiment_1d(cfg)
    if state.get("pg_playing"):
        fit.train_steps(cfg.steps1d, lr=cfg.lr1d)
    left, right = st.columns([3, 1.2])
    with right:
        with st.container(horizontal=True, gap="medium"):
            st.metric("Steps", f"{fit.steps:,}", width="content")
            st.metric("MSE", fmt_loss(fit.loss(), digits=4), width="content",
                      help="Mean squared error of the fit over the 200 points.")
        draw_svg(loss_svg(fit.history, x_label="step", y_label="MSE", names=("fit",)))
    with left:
        draw_svg(fit_svg(fit))


if cfg is not None and cfg.mode == "2d":
    live_2d()
elif cfg is not None:
    live_1d()

if cfg is not None and cfg.mode == "2d" and isinstance(state.get("pg_experiment"), Playground):
    st.subheader("Tutor")
    pg_now = state["pg_experiment"]
    st.caption("Rules over this run's loss curve, gradient scale per layer, dead and saturated units and update "
               "sizes, read when the page is redrawn (pause or Step to refresh them).")
    if pg_now.health:
        findings_panel(diagnose(stats_from_playground(pg_now)), on_apply=apply_fix, key="pg_tutor")
    else:
        st.info("Press Play or Step: the tutor reads the run once it has trained an epoch.")

st.subheader("What you are watching")
if state[K + "mode"] == "2d":
    st.markdown(
        "Each point $x = (x_1, x_2)$ enters as the chosen features $\\varphi(x)$. Every hidden neuron computes "
        "$a = f(w \\cdot a_{\\text{prev}} + b)$; the output is")
    st.latex(r"\hat y = \sigma(z_L) = P(\text{class } 1 \mid x), \qquad "
             r"L = -\frac{1}{B}\sum_b \big[y_b \log \hat y_b + (1 - y_b)\log(1 - \hat y_b)\big]"
             r"\;+\; \lambda_1 \sum |W| \;+\; \frac{\lambda_2}{2} \sum W^2")
    st.markdown(
        "(for regression $\\hat y = z_L$ and $L$ is the mean squared error). Each step of mini-batch gradient "
        "descent moves every weight by $-\\eta\\,\\partial L / \\partial W$, computed by backprop, so the first "
        "layer's neurons can only draw lines (or curves of the features), and each later layer combines the "
        "regions of the one before.")
    st.markdown(
        "Without a hidden layer the boundary $\\hat y = 0.5$ is the line $w \\cdot x + b = 0$: that is the "
        "perceptron, which cannot do XOR. The *train* loss measures the fit to the points it learns from; the "
        "*test* loss, on points it never saw, is what tells you whether it learned the pattern or the noise.")
    st.page_link("pages/backpropagation.py", label="How backprop computes ∂L/∂W, step by step", icon=":material/arrow_back:")
else:
    st.markdown("With one hidden layer of $N$ neurons and a linear output, the network's function is a sum:")
    st.latex(r"\hat y(x) = \sum_{i=1}^{N} w_i\, f(v_i x + c_i) + b")
    st.markdown(
        "For ReLU each term is a hinge: zero on one side of $x = -c_i / v_i$, a straight line on the other. "
        "Adding $N$ hinges gives a bent line with up to $N$ bends — enough, as $N$ grows, to follow any "
        "continuous curve on $[-1, 1]$ (the universal approximation theorem). The lower plot shows the terms; "
        "their sum plus $b$ is the red fit above. Jumps (step, sawtooth) need two hinges close together, so "
        "they are the last thing to come right.")
    st.markdown(
        "With two hidden layers each plotted piece is itself a ReLU of a sum of hinges, so one neuron can "
        "bend several times. Training is full-batch Adam on the mean squared error over 200 points; the "
        "first layer's bends start spread over $[-1, 1]$.")

check_yourself([
    Question("With no hidden layer (features x₁, x₂), why can't the network learn XOR?",
             ["The learning rate is too small", "Its decision boundary is a single straight line",
              "Sigmoid outputs can't reach 0 or 1", "XOR has too few points"], 1,
             "ŷ = σ(w·x + b) is 0.5 exactly on the line w·x + b = 0, and no line separates XOR's classes."),
    Question("Training loss keeps falling while test loss rises. What is happening, and what helps?",
             ["Under-fitting; add noise", "Over-fitting; L2 regularization or more data",
              "Divergence; raise the learning rate", "Vanishing gradients; use sigmoid"], 1,
             "The network is fitting noise in the training points; the L2 penalty λ/2 ΣW² keeps weights small "
             "and the boundary smooth."),
    Question("In the 1-D mode with one hidden layer of ReLUs, what does each neuron contribute to ŷ(x)?",
             ["A sine wave", "A hinge w·max(0, v x + c)", "A constant", "A step"], 1,
             "ŷ(x) = Σ wᵢ max(0, vᵢ x + cᵢ) + b: a sum of hinges, i.e. a bent line."),
], key="playground")
