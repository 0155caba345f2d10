"""Backpropagation: one gradient-descent step on a tiny MLP, every number of the chain rule shown."""
import numpy as np
import pandas as pd
import streamlit as st

from core.gradcheck import gradient_check
from core.graph import (
    GRAPH_LOSSES,
    neuron_graph,
    softmax_jacobian,
)
from core.optim import SGD
from core.trace import trace_step
from lab.exercises import graph_exercise, network_exercise, random_network
from lab.steps import chain_product, chain_through_outputs, graph_path
from pages.ui import tiny_net as tn
from pages.ui.by_hand import by_hand
from pages.ui.diagram import graph_figure, loss_curve, network_figure
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

GREEN_BELOW = 1e-6        # a gradient check passes when the relative error is below this
PASS_STYLE, FAIL_STYLE = "background-color: #d8f3dc", "background-color: #ffd6d6"

st.title("Backpropagation")
st.markdown(r"""
Learning means nudging every weight against its gradient, $W \leftarrow W - \eta\,\partial L/\partial W$.
Backpropagation computes all those gradients in one sweep from the output back to the input, reusing
each layer's error $\delta_l = \partial L/\partial z_l$ for the layer below:
""")
st.latex(r"\delta_L = \hat y - y, \qquad \frac{\partial L}{\partial W_l} = \delta_l\, a_{l-1}^{\top}, \qquad "
         r"\delta_{l-1} = \left(W_l^{\top} \delta_l\right) \odot f'(z_{l-1})")
st.markdown(r"""
Each line is the chain rule: a weight changes $z$, $z$ changes $a$, $a$ changes the next layer, and so
on up to the loss. The network below is this page's own and starts as the worked example (sigmoid
hidden layer, $b_1 = 0$, target class 0, $\eta = 0.5$). **Use the network from the Forward pass page**
copies the one you built there; edits here never change that page.
""")

net = tn.controls("backprop")
ss = st.session_state
K = tn.sizes_from_state("backprop")[-1]
ss["keep_backprop_target"] = min(ss["keep_backprop_target"], K - 1)
c1, c2, c3 = st.columns([1, 1, 2])
c1.selectbox("Target class", list(range(K)), key="keep_backprop_target", persist_state="session",
             help="The right answer for this example: y is the one-hot vector with a 1 at this class.")
c2.number_input("Learning rate η", 0.0, 10.0, step=0.1, format="%.3f", key="keep_backprop_lr", persist_state="session",
                help="How far each update moves the weights: W ← W − η ∂L/∂W.")
c3.radio("Loss", list(tn.LOSS_CHOICES), key="keep_backprop_loss", persist_state="session", horizontal=True,
         help="Cross-entropy after a softmax gives δ = ŷ − y. MSE after sigmoid outputs keeps the sigmoid's "
              "slope ŷ(1 − ŷ) in δ, so a confidently wrong output learns slowly.")
output, loss_name = tn.LOSS_CHOICES[ss["keep_backprop_loss"]]
target, lr = ss["keep_backprop_target"], ss["keep_backprop_lr"]


# ---- the stages of one step -----------------------------------------------------------------

def sizes_of(t):
    return [t.x.size] + [layer.z.size for layer in t.layers]


SIGNS = "blue positive, orange negative, thicker = larger"
LEGENDS = {   # what the diagram's colours and lines mean, per kind of step
    "weight": f"Circles: each neuron's activation a. Lines: the weights ({SIGNS}).",
    "gradient": f"Circles: each neuron's error δ = ∂L/∂z. Lines: the gradients ∂L/∂w computed so far ({SIGNS}); "
                "grey lines have no gradient yet.",
    "weight or gradient": f"Circles: each neuron's error δ. The lit lines are weights, labelled with their values "
                          f"({SIGNS}): the error travels back along them. Other lines: gradients computed so far.",
    "new weight": f"Circles: the activations of the updated network on the same example. Lines: the weights "
                  f"after the update ({SIGNS}).",
}
UPDATE_LEGEND = (f"Circles: the activations before the update (they produced these gradients). Lines: the weights "
                 f"after the update ({SIGNS}).")


