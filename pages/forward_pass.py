"""Forward pass: one example through a tiny MLP, one equation at a time, every number substituted."""
import numpy as np
import streamlit as st

from core.activations import ACTIVATIONS
from core.layers import Dropout
from core.trace import trace_step
from lab.steps import softmax_steps
from pages.ui import tiny_net as tn
from pages.ui.diagram import network_figure
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

st.title("Forward pass")
st.markdown(r"""
A network turns an input vector $x$ into class probabilities $\hat y$ by repeating two moves per layer:
a weighted sum $z_l = W_l\,a_{l-1} + b_l$ (with $a_0 = x$), then an activation $a_l = f(z_l)$ applied
to each neuron. Row $i$ of $W_l$ holds the weights *into* neuron $i$, so $W_l$ has shape
$(n_l, n_{l-1})$.

The last layer skips $f$ and uses softmax, $\hat y_k = e^{z_k} / \sum_j e^{z_j}$, which turns any
scores into positive numbers that add up to 1. Change any cell below and every number after it updates.

This page keeps its own network (the Backpropagation page has another one, starting from its own example):
**Use the network from the Backpropagation page** copies that one here.
""")

net = tn.controls("forward")


def forward_stages(t):
    """The steps of the forward pass as (title, what it does, LaTeX lines, neuron layers lit, weight layers lit)."""
    f = tn.ACTIVATION_TEX[t.activation]
    stages = [("Input", "The example enters the network: input neuron $j$ simply holds the number $x_j$.",
               [rf"a_0 = x = {tn.col(t.x)}"], {0}, set())]
    for l, layer in enumerate(t.layers, start=1):
        prev = "x" if l == 1 else f"a_{l - 1}"
        stages.append((
            f"z{tn.sub(l)} = W{tn.sub(l)}{'x' if l == 1 else 'a' + tn.sub(l - 1)} + b{tn.sub(l)}",
            f"Each neuron of layer {l} takes a weighted sum of the layer below plus its bias: "
            f"neuron i multiplies row i of W{tn.sub(l)} with {'x' if l == 1 else 'a' + tn.sub(l - 1)} "
            f"and adds b{tn.sub(l)}[i]. The lit lines are the weights it uses.",
            [rf"z_{l} = W_{l}\,{prev} + b_{l} = {tn.mat(layer.W)}{tn.col(layer.a_in)} + {tn.col(layer.b)}",
             rf"= {tn.affine_rows(layer.W, layer.a_in, layer.b)} = {tn.col(layer.z)}"], {l - 1, l}, {l - 1}))
        if l < len(t.layers):
            applied = r" \\ ".join(rf"{f}({tn.num(z)})" for z in layer.z)
            stages.append((
                f"a{tn.sub(l)} = f(z{tn.sub(l)})",
                f"Each neuron applies the activation f = {ACTIVATIONS[t.activation].title} to its own z, "
                "on its own: no weights are involved in this step.",
                [rf"a_{l} = {f}(z_{l}) = \begin{{bmatrix}}{applied}\end{{bmatrix}} = {tn.col(layer.a)}"], {l}, set()))
    s = softmax_steps(t.out.z)
    exps = r" \\ ".join(rf"e^{{{tn.num(v)}}}" for v in s["shifted"])
    stages.append((
        "ŷ = softmax(z)",
        "The output layer turns its scores z into probabilities: subtract the largest score (this changes "
        "nothing but avoids overflow), exponentiate, divide by the sum.",
        [rf"\hat y = \mathrm{{softmax}}(z_{len(t.layers)}) = \frac{{e^{{z - \max z}}}}{{\sum_j e^{{z_j - \max z}}}}"
         rf"= \frac{{1}}{{{tn.num(s['sum'])}}}\begin{{bmatrix}}{exps}\end{{bmatrix}}"
         rf"= \frac{{1}}{{{tn.num(s['sum'])}}}{tn.col(s['exp'])} = {tn.col(t.y_hat)}"],
        {len(t.layers)}, set()))
    return stages


def inactive_neurons(t, step):
    """(layer, i) of the ReLU neurons that output 0 for this input (z ≤ 0), once their a_l is computed
    (step 2l)."""
    if t.activation != "relu":
        return []
    return [(l, i) for l, layer in enumerate(t.hidden, start=1) if step >= 2 * l
            for i in np.flatnonzero(layer.z <= 0)]


def diagram(t, step, stages):
    """The network with the neurons computed so far coloured by their value and the current step lit."""
    sizes = [t.x.size] + [layer.z.size for layer in t.layers]
    values, labels = [t.x], [[f"x{tn.sub(j + 1)} = {v:.3g}" for j, v in enumerate(t.x)]]
    for l, layer in enumerate(t.layers, start=1):
        done_z = step >= 2 * l - 1
        done_a = step >= 2 * l
        name = "ŷ" if l == len(t.layers) else "a"
        values.append(layer.a if done_a else (layer.z if done_z else None))
        labels.append([(f"z={z:.3g}" if done_z else "") + (f"  {name}={a:.3g}" if done_a else "")
                       for z, a in zip(layer.z, layer.a)])
    _, _, _, lit_layers, lit_edges = stages[step]
    return network_figure(sizes, values, labels, [layer.W for layer in t.layers],
                          lit_layers=lit_layers, lit_edges=lit_edges, inactive=inactive_neurons(t, step))


