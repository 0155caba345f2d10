"""Activation functions: the curves, their slopes, a probe, the sigmoid table and softmax step by step."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.activations import get_activation, sigmoid_prime
from core.checks import parse_numbers
from lab.steps import softmax_steps
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

FUNCTIONS = {name: get_activation(name).title for name in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")}
FORMULAS = {          # LaTeX of f(z) and f'(z), as core/activations.py's docstrings state them
    "sigmoid": (r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))"),
    "tanh": (r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"\tanh'(z) = 1 - \tanh^2(z)"),
    "relu": (r"\mathrm{ReLU}(z) = \max(0, z)", r"\mathrm{ReLU}'(z) = [z > 0]"),
    "leaky_relu": (r"\mathrm{LReLU}(z) = \max(\alpha z, z)", r"\mathrm{LReLU}'(z) = 1 \text{ if } z > 0 \text{ else } \alpha"),
    "gelu": (r"\mathrm{GELU}(z) \approx \tfrac12 z\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(z + 0.044715 z^3)\right)\right)",
             r"\mathrm{GELU}'(z) = \tfrac12(1 + t) + \tfrac12 z (1 - t^2)\sqrt{2/\pi}(1 + 0.134145 z^2)"),
}
COLORS = dict(zip(FUNCTIONS, palette.CATEGORICAL))
DIGITS = "%.4f"           # every table on the page rounds to 4 decimals
X_RANGE = (-5.0, 5.0)
DEFAULTS = {
    "keep_act_show": ["sigmoid", "relu"],    # 4 curves with their slopes; all 5 would be 10 overlaid lines
    "keep_act_derivative": True,
    "keep_act_alpha": 0.1,
    "keep_act_x": 0.75,
    "keep_act_points": "-2, 0, 0.75, 3",
    "keep_act_logits": "2, 1, 0.1",
    "keep_act_temperature": 1.0,
}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


def reset():
    st.session_state.update(DEFAULTS)


def activation(name, alpha):
    return get_activation(name, alpha) if name == "leaky_relu" else get_activation(name)


def curves_figure(names, alpha, show_derivative, probe):
    xs = np.linspace(*X_RANGE, 401)                                    # (401,)
    fig = go.Figure()
    for name in names:
        act = activation(name, alpha)
        fig.add_scatter(x=xs, y=act.f(xs), name=FUNCTIONS[name], line=dict(color=COLORS[name], width=3))
        if show_derivative:
            fig.add_scatter(x=xs, y=act.prime(xs), name=f"{FUNCTIONS[name]}′",
                            line=dict(color=COLORS[name], width=2, dash="dot"))
        fig.add_scatter(x=[probe], y=[float(act.f(np.array(probe)))], mode="markers", showlegend=False,
                        marker=dict(color=COLORS[name], size=10), hoverinfo="skip")
    fig.add_vline(x=probe, line=dict(color="gray", dash="dash"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="x",
                      yaxis_title="f(x)  (dotted: f′(x))", yaxis_range=[-1.5, 3.0],
                      legend=dict(orientation="h", y=1.1))
    return fig


def probe_table(names, alpha, x):
    rows = []
    for name in names:
        act = activation(name, alpha)
        rows.append({"function": FUNCTIONS[name], "f(x)": float(act.f(np.array(x))),
                     "f′(x)": float(act.prime(np.array(x)))})
    return pd.DataFrame(rows)


def softmax_panel():
    st.subheader("Softmax: scores into probabilities")
    st.markdown(
        r"The output layer of a classifier turns K scores (logits) into probabilities that sum to 1. "
        r"Dividing by a temperature $T$ first makes the distribution sharper ($T < 1$) or flatter ($T > 1$):")
    st.latex(r"p_k = \frac{e^{z_k/T - m}}{\sum_j e^{z_j/T - m}}, \qquad m = \max_j z_j/T")
    left, right = st.columns(2)
    left.text_input("Logits z (comma-separated)", persist_state="session", key="keep_act_logits",
                    help="Two to ten scores, any real numbers, e.g. 2, 1, 0.1.")
    right.slider("Temperature T", 0.1, 5.0, step=0.1, persist_state="session", key="keep_act_temperature",
                 help="Divides every logit before the softmax. T → 0 picks the largest; large T spreads evenly.")
    try:
        z = parse_numbers(st.session_state.keep_act_logits, "Logits", min_count=2, max_count=10, max_abs=1e4)
    except ValueError as e:
        st.error(str(e))
        return
    T = st.session_state.keep_act_temperature
    steps = softmax_steps(z / T)
    labels = [f"class {k}" for k in range(len(z))]
    table = pd.DataFrame({"z": z, "z / T": steps["z"], "1. z/T − max": steps["shifted"],
                          "2. exp": steps["exp"], "3. p = exp / Σ": steps["p"]}, index=labels)
    st.markdown(f"""1. **Subtract the max** $m = {steps['z'].max():.4g}$, so the largest exponent is $e^0 = 1$: no overflow.
2. **Exponentiate**: every entry becomes positive.
3. **Normalise**: divide by the sum $\\Sigma = {steps['sum']:.4f}$, so the probabilities add up to 1.""")
    col_table, col_bars = st.columns([3, 2])
    col_table.dataframe(table.T, column_config={c: st.column_config.NumberColumn(format=DIGITS) for c in labels})
    bars = go.Figure(go.Bar(x=labels, y=steps["p"], marker_color=palette.BLUE,
                            text=[f"{p:.4f}" for p in steps["p"]], textposition="outside"))
    bars.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_range=[0, 1.15],
                       yaxis_title="probability")
    col_bars.plotly_chart(bars, key="softmax_bars")


st.title("Activation functions")
st.markdown(
    r"""Each neuron computes $z = w \cdot a + b$ and passes it through a non-linear **activation** $a = f(z)$.