def stage(title, what, lines, values, name, edges, kind, lit_layers=(), lit_edges=(), legend=None):
    """One step: its title, a sentence, LaTeX lines, what the diagram shows (values per layer, edges) and a
    legend saying what its circles and lines mean (by default the one for this kind of edge)."""
    return dict(title=title, what=what, lines=lines, values=values, name=name, edges=edges, kind=kind,
                lit_layers=set(lit_layers), lit_edges=set(lit_edges), legend=legend or LEGENDS[kind])


def loss_lines(t):
    c, L = t.label, len(t.layers)
    if t.loss_name == "cross_entropy":
        return [rf"L = -\sum_k y_k \log \hat y_k = -\log \hat y_{{{c}}} = -\log({tn.num(t.y_hat[c])}) = {tn.num(t.loss)}"]
    diffs = " + ".join(rf"({tn.num(p)} - {tn.num(y)})^2" for p, y in zip(t.y_hat, t.y))
    return [rf"\hat y = \sigma(z_{L}) = {tn.col(t.y_hat)}, \quad y = {tn.col(t.y)}",
            rf"L = \frac{{1}}{{K}}\sum_k (\hat y_k - y_k)^2 = \frac{{1}}{{{t.y.size}}}\left[{diffs}\right]"
            rf" = {tn.num(t.loss)}"]


def output_delta_lines(t):
    L, out = len(t.layers), t.out
    if t.loss_name == "cross_entropy":
        return [rf"\delta_{L} = \frac{{\partial L}}{{\partial z_{L}}} = \hat y - y = {tn.col(t.y_hat)} - {tn.col(t.y)}"
                rf" = {tn.col(out.delta)}"]
    slope = t.y_hat * (1 - t.y_hat)
    return [rf"\delta_{L} = \frac{{\partial L}}{{\partial \hat y}} \odot \sigma'(z_{L}) = "
            rf"\frac{{2}}{{K}}(\hat y - y) \odot \hat y (1 - \hat y)",
            rf"= {tn.col(t.dL_dyhat)} \odot {tn.col(slope)} = {tn.col(out.delta)}"]


def gradient_lines(l, layer):
    a = "x" if l == 1 else f"a_{l - 1}"
    return [rf"\frac{{\partial L}}{{\partial W_{l}}} = \delta_{l}\, {a}^{{\top}} = "
            rf"{tn.col(layer.delta)}{tn.row(layer.a_in)} = {tn.outer_rows(layer.delta, layer.a_in)}"
            rf" = {tn.mat(layer.dW)}",
            rf"\frac{{\partial L}}{{\partial b_{l}}} = \delta_{l} = {tn.col(layer.db)}"]


def hidden_delta_lines(l, layer, above, activation):
    f = tn.ACTIVATION_TEX[activation]
    return [rf"\delta_{l} = \left(W_{l + 1}^{{\top}} \delta_{l + 1}\right) \odot {f}'(z_{l}) = "
            rf"\left({tn.mat(above.W.T)} {tn.col(above.delta)}\right) \odot {f}'\!\left({tn.col(layer.z)}\right)",
            rf"= {tn.col(layer.back)} \odot {tn.col(layer.f_prime)} = {tn.col(layer.delta)}"]