if net is not None:
    trace = trace_step(net.mlp(), net.x, 0, 0.0)          # the forward half of one step (η = 0: nothing changes)
    stages = forward_stages(trace)

    st.subheader("Step through it")
    step = tn.step_walker("forward", [title for title, *_ in stages], "equation")

    title, what, _, _, _ = stages[step]
    left, right = st.columns([1.6, 1], vertical_alignment="center")
    with left:
        st.plotly_chart(diagram(trace, step, stages), key="forward_diagram", config={"displayModeBar": False})
    with right:
        st.markdown(f"**Step {step + 1} of {len(stages)}: {title}**")
        st.markdown(what)
        st.caption("Circles: neurons, coloured by value (blue positive, orange negative), white until computed. "
                   "Lines: weights, blue positive, orange negative, thicker = larger |w|. "
                   "Orange outlines: what this step uses.")
    for k, (title, _, lines, _, _) in enumerate(stages[:step + 1]):
        st.markdown(f"**{k + 1}. {title}**" + ("  ← this step" if k == step else ""))
        for line in lines:
            st.latex(line)
    if step == len(stages) - 1:
        winner = int(np.argmax(trace.y_hat))
        st.success(f"The network says class {winner} with probability {trace.y_hat[winner]:.3f}. "
                   "The Backpropagation page shows how a wrong answer changes the weights: its button "
                   "“Use the network from the Forward pass page” takes this network there.")

    off = inactive_neurons(trace, step)
    if off:
        names = ", ".join(f"neuron {i + 1} of hidden layer {l}" for l, i in off)
        st.warning(
            f"**Inactive ReLU ({names}):** its $z \\le 0$, so $a = \\max(0, z) = 0$ and $\\mathrm{{ReLU}}'(z) = 0$. "
            "It adds nothing to the next layer and no gradient flows back through it, so its incoming weights "
            "do not learn from this example. A neuron that is off for *every* input is a **dead ReLU**: "
            "gradient descent can never revive it. Leaky ReLU keeps a small slope for $z < 0$ to avoid that.",
            icon=":material/block:")

DROPOUT_RATES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
st.session_state.setdefault("keep_forward_dropout", False)
st.session_state.setdefault("keep_forward_dropout_p", 0.5)
st.session_state.setdefault("keep_forward_dropout_seed", 2)      # drops one unit of the worked example


def dropout_passes(net, p, seed):
    """(masks, training Pass, evaluation Pass) of the tiny network with Dropout(p) after each hidden activation;
    the masks are fixed by the seed, so the training pass is the same on every rerun."""
    masks = tn.dropout_masks(net.sizes, p, seed)                   # [(1, n_l)] per hidden layer
    mlp, x = net.mlp(dropout=p), net.x[None, :]                    # x: (1, n_in)
    return masks, mlp.run(x, train=True, masks=masks), mlp.run(x)


def dropout_diagram(net, pass_, dropped, height):
    """The network of one pass: neurons coloured by what they pass on (ã after dropout in training, a in
    evaluation), the dropped ones crossed out."""
    seen = [np.ravel(v) for v in pass_.activations[1:-1]]          # per hidden layer: the next Linear's input

    def short(v):
        return f"{v:.3g}".replace("-", "−")

    name = "ã" if pass_.train else "a"
    labels = [[f"x={short(v)}" for v in net.x]]
    labels += [["dropped" if (l, i) in dropped else f"{name}={short(v)}" for i, v in enumerate(layer)]
               for l, layer in enumerate(seen, start=1)]
    labels += [[f"ŷ={short(v)}" for v in pass_.output[0]]]
    values = [net.x, *seen, pass_.output[0]]
    return network_figure(net.sizes, values, labels, net.weights, dropped=dropped, height=height)