Without $f$ a stack of layers is one big linear map; with it the network can bend its decision boundary.
Backprop multiplies the error by $f'(z)$ at every layer, so the **slope** of $f$ matters as much as $f$:""")
st.latex(r"\delta_{l} = (W_{l+1}^\top \delta_{l+1}) \odot f'(z_l)")
st.markdown(r"Pick which functions to draw (two to start with: add tanh, leaky ReLU and GELU from **Show**), move "
            r"the probe $x$, and read off $f(x)$ and $f'(x)$ below the plot.")

controls = st.columns([3, 1, 2])
controls[0].pills("Show", list(FUNCTIONS), format_func=FUNCTIONS.get, selection_mode="multi", persist_state="session",
                  key="keep_act_show",
                  help="Which activation functions to draw and list in the probe table.")
controls[1].toggle("Derivatives", persist_state="session", key="keep_act_derivative",
                   help="Overlay f′(z) as dotted lines: the factor backprop multiplies by.")
controls[2].slider("Leaky ReLU slope α", 0.0, 0.3, step=0.01, persist_state="session", key="keep_act_alpha",
                   help="LeakyReLU(z) = z for z > 0, αz otherwise. Networks usually use α = 0.01; "
                        "0.1 is easier to see.")
st.slider("Probe x", *X_RANGE, step=0.05, persist_state="session", key="keep_act_x",
          help="The point where the table below evaluates every function and its slope.")

shown = [name for name in FUNCTIONS if name in (st.session_state.keep_act_show or [])]
alpha, probe = st.session_state.keep_act_alpha, st.session_state.keep_act_x
if not shown:
    st.warning("Pick at least one function to show.")
else:
    st.plotly_chart(curves_figure(shown, alpha, st.session_state.keep_act_derivative, probe), key="curves",
                    config={"displayModeBar": False})     # the toolbar would sit on top of the legend
    st.markdown(f"**At x = {probe:g}:**")
    st.dataframe(probe_table(shown, alpha, probe), hide_index=True,
                 column_config={c: st.column_config.NumberColumn(format=DIGITS) for c in ("f(x)", "f′(x)")})
    with st.expander("Formulas"):
        for name in shown:
            st.latex(FORMULAS[name][0] + r"\qquad " + FORMULAS[name][1])

st.subheader("The sigmoid at a few points")
st.latex(r"\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr) \le \tfrac14")
st.text_input("x values", persist_state="session", key="keep_act_points",
              help="Up to 12 numbers separated by commas, e.g. -2, 0, 0.75, 3.")
try:
    points = parse_numbers(st.session_state.keep_act_points, "x values", max_count=12, max_abs=1e4)
    sig = get_activation("sigmoid")
    st.dataframe(pd.DataFrame({"x": points, "σ(x)": sig.f(points), "σ′(x)": sig.prime(points)}),
                 hide_index=True,
                 column_config={c: st.column_config.NumberColumn(format=DIGITS) for c in ("σ(x)", "σ′(x)")})
    flattest = points[np.argmin(sig.prime(points))]
    st.caption(f"The slope is largest at x = 0, where σ′ = {float(sig.prime(0.0)):g}. Among these points it is "
               f"smallest at x = {flattest:g}: σ′ = {float(sig.prime(flattest)):.3g}.")
except ValueError as e:
    st.error(str(e))

st.subheader("Three things to watch for")
st.markdown(
    rf"""**Saturation.** For large $|z|$, sigmoid and tanh are flat: $\sigma'(4) \approx {float(sigmoid_prime(4.0)):.3f}$. A saturated
neuron passes almost no gradient back, and since $\sigma' \le \tfrac14$ every sigmoid layer multiplies the error by at most
¼ (times its weights) — the *vanishing gradient* (see the Vanishing gradients page).

**Dying ReLU.** $\mathrm{{ReLU}}'(z) = 0$ for $z < 0$. A neuron whose $z$ is negative for every input gets no
gradient and never recovers. Leaky ReLU keeps a slope $\alpha$ there; GELU is a smooth ReLU with a small
negative dip.

**Zero-centred outputs.** Sigmoid outputs are always positive, so all weights into the next neuron get
gradients of the same sign and zig-zag towards their target; tanh $= 2\sigma(2z) - 1$ is centred on 0.""")

softmax_panel()
st.button("Reset to example", on_click=reset, help="Back to the default functions, points and logits.")

check_yourself([
    Question("What is the largest value σ′(z) can take?", ["1", "0.5", "0.25", "0.1"], 2,
             "σ′ = σ(1 − σ) peaks at σ = ½, giving ½·½ = ¼."),
    Question("A ReLU neuron has z < 0 for every training example. What gradient reaches its weights?",
             ["A small one", "Zero", "The same as for an active neuron", "A negative one"], 1,
             "ReLU′(z) = 0 for z < 0, so δ = 0 and the neuron stops learning: it has died."),
    Question("Softmax of logits (2, 1, 0.1) at temperature T = 0.5 compared with T = 1 is…",
             ["flatter", "sharper: more mass on class 0", "the same", "no longer sums to 1"], 1,
             "Dividing by T < 1 stretches the gaps between logits, so the largest one takes more probability."),
], key="act_quiz")