def backprop_stages(t, after):
    """Forward, loss, δ_L, gradients of the last layer, then δ and gradients layer by layer down, update, new loss.
    `after` is the forward pass of the updated network (the trace of a step with η = 0)."""
    L = len(t.layers)
    forward_values = [t.x] + [layer.a for layer in t.layers]
    weights = [layer.W for layer in t.layers]
    f = tn.ACTIVATION_TEX[t.activation]
    out_f = r"\mathrm{softmax}" if t.output == "softmax" else r"\sigma"
    lines = []
    for l, layer in enumerate(t.layers, start=1):
        prev = "x" if l == 1 else f"a_{l - 1}"
        act = rf"\hat y = {out_f}(z_{l})" if l == L else rf"a_{l} = {f}(z_{l})"
        lines.append(rf"z_{l} = W_{l}{prev} + b_{l} = {tn.col(layer.z)}, \quad {act} = {tn.col(layer.a)}")
    stages = [stage("Forward pass", "Run the example forward and keep every z and a: the backward pass needs them.",
                    lines, forward_values, "a", weights, "weight"),
              stage("Loss", "Score the prediction against the target.", loss_lines(t), forward_values, "a",
                    weights, "weight", lit_layers=[L])]
    deltas = [None] * (L + 1)
    grads = [None] * L
    deltas[L] = t.out.delta
    stages.append(stage(f"δ{tn.sub(L)} = ∂L/∂z{tn.sub(L)}", "The error of each output neuron: how the loss "
                        "changes when that neuron's z changes.", output_delta_lines(t), list(deltas), "δ",
                        list(grads), "gradient", lit_layers=[L]))
    for l in range(L, 0, -1):
        layer = t.layers[l - 1]
        if l < L:
            deltas[l] = layer.delta
            along = list(grads)
            along[l] = t.layers[l].W             # the lit lines: the weights the error travels back along
            stages.append(stage(
                f"δ{tn.sub(l)} = (W{tn.sub(l + 1)}ᵀδ{tn.sub(l + 1)}) ⊙ f'(z{tn.sub(l)})",
                f"Send the errors back along the same weights (the lit lines are W{tn.sub(l + 1)}, used transposed), "
                f"then multiply by each neuron's slope f'(z): a neuron with a flat activation passes little error back.",
                hidden_delta_lines(l, layer, t.layers[l], t.activation), list(deltas), "δ", along, "weight or gradient",
                lit_layers=[l, l + 1], lit_edges=[l]))
        grads[l - 1] = layer.dW
        stages.append(stage(
            f"∂L/∂W{tn.sub(l)}, ∂L/∂b{tn.sub(l)}",
            "Each weight's gradient is (error of the neuron it feeds) × (activity of the neuron it comes from).",
            gradient_lines(l, layer), list(deltas), "δ", list(grads), "gradient", lit_layers=[l - 1, l],
            lit_edges=[l - 1]))
    update = []
    for l, layer in enumerate(t.layers, start=1):
        update.append(rf"W_{l} \leftarrow W_{l} - \eta\,\frac{{\partial L}}{{\partial W_{l}}} = {tn.mat(layer.W)} - "
                      rf"{tn.num(t.lr)}{tn.mat(layer.dW)} = {tn.mat(layer.W_new)}")
        update.append(rf"b_{l} \leftarrow {tn.col(layer.b)} - {tn.num(t.lr)}{tn.col(layer.db)} = {tn.col(layer.b_new)}")
    new_weights = [layer.W_new for layer in t.layers]
    stages.append(stage("Update", "Move every weight and bias a step of size η against its gradient.", update,
                        forward_values, "a", new_weights, "new weight", lit_edges=range(L), legend=UPDATE_LEGEND))
    change = "down" if t.new_loss < t.loss else "up"
    stages.append(stage(
        "New loss", f"Run the same example through the updated network: the loss went {change}.",
        [rf"\hat y_{{\text{{new}}}} = {tn.col(t.new_y_hat)}, \qquad L: {tn.num(t.loss)} \;\to\; {tn.num(t.new_loss)}"],
        [after.x] + [layer.a for layer in after.layers], "a", new_weights, "new weight", lit_layers=[L]))
    return stages


def stage_figure(t, s):
    """Neurons coloured by s["values"] (δ in backward steps) and labelled with them, or with their forward
    value where nothing is computed yet in this step."""
    sizes = sizes_of(t)
    forward = [t.x] + [layer.a for layer in t.layers]
    values = [None if v is None else np.asarray(v) for v in s["values"]]
    labels = []
    for l in range(len(sizes)):
        name, shown = (s["name"], values[l]) if values[l] is not None else ("a", forward[l])
        name = "x" if l == 0 else ("ŷ" if l == len(sizes) - 1 and name == "a" else name)
        labels.append([f"{name}={v:.3g}".replace("-", "−") for v in shown])
    edges = [None if E is None else np.asarray(E) for E in s["edges"]]
    return network_figure(sizes, values, labels, edges, edge_kind=s["kind"], lit_layers=s["lit_layers"],
                          lit_edges=s["lit_edges"])