def dropout_section(net):
    """The Dropout toggle: the mask, the scaling by 1/(1 − p) with the numbers, training vs evaluation output."""
    st.subheader("Dropout: training vs evaluation")
    st.toggle("Dropout on the hidden layers", key="keep_forward_dropout", persist_state="session",
              help="Inverted dropout after each hidden activation, as core.layers.Dropout does it.")
    if not st.session_state.keep_forward_dropout:
        st.caption("Off: the steps above are the whole forward pass. Turn it on to see what training with dropout changes.")
        return
    cols = st.columns([2, 1, 3], vertical_alignment="bottom")
    cols[0].select_slider("Dropout rate p", DROPOUT_RATES, key="keep_forward_dropout_p", persist_state="session",
                          help="Each hidden unit is dropped (set to 0) with probability p in a training pass.")
    cols[1].number_input("Mask seed", 0, 10**6, key="keep_forward_dropout_seed", persist_state="session", step=1,
                         help="The random-number seed of the mask: the same seed always drops the same units.")
    p, seed = st.session_state.keep_forward_dropout_p, st.session_state.keep_forward_dropout_seed
    masks, train, evaluation = dropout_passes(net, p, seed)
    keep = 1 - p
    st.markdown(rf"""In **training**, each hidden unit is kept with probability $1 - p = {keep:.1f}$ and dropped
otherwise: a random mask $m$ of 0s and 1s multiplies the layer's output. The kept units are scaled by
$\frac{{1}}{{1-p}} = {tn.num(1 / keep)}$, so that on average nothing changes
($\mathbb E[m_i / (1-p)] = (1-p)/(1-p) = 1$) and the next layer sees inputs of the usual size. In
**evaluation** nothing is dropped and nothing is scaled.""")
    dropped = []
    f = tn.ACTIVATION_TEX[net.activation]
    steps = [step for step, layer in zip(train.steps, train.layers) if isinstance(layer, Dropout)]
    for l, (step, m) in enumerate(zip(steps, masks), start=1):
        a, out, mask = np.ravel(step.input), np.ravel(step.output), np.ravel(m)     # a_l, ã_l, m_l: (n_l,)
        if l > 1:                  # the layers above the first dropout see ã, so their numbers differ from the steps above
            st.markdown(f"Hidden layer {l} now sees ã{tn.sub(l - 1)} instead of a{tn.sub(l - 1)}:")
            st.latex(rf"z_{l} = W_{l}\,\tilde a_{l - 1} + b_{l} = {tn.col(train.zs[l - 1][0])}, \qquad "
                     rf"a_{l} = {f}(z_{l}) = {tn.col(a)}")
        dropped += [(l, i) for i in np.flatnonzero(mask == 0)]
        off = [f"neuron {i + 1}" for i in np.flatnonzero(mask == 0)]
        idle = [f"neuron {i + 1}" for i in np.flatnonzero((mask == 0) & (a == 0))]
        st.markdown(f"**Hidden layer {l}:** mask m{tn.sub(l)} = [{', '.join(str(int(v)) for v in mask)}]: "
                    + (f"{', '.join(off)} dropped." if off else "every neuron kept.")
                    + (f" ({', '.join(idle)}: a = 0 already, so dropping changes nothing here.)" if idle else ""))
        ints = r"\begin{bmatrix}" + r" \\ ".join(str(int(k)) for k in mask) + r"\end{bmatrix}"
        terms = r" \\ ".join(rf"{tn.factor(v)}\cdot {int(k)} / {keep:.1f}" for v, k in zip(a, mask))
        st.latex(rf"\tilde a_{l} = \frac{{a_{l} \odot m_{l}}}{{1 - p}} = \frac{{{tn.col(a)} \odot {ints}}}{{{keep:.1f}}}"
                 rf" = \begin{{bmatrix}}{terms}\end{{bmatrix}} = {tn.col(out)}")
    last = len(net.sizes) - 2
    z_train, a_last = train.logits[0], train.activations[-2][0]     # z_L and ã_{L−1}: (K,), (n_{L−1},)
    W, b = net.weights[-1], net.biases[-1]
    st.latex(rf"z_{last + 1} = W_{last + 1}\,\tilde a_{last} + b_{last + 1} = {tn.mat(W)}{tn.col(a_last)} + {tn.col(b)}"
             rf" = {tn.col(z_train)}")
    st.latex(
             rf"\hat y_\text{{train}} = \mathrm{{softmax}}(z_{last + 1}) = {tn.col(train.output[0])}")
    height = max(300, 90 * max(net.sizes) + 80)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Training** (p = {p:.1f}, mask seed {seed})")
        st.plotly_chart(dropout_diagram(net, train, dropped, height), key="dropout_train_diagram",
                        config={"displayModeBar": False})
        st.latex(rf"\hat y_\text{{train}} = {tn.col(train.output[0])}")
    with right:
        st.markdown("**Evaluation** (no dropout, no scaling)")
        st.plotly_chart(dropout_diagram(net, evaluation, [], height), key="dropout_eval_diagram",
                        config={"displayModeBar": False})
        st.latex(rf"\hat y_\text{{eval}} = {tn.col(evaluation.output[0])}")
    st.caption("Evaluation is the plain forward pass, the ŷ the steps above end with. A new mask seed drops other "
               "units; in training every batch draws a new mask, so no unit can count on any other being there.")


if net is not None:
    dropout_section(net)

check_yourself([
    Question("W₁ has shape (3, 4). How many inputs and how many neurons does layer 1 have?",
             ["3 inputs, 4 neurons", "4 inputs, 3 neurons", "12 inputs, 1 neuron"], 1,
             "W has shape (n_out, n_in): row i holds the 4 weights into neuron i, and there are 3 rows."),
    Question("Adding 5 to every entry of z before softmax changes ŷ how?",
             ["Not at all", "Every ŷₖ grows", "The largest ŷₖ grows"], 0,
             "e^(z+5) = e⁵·e^z: the common factor cancels in the fraction — which is why softmax may subtract max z."),
    Question("A hidden ReLU neuron has z = −0.1. What does it pass to the next layer?",
             ["−0.1", "0", "0.1"], 1, "ReLU(z) = max(0, z) = 0 for any z ≤ 0."),
], key="forward_quiz")
