"""Backprop by hand: the steps of one backward pass as exercises, each checked against the core.

A learner types every number backprop computes, in the order it computes them. For an MLP with L
layers, one batch X (B, n₀) and targets Y (B, K), that order is

    δ_L = ∂L/∂z_L                       (softmax + cross-entropy: (ŷ − y)/B)
    ∂L/∂W_L = δ_Lᵀ a_{L−1}  (Σ over the batch),   ∂L/∂b_L = Σ_b δ_L
    then for l = L−1 … 1:
        e_l = δ_{l+1} W_{l+1}           (per example: W_{l+1}ᵀ δ_{l+1}, the error arriving at layer l)
        f′(z_l)
        δ_l = e_l ⊙ f′(z_l)
        ∂L/∂W_l, ∂L/∂b_l
    and last the update of every layer:  W_l ← W_l − η ∂L/∂W_l,  b_l ← b_l − η ∂L/∂b_l

For the 2-2-2 network of the Backpropagation page that is 8 gradient steps and 4 updates: 12 steps.

Each Step keeps its expected value (from core.network's forward and backward pass, not recomputed
here) and the values of the usual mistakes (a forgotten f′, W instead of Wᵀ, a flipped sign, σ
instead of σ′, the batch mean left out, …), each with a hint that names the wrong factor. `check`
reads the typed text with core.checks (so "−0.5" with the page's minus sign reads), compares it with
the expected value to ±ANSWER_TOLERANCE, and when it is wrong, with every mistake's value.

The one-neuron computational graph (core.graph) gets the same treatment: `graph_exercise` asks for
∂L/∂node for every node from L down to the leaves, each one the parent's gradient times a local one.
"""
from dataclasses import dataclass

import numpy as np

from core.checks import parse_numbers
from core.graph import neuron_graph
from core.losses import one_hot
from core.network import MLP

# An answer is right within ±0.0015: rounding to 3 decimals (±0.0005) plus what rounding the earlier
# steps' typed values to 3 decimals carries into this one (a product of two rounded numbers of size ≤ 1).
ANSWER_TOLERANCE = 1.5e-3
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
MINUS = "\u2212"


def sub(n):
    """2 → "₂"."""
    return str(n).translate(SUBSCRIPTS)


def show(values, digits=4):
    """An array as the page prints it: "[0.1234, −0.5]" (row by row for a matrix: "[[…], […]]")."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return f"{float(values):.{digits}g}".replace("-", MINUS)
    return "[" + ", ".join(show(v, digits) for v in values) + "]"


@dataclass(frozen=True)
class Mistake:
    """A wrong way to compute a step: its code, the value it gives and a hint naming the wrong factor."""
    code: str              # "forgot_f_prime", "missing_transpose", "wrong_sign", "sigma_not_prime", …
    value: np.ndarray
    hint: str


@dataclass(frozen=True)
class Step:
    """One number (vector, matrix) backprop computes, to be typed by the learner."""
    key: str               # "delta2", "dW2", "back1", "fprime1", "W2_new", …
    label: str             # "δ₂", "∂L/∂W₂", …
    formula: str           # how it is computed, in words and symbols
    expected: np.ndarray   # the core's value
    mistakes: tuple        # (Mistake, …): values that differ from `expected`
    how: str               # the reveal: the formula with this exercise's numbers

    @property
    def shape_text(self):
        """'2 numbers' or 'a 2×2 matrix, row by row (4 numbers)'."""
        e = self.expected
        if e.ndim == 2 and min(e.shape) > 1:
            return f"a {e.shape[0]}×{e.shape[1]} matrix, row by row ({e.size} numbers)"
        return f"{e.size} number{'s' * (e.size != 1)}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one typed answer."""
    right: bool
    message: str
    mistake: str = None    # the code of the mistake recognised, if any
    wrong_entries: tuple = ()   # indices (flat) of the entries that are off, when no mistake explains them


def _close(a, b):
    return a.size == b.size and bool(np.all(np.abs(a.ravel() - b.ravel()) <= ANSWER_TOLERANCE))