# ---- training on this one example -------------------------------------------------------------

def train(steps):
    """Callback: `steps` SGD steps on the example; the new weights go back into the cells."""
    current, _ = tn.read_network("backprop")
    if current is None:
        return
    o, l = tn.LOSS_CHOICES[ss["keep_backprop_loss"]]
    model = current.mlp(o, l)
    opt = SGD(ss["keep_backprop_lr"])
    X, y = current.x[None, :], np.array([ss["keep_backprop_target"]])
    history = ss[tn.LOSS_HISTORY]
    for _ in range(steps):     # one entry per step taken (the loss before it); the current loss is shown live
        history.append(float(model.train_step(X, y, opt)))
    tn.write_numbers("backprop", current.sizes, current.x, model.weights, model.biases)


def new_exercise():
    """Callback: fresh numbers for this network's shape from the exercise seed (then the seed moves on, so
    the next press gives another exercise; a class given different seeds cannot copy answers)."""
    sizes, seed = tn.sizes_from_state("backprop"), int(ss["keep_backprop_hand_seed"])
    x, weights, biases, target = random_network(seed, sizes, ss["keep_backprop_net_activation"])
    tn.write_numbers("backprop", sizes, x, weights, biases)
    ss["keep_backprop_target"] = target
    ss["keep_backprop_hand_seed"] = seed + 1


def exercise_id(*parts):
    """What an exercise was made from, as text: progress belongs to these numbers."""
    return repr([np.round(np.asarray(p, dtype=float), 12).tolist() if isinstance(p, (list, np.ndarray)) else p
                 for p in parts])


# ---- the page --------------------------------------------------------------------------------

ss.setdefault("keep_backprop_hand_seed", 1)
tab_step, tab_hand, tab_train, tab_check, tab_graph = st.tabs(
    ["Step through one update", "Backprop by hand", "Train", "Gradient check", "Computational graph (one neuron)"])

