"""BatchNorm, step by step: a batch of 4 examples × 3 features through BatchNorm and back, every number shown."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lab.steps import batchnorm_trace
from pages.ui.shell import run_inside_app
from pages.ui.tiny_net import col, mat, num

run_inside_app()

CHECK_TOLERANCE = 1e-6     # |backprop − central difference| below this passes (float64, h = 1e-6: errors ~1e-9)
DEFAULTS = {
    "bn_x": "1.0 20 101\n3.0 5 100\n-2.0 15 103\n2.0 -10 102",      # three features on three scales
    "bn_dy": "0.1 -0.2 0.3\n0.4 0.1 -0.1\n-0.3 0.2 0.2\n0.2 -0.1 0.0",
    "bn_gamma": "1.0 2.0 0.5",
    "bn_beta": "0.0 1.0 -1.0",
    "bn_running_mean": "0.0 0.0 0.0",
    "bn_running_var": "1.0 1.0 1.0",
}


ROUNDING = 1e-12           # |values| below this are float rounding of an exact 0 (e.g. 1e-17): shown as 0


def shown(M):
    """M with float rounding of exact zeros written as 0."""
    M = np.asarray(M)
    return np.where(np.abs(M) < ROUNDING, 0.0, M)


def term(v):
    """A number inside a sum: negative ones in parentheses."""
    return f"({num(v)})" if v < 0 else num(v)


def parse(text, name, shape):
    """Numbers separated by spaces (rows by new lines) as an array of `shape`; ValueError saying what is wrong."""
    try:
        rows = [[float(v) for v in line.replace(",", " ").split()] for line in text.strip().splitlines() if line.strip()]
    except ValueError:
        raise ValueError(f"{name}: write numbers separated by spaces (e.g. 1.5 -2 0.3)") from None
    values = np.array([v for r in rows for v in r])
    if len(shape) == 2 and (len(rows) != shape[0] or any(len(r) != shape[1] for r in rows)):
        raise ValueError(f"{name}: expected {shape[0]} rows of {shape[1]} numbers")
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{name}: expected {int(np.prod(shape))} numbers; got {values.size}")
    return values.reshape(shape)


st.title("BatchNorm, step by step")
st.markdown(r"""
Batch normalization standardizes each feature over the examples of a batch, then lets the network
rescale it with a learned $\gamma$ and shift it with a learned $\beta$. Below: a batch of **4 examples ×
3 features** (rows are examples), through BatchNorm in training mode, then backward from a given
$\partial L/\partial y$ — every number computed by the lab's own `BatchNorm` layer and written out.
Edit any number.
""")

for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)
c1, c2 = st.columns(2)
c1.text_area("Batch x (4 rows × 3 features)", key="bn_x", height=120)
c2.text_area("Upstream gradient ∂L/∂y (4 × 3)", key="bn_dy", height=120,
             help="What the layers above send back; the page's loss is L = Σ ∂L/∂y ⊙ y, so it is exactly this.")
c1, c2, c3, c4 = st.columns(4)
c1.text_input("γ (3)", key="bn_gamma")
c2.text_input("β (3)", key="bn_beta")
c3.text_input("Running mean (3)", key="bn_running_mean", help="What evaluation mode normalizes with.")
c4.text_input("Running variance (3)", key="bn_running_var")

try:
    x = parse(st.session_state["bn_x"], "x", (4, 3))
    t = batchnorm_trace(x, parse(st.session_state["bn_gamma"], "γ", (3,)),
                        parse(st.session_state["bn_beta"], "β", (3,)), parse(st.session_state["bn_dy"], "∂L/∂y", (4, 3)),
                        parse(st.session_state["bn_running_mean"], "running mean", (3,)),
                        parse(st.session_state["bn_running_var"], "running variance", (3,)))
except ValueError as e:
    st.error(f"Cannot compute: {e}")
    st.stop()

B = t.x.shape[0]

st.header("Forward (training mode)")
st.markdown("**1. The batch mean of each feature**, $\\mu_j = \\frac{1}{B}\\sum_b x_{bj}$:")
for j in range(3):
    terms = " + ".join(term(v) for v in t.x[:, j])
    st.latex(rf"\mu_{j + 1} = \tfrac{{1}}{{{B}}}({terms}) = {num(t.mu[j])}")
st.markdown("**2. The batch variance**, $\\sigma^2_j = \\frac{1}{B}\\sum_b (x_{bj} - \\mu_j)^2$ "
            "(divided by B, not B − 1):")
for j in range(3):
    terms = " + ".join(rf"({num(v)} - {num(t.mu[j])})^2" for v in t.x[:, j])
    st.latex(rf"\sigma^2_{j + 1} = \tfrac{{1}}{{{B}}}[{terms}] = {num(t.var[j])}")
st.markdown(f"**3. Normalize**, $\\hat x = (x - \\mu)/\\sqrt{{\\sigma^2 + \\varepsilon}}$ with "
            f"$\\varepsilon = 10^{{-5}}$; $\\sqrt{{\\sigma^2 + \\varepsilon}}$ = {', '.join(num(s) for s in t.std)}:")
st.latex(rf"\hat x = {mat(shown(t.x_hat))}")
st.markdown("**4. Scale and shift**, $y = \\gamma \\hat x + \\beta$ (feature by feature):")
st.latex(rf"y = {mat(shown(t.y))}")

st.header("Backward")
st.markdown(r"From the given $\delta = \partial L/\partial y$, every path from $x$ to $L$: $x$ reaches $\hat x$ "
            r"directly and through $\mu$ and $\sigma^2$.")
steps = [
    (r"d\beta = \sum_b \delta_b", col(shown(t.dbeta)), "dbeta"),
    (r"d\gamma = \sum_b \delta_b \odot \hat x_b", col(shown(t.dgamma)), "dgamma"),
    (r"d\hat x = \delta \odot \gamma", mat(shown(t.dx_hat)), "dx_hat"),
    (r"d\sigma^2 = \sum_b d\hat x_b \odot (x_b - \mu)\cdot\left(-\tfrac12\right)(\sigma^2 + \varepsilon)^{-3/2}",
     col(shown(t.dvar)), "dvar"),
    (r"d\mu = -\sum_b \frac{d\hat x_b}{\sqrt{\sigma^2 + \varepsilon}} + d\sigma^2 \cdot \frac{-2}{B}\sum_b (x_b - \mu)",
     col(shown(t.dmu)), "dmu"),
    (r"dx_b = \frac{d\hat x_b}{\sqrt{\sigma^2 + \varepsilon}} + d\sigma^2\,\frac{2(x_b - \mu)}{B} + \frac{d\mu}{B}",
     mat(shown(t.dx)), "dx"),
]
for formula, value, _ in steps:
    st.latex(rf"{formula} = {value}")
st.markdown(r"For feature 1, $d\beta_1 = " + " + ".join(term(v) for v in t.dy[:, 0]) + f" = {num(t.dbeta[0])}$ "
            r"and $d\gamma_1 = " + " + ".join(rf"{term(d)} \cdot {term(h)}" for d, h in zip(t.dy[:, 0], t.x_hat[:, 0]))
            + f" = {num(t.dgamma[0])}$. The second term of $d\\mu$ is 0: the deviations from the mean sum to 0.")
st.markdown("**The compact form** — substitute $x_b - \\mu = \\hat x_b \\sqrt{\\sigma^2 + \\varepsilon}$ and "
            "collect terms; this is what the lab's `BatchNorm.backward` computes:")
st.latex(rf"dx = \frac{{\gamma}}{{\sqrt{{\sigma^2 + \varepsilon}}}}\left(\delta - \mathrm{{mean}}_b\,\delta - "
         rf"\hat x \odot \mathrm{{mean}}_b(\delta \odot \hat x)\right) = {mat(shown(t.dx_compact))}")
st.success(f"Long and compact form agree: the largest difference is {np.max(np.abs(t.dx - t.dx_compact)):.1e}.")

st.subheader("Every gradient checked against central differences")
st.markdown(r"Each gradient is also measured by nudging: $\partial L/\partial\theta \approx "
            r"\frac{L(\theta + h) - L(\theta - h)}{2h}$, $h = 10^{-6}$ (for $d\hat x$, $d\mu$, $d\sigma^2$ the "
            r"others are held fixed, which is how those partial derivatives are defined).")
names = {"dbeta": "dβ", "dgamma": "dγ", "dx_hat": "dx̂", "dvar": "dσ²", "dmu": "dμ", "dx": "dx"}
rows = []
for _, _, key in steps:
    error = float(np.max(np.abs(getattr(t, key) - t.numeric[key])))
    rows.append({"gradient": names[key], "backprop (first entry)": f"{np.ravel(getattr(t, key))[0]:.4f}",
                 "central difference (first entry)": f"{np.ravel(t.numeric[key])[0]:.4f}",
                 "largest |difference|": f"{error:.1e}", "check": "passes" if error < CHECK_TOLERANCE else "FAILS"})
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.header("Training mode vs evaluation mode")
st.markdown(r"""
In training, each example is normalized with its **batch's** $\mu, \sigma^2$, so its output depends on
the other examples. In evaluation (predicting one digit at a time) there is no batch: BatchNorm uses the
**running** averages it kept during training instead. Same batch, both modes:
""")
st.latex(rf"y_\text{{train}} = \gamma\,\frac{{x - \mu}}{{\sqrt{{\sigma^2 + \varepsilon}}}} + \beta = {mat(shown(t.y))}")
st.latex(rf"y_\text{{eval}} = \gamma\,\frac{{x - \mu_\text{{run}}}}{{\sqrt{{\sigma^2_\text{{run}} + \varepsilon}}}} + \beta"
         rf" = {mat(shown(t.eval_y))}")
st.caption("With a fresh layer's running statistics (mean 0, variance 1) evaluation mode barely normalizes: the "
           "running averages need many training steps to reach the data's own mean and variance.")
st.markdown(r"After this training step the running statistics move 10 % of the way to the batch's (momentum 0.1, "
            r"as in PyTorch), with the **unbiased** variance $\sigma^2 \cdot B/(B-1)$:")
st.latex(rf"\mu_\text{{run}} \leftarrow 0.9 \cdot {col(shown(t.running_mean))} + 0.1 \cdot {col(shown(t.mu))}"
         rf" = {col(shown(t.new_running_mean))}")
st.latex(rf"\sigma^2_\text{{run}} \leftarrow 0.9 \cdot {col(shown(t.running_var))} + 0.1 \cdot \tfrac{{{B}}}{{{B - 1}}}"
         rf"{col(shown(t.var))} = {col(shown(t.new_running_var))}")

st.header("Why it helps")
st.markdown(r"""
Without it, each layer's inputs drift in scale and offset as the layers below learn, and a sigmoid or
ReLU can be pushed where its slope is 0. BatchNorm puts every feature back at mean 0 and variance 1 before
the activation — every feature on the same scale, whatever its raw range, as the picture shows — so the
activations stay where their slopes are useful and one learning rate suits all weights; $\gamma$ and
$\beta$ let the network undo it where that is better. The price: the output depends on the batch during
training, hence the running statistics for evaluation.
""")
fig = go.Figure()
for j in range(3):
    fig.add_scatter(x=t.x[:, j], y=[f"feature {j + 1}"] * B, mode="markers", name=f"x, feature {j + 1}",
                    marker={"size": 11, "symbol": "circle-open"})
    fig.add_scatter(x=t.x_hat[:, j], y=[f"feature {j + 1}"] * B, mode="markers", name=f"x̂, feature {j + 1}",
                    marker={"size": 11})
fig.update_layout(title="Each feature before (open) and after (filled) normalization", height=300,
                  xaxis_title="value", margin={"l": 10, "r": 10, "t": 40, "b": 10})
st.plotly_chart(fig, key="bn_picture", config={"displayModeBar": False})
