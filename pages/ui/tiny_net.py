"""The tiny networks of the Forward pass and Backpropagation pages: their controls, their state, and LaTeX helpers.

Each page keeps its own network. Every number of it (inputs x, weights W_l, biases b_l) lives in a text
cell whose key starts with "keep_<page>_net_" (page = "forward" or "backprop"), and the widgets'
persist_state="session" keeps them while the learner visits other pages. Each page starts from its own
worked example and can copy the other page's network with one button. The cells are text so that a
learner can type anything; `read_network` turns them into numbers or into messages saying what is wrong.
"""
import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.activations import ACTIVATIONS
from core.checks import MINUS, parse_number
from core.layers import Dropout
from core.network import MLP

HIDDEN_ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "gelu")   # shown by their core titles
ACTIVATION_TEX = {"relu": r"\mathrm{ReLU}", "sigmoid": r"\sigma", "tanh": r"\tanh",
                  "leaky_relu": r"\mathrm{LReLU}", "gelu": r"\mathrm{GELU}"}
SIZE_CONTROLS = [   # (label, choices, key, help): changing any of them draws new random weights
    ("Inputs", [1, 2, 3, 4], "n_in", "How many numbers go in (x₁ … xₙ). Changing a size draws new random weights."),
    ("Hidden layers", [1, 2], "depth", "One or two layers of neurons between the input and the output."),
    ("Hidden layer 1", [1, 2, 3, 4], "h1", "Neurons in the first hidden layer."),
    ("Hidden layer 2", [1, 2, 3, 4], "h2", "Neurons in the second hidden layer (if there is one)."),
    ("Outputs (classes)", [2, 3, 4], "n_out", "How many classes the softmax chooses between."),
]
MAX_ABS = 1000.0          # larger numbers are refused: they only saturate every neuron

_W_EXAMPLE = [[[0.3, 0.7], [-0.2, 0.4]], [[0.5, -0.3], [0.2, 0.6]]]
FORWARD_EXAMPLE = dict(sizes=[2, 2, 2], activation="relu", x=[1.0, 0.5], W=_W_EXAMPLE,
                       b=[[0.1, -0.1], [0.0, 0.0]])
BACKPROP_EXAMPLE = dict(sizes=[2, 2, 2], activation="sigmoid", x=[1.0, 0.5], W=_W_EXAMPLE,
                        b=[[0.0, 0.0], [0.0, 0.0]], target=0, lr=0.5)

EXAMPLES = {"forward": FORWARD_EXAMPLE, "backprop": BACKPROP_EXAMPLE}     # each page's own default
PAGE_TITLES = {"forward": "Forward pass", "backprop": "Backpropagation"}
OTHER_PAGE = {"forward": "backprop", "backprop": "forward"}
RESET_HELP = {
    "forward": "Back to the forward worked example: x=[1, 0.5], b₁=[0.1, −0.1], ReLU hidden layer, softmax.",
    "backprop": "Back to the backpropagation worked example: x=[1, 0.5], b₁=0, sigmoid hidden layer, softmax + "
                "cross-entropy, target class 0, η=0.5.",
}

LOSS_CHOICES = {"cross-entropy (softmax output)": ("softmax", "cross_entropy"),
                "MSE (sigmoid outputs)": ("sigmoid", "mse")}
LOSS_HISTORY = "backprop_loss_history"     # plain session_state (not a widget): losses of the Train buttons


def _k(page, name):
    """The session_state key of one control or cell of a page's network: keep_forward_net_W1_0_1."""
    return f"keep_{page}_net_{name}"


def step_key(page):
    """The key of a page's stepper (its select_slider)."""
    return f"keep_{page}_step"