if net is not None:
    model = net.mlp(output, loss_name)
    trace = trace_step(model, net.x, target, lr)
    updated = tn.TinyNet(net.sizes, net.activation, net.x, [layer.W_new for layer in trace.layers],
                         [layer.b_new for layer in trace.layers])
    after = trace_step(updated.mlp(output, loss_name), net.x, target, 0.0)   # forward pass of the updated network
    stages = backprop_stages(trace, after)
    with tab_step:
        step = tn.step_walker("backprop", [s["title"] for s in stages], "step of the forward and backward pass")
        current = stages[step]
        left, right = st.columns([1.6, 1], vertical_alignment="center")
        with left:
            st.plotly_chart(stage_figure(trace, current), key="backprop_diagram", config={"displayModeBar": False})
        with right:
            st.markdown(f"**Step {step + 1} of {len(stages)}: {current['title']}**")
            st.markdown(current["what"])
            st.caption(current["legend"] + " Orange outlines: what this step uses.")
        for k, s in enumerate(stages[:step + 1]):
            st.markdown(f"**{k + 1}. {s['title']}**" + ("  ← this step" if k == step else ""))
            for line in s["lines"]:
                st.latex(line)

        with st.expander("Why is δ = ŷ − y? The chain rule over every path"):
            if output == "softmax":
                J = softmax_jacobian(trace.y_hat)
                delta, terms = chain_through_outputs(trace.dL_dyhat, J)
                st.markdown(r"""
With softmax, every output $\hat y_k$ depends on *every* logit $z_j$, so $z_j$ reaches the loss along
$K$ paths and the chain rule adds them:""")
                st.latex(r"\frac{\partial L}{\partial z_j} = \sum_k \frac{\partial L}{\partial \hat y_k}"
                         r"\frac{\partial \hat y_k}{\partial z_j}, \qquad \frac{\partial L}{\partial \hat y_k} = "
                         r"-\frac{y_k}{\hat y_k}, \qquad \frac{\partial \hat y_k}{\partial z_j} = "
                         r"\hat y_k\,(\mathbb 1[k = j] - \hat y_j).")
                st.markdown(r"""
Multiplying out: $\frac{\partial L}{\partial z_j} = -\sum_k y_k (\mathbb 1[k=j] - \hat y_j)
= -y_j + \hat y_j \sum_k y_k = \hat y_j - y_j$, since the $y_k$ add up to 1. With this example's numbers:
""")
                for j in range(len(delta)):
                    paths = " + ".join(rf"\underbrace{{{tn.factor(trace.dL_dyhat[k])}\cdot{tn.factor(J[k, j])}}}"
                                       rf"_{{\text{{via }}\hat y_{k}}}" for k in range(len(delta)))
                    st.latex(rf"\frac{{\partial L}}{{\partial z_{{{j}}}}} = {paths} = {tn.num(delta[j])}"
                             rf" = \hat y_{j} - y_{j} = {tn.num(trace.y_hat[j])} - {tn.num(trace.y[j])}")
            else:
                st.markdown(r"""
With sigmoid outputs each $\hat y_k = \sigma(z_k)$ depends only on its own $z_k$: one path, and the
sigmoid's slope stays in, $\delta_k = \frac{2}{K}(\hat y_k - y_k)\,\hat y_k(1 - \hat y_k)$. When an output is
confidently wrong ($\hat y_k$ near 0 or 1) that slope is tiny, so MSE learns slowly exactly when it is most
wrong. Cross-entropy with softmax cancels the slope: $\delta = \hat y - y$. For this example:
""")
                ce = trace_step(net.mlp("softmax", "cross_entropy"), net.x, target, lr)
                st.latex(rf"\delta_{{\text{{MSE}}}} = {tn.col(trace.out.delta)}, \qquad "
                         rf"\delta_{{\text{{cross-entropy}}}} = {tn.col(ce.out.delta)}")

    with tab_hand:
        st.markdown(r"""
Now you compute it. The forward pass is given below; the backward numbers are hidden, and the page asks
for them one at a time, in the order backprop computes them. Each answer is checked against the core to
3 decimals; a wrong one gets a hint naming the factor that is off. **Show me** reveals a step (it counts
as shown, not right). **New exercise** puts fresh numbers into the network above, from the seed.
""")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.number_input("Exercise seed", 0, 99999, step=1, key="keep_backprop_hand_seed", persist_state="session",
                            help="The seed of the next exercise's random numbers: give each learner their own.",
                            width=160)
            st.button("New exercise", key="backprop_hand_new", on_click=new_exercise, icon=":material/casino:",
                      help="New weights, input and target for this network's shape, from the seed.")
        for line in stages[0]["lines"] + loss_lines(trace):
            st.latex(line)
        st.latex(rf"y = {tn.col(trace.y)}, \qquad \eta = {tn.num(lr)}")
        steps = network_exercise(net.sizes, net.activation, net.x, net.weights, net.biases, target, lr, output,
                                 loss_name)
        by_hand("backprop_hand", steps, exercise_id(net.sizes, net.activation, net.x, *net.weights, *net.biases,
                                                    target, lr, loss_name))

    with tab_train:
        st.markdown("Take plain gradient-descent steps on this one example with learning rate η. The weights in "
                    "the cells above change, so the stepper then shows the *next* step from the trained network.")
        with st.container(horizontal=True):
            for n in (1, 10, 100):
                st.button(f"Train {n} step{'s' if n > 1 else ''}", key=f"backprop_train_{n}", on_click=train,
                          args=(n,))
            st.button("Clear the curve", key="backprop_clear", on_click=lambda: ss.update({tn.LOSS_HISTORY: []}))
        st.caption("Each step is one forward pass, backward pass and update. Clearing the curve keeps the weights.")
        history = ss[tn.LOSS_HISTORY]
        cols = st.columns(3)
        cols[0].metric("Steps taken", len(history))
        cols[1].metric("Loss now", f"{trace.loss:.4f}",
                       delta=f"{trace.loss - history[0]:+.4f} since step 0" if history else None,
                       delta_color="inverse")
        cols[2].metric("Probability of the target", f"{trace.y_hat[target]:.3f}")
        if history:
            st.plotly_chart(loss_curve(history + [trace.loss]), key="backprop_loss_curve",
                            config={"displayModeBar": False})
        else:
            st.info("Press a Train button to draw the loss curve.")

    with tab_check:
        st.markdown(r"""
Is the backward pass right? Compare each gradient with the definition of a derivative, nudging one
parameter at a time by $\varepsilon = 10^{-5}$ both ways: $\frac{\partial L}{\partial \theta_i} \approx
\frac{L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i)}{2\varepsilon}$. The relative error
$\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert)$ is green below $10^{-6}$ (all in float64).
""")
        checks = gradient_check(model, net.x[None, :], np.array([target]))
        worst = max(c.rel_error for c in checks)
        table = pd.DataFrame([{"parameter": c.name, "entries": c.analytic.size,
                               "backprop ‖∂L/∂θ‖": float(np.linalg.norm(c.analytic)),
                               "relative error": f"{c.rel_error:.1e}",
                               "check": "pass" if c.rel_error < GREEN_BELOW else "FAIL"} for c in checks])
        st.dataframe(table.style.apply(lambda r: [PASS_STYLE if "pass" in r["check"] else FAIL_STYLE] * len(r), axis=1,
                                       subset=["relative error", "check"]), hide_index=True)
        if worst < GREEN_BELOW:
            st.success(f"All {len(checks)} gradients agree with the numerical ones: "
                       f"largest relative error {worst:.1e} < 1e-6.")
        else:
            kink = net.activation in ("relu", "leaky_relu") and any(
                np.any(np.abs(layer.z) < 1e-4) for layer in trace.hidden)
            st.error(f"Largest relative error {worst:.1e} is above 1e-6."
                     + (" A ReLU sits at its kink z = 0, where the derivative is undefined and the two-sided "
                        "difference averages the two slopes." if kink else ""))
        with st.expander("Every entry: backprop vs central difference"):
            st.dataframe([{"parameter": f"{c.name}[{', '.join(str(i + 1) for i in idx)}]",
                           "backprop": float(c.analytic[idx]), "numerical": float(c.numeric[idx]),
                           "|difference|": abs(float(c.analytic[idx]) - float(c.numeric[idx]))}
                          for c in checks for idx in np.ndindex(c.analytic.shape)], hide_index=True,
                         column_config={"backprop": st.column_config.NumberColumn(format="%.6f"),
                                        "numerical": st.column_config.NumberColumn(format="%.6f"),
                                        "|difference|": st.column_config.NumberColumn(format="%.1e")})