def check(step, text):
    """Verdict on the text a learner typed for `step` (numbers separated by commas or spaces)."""
    try:
        answer = parse_numbers(text, step.label, min_count=1, max_count=max(step.expected.size, 64))
    except ValueError as error:
        return Verdict(False, str(error))
    expected = step.expected.ravel()
    if _close(answer, expected):
        return Verdict(True, f"Right: {step.label} = {show(step.expected)}.")
    for mistake in step.mistakes:
        if _close(answer, np.asarray(mistake.value, dtype=np.float64)):
            return Verdict(False, mistake.hint, mistake=mistake.code)
    if answer.size != expected.size:
        return Verdict(False, f"{step.label} is {step.shape_text}; you typed {answer.size}.")
    off = tuple(int(i) for i in np.flatnonzero(np.abs(answer - expected) > ANSWER_TOLERANCE))
    which = ", ".join(str(i + 1) for i in off)
    return Verdict(False, f"Not yet: entr{'ies' if len(off) > 1 else 'y'} {which} of {step.label} "
                          f"{'are' if len(off) > 1 else 'is'} off. Recall: {step.formula}.", wrong_entries=off)


def _mistakes(expected, candidates):
    """The candidates (code, value, hint) whose value differs from the expected one, as Mistakes.

    A mistake that gives the right number here (σ′ = σ nowhere, a batch of one averaged or not) would
    call a right answer wrong; it is left out, and so is a repeat of an earlier candidate's value."""
    kept = []
    for code, value, hint in candidates:
        value = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(value)) or _close(value.ravel(), expected.ravel()):
            continue
        if any(_close(value.ravel(), m.value.ravel()) for m in kept):
            continue
        kept.append(Mistake(code, value, hint))
    return tuple(kept)


# ---- the backward pass of an MLP ---------------------------------------------------------------

