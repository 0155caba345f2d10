"""The computational graph of one neuron — the chain rule made visible, as in micrograd.

One neuron with inputs x (n,), weights w (n,), bias b and target y:

    p_i = w_i x_i                 (one product per input)
    z   = p_1 + … + p_n + b
    a   = f(z)                    (the activation)
    L   = loss(a, y)              squared error (a − y)²  or  BCE −[y log a + (1 − y) log(1 − a)]
                                  (core.losses' MSE and BCE records for one prediction: B = K = 1)

Each node keeps its forward value and, for each node it was computed from, the *local* gradient
∂node/∂parent (∂p_i/∂w_i = x_i, ∂z/∂p_i = 1, ∂a/∂z = f'(z), ∂L/∂a = 2(a − y) …). The backward pass
starts from ∂L/∂L = 1 and hands each node's gradient to its parents multiplied by the local gradient:

    parent.grad += local · node.grad

so ∂L/∂w_i = ∂L/∂a · ∂a/∂z · ∂z/∂p_i · ∂p_i/∂w_i  — the product of the local gradients along the path.

Also here: the softmax Jacobian, for the "two paths" derivation of δ = ŷ − y (its sum over the paths,
term by term, is lab.steps.chain_through_outputs).
"""
import numpy as np

from core.activations import get_activation
from core.checks import check_bce_point, check_known, check_neuron_inputs, check_vector
from core.losses import LOSSES

GRAPH_LOSSES = {"squared_error": LOSSES["mse"], "bce": LOSSES["bce"]}   # one prediction: (a − y)² is the MSE


class Node:
    """One value of the graph: forward value, where it came from, ∂self/∂parent, and ∂L/∂self after backward()."""

    def __init__(self, name, value, op="", parents=(), local_grads=()):
        self.name = name                  # "w1", "p1", "z", "a", "L" …
        self.value = float(value)
        self.op = op                      # "" for a leaf, else "×", "+", "f", "loss"
        self.parents = tuple(parents)
        self.local_grads = tuple(float(g) for g in local_grads)   # ∂self/∂parent, one per parent
        self.grad = 0.0                   # ∂L/∂self, filled in by backward()

    def __repr__(self):
        return f"Node({self.name}={self.value:.4g}, grad={self.grad:.4g})"


def backward(output):
    """Fill every node's .grad with ∂output/∂node: visit nodes from the output down, parent.grad += local · grad."""
    order, seen = [], set()              # every node reachable from output, each after the nodes it came from

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(output)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


class NeuronGraph:
    """The graph of L = loss(f(w·x + b), y) after its forward and backward pass."""

    def __init__(self, nodes, activation, loss, y):
        self.nodes = nodes                              # in forward order; nodes[-1] is L
        self.by_name = {node.name: node for node in nodes}
        self.activation, self.loss, self.y = activation, loss, y

    def __getitem__(self, name):
        return self.by_name[name]

    @property
    def output(self):
        return self.nodes[-1]


def neuron_graph(x, w, b, y, activation="sigmoid", loss="squared_error"):
    """Build, evaluate and backpropagate the graph of one neuron (see the module docstring)."""
    x, w, b, y = check_neuron_inputs(x, w, b, y)
    check_known(loss, list(GRAPH_LOSSES), "loss")
    act = get_activation(activation)

    xs = [Node(f"x{i + 1}", v) for i, v in enumerate(x)]
    ws = [Node(f"w{i + 1}", v) for i, v in enumerate(w)]
    bias = Node("b", b)
    products = [Node(f"p{i + 1}", wi.value * xi.value, "×", (wi, xi), (xi.value, wi.value))
                for i, (wi, xi) in enumerate(zip(ws, xs))]
    z = Node("z", sum(p.value for p in products) + b, "+", (*products, bias), [1.0] * (len(products) + 1))
    a = Node("a", act.f(np.array(z.value)), "f", (z,), (act.prime(np.array(z.value)),))
    if loss == "bce":
        check_bce_point(a.value, y)
    record, a_, y_ = GRAPH_LOSSES[loss], np.array([a.value]), np.array([y])     # one prediction: B = K = 1
    L = Node("L", record.value(a_, y_), "loss", (a,), (record.slope(a_, y_)[0],))
    nodes = [*(n for pair in zip(ws, xs) for n in pair), bias, *products, z, a, L]
    backward(L)
    return NeuronGraph(nodes, activation, loss, y)


def softmax_jacobian(p):
    """J[k, j] = ∂ŷ_k/∂z_j = ŷ_k (1[k = j] − ŷ_j)  for ŷ = softmax(z);  p (K,) -> (K, K)."""
    p = check_vector(p, "p")
    return np.diag(p) - np.outer(p, p)