@dataclass
class TinyNet:
    """The network the cells describe: sizes [n_in, hidden…, K], activation, one input x, weights, biases."""
    sizes: list
    activation: str
    x: np.ndarray          # (n_in,)
    weights: list          # W_l (n_l, n_{l−1})
    biases: list           # b_l (n_l,)

    def mlp(self, output="softmax", loss="cross_entropy", dropout=0.0):
        """The core MLP with these numbers (float64, so the gradient check is exact to ~1e-10); dropout=p puts a
        Dropout(p) after each hidden activation."""
        net = MLP(self.sizes, activation=self.activation, output=output, loss=loss, dtype=np.float64, dropout=dropout)
        net.set_params(self.weights, self.biases)
        return net


def dropout_masks(sizes, p, seed):
    """One keep-mask (1, n_l) of 0/1 per hidden layer of a one-example network of these sizes, drawn by core's
    Dropout with this seed: the same seed always drops the same units. Each unit is kept with probability 1 − p."""
    rng = np.random.default_rng(seed)
    return [Dropout(p).draw_mask((1, n), rng).astype(np.float64) for n in sizes[1:-1]]


# ---- state ------------------------------------------------------------------------------

def sizes_from_state(page):
    """[n_in, h1, (h2), K] from the page's size selectors."""
    ss = st.session_state
    hidden = [ss[_k(page, "h1")]] + ([ss[_k(page, "h2")]] if ss[_k(page, "depth")] == 2 else [])
    return [ss[_k(page, "n_in")], *hidden, ss[_k(page, "n_out")]]


CELL_DIGITS = 4      # significant digits a cell shows: "0.3769" fits a cell at 1024 px, "0.376929" did not


def cell_text(v):
    """A number as a cell shows it: short, no float noise (0.30000000000000004 → 0.3), the page's minus sign.
    What the cell shows is what the page computes with: trained weights continue from these digits."""
    v = float(v)
    return "0" if v == 0 else f"{v:.{CELL_DIGITS}g}".replace("-", MINUS)


def cell_names(sizes):
    """The cells of a network of these sizes: x_j, then W{l}_{i}_{j} and b{l}_{i} for each layer l."""
    names = [f"x_{j}" for j in range(sizes[0])]
    for l in range(1, len(sizes)):
        for i in range(sizes[l]):
            names += [f"W{l}_{i}_{j}" for j in range(sizes[l - 1])] + [f"b{l}_{i}"]
    return names


def number_cells(sizes, x, weights, biases):
    """{cell name: text} for these numbers."""
    numbers = list(x)
    for l in range(1, len(sizes)):
        for i in range(sizes[l]):
            numbers += [weights[l - 1][i][j] for j in range(sizes[l - 1])] + [biases[l - 1][i]]
    return {name: cell_text(v) for name, v in zip(cell_names(sizes), numbers)}


def _write_cells(page, cells):
    """Put {cell name: text} into the page's cells and forget its cells of other shapes."""
    ss = st.session_state
    for key in [k for k in ss if str(k).startswith(tuple(_k(page, c) for c in ("x_", "W", "b")))]:
        del ss[key]
    for name, text in cells.items():
        ss[_k(page, name)] = text


def write_numbers(page, sizes, x, weights, biases):
    """Put the numbers into the page's cells (after training, random weights, an example)."""
    _write_cells(page, number_cells(sizes, x, weights, biases))


def _set_sizes(page, sizes):
    ss = st.session_state
    ss[_k(page, "n_in")], ss[_k(page, "n_out")] = sizes[0], sizes[-1]
    hidden = sizes[1:-1]
    ss[_k(page, "depth")] = len(hidden)
    ss[_k(page, "h1")] = hidden[0]
    ss[_k(page, "h2")] = hidden[1] if len(hidden) > 1 else hidden[0]


def _restart(page):
    """A new network: the page's stepper starts again (and the backprop page's loss curve is cleared)."""
    st.session_state[step_key(page)] = 0
    if page == "backprop":
        st.session_state[LOSS_HISTORY] = []


def _set_network(page, sizes, activation, cells):
    _set_sizes(page, sizes)
    st.session_state[_k(page, "activation")] = activation
    _write_cells(page, cells)
    _restart(page)