def backprop_exercise(net, X, y, lr):
    """The steps of one SGD step of `net` (core MLP) on the batch X (B, n₀) or one example (n₀,) with
    class labels y (B,) or one int, at learning rate η = lr. Returns [Step, …] in backprop's order."""
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))                    # (B, n₀)
    y = np.atleast_1d(np.asarray(y))
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"each example needs {net.sizes[0]} inputs; got {X.shape[1]}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"need one class per example: {X.shape[0]} examples, {y.size} classes")
    B, L = X.shape[0], net.n_layers
    p = net.run(X, train=True)
    g = net.backward(p, y)
    zs, acts = p.zs, p.activations                  # z_l (B, n_l); a_0 = X, …, a_L = ŷ
    Y = one_hot(y, net.sizes[-1], np.float64)       # (B, K)
    f = net.act
    name_f = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU"}.get(net.activation, "f")
    per = "" if B == 1 else " (each row one example)"
    steps = []

    # δ_L
    y_hat = acts[-1]
    if net.output == "softmax" and net.loss == "cross_entropy":
        formula = "δ_out = (ŷ − y)/B: the softmax's Jacobian cancels the log's slope"
        candidates = [("wrong_sign", (Y - y_hat) / B, f"Your δ{sub(L)} has the wrong sign: it is ŷ − y, prediction "
                                                      "minus target (you typed y − ŷ)."),
                      ("forgot_minus_y", y_hat / B, f"Your δ{sub(L)} is ŷ alone: subtract the target, δ = ŷ − y."),
                      ("batch_average", y_hat - Y, f"Your δ{sub(L)} is not divided by the batch size B = {B}: the "
                                                   "loss is the batch mean, so every δ carries 1/B.")]
    else:
        slope = 2 * (y_hat - Y) / (B * Y.shape[1])
        formula = "δ_out = ∂L/∂ŷ ⊙ σ′(z_out) = (2/(BK))(ŷ − y) ⊙ ŷ(1 − ŷ)" if net.output == "sigmoid" \
            else "δ_out = (2/(BK))(ŷ − y)"
        candidates = [("wrong_sign", -g.deltas[-1], f"Your δ{sub(L)} has the wrong sign: it starts from ŷ − y."),
                      ("forgot_f_prime", slope, f"Your δ{sub(L)} is ∂L/∂ŷ but is missing ⊙ σ′(z{sub(L)}) = ŷ(1 − ŷ)."),
                      ("sigma_not_prime", slope * y_hat, f"You multiplied by σ(z{sub(L)}) = ŷ; the chain rule needs "
                                                         "the slope σ′(z) = ŷ(1 − ŷ)."),
                      ("batch_average", g.deltas[-1] * B, f"Your δ{sub(L)} is not divided by the batch size B = {B}.")]
    steps.append(_step(f"delta{L}", f"δ{sub(L)}", formula + per, g.deltas[-1], candidates,
                       f"δ{sub(L)} = {show(g.deltas[-1])}"))
    for l in range(L, 0, -1):
        delta, a_in = g.deltas[l - 1], acts[l - 1]
        if l < L:
            W_above, delta_above = net.weights[l], g.deltas[l]
            back = delta_above @ W_above                                  # (B, n_l) = (W_{l+1}ᵀ δ_{l+1}) per example
            fp = f.prime(zs[l - 1])                                        # (B, n_l)
            up = f"{l + 1}"
            cand = [("missing_transpose", delta_above @ W_above.T if W_above.shape[0] == W_above.shape[1] else
                     np.full(1, np.nan),
                     f"You used W{sub(up)} where the chain rule needs W{sub(up)}ᵀ: neuron j of layer {l} fed "
                     f"neuron i above through W{sub(up)}[i, j], so its error gathers column j of W{sub(up)}."),
                    ("wrong_sign", -back, f"Your W{sub(up)}ᵀδ{sub(up)} has the wrong sign."),
                    ("already_times_f_prime", delta, f"That is already δ{sub(l)}: this step is the error arriving "
                                                     f"at layer {l}, before ⊙ {name_f}′(z{sub(l)}).")]
            steps.append(_step(f"back{l}", f"W{sub(up)}ᵀδ{sub(up)}",
                               f"the error arriving at layer {l}: W{sub(up)}ᵀ δ{sub(up)}, i.e. entry j = "
                               f"Σᵢ W{sub(up)}[i, j] δ{sub(up)}[i]" + per, back, cand,
                               f"W{sub(up)}ᵀδ{sub(up)} = {show(W_above.T)} · {show(delta_above)} = {show(back)}"))
            cand = [("sigma_not_prime", f.f(zs[l - 1]), f"You typed {name_f}(z{sub(l)}) = a{sub(l)}; this step is "
                                                        f"the slope {name_f}′(z{sub(l)})."),
                    ("f_prime_of_a", f.prime(acts[l]), f"You evaluated {name_f}′ at a{sub(l)}; it is {name_f}′(z{sub(l)}), "
                                                       f"at the pre-activation z{sub(l)} = {show(zs[l - 1])}.")]
            if net.activation == "tanh":
                cand.append(("tanh_prime_of_z", 1 - zs[l - 1] ** 2, "tanh′(z) = 1 − tanh²(z), not 1 − z²."))
            if net.activation == "sigmoid":
                cand.append(("sigmoid_prime_of_z", zs[l - 1] * (1 - zs[l - 1]),
                             "σ′(z) = σ(z)(1 − σ(z)) = a(1 − a), not z(1 − z)."))
            prime_text = {"sigmoid": "σ′(z) = a(1 − a)", "tanh": "tanh′(z) = 1 − a²",
                          "relu": "ReLU′(z) = 1 where z > 0, else 0"}.get(net.activation, "f′(z)")
            steps.append(_step(f"fprime{l}", f"{name_f}′(z{sub(l)})", f"the slope of layer {l}'s activation at "
                               f"z{sub(l)}: {prime_text}" + per, fp, cand,
                               f"{name_f}′(z{sub(l)}) at z{sub(l)} = {show(zs[l - 1])}: {show(fp)}"))
            cand = [("forgot_f_prime", back, f"Your δ{sub(l)} equals (W{sub(up)}ᵀδ{sub(up)}) but is missing "
                                             f"⊙ f′(z{sub(l)}), the slope of the activation ({name_f}′ here)."),
                    ("missing_transpose", (delta_above @ W_above.T) * fp if W_above.shape[0] == W_above.shape[1]
                     else np.full(1, np.nan),
                     f"You used W{sub(up)} where the chain rule needs W{sub(up)}ᵀ (then ⊙ {name_f}′(z{sub(l)}))."),
                    ("sigma_not_prime", back * f.f(zs[l - 1]), f"You multiplied by {name_f}(z{sub(l)}) = a{sub(l)}; "
                                                               f"the chain rule needs the slope {name_f}′(z{sub(l)})."),
                    ("wrong_sign", -delta, f"Your δ{sub(l)} has the wrong sign.")]
            steps.append(_step(f"delta{l}", f"δ{sub(l)}", f"δ{sub(l)} = (W{sub(up)}ᵀδ{sub(up)}) ⊙ "
                               f"{name_f}′(z{sub(l)}), entry by entry" + per, delta, cand,
                               f"δ{sub(l)} = {show(back)} ⊙ {show(fp)} = {show(delta)}"))
        a_name = "x" if l == 1 else f"a{sub(l - 1)}"
        pre = "" if l == 1 else f" (not z{sub(l - 1)})"
        cand = [("transposed_outer", a_in.T @ delta, f"Rows of ∂L/∂W{sub(l)} belong to the neurons of layer {l}: "
                                                     f"it is δ{sub(l)} {a_name}ᵀ, entry [i, j] = δ{sub(l)}[i] · "
                                                     f"{a_name}[j]; you wrote {a_name} δ{sub(l)}ᵀ."),
                ("wrong_sign", -g.dW[l - 1], f"Your ∂L/∂W{sub(l)} has the wrong sign."),
                ("batch_average", g.dW[l - 1] * B, f"Your ∂L/∂W{sub(l)} is B = {B} times too large: the loss is "
                                                   "the batch mean."),
                ("used_z", delta.T @ zs[l - 2] if l > 1 else np.full(1, np.nan),
                 f"You multiplied by z{sub(l - 1)}; a weight's gradient uses the activation it multiplies: "
                 f"a{sub(l - 1)} = {name_f}(z{sub(l - 1)})."),
                ("forgot_f_prime", (g.deltas[l] @ net.weights[l]).T @ a_in if l < L else np.full(1, np.nan),
                 f"You used W{sub(l + 1)}ᵀδ{sub(l + 1)} where δ{sub(l)} (with ⊙ {name_f}′(z{sub(l)})) belongs.")]
        steps.append(_step(f"dW{l}", f"∂L/∂W{sub(l)}", f"∂L/∂W{sub(l)} = δ{sub(l)} {a_name}ᵀ{pre}: entry [i, j] = "
                           f"δ{sub(l)}[i] · {a_name}[j]" + ("" if B == 1 else ", summed over the batch"),
                           g.dW[l - 1], cand,
                           f"∂L/∂W{sub(l)} = {show(delta.T)} {show(a_in)}ᵀ = {show(g.dW[l - 1])}"))
        cand = [("wrong_sign", -g.db[l - 1], f"Your ∂L/∂b{sub(l)} has the wrong sign."),
                ("batch_average", g.db[l - 1] * B, f"Your ∂L/∂b{sub(l)} is B = {B} times too large."),
                ("used_a", a_in.sum(axis=0) if a_in.shape[1] == delta.shape[1] else np.full(1, np.nan),
                 f"∂z/∂b = 1, so ∂L/∂b{sub(l)} is δ{sub(l)} itself, not the input {a_name}.")]
        steps.append(_step(f"db{l}", f"∂L/∂b{sub(l)}", f"∂L/∂b{sub(l)} = δ{sub(l)} (∂z/∂b = 1)"
                           + ("" if B == 1 else ", summed over the batch"), g.db[l - 1], cand,
                           f"∂L/∂b{sub(l)} = {show(g.db[l - 1])}"))
    for l in range(L, 0, -1):
        for kind, theta, grad in (("W", net.weights[l - 1], g.dW[l - 1]), ("b", net.biases[l - 1], g.db[l - 1])):
            new = theta - lr * grad
            cand = [("wrong_sign", theta + lr * grad, f"You moved {kind}{sub(l)} up the gradient: it is "
                                                      f"{kind} − η ∂L/∂{kind}, against the slope."),
                    ("forgot_eta", theta - grad, f"You forgot η = {lr:g}: {kind} − η ∂L/∂{kind}."),
                    ("only_step", -lr * grad, f"That is the step −η ∂L/∂{kind}; add it to the old {kind}{sub(l)}.")]
            steps.append(_step(f"{kind}{l}_new", f"new {kind}{sub(l)}", f"{kind}{sub(l)} − η ∂L/∂{kind}{sub(l)} with "
                               f"η = {lr:g}", new, cand,
                               f"{kind}{sub(l)} − η ∂L/∂{kind}{sub(l)} = {show(theta)} − {lr:g} · {show(grad)} = "
                               f"{show(new)}"))
    return steps


