"""Vanishing gradients and initialization: gradient size and activations per layer of a deep MLP."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.activations import get_activation
from lab.depth import (
    BATCH,
    CLASSES,
    DEPTHS,
    EXPLODING_RATIO,
    MAX_STD,
    REMEDIES,
    REMEDY_WIDTH,
    depth_experiment,
    diagnose,
    VANISHING_RATIO,
    ratio_kind,
    remedies_experiment,
)
from lab.stats import SATURATION_Z
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")             # shown by their core titles
INITS = {"zeros": "zeros", "normal": "normal N(0, σ²)", "xavier": "Xavier", "he": "He"}
PRESETS = {
    "Sigmoid + Xavier: vanishing": dict(keep_vg_act="sigmoid", keep_vg_init="xavier"),
    "ReLU + He: steady": dict(keep_vg_act="relu", keep_vg_init="he"),
    "Zero init: symmetry": dict(keep_vg_act="sigmoid", keep_vg_init="zeros"),
    "tanh + N(0, 1): saturation": dict(keep_vg_act="tanh", keep_vg_init="normal", keep_vg_std=1.0),
}
DEFAULTS = {"keep_vg_depth": 10, "keep_vg_width": 32, "keep_vg_act": "sigmoid", "keep_vg_init": "xavier",
            "keep_vg_std": 1.0, "keep_vg_train": True, "keep_vg_steps": 30, "keep_vg_lr": 0.5}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


def reset():
    st.session_state.update(DEFAULTS)


def layer_names(n_layers):
    return [f"W{l}" for l in range(1, n_layers + 1)]


DECADES_SHOWN = 3         # the log axis always spans at least this many powers of ten below the tallest bar


def gradient_figure(result):
    """‖dW_l‖ per layer on a log axis that always starts DECADES_SHOWN decades below the tallest bar: bars
    start at the bottom of a log axis, so an axis fitted to 1.1 … 3.4 would make 1.1 look like nothing."""
    names = layer_names(len(result.grad_norms))
    nonzero = result.grad_norms[result.grad_norms > 0]
    top = np.log10(nonzero.max()) if nonzero.size else 0.0
    bottom = min(np.log10(nonzero.min()) - 0.5, top - DECADES_SHOWN) if nonzero.size else top - DECADES_SHOWN
    norms = np.where(result.grad_norms > 0, result.grad_norms, 10 ** bottom)   # exact zeros: at the bottom
    fig = go.Figure(go.Bar(x=names, y=norms, marker_color=palette.BLUE, customdata=result.grad_norms,
                           hovertemplate="%{x}: ‖dW‖ = %{customdata:.3g}<extra></extra>"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), yaxis_type="log", yaxis_exponentformat="power",
                      yaxis_range=[bottom, top + 0.3],
                      title="Gradient norm ‖∂L/∂W<sub>l</sub>‖ per layer at initialization (log scale)",
                      xaxis_title="layer (input side → output)", yaxis_title="‖∂L/∂W<sub>l</sub>‖")
    return fig


def activation_figure(result, activation):
    fig = go.Figure()
    for l, sample in enumerate(result.activation_samples, start=1):
        fig.add_box(y=sample, name=f"a{l}", marker_color=palette.BLUE, boxpoints=False, showlegend=False)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"Activations a<sub>l</sub> = {get_activation(activation).title}(z<sub>l</sub>) "
                            "per hidden layer at initialization",
                      xaxis_title="hidden layer", yaxis_title="a")
    return fig


def heatmap_figure(result):
    history = np.log10(np.maximum(result.history, 1e-30))            # (L, steps)
    fig = go.Figure(go.Heatmap(z=history, y=layer_names(history.shape[0]), x=np.arange(1, history.shape[1] + 1),
                               colorscale=palette.SEQUENTIAL, colorbar=dict(title="log₁₀ RMS"),
                               hovertemplate="step %{x}, %{y}: 10^%{z:.1f}<extra></extra>"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="training step",
                      yaxis_title="layer", title="Gradient size per layer while training (RMS of dW, log₁₀)")
    return fig


def explain(result, s):
    """The diagnosis (lab.depth.diagnose) in a few sentences, from the numbers. These are lessons, not errors:
    a warning for a problem the configuration shows, a success for a healthy one."""
    d = diagnose(result, s.keep_vg_act, s.keep_vg_init)
    name = get_activation(s.keep_vg_act).title
    if d.kind == "symmetry":
        after = (f"After {s.keep_vg_steps} training steps all rows of every hidden W are still identical"
                 if s.keep_vg_train else "Turn on training: the rows of every hidden W stay identical")
        st.warning(f"**Symmetry.** Every hidden neuron in a layer starts with the same weights, so it computes "
                   f"the same z, gets the same δ and the same update. {after}: each layer acts like a single "
                   f"neuron. Random init breaks the symmetry.")
        return
    if d.kind == "no gradient":
        st.warning("**No gradient** reaches some hidden layers at all: their dW is exactly 0, so they cannot learn.")
        return
    st.metric("Gradient factor per layer (going down)", f"{d.factor:.3g}×",
              help="Geometric mean of RMS(dW_l) / RMS(dW_{l+1}) over the hidden layers: "
                   "below 1 the gradient shrinks on its way to the input, above 1 it grows.")
    if d.kind == "saturation":
        slope = float(get_activation(s.keep_vg_act).prime(np.array(SATURATION_Z)))
        growth = (f"Where a slope survives, the large weights multiply δ by about {d.factor:.2f}× per layer, so the "
                  f"first hidden layer's gradient is {d.ratio:.2g}× the last one's: large and erratic, not a healthy "
                  "signal." if d.factor > 1 else
                  f"The gradient shrinks by about {d.factor:.2f}× per layer on its way down "
                  f"(first / last hidden layer: {d.ratio:.2g}×).")
        st.warning(f"**Saturation.** The weights are too large for these layers: {d.saturated:.0%} of the "
                   f"pre-activations have |z| > {SATURATION_Z:g}, where {name}′ is below {slope:.2g}, and those neurons "
                   f"pass almost no gradient back. {growth} Xavier init scales the weights to the layer width and "
                   "cures both.")
    elif d.kind == "vanishing":
        st.warning(f"**Vanishing.** Each layer passes back about {d.factor:.2f}× the gradient it receives, so the "
                   f"first hidden layer's gradient is {d.ratio:.1e}× that of the last one. The early layers barely learn.")
    elif d.kind == "exploding":
        st.warning(f"**Exploding.** Each layer multiplies the gradient by about {d.factor:.2f}×, so the first hidden "
                   f"layer's gradient is {d.ratio:.1e}× that of the last one: one step can throw its weights far.")
    else:
        st.success(f"**Steady.** The gradient keeps its size through all {s.keep_vg_depth} hidden layers "
                   f"(first / last hidden layer: {d.ratio:.2g}×).")
    if d.many_dead:
        st.info(f"**Dead ReLUs:** {d.dead:.0%} of the hidden neurons have z ≤ 0 on the whole batch, so they pass "
                "no gradient for it; the rest carry the signal.")


REMEDY_DEFAULTS = {"keep_vg_rem_depth": 20, "keep_vg_rem_steps": 20, "keep_vg_rem_lr": 0.5}
for key, value in REMEDY_DEFAULTS.items():
    st.session_state.setdefault(key, value)
REMEDY_STYLE = {        # colour-blind-safe colours, and a dash and a marker as a second cue
    "plain": (palette.BLACK, "solid", "circle"), "batchnorm": (palette.BLUE, "dash", "square"),
    "residual": (palette.VERMILLION, "dot", "diamond"), "relu_he": (palette.GREEN, "dashdot", "triangle-up")}
WHY = {       # name -> (why it helps, in one sentence, and its formula)
    "plain": ("Every layer multiplies δ by its weights and by σ′(z), and σ′(z) ≤ ¼: the factors pile up, "
              "so the gradient shrinks about fourfold per layer on its way down.",
              r"\delta_{l-1} = (W_l^\top \delta_l) \odot \sigma'(z_{l-1}), \qquad "
              r"\sigma'(z) = \sigma(z)(1-\sigma(z)) \le \tfrac14"),
    "batchnorm": ("BatchNorm divides each z by its batch standard deviation, and its backward pass multiplies δ by "
                  "the same 1/√(σ² + ε): when the weights and σ′ made the signal small, that factor scales the "
                  "gradient back up, so each layer passes on about as much as it receives.",
                  r"\frac{\partial L}{\partial x} = \frac{\gamma}{\sqrt{\sigma_B^2 + \varepsilon}} \odot "
                  r"\Big(\delta - \overline{\delta} - \hat x \odot \overline{\delta \odot \hat x}\Big)"),
    "residual": ("A residual block adds its input to its output, so its derivative is the identity plus F's: "
                 "δ reaches the layer below unchanged along the identity, however small ∂F/∂a is (the gradient "
                 "highway).",
                 r"\frac{\partial\,(a + F(a))}{\partial a} = I + \frac{\partial F}{\partial a}"
                 r"\quad\Rightarrow\quad \delta_{\text{in}} = \delta + \Big(\frac{\partial F}{\partial a}\Big)^{\!\top} \delta"),
    "relu_he": ("ReLU′ is 1 wherever the neuron is on (not at most ¼), and He init's variance 2/n_in makes up for "
                "the half that are off, so on average ‖Wᵀδ ⊙ f′‖ ≈ ‖δ‖: a factor of about 1 per layer.",
                r"\mathrm{ReLU}'(z) = \begin{cases}1 & z > 0\\ 0 & z \le 0\end{cases}, \qquad "
                r"W \sim \mathcal N\!\big(0, \tfrac{2}{n_\text{in}}\big)"),
}


@st.cache_data(max_entries=32, show_spinner=False)
def remedies(depth, steps, lr):
    """lab.depth.remedies_experiment, cached: a rerun with the same settings costs nothing."""
    return remedies_experiment(depth, steps, lr)


def sci(v):
    """A ratio as the table and the sentences write it: 0.058, 1.8, 7.5e-13, 3.0e+12."""
    return f"{v:.2g}" if 1e-2 <= abs(v) < 1e3 else f"{v:.1e}"


def size(v):
    """A gradient size, always in the same scientific form so a column reads as powers of ten: 1.1e-02."""
    return f"{v:.1e}"


def remedies_table(results, depth, steps):
    """One row per stack: W₁'s gradient, W₁ against the plain stack's, first / last hidden layer, at init and after."""
    plain = results["plain"]
    rows = []
    for name, r in results.items():
        rows.append({
            "stack": REMEDIES[name][0],
            "verdict": ratio_kind(r.ratio) + ("" if ratio_kind(r.trained_ratio) == ratio_kind(r.ratio)
                                              else f", then {ratio_kind(r.trained_ratio)}"),
            "W₁ at init": size(r.at_init[0]),
            "W₁ vs plain": f"{sci(r.at_init[0] / plain.at_init[0])}×",
            f"W₁ / W{depth}": sci(r.ratio),
            f"W₁ after {steps} steps": size(r.trained[0]),
            f"W₁ / W{depth} after": sci(r.trained_ratio),
            "loss": f"{r.loss:.2f} → {r.final_loss:.2f}",
        })
    return pd.DataFrame(rows)


def remedies_figure(results, when, title):
    """RMS(∂L/∂W_l) per layer, one line per stack, on a log axis; when = "at_init" or "trained"."""
    fig = go.Figure()
    for name, r in results.items():
        colour, dash, symbol = REMEDY_STYLE[name]
        sizes = getattr(r, when)
        fig.add_trace(go.Scatter(x=layer_names(len(sizes)), y=np.maximum(sizes, 1e-30), name=REMEDIES[name][0],
                                 mode="lines+markers", line=dict(color=colour, dash=dash, width=2.5),
                                 marker=dict(symbol=symbol, size=7, color=colour), customdata=sizes,
                                 hovertemplate=f"{REMEDIES[name][0]}, %{{x}}: %{{customdata:.3g}}<extra></extra>"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), title=title, yaxis_type="log",
                      yaxis_exponentformat="power", xaxis_title="layer (input side → output)",
                      yaxis_title="RMS ∂L/∂W<sub>l</sub>", legend=dict(orientation="h", y=-0.25))
    return fig


def remedies_section():
    st.header("The remedies, side by side")
    st.markdown("The same deep sigmoid stack four ways: **plain**, with **BatchNorm** after every hidden Linear, "
                "with **skip connections** (every hidden layer a residual block a + F(a)), and with **ReLU + He** "
                "instead of sigmoid + Xavier. Plain, BatchNorm and skips start from the very same weights.")
    cols = st.columns(3)
    cols[0].slider("Depth (hidden layers)", *DEPTHS, persist_state="session", key="keep_vg_rem_depth",
                   help=f"Hidden layers of {REMEDY_WIDTH} neurons in every stack.")
    cols[1].slider("Training steps", 0, 60, step=5, persist_state="session", key="keep_vg_rem_steps",
                   help="SGD steps on the fixed batch before the gradients are measured again.")
    cols[2].select_slider("η", [0.05, 0.1, 0.5, 1.0], persist_state="session", key="keep_vg_rem_lr",
                          help="SGD learning rate of the training steps.")
    s = st.session_state
    depth, steps = s.keep_vg_rem_depth, s.keep_vg_rem_steps
    results = remedies(depth, steps, s.keep_vg_rem_lr)
    plain = results["plain"]
    st.dataframe(remedies_table(results, depth, steps), hide_index=True, key="remedies_table")
    st.caption(f"Each number is a gradient size RMS(∂L/∂W_l) = ‖∂L/∂W_l‖ / √(size of W_l). “W₁ vs plain”: this stack's "
               f"W₁ gradient over the plain stack's; “W₁ / W{depth}”: the first hidden layer's over the last hidden "
               f"layer's, at initialization and after the steps; the verdict uses the rule of the explorer above "
               f"(below {VANISHING_RATIO:g}: vanishing, above {EXPLODING_RATIO:g}: exploding); the loss at the start "
               f"and after the steps. {BATCH} random inputs with random labels, as above.")
    left, right = st.columns(2)
    left.plotly_chart(remedies_figure(results, "at_init", "At initialization"), key="remedies_init")
    right.plotly_chart(remedies_figure(results, "trained", f"After {steps} SGD steps"), key="remedies_trained")
    for name, r in results.items():
        why, formula = WHY[name]
        if name == "plain":
            numbers = (f"Here W₁'s gradient is {sci(r.ratio)}× W{depth}'s: **{ratio_kind(r.ratio)}**.")
        else:
            numbers = (f"Here W₁'s gradient is {sci(r.at_init[0] / plain.at_init[0])}× the plain stack's, and "
                       f"{sci(r.ratio)}× W{depth}'s: **{ratio_kind(r.ratio)}**.")
        st.markdown(f"**{REMEDIES[name][0]}.** {why} {numbers}")
        st.latex(formula)
    st.caption("The skip connections add up: each block adds σ(z), between 0 and 1, to its input, so the values grow "
               "layer by layer and the output scores start large (hence that stack's high starting loss). Residual "
               "networks used in practice put BatchNorm inside F to keep that in check.")


st.title("Vanishing gradients and initialization")
st.markdown("Backprop carries the error down one layer at a time, multiplying by the weights and the "
            "activation's slope each time:")
st.latex(r"\delta_{l-1} = (W_l^\top \delta_l) \odot f'(z_{l-1}), \qquad "
         r"\frac{\partial L}{\partial W_l} = \delta_l\, a_{l-1}^\top")
st.markdown(
    r"""After $k$ layers the error has been multiplied by $k$ such factors. With sigmoid, $f' \le \tfrac14$, so with