def load_example(page):
    """Callback ("Reset to example"): the page's worked example — sizes, activation, numbers, and on the
    backprop page its target class, η and loss."""
    example, ss = EXAMPLES[page], st.session_state
    _set_network(page, example["sizes"], example["activation"],
                 number_cells(example["sizes"], example["x"], example["W"], example["b"]))
    if "target" in example:
        ss["keep_backprop_target"] = example["target"]
        ss["keep_backprop_lr"] = example["lr"]
        ss["keep_backprop_loss"] = next(iter(LOSS_CHOICES))


def copy_network(page, source):
    """Callback: the page's network becomes a copy of the `source` page's network — sizes, activation and
    every cell as typed there (a cell with a typo stays a typo). A source never opened holds its example."""
    ss = st.session_state
    if _k(source, "n_in") in ss:
        sizes = sizes_from_state(source)
        activation = ss[_k(source, "activation")]
        cells = {name: str(ss.get(_k(source, name), "")) for name in cell_names(sizes)}
    else:
        example = EXAMPLES[source]
        sizes, activation = example["sizes"], example["activation"]
        cells = number_cells(sizes, example["x"], example["W"], example["b"])
    _set_network(page, sizes, activation, cells)


def random_weights(page):
    """Callback (random-weights button and size changes): weights drawn by the core's init with the seed,
    rounded to 2 decimals so the equations stay readable; biases 0; inputs kept where they still fit."""
    ss = st.session_state
    sizes, activation = sizes_from_state(page), ss[_k(page, "activation")]
    init = "xavier" if activation in ("sigmoid", "tanh") else "he"
    net = MLP(sizes, activation=activation, init=init, seed=int(ss[_k(page, "seed")]), dtype=np.float64)
    x = [ss.get(_k(page, f"x_{j}"), "1") for j in range(sizes[0])]
    x = [v if _parse(v)[1] is None else "1" for v in x]
    write_numbers(page, sizes, [_parse(v)[0] for v in x], [np.round(W, 2) for W in net.weights],
                  [np.zeros(n) for n in sizes[1:]])
    _restart(page)


def init_state(page):
    """First visit of the page: its worked example."""
    ss = st.session_state
    if _k(page, "n_in") not in ss:
        ss[_k(page, "seed")] = 0
        load_example(page)
    ss.setdefault(step_key(page), 0)
    if page == "backprop":
        ss.setdefault(LOSS_HISTORY, [])
        ss.setdefault("keep_backprop_target", BACKPROP_EXAMPLE["target"])
        ss.setdefault("keep_backprop_lr", BACKPROP_EXAMPLE["lr"])
        ss.setdefault("keep_backprop_loss", next(iter(LOSS_CHOICES)))


# ---- reading the cells ------------------------------------------------------------------

def _parse(text, where="this cell"):
    """(value, None) or (None, what is wrong) for one cell's text, read by core.checks' rule."""
    try:
        return parse_number(text, where, -MAX_ABS, MAX_ABS), None
    except ValueError as error:
        return None, str(error)


def read_network(page):
    """(TinyNet, []) from the page's cells, or (None, [messages]) naming every cell that is not a usable number."""
    ss = st.session_state
    sizes = sizes_from_state(page)
    problems = []

    def read(key, where):
        value, problem = _parse(ss.get(_k(page, key), ""), where)
        if problem:
            problems.append(problem)
        return value

    x = [read(f"x_{j}", f"x{sub(j + 1)}") for j in range(sizes[0])]
    weights, biases = [], []
    for l in range(1, len(sizes)):
        weights.append([[read(f"W{l}_{i}_{j}", f"W{sub(l)} row {i + 1}, column {j + 1}")
                         for j in range(sizes[l - 1])] for i in range(sizes[l])])
        biases.append([read(f"b{l}_{i}", f"b{sub(l)} entry {i + 1}") for i in range(sizes[l])])
    if problems:
        return None, problems
    return TinyNet(sizes, ss[_k(page, "activation")], np.array(x), [np.array(W) for W in weights],
                   [np.array(b) for b in biases]), []


