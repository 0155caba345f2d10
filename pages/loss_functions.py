"""Loss functions: MSE vs cross-entropy vs binary cross-entropy, on numbers and as curves."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.checks import parse_numbers
from core.losses import LOSSES, binary_cross_entropy, cross_entropy, mse
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

DEFAULTS = {
    "keep_loss_y": "0, 1, 0",
    "keep_loss_a": "0.1, 0.7, 0.2",
    "keep_loss_b": "0.1, 0.1, 0.8",
    "keep_loss_p": 0.1,
}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)
MSE_COLOR, CE_COLOR = palette.BLUE, palette.VERMILLION


def reset():
    st.session_state.update(DEFAULTS)


def read_vectors():
    """(y, {"A": ŷ_A, "B": ŷ_B}) from the text boxes; raises ValueError saying what is wrong."""
    y = parse_numbers(st.session_state.keep_loss_y, "Target y", max_count=10)
    if np.any((y < 0) | (y > 1)):
        raise ValueError("Target y: every entry must be between 0 and 1 (a one-hot vector like 0, 1, 0).")
    predictions = {}
    for name in ("A", "B"):
        p = parse_numbers(st.session_state[f"keep_loss_{name.lower()}"], f"Prediction {name}", max_count=10)
        if len(p) != len(y):
            raise ValueError(f"Prediction {name} has {len(p)} numbers but the target has {len(y)}.")
        if np.any((p < 0) | (p > 1)):
            raise ValueError(f"Prediction {name}: every entry must be a probability between 0 and 1.")
        predictions[name] = p
    return y, predictions


def worked_line(y, p, name):
    """The three losses of one prediction written out with its numbers (values from core.losses)."""
    squares = " + ".join(f"({pk:g} - {yk:g})^2" for pk, yk in zip(p, y))
    logs = " ".join(f"- {'' if yk == 1 else f'{yk:g}'}\\log {pk:g}" for pk, yk in zip(p, y) if yk != 0)
    return (rf"\text{{{name}:}}\quad \mathrm{{MSE}} = \tfrac{{1}}{{{len(y)}}}\left[{squares}\right] = {mse(p, y):.4g}"
            rf",\qquad \mathrm{{CE}} = {logs} = {cross_entropy(p, y):.4g}")


def losses_table(y, predictions):
    rows = {"MSE": mse, "cross-entropy": cross_entropy, "binary cross-entropy": binary_cross_entropy}
    return pd.DataFrame({f"prediction {name}": [fn(p, y) for fn in rows.values()]
                         for name, p in predictions.items()}, index=list(rows))


@st.cache_data(show_spinner=False)
def binary_curves():
    """binary_view over the plotted range: the same on every rerun, so computed once."""
    ps = np.linspace(0.005, 0.995, 199)                                 # (199,)
    return ps, binary_view(ps)


def binary_view(ps):
    """For target 1 and prediction p (one sigmoid output): losses, ∂L/∂p and ∂L/∂z, all from core."""
    one = np.ones((1, 1))
    curves = {"mse": [], "ce": [], "dmse_dp": [], "dce_dp": [], "dmse_dz": [], "dce_dz": []}
    for p in ps:
        yhat = np.array([[p]])                                         # (1, 1)
        curves["mse"].append(mse(yhat, one))
        curves["ce"].append(binary_cross_entropy(yhat, one))
        curves["dmse_dp"].append(float(LOSSES["mse"].slope(yhat, one)[0, 0]))
        curves["dce_dp"].append(float(LOSSES["bce"].slope(yhat, one)[0, 0]))
        curves["dmse_dz"].append(float(LOSSES["mse"].delta("sigmoid", yhat, one)[0, 0]))
        curves["dce_dz"].append(float(LOSSES["bce"].delta("sigmoid", yhat, one)[0, 0]))
    return {k: np.array(v) for k, v in curves.items()}


def curve_figure(ps, mse_curve, ce_curve, title, y_title, probe, marks, y_range):
    fig = go.Figure()
    fig.add_scatter(x=ps, y=mse_curve, name="MSE", line=dict(color=MSE_COLOR, width=3))
    fig.add_scatter(x=ps, y=ce_curve, name="cross-entropy", line=dict(color=CE_COLOR, width=3))
    fig.add_vline(x=probe, line=dict(color="gray", dash="dash"))
    for label, p in marks.items():
        fig.add_vline(x=p, line=dict(color="#999", width=1), annotation_text=label, annotation_position="top")
    fig.update_layout(title=title, height=340, margin=dict(l=10, r=10, t=50, b=10), yaxis_range=y_range,
                      xaxis_title="p = predicted probability of the true class", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.3))
    return fig


st.title("Loss functions")
st.markdown(r"""The loss scores a prediction $\hat y$ against the target $y$; training moves the weights downhill on it.
For $K$ outputs (one-hot $y$, probabilities $\hat y$):""")
st.latex(r"""\mathrm{MSE} = \frac1K \sum_k (\hat y_k - y_k)^2, \qquad
\mathrm{CE} = -\sum_k y_k \log \hat y_k, \qquad
\mathrm{BCE} = -\frac1K \sum_k \bigl[y_k \log \hat y_k + (1 - y_k)\log(1 - \hat y_k)\bigr]""")
st.markdown(r"""Cross-entropy only looks at the probability given to the true class, $-\log \hat y_{\text{true}}$, and
punishes confident mistakes without limit. Binary cross-entropy treats every output as its own yes/no
question (sigmoid outputs). Edit the target and the two predictions:""")

cols = st.columns(3)
cols[0].text_input("Target y", persist_state="session", key="keep_loss_y",
                   help="One-hot target, e.g. 0, 1, 0 (the true class is 1).")
cols[1].text_input("Prediction A", persist_state="session", key="keep_loss_a",
                   help="Probabilities for each class, e.g. a softmax output 0.1, 0.7, 0.2.")
cols[2].text_input("Prediction B", persist_state="session", key="keep_loss_b",
                   help="A second prediction to compare; by default a confident wrong one.")

true_class = None
try:
    y, predictions = read_vectors()
    st.dataframe(losses_table(y, predictions),
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("prediction A",
                                                                                          "prediction B")})
    for name, p in predictions.items():
        st.latex(worked_line(y, p, name))
        if abs(p.sum() - 1) > 1e-6:
            st.warning(f"Prediction {name} sums to {p.sum():.3g}, not 1. A softmax output always sums to 1; "
                       "the losses are computed from the numbers as given.")
        if np.any(p[y > 0] == 0):
            st.warning(f"Prediction {name} gives probability 0 to the true class: log 0 = −∞, "
                       "so the cross-entropy is computed with p clipped at 1e-12.")
    if np.count_nonzero(y) == 1 and np.isclose(y.sum(), 1):
        true_class = int(np.argmax(y))
        pa, pb = predictions["A"][true_class], predictions["B"][true_class]
        st.markdown(f"A gives the true class p = {pa:g}, B gives it p = {pb:g}. Cross-entropy is −log p: "
                    f"{cross_entropy(predictions['A'], y):.3f} for A, {cross_entropy(predictions['B'], y):.3f} for B, "
                    f"and it grows without limit as p → 0. MSE of probabilities that sum to 1 can never exceed "
                    f"2/K = {2 / len(y):.3g}, however wrong the prediction.")
    else:
        st.info("With a target that is not one-hot, cross-entropy mixes several classes' log-probabilities.")
except ValueError as e:
    st.error(str(e))

st.subheader("Why cross-entropy learns faster when it is wrong")
st.markdown(r"""Take one sigmoid output $p = \sigma(z)$ for the true class (target 1). The gradient that reaches the
logit $z$ is what trains the weights below it:""")
st.latex(r"""\frac{\partial\,\mathrm{MSE}}{\partial z} = 2(p - 1)\,\underbrace{p(1 - p)}_{\sigma'(z)}, \qquad
\frac{\partial\,\mathrm{CE}}{\partial z} = p - 1""")
st.markdown(r"""When the network is badly wrong ($p \to 0$) the sigmoid is saturated, $\sigma'(z) \to 0$, and MSE's
gradient vanishes: it barely learns from its worst mistakes. Cross-entropy's $-\log p$ cancels the
$\sigma'$ exactly, so its push stays near $-1$.""")
st.slider("Probability of the true class p", 0.01, 0.99, step=0.01, persist_state="session", key="keep_loss_p",
          help="Slide to read the losses and gradients at one p (the dashed line in both plots).")
p = st.session_state.keep_loss_p
ps, curves = binary_curves()
at_p = binary_view([p])
marks = {}
if true_class is not None:
    marks = {"A": float(predictions["A"][true_class]), "B": float(predictions["B"][true_class])}
left, right = st.columns(2)
left.plotly_chart(curve_figure(ps, curves["mse"], curves["ce"], "Loss", "L", p, marks, [0, 5]), key="loss_curves")
right.plotly_chart(curve_figure(ps, curves["dmse_dz"], curves["dce_dz"], "Gradient reaching the logit",
                                "∂L/∂z", p, marks, [-1.1, 0.1]), key="grad_curves")
if marks:
    st.caption("A and B mark the probability each prediction above gives the true class. Cross-entropy depends "
               "on that number alone, so its curve meets the table's values there; the MSE curve is for this one "
               "sigmoid output, (p − 1)², not the K-output MSE of the table.")
st.dataframe(pd.DataFrame({"loss L": [at_p["mse"][0], at_p["ce"][0]], "∂L/∂p": [at_p["dmse_dp"][0], at_p["dce_dp"][0]],
                           "∂L/∂z": [at_p["dmse_dz"][0], at_p["dce_dz"][0]]}, index=["MSE", "cross-entropy"]),
             column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("loss L", "∂L/∂p", "∂L/∂z")})
ratio = at_p["dce_dz"][0] / at_p["dmse_dz"][0]
st.caption(f"At p = {p:g} cross-entropy pushes the logit {ratio:.1f}× as hard as MSE.")
st.button("Reset to example", on_click=reset, help="Back to y = (0, 1, 0) and the two example predictions.")

check_yourself([
    Question("y = (0, 1, 0) and ŷ = (0.1, 0.7, 0.2). What is the cross-entropy?",
             ["0.0467", "0.357", "0.7", "2.303"], 1, "CE = −log 0.7 = 0.357: only the true class's probability counts."),
    Question("Why does sigmoid + MSE learn slowly when the prediction is badly wrong (p ≈ 0)?",
             ["The loss is 0 there", "σ′(z) ≈ 0 multiplies the gradient", "MSE is not differentiable",
              "The learning rate is too big"], 1,
             "∂MSE/∂z = 2(p − 1) σ′(z), and σ′(z) → 0 when the sigmoid is saturated."),
    Question("A prediction gives the true class probability 0.1. Its cross-entropy is about…",
             ["0.1", "0.9", "2.303", "10"], 2, "−log 0.1 = log 10 ≈ 2.303."),
], key="loss_quiz")
