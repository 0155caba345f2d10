"""The one-neuron computational graph: forward values, local gradients, and the chain rule products."""
import re

import numpy as np
import pytest

from core.checks import GRAPH_BOUND
from core.graph import (
    Node,
    backward,
    neuron_graph,
    softmax_jacobian,
)
from core.losses import softmax
from core.network import MLP
from lab.steps import chain_product, chain_through_outputs, graph_path

X, W, B = [1.0, 0.5], [0.6, -0.4], -0.1       # the perceptron example's numbers: z = 0.3


def test_forward_values_and_local_gradients():
    g = neuron_graph(X, W, B, y=0.0, activation="sigmoid", loss="squared_error")
    assert g["p1"].value == pytest.approx(0.6) and g["p2"].value == pytest.approx(-0.2)
    assert g["z"].value == pytest.approx(0.3)
    a = 1 / (1 + np.exp(-0.3))
    assert g["a"].value == pytest.approx(a)
    assert g["L"].value == pytest.approx(a ** 2)
    assert g["p2"].local_grads == pytest.approx((0.5, -0.4))        # ∂p2/∂w2 = x2, ∂p2/∂x2 = w2
    assert g["z"].local_grads == pytest.approx((1, 1, 1))
    assert g["a"].local_grads == pytest.approx((a * (1 - a),))      # σ'(z)
    assert g["L"].local_grads == pytest.approx((2 * a,))            # 2(a − y)
    assert round(g["a"].value, 3) == 0.574 and round(g["L"].value, 3) == 0.330


def test_chain_rule_product_along_the_path_is_the_gradient():
    g = neuron_graph(X, W, B, y=0.0)
    path = graph_path(g, "w2")
    assert [(c.name, p.name) for c, p, _ in path] == [("L", "a"), ("a", "z"), ("z", "p2"), ("p2", "w2")]
    for name in ("w1", "w2", "x1", "x2", "b", "z", "a"):
        assert chain_product(g, name) == pytest.approx(g[name].grad)
    a = g["a"].value
    assert g["w2"].grad == pytest.approx(2 * a * a * (1 - a) * 0.5)
    assert g["x1"].grad == pytest.approx(2 * a * a * (1 - a) * 0.6)
    assert g["L"].grad == 1.0


@pytest.mark.parametrize("loss", ["squared_error", "bce"])
def test_matches_the_mlp_for_a_sigmoid_output_neuron(loss):
    """A one-neuron sigmoid MLP computes the same loss and ∂L/∂w, ∂L/∂b (mse of one output = squared error)."""
    x, w, b, y = [0.3, -1.2, 2.0], [0.5, 0.1, -0.7], 0.2, 1.0
    g = neuron_graph(x, w, b, y, activation="sigmoid", loss=loss)
    net = MLP([3, 1], output="sigmoid", loss="mse" if loss == "squared_error" else "bce", dtype=np.float64)
    net.set_params([np.array([w])], [np.array([b])])
    value, grads = net.loss_and_grads(np.array([x]), np.array([[y]]))
    assert g.output.value == pytest.approx(value, rel=1e-9)
    dW, db = grads[0]
    assert [g[f"w{i}"].grad for i in (1, 2, 3)] == pytest.approx(dW[0], rel=1e-9)
    assert g["b"].grad == pytest.approx(db[0], rel=1e-9)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "identity"])
def test_gradients_match_central_differences(activation):
    x, w, b, y = np.array([0.7, -0.3]), np.array([0.4, 0.9]), 0.05, 0.2
    g = neuron_graph(x, w, b, y, activation=activation)
    eps = 1e-6
    for i in range(2):
        step = np.eye(2)[i] * eps
        numeric = (neuron_graph(x, w + step, b, y, activation).output.value
                   - neuron_graph(x, w - step, b, y, activation).output.value) / (2 * eps)
        assert g[f"w{i + 1}"].grad == pytest.approx(numeric, rel=1e-6, abs=1e-10)
    numeric_b = (neuron_graph(x, w, b + eps, y, activation).output.value
                 - neuron_graph(x, w, b - eps, y, activation).output.value) / (2 * eps)
    assert g["b"].grad == pytest.approx(numeric_b, rel=1e-6, abs=1e-10)


def test_a_node_used_twice_collects_both_gradients():
    """backward() adds over every path: L = u·u has dL/du = 2u."""
    u = Node("u", 3.0)
    L = Node("L", 9.0, "×", (u, u), (3.0, 3.0))
    backward(L)
    assert u.grad == 6.0


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="same number"):
        neuron_graph([1, 2], [1], 0, 0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        neuron_graph([1, np.nan], [1, 1], 0, 0)
    with pytest.raises(ValueError, match="finite"):
        neuron_graph([1], [1], np.inf, 0)
    with pytest.raises(ValueError, match="unknown loss"):
        neuron_graph([1], [1], 0, 0, loss="hinge")
    with pytest.raises(ValueError, match="unknown activation"):
        neuron_graph([1], [1], 0, 0, activation="swish")
    with pytest.raises(ValueError, match="0 < a < 1"):
        neuron_graph([1], [2], 0, 0, activation="relu", loss="bce")
    with pytest.raises(ValueError, match="must be a number"):
        neuron_graph([1], [1], "abc", 0)


def test_softmax_two_paths_give_y_hat_minus_y():
    """δ = Σ_k ∂L/∂ŷ_k ∂ŷ_k/∂z = ŷ − y for softmax + cross-entropy (the page's derivation)."""
    z = np.array([0.375, 0.15])
    p = softmax(z)
    y = np.array([1.0, 0.0])
    J = softmax_jacobian(p)
    assert J == pytest.approx(np.array([[p[0] * (1 - p[0]), -p[0] * p[1]], [-p[1] * p[0], p[1] * (1 - p[1])]]))
    delta, terms = chain_through_outputs(-y / p, J)
    assert delta == pytest.approx(p - y)
    assert terms.sum(axis=0) == pytest.approx(delta)
    assert terms[0, 0] == pytest.approx(-(1 - p[0]))               # the path through ŷ_1
    assert np.round(p, 3).tolist() == [0.556, 0.444]
    with pytest.raises(ValueError, match="Jacobian"):
        chain_through_outputs([1.0, 2.0], np.eye(3))


@pytest.mark.parametrize("x, w, b, y, message", [
    ([1.0, 2.0], [0.5, 0.5], 0.0, 1e308, "y must be between −1,000,000 and 1,000,000; got 1e+308"),
    ([1.0, 2.0], [0.5, 0.5], -1e200, 0.0, "b must be between"),
    ([1e300, 2.0], [1e300, 0.5], 0.0, 0.0, "every x must be between −1,000,000 and 1,000,000; got 1e+300"),
    ([1.0, 2.0], [0.5, -2e6], 0.0, 0.0, "every w must be between"),
])
def test_values_beyond_the_bound_are_refused_before_anything_overflows(x, w, b, y, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        neuron_graph(x, w, b, y, loss="squared_error")


def test_the_bound_itself_still_computes_finite_numbers():
    g = neuron_graph([GRAPH_BOUND, GRAPH_BOUND], [GRAPH_BOUND, GRAPH_BOUND], GRAPH_BOUND, -GRAPH_BOUND,
                     activation="identity")
    assert g["L"].value == pytest.approx((2e12 + 1e6 + 1e6) ** 2) and np.isfinite(g["w1"].grad)