# ---- the controls -----------------------------------------------------------------------

def controls(page):
    """Sizes, activation, reset/copy/random buttons and the editable cells of the page's own network.
    Returns the TinyNet, or None after showing what is wrong with the cells."""
    init_state(page)
    ss = st.session_state
    other = OTHER_PAGE[page]
    cols = st.columns([1, 1, 1, 1, 1, 1.4], vertical_alignment="bottom")   # labels wrap at 1024 px
    for col, (label, options, name, tip) in zip(cols, SIZE_CONTROLS):
        col.selectbox(label, options, key=_k(page, name), persist_state="session", on_change=random_weights,
                      args=(page,), help=tip, disabled=name == "h2" and ss[_k(page, "depth")] == 1)
    cols[5].selectbox("Hidden activation", HIDDEN_ACTIVATIONS, format_func=lambda name: ACTIVATIONS[name].title,
                      key=_k(page, "activation"), persist_state="session",
                      help="The function f in a = f(z) applied by every hidden neuron.")

    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button("Reset to example", key=f"{page}_reset", on_click=load_example, args=(page,),
                  icon=":material/restart_alt:", help=RESET_HELP[page])
        st.button(f"Use the network from the {PAGE_TITLES[other]} page", key=f"{page}_copy", on_click=copy_network,
                  args=(page, other), icon=":material/content_copy:",
                  help=f"Copy the sizes, activation, input, weights and biases the {PAGE_TITLES[other]} page has "
                       "now. This page keeps its own copy: later edits on either page don't touch the other.")
        st.number_input("Seed", 0, 10**6, key=_k(page, "seed"), persist_state="session", step=1, width=130,
                        help="The random-number seed: the same seed always draws the same weights.")
        st.button("Random weights", key=f"{page}_random", on_click=random_weights, args=(page,),
                  icon=":material/casino:",
                  help="Draw new weights (He init for ReLU-like activations, Xavier for sigmoid/tanh); biases 0.")

    sizes = sizes_from_state(page)
    with st.expander("Inputs, weights and biases (click a cell to edit)", expanded=True):
        with st.container(horizontal=True, gap="large"):     # a block that does not fit moves down whole
            for l in range(len(sizes)):
                with st.container(width="content"):
                    _cells(page, l, sizes)
    net, problems = read_network(page)
    if problems:
        shown = "\n".join(f"- {p}" for p in problems[:6])
        more = f"\n- … and {len(problems) - 6} more" if len(problems) > 6 else ""
        st.error(f"Some cells are not usable numbers, so the steps below wait until they are fixed:\n{shown}{more}",
                 icon=":material/front_hand:")
    return net


CELL_PX = 80          # a cell's width: room for "−0.1214" (4 significant digits and a sign). Columns that
                      # shared the row's width left a cell ~11 px of text at 1024 px


def _cells(page, l, sizes):
    """The text cells of block l: the input x (l = 0), or W_l with b_l beside it, one row per neuron."""
    if l == 0:
        st.markdown("**x**", help="The example: one number per input neuron.")
        for j in range(sizes[0]):
            st.text_input(f"x{sub(j + 1)}", key=_k(page, f"x_{j}"), persist_state="session", label_visibility="collapsed",
                          width=CELL_PX)
        return
    st.markdown(f"**W{sub(l)}** and **b{sub(l)}** (last column)",
                help=f"Row i: the weights into neuron i of layer {l} (one per input from layer {l - 1}), then its "
                     f"bias. z{sub(l)} = W{sub(l)} a{sub(l - 1)} + b{sub(l)}.")
    for i in range(sizes[l]):
        with st.container(horizontal=True, wrap=False, gap="small"):          # one neuron's row never breaks
            for j in range(sizes[l - 1]):
                st.text_input(f"W{sub(l)}[{i + 1},{j + 1}]", key=_k(page, f"W{l}_{i}_{j}"), persist_state="session",
                              label_visibility="collapsed", width=CELL_PX)
            st.text_input(f"b{sub(l)}[{i + 1}]", key=_k(page, f"b{l}_{i}"), persist_state="session",
                          label_visibility="collapsed", width=CELL_PX)