def _step(key, label, formula, expected, candidates, how):
    expected = np.array(expected, dtype=np.float64)
    if expected.ndim == 2 and expected.shape[0] == 1:
        expected = expected[0]                      # one example: a vector, as the page shows it
    expected = np.squeeze(expected) if expected.size == 1 else expected
    return Step(key, label, formula, expected, _mistakes(expected, candidates), how)


def random_network(seed, sizes=(2, 2, 2), activation="sigmoid"):
    """A fresh exercise: (x (n₀,), weights, biases, target class) from a seed, with numbers of one decimal
    (a class given another seed gets other numbers, so answers cannot be copied)."""
    if int(seed) != seed or seed < 0:
        raise ValueError(f"the seed must be a whole number ≥ 0; got {seed!r}")
    rng = np.random.default_rng(int(seed))
    sizes = [int(n) for n in sizes]
    weights = [np.round(rng.uniform(-1, 1, (n_out, n_in)), 1) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [np.round(rng.uniform(-0.5, 0.5, n), 1) for n in sizes[1:]]
    x = np.round(rng.uniform(-1, 1, sizes[0]), 1)
    return x, weights, biases, int(rng.integers(sizes[-1]))


def network_exercise(sizes, activation, x, weights, biases, target, lr, output="softmax", loss="cross_entropy"):
    """The steps for the numbers of a tiny network (what the page's cells hold), in float64."""
    net = MLP(list(sizes), activation=activation, output=output, loss=loss, dtype=np.float64)
    net.set_params([np.asarray(W, dtype=np.float64) for W in weights], [np.asarray(b, dtype=np.float64) for b in biases])
    return backprop_exercise(net, x, target, lr)


# ---- the one-neuron computational graph -------------------------------------------------------

def graph_exercise(x, w, b, y, activation="sigmoid", loss="squared_error"):
    """The steps ∂L/∂node of core.graph's one-neuron graph, from L down: ∂L/∂a, ∂L/∂z, ∂L/∂b, ∂L/∂pᵢ,
    ∂L/∂wᵢ, ∂L/∂xᵢ — each the child's gradient times one local gradient."""
    graph = neuron_graph(x, w, b, y, activation=activation, loss=loss)
    a, z = graph["a"], graph["z"]
    name_f = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "identity": "f"}[activation]
    steps = []

    def add(node, formula, candidates, how):
        steps.append(_step(f"grad_{node.name}", f"∂L/∂{_pretty(node.name)}", formula, node.grad, candidates, how))

    if loss == "squared_error":
        formula = "L = (a − y)², so ∂L/∂a = 2(a − y)"
        cand = [("wrong_sign", -a.grad, "∂L/∂a = 2(a − y): prediction minus target (you have the sign flipped)."),
                ("forgot_two", a.grad / 2, "The square's derivative brings down a 2: ∂L/∂a = 2(a − y).")]
    else:
        formula = "L = −[y log a + (1 − y) log(1 − a)], so ∂L/∂a = (a − y)/(a(1 − a))"
        cand = [("wrong_sign", -a.grad, "∂L/∂a has the wrong sign."),
                ("skipped_to_delta", a.value - y, "a − y is ∂L/∂z (σ′ already cancelled); this step is ∂L/∂a.")]
    add(a, formula, cand, f"∂L/∂a = {show(a.grad)}")
    fp = a.local_grads[0]
    cand = [("forgot_f_prime", a.grad, f"Your ∂L/∂z equals ∂L/∂a but is missing × {name_f}′(z) = {show(fp)}."),
            ("sigma_not_prime", a.grad * a.value, f"You multiplied by {name_f}(z) = a; the chain rule needs the "
                                                  f"slope {name_f}′(z)."),
            ("wrong_sign", -z.grad, "Your ∂L/∂z has the wrong sign.")]
    add(z, f"∂L/∂z = ∂L/∂a · {name_f}′(z)", cand, f"∂L/∂z = {show(a.grad)} · {show(fp)} = {show(z.grad)}")
    cand = [("wrong_sign", -graph["b"].grad, "Your ∂L/∂b has the wrong sign."),
            ("forgot_f_prime", a.grad, f"∂L/∂b = ∂L/∂z · 1: you left out × {name_f}′(z) on the way down.")]
    add(graph["b"], "z = p₁ + p₂ + b, so ∂z/∂b = 1 and ∂L/∂b = ∂L/∂z", cand, f"∂L/∂b = {show(graph['b'].grad)}")
    products = [n for n in graph.nodes if n.op == "×"]
    for p in products:
        i = p.name[1:]
        add(p, f"∂z/∂p{sub(i)} = 1, so ∂L/∂p{sub(i)} = ∂L/∂z",
            [("wrong_sign", -p.grad, f"Your ∂L/∂p{sub(i)} has the wrong sign.")], f"∂L/∂p{sub(i)} = {show(p.grad)}")
    for p in products:
        i = p.name[1:]
        w_node, x_node = p.parents
        add(w_node, f"p{sub(i)} = w{sub(i)} x{sub(i)}, so ∂L/∂w{sub(i)} = ∂L/∂p{sub(i)} · x{sub(i)}",
            [("used_w", p.grad * w_node.value, f"∂p{sub(i)}/∂w{sub(i)} is the other factor, x{sub(i)} = "
                                               f"{show(x_node.value)}, not w{sub(i)}."),
             ("forgot_local", p.grad, f"Your ∂L/∂w{sub(i)} equals ∂L/∂p{sub(i)} but is missing × x{sub(i)}."),
             ("wrong_sign", -w_node.grad, f"Your ∂L/∂w{sub(i)} has the wrong sign.")],
            f"∂L/∂w{sub(i)} = {show(p.grad)} · {show(x_node.value)} = {show(w_node.grad)}")
    for p in products:
        i = p.name[1:]
        w_node, x_node = p.parents
        add(x_node, f"∂L/∂x{sub(i)} = ∂L/∂p{sub(i)} · w{sub(i)}",
            [("used_x", p.grad * x_node.value, f"∂p{sub(i)}/∂x{sub(i)} is the other factor, w{sub(i)} = "
                                               f"{show(w_node.value)}, not x{sub(i)}."),
             ("forgot_local", p.grad, f"Your ∂L/∂x{sub(i)} equals ∂L/∂p{sub(i)} but is missing × w{sub(i)}."),
             ("wrong_sign", -x_node.grad, f"Your ∂L/∂x{sub(i)} has the wrong sign.")],
            f"∂L/∂x{sub(i)} = {show(p.grad)} · {show(w_node.value)} = {show(x_node.grad)}")
    return steps


def _pretty(name):
    """w1 → w₁."""
    return name[0] + sub(name[1:]) if len(name) > 1 else name


# ---- progress ----------------------------------------------------------------------------------

def progress_text(n_right, n_shown, n_steps):
    """'5 of 12 steps right (1 shown)' or, at the end, 'All 12 steps right!'."""
    if n_right == n_steps:
        return f"All {n_steps} steps right!"
    shown = f" ({n_shown} shown)" if n_shown else ""
    return f"{n_right} of {n_steps} steps right{shown}"