# ---- the computational graph of one neuron (independent of the network above) -------------------

GRAPH_DEFAULTS = dict(x1=1.0, x2=0.5, w1=0.6, w2=-0.4, b=-0.1, y=0.0)
for name, value in GRAPH_DEFAULTS.items():
    ss.setdefault(f"keep_backprop_graph_{name}", value)
ss.setdefault("keep_backprop_graph_act", "sigmoid")
ss.setdefault("keep_backprop_graph_loss", "squared_error")
ss.setdefault("keep_backprop_graph_leaf", "w1")


def tex(name):
    """w1 → w_1 (node names as LaTeX)."""
    return f"{name[0]}_{name[1:]}" if len(name) > 1 else name


def reset_graph():
    for name, value in GRAPH_DEFAULTS.items():
        ss[f"keep_backprop_graph_{name}"] = value
    ss["keep_backprop_graph_act"], ss["keep_backprop_graph_loss"] = "sigmoid", "squared_error"


with tab_graph:
    st.markdown(r"""
Zoom in on one neuron, $L = \text{loss}(f(w_1x_1 + w_2x_2 + b),\, y)$, written as a graph of tiny
operations. Each box knows only its **local** derivative — how its output moves when one input moves
($\partial p_1/\partial w_1 = x_1$, $\partial z/\partial p_1 = 1$, $\partial a/\partial z = f'(z)$). The backward
pass starts at $\partial L/\partial L = 1$ and multiplies local derivatives along the path: that product
is the chain rule, and it is all backpropagation does (this is how micrograd and PyTorch's autograd work).
""")
    cols = st.columns(8)
    for col, name in zip(cols, GRAPH_DEFAULTS):
        col.number_input(name, step=0.1, format="%.3f", key=f"keep_backprop_graph_{name}", persist_state="session",
                         help=f"The value of {name} in the neuron (y is the target).")
    cols[6].selectbox("f", ["sigmoid", "tanh", "relu", "identity"], key="keep_backprop_graph_act", persist_state="session",
                      help="The neuron's activation.")
    cols[7].selectbox("loss", list(GRAPH_LOSSES), key="keep_backprop_graph_loss", persist_state="session",
                      format_func={"squared_error": "(a − y)²", "bce": "binary CE"}.get,
                      help="Squared error (a − y)², or binary cross-entropy (needs 0 < a < 1: a sigmoid).")
    values = {name: ss[f"keep_backprop_graph_{name}"] for name in GRAPH_DEFAULTS}
    try:
        graph = neuron_graph([values["x1"], values["x2"]], [values["w1"], values["w2"]], values["b"], values["y"],
                             activation=ss["keep_backprop_graph_act"], loss=ss["keep_backprop_graph_loss"])
    except ValueError as error:
        st.error(f"This neuron can't be evaluated: {error}.")
        graph = None
    if graph is not None:
        leaf = st.segmented_control("Follow the gradient of", ["w1", "w2", "b", "x1", "x2"],
                                    key="keep_backprop_graph_leaf", persist_state="session",
                                    help="Highlight one path from L back to a leaf.")
        leaf = leaf or "w1"
        hand = st.toggle("Compute the gradients yourself", key="keep_backprop_graph_hand", persist_state="session",
                         help="Hide every gradient and local derivative; the page asks for ∂L/∂node from L down.")
        st.plotly_chart(graph_figure(graph, lit=leaf, hide_grads=hand), key="backprop_graph",
                        config={"displayModeBar": False})
        if hand:
            steps = graph_exercise([values["x1"], values["x2"]], [values["w1"], values["w2"]], values["b"],
                                   values["y"], activation=ss["keep_backprop_graph_act"],
                                   loss=ss["keep_backprop_graph_loss"])
            by_hand("backprop_graph_hand", steps, exercise_id(list(values.values()), ss["keep_backprop_graph_act"],
                                                              ss["keep_backprop_graph_loss"]))
        else:
            path = graph_path(graph, leaf)
            symbols = " ".join(rf"\frac{{\partial {tex(c.name)}}}{{\partial {tex(p.name)}}}" for c, p, _ in path)
            factors = r" \cdot ".join(tn.factor(local) for _, _, local in path)
            st.latex(rf"\frac{{\partial L}}{{\partial {tex(leaf)}}} = {symbols} = {factors}"
                     rf" = {tn.num(chain_product(graph, leaf))}")
            st.caption("Each box: name, forward value, and (orange) grad = ∂L/∂node. Each arrow: × its local "
                       "derivative. Hover for more digits.")
    st.button("Reset this neuron", key="backprop_graph_reset", on_click=reset_graph, icon=":material/restart_alt:",
              help="Back to x = [1, 0.5], w = [0.6, −0.4], b = −0.1, y = 0, sigmoid, squared error.")

check_yourself([
    Question("In δ₁ = (W₂ᵀ δ₂) ⊙ f'(z₁), why the transpose?",
             ["To make the shapes fit by accident", "The error travels back along the same weights, in reverse",
              "Transposing reverses the sign of the gradient"], 1,
             "Neuron j of layer 1 fed neuron i of layer 2 through W₂[i, j], so its error gathers Σᵢ W₂[i, j] δ₂[i]: "
             "column j of W₂, i.e. row j of W₂ᵀ."),
    Question("A hidden ReLU neuron has z = −0.1 for this input. What is its gradient ∂L/∂W for its incoming weights?",
             ["Zero", "The same as its neighbours'", "Negative"], 0,
             "ReLU'(z) = 0 for z < 0, so its δ is 0 and δ aᵀ is a row of zeros."),
    Question("Why does the gradient check use float64 and central differences?",
             ["float32 is too slow", "Their error is O(ε²), and float32 rounding would swamp it",
              "Backprop only works in float64"], 1,
             "The two-sided difference is exact up to O(ε²) ≈ 1e-10; float32's ~1e-7 rounding, divided by ε, "
             "would dominate."),
], key="backprop_quiz")