# ---- LaTeX helpers (numbers in, LaTeX strings out) ------------------------------------------

def num(v):
    """A number for an equation: 3 decimals (0.556), scientific notation for tiny or huge values."""
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):                         # an overflowed value: show it, do not fail on it
        return {math.inf: r"\infty", -math.inf: r"-\infty"}.get(v, r"\text{NaN}")
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.3f}"
    mantissa, exponent = f"{v:.2e}".split("e")
    return rf"{mantissa}\times 10^{{{int(exponent)}}}"


def factor(v):
    """A number as a factor in a product: negative numbers in parentheses, 0.3·(−0.2)."""
    s = num(v)
    return f"({s})" if float(v) < 0 else s


def col(v):
    """A column vector."""
    return r"\begin{bmatrix}" + r" \\ ".join(num(e) for e in np.ravel(v)) + r"\end{bmatrix}"


def mat(M):
    """A matrix, row by row."""
    rows = [" & ".join(num(e) for e in row) for row in np.atleast_2d(M)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def row(v):
    """A row vector (a transpose)."""
    return r"\begin{bmatrix}" + " & ".join(num(e) for e in np.ravel(v)) + r"\end{bmatrix}"


def affine_rows(W, a, b):
    """The column whose row i is  W_i1·a_1 + … + W_in·a_n + b_i, with the numbers substituted."""
    lines = []
    for W_i, b_i in zip(np.atleast_2d(W), np.ravel(b)):
        terms = [rf"{factor(w)}\cdot{factor(x)}" for w, x in zip(W_i, np.ravel(a))]
        lines.append(" + ".join(terms + [factor(b_i)]))
    return r"\begin{bmatrix}" + r" \\ ".join(lines) + r"\end{bmatrix}"


def outer_rows(d, a):
    """The matrix δ aᵀ with entries written as δ_i·a_j."""
    rows = [" & ".join(rf"{factor(di)}\cdot{factor(aj)}" for aj in np.ravel(a)) for di in np.ravel(d)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def sub(n):
    """Subscript digits for labels outside LaTeX: 1 → ₁."""
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))



def step_walker(page, titles, what):
    """Back / Next / Show all buttons and a slider over the steps; returns the current step index.

    `titles` names the steps; `what` says what a step is ("equation", "step of the backward pass").
    The buttons carry no hover tooltip (it opened above them, over the controls a learner reaches for
    next); a caption says what they do. They are ordinary buttons: Tab reaches them, Enter or Space
    presses them, and the focused one is outlined.
    """
    key, last = f"keep_{page}_step", len(titles) - 1
    st.session_state[key] = min(st.session_state.get(key, 0), last)

    def move(by):
        st.session_state[key] = min(max(st.session_state[key] + by, 0), last)

    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Back", key=f"{page}_back", on_click=move, args=(-1,), icon=":material/arrow_back:")
        st.button("Next", key=f"{page}_next", on_click=move, args=(1,), type="primary",      # never disabled: a
                  icon=":material/arrow_forward:", icon_position="right")                   # disabled button drops focus
        st.button("Show all", key=f"{page}_all", on_click=move, args=(len(titles),))
        st.caption(f"One {what} at a time; the diagram lights up what it uses.", width="content")
    st.select_slider("Step", options=list(range(len(titles))), key=key, persist_state="session",
                     format_func=lambda i: f"{i + 1}. {titles[i]}", help=f"Drag to any {what}.")
    return st.session_state[key]