weights of ordinary size it shrinks about fourfold per layer and the first layers of a deep net hardly
learn: the **vanishing gradient**. Factors above 1 make it **explode** instead.""")
st.markdown(
    r"""The starting weights set the size of those factors. **Xavier** draws $W \sim \mathcal N(0, \frac{2}{n_\text{in} +
n_\text{out}})$, keeping the variance of $z$ steady for tanh and sigmoid; **He** draws $W \sim \mathcal N(0,
\frac{2}{n_\text{in}})$, making up for ReLU zeroing half its inputs. **Zeros** make every neuron identical;
**N(0, 1)** is far too large for wide layers and pushes sigmoid and tanh into their flat tails.""")
st.caption(f"The network: the chosen number of hidden layers, each of the chosen width, then 10 softmax outputs; "
           f"it sees one fixed random batch of "
           f"{BATCH} inputs x ~ N(0, 1) with random labels.")

st.markdown("**Try a preset** (each loads an activation and an initialization):")
with st.container(horizontal=True):          # whole buttons wrap to a new line; columns cut their labels at 1024 px
    for label, values in PRESETS.items():
        st.button(label, on_click=st.session_state.update, args=(values,))

cols = st.columns(4)
cols[0].slider("Depth (hidden layers)", *DEPTHS, persist_state="session", key="keep_vg_depth", help="Number of hidden layers.")
cols[1].slider("Width", 2, 64, persist_state="session", key="keep_vg_width", help="Neurons per hidden layer (and inputs).")
cols[2].selectbox("Activation", ACTIVATIONS, format_func=lambda name: get_activation(name).title, persist_state="session",
                  key="keep_vg_act",
                  help="The hidden layers' activation function f.")
cols[3].selectbox("Initialization", list(INITS), format_func=INITS.get, persist_state="session", key="keep_vg_init",
                  help="How the weights are drawn before training; biases start at 0.")
cols = st.columns(4)
cols[0].number_input("σ of the normal init", step=0.1, format="%.4f", persist_state="session", key="keep_vg_std",
                     disabled=st.session_state.keep_vg_init != "normal",
                     help=f"Standard deviation of W ~ N(0, σ²) for the 'normal' init, above 0 and at most {MAX_STD:g}. "
                          "Try 1 (too big) and 0.01 (too small).")
cols[1].toggle("Train a few steps", persist_state="session", key="keep_vg_train",
               help="Run SGD on the batch and record each layer's gradient size at every step.")
cols[2].slider("Training steps", 5, 60, step=5, persist_state="session", key="keep_vg_steps",
               disabled=not st.session_state.keep_vg_train,
               help="How many SGD steps to take on the fixed batch.")
cols[3].select_slider("η", [0.01, 0.05, 0.1, 0.5, 1.0, 2.0], persist_state="session", key="keep_vg_lr",
                      disabled=not st.session_state.keep_vg_train, help="SGD learning rate for the training steps.")

s = st.session_state
try:
    result = depth_experiment(s.keep_vg_depth, s.keep_vg_width, s.keep_vg_act, s.keep_vg_init, s.keep_vg_std,
                              steps=s.keep_vg_steps if s.keep_vg_train else 0, lr=s.keep_vg_lr)
except ValueError as e:
    st.error(str(e))
    result = None

if result is not None:
    explain(result, s)
    left, right = st.columns(2)
    left.plotly_chart(gradient_figure(result), key="grad_norms")
    right.plotly_chart(activation_figure(result, s.keep_vg_act), key="activations")
    if np.any(result.grad_norms == 0):
        left.caption("Bars at the very bottom of the axis are gradients that are exactly zero.")
if result is not None and s.keep_vg_train:
    st.plotly_chart(heatmap_figure(result), key="grad_heatmap")
    st.caption(f"Loss on the batch: {result.loss:.4f} at the start, {result.final_loss:.4f} after {s.keep_vg_steps} steps "
               f"(chance level for {CLASSES} classes: ln {CLASSES} = {np.log(CLASSES):.4f}).")
st.button("Reset", on_click=reset, help="Back to sigmoid + Xavier, 10 hidden layers of 32.")

remedies_section()

check_yourself([
    Question("A 10-layer sigmoid network with Xavier init. Roughly how much smaller is the first layer's "
             "gradient than the last hidden layer's?",
             ["About the same", "About 4×", "About 4⁹ ≈ 250 000×", "Exactly 0"], 2,
             "Each sigmoid layer multiplies the error by about ¼ (σ′ ≤ ¼), nine times on the way down."),
    Question("All weights start at 0 in a sigmoid network. What happens during training?",
             ["It trains normally", "All neurons in a layer stay identical", "The loss becomes NaN",
              "Only the first layer learns"], 1,
             "Identical neurons get identical gradients and identical updates, so the symmetry is never broken."),
    Question("Which initialization is designed for ReLU layers?", ["zeros", "N(0, 1)", "Xavier", "He"], 3,
             "He init uses variance 2/n_in, making up for ReLU setting half of its inputs to zero."),
], key="vg_quiz")
