"""Backprop by hand (lab/exercises.py): the steps, their values from the core, and the hints for the usual mistakes."""
import numpy as np
import pytest

from core.graph import neuron_graph
from core.trace import trace_step
from lab.exercises import (
    backprop_exercise,
    check,
    graph_exercise,
    network_exercise,
    progress_text,
    random_network,
)
from core.network import MLP

W_EXAMPLE = [[[0.3, 0.7], [-0.2, 0.4]], [[0.5, -0.3], [0.2, 0.6]]]


def default_steps():
    return network_exercise([2, 2, 2], "sigmoid", [1.0, 0.5], W_EXAMPLE, [[0, 0], [0, 0]], 0, 0.5)


def typed(values, digits=3):
    return ", ".join(f"{v:.{digits}f}".replace("-", "−") for v in np.ravel(values))


def by_key(steps):
    return {s.key: s for s in steps}


def test_the_default_network_has_twelve_steps_in_backprops_order():
    keys = [s.key for s in default_steps()]
    assert keys == ["delta2", "dW2", "db2", "back1", "fprime1", "delta1", "dW1", "db1",
                    "W2_new", "b2_new", "W1_new", "b1_new"]


def test_expected_values_agree_with_the_trace_of_the_core():
    net = MLP([2, 2, 2], activation="sigmoid", dtype=np.float64)
    net.set_params([np.array(W) for W in W_EXAMPLE], [np.zeros(2), np.zeros(2)])
    t = trace_step(net, [1.0, 0.5], 0, 0.5)
    s = by_key(default_steps())
    sigmoid_z1 = 1 / (1 + np.exp(-t.layers[0].z))
    np.testing.assert_allclose(s["delta2"].expected, t.y_hat - t.y)
    np.testing.assert_allclose(s["back1"].expected, t.layers[1].W.T @ t.layers[1].delta)
    np.testing.assert_allclose(s["fprime1"].expected, sigmoid_z1 * (1 - sigmoid_z1))
    np.testing.assert_allclose(s["dW1"].expected, np.outer(t.layers[0].delta, [1.0, 0.5]))
    np.testing.assert_allclose(s["W1_new"].expected, t.layers[0].W_new)
    np.testing.assert_allclose(s["b2_new"].expected, t.layers[1].b_new)


def test_right_answers_to_three_decimals_with_the_unicode_minus_are_right():
    for step in default_steps():
        verdict = check(step, typed(step.expected))
        assert verdict.right, (step.key, verdict.message)


def test_delta_without_the_activation_slope_gets_the_hint_naming_f_prime():
    s = by_key(default_steps())
    verdict = check(s["delta1"], typed(s["back1"].expected))
    assert not verdict.right and verdict.mistake == "forgot_f_prime"
    assert "missing ⊙ f′(z₁)" in verdict.message


def test_w_instead_of_w_transpose_is_named():
    s = by_key(default_steps())
    W2 = np.array(W_EXAMPLE[1])
    verdict = check(s["back1"], typed(W2 @ s["delta2"].expected))
    assert verdict.mistake == "missing_transpose" and "W₂ᵀ" in verdict.message


def test_sign_sigma_and_eta_mistakes_are_named():
    s = by_key(default_steps())
    assert check(s["delta2"], typed(-s["delta2"].expected)).mistake == "wrong_sign"
    z1 = np.array(W_EXAMPLE[0]) @ [1.0, 0.5]
    assert check(s["fprime1"], typed(1 / (1 + np.exp(-z1)))).mistake == "sigma_not_prime"
    W2 = np.array(W_EXAMPLE[1])
    assert check(s["W2_new"], typed(W2 - s["dW2"].expected)).mistake == "forgot_eta"
    assert check(s["W2_new"], typed(W2 + 0.5 * s["dW2"].expected)).mistake == "wrong_sign"


def test_a_batch_not_averaged_is_named_when_the_batch_has_two_examples():
    net = MLP([2, 3, 2], activation="tanh", dtype=np.float64, seed=3)
    X, y = np.array([[1.0, 0.5], [-0.3, 0.8]]), np.array([0, 1])
    s = by_key(backprop_exercise(net, X, y, 0.1))
    verdict = check(s["dW2"], typed(2 * s["dW2"].expected, 4))
    assert verdict.mistake == "batch_average" and "B = 2" in verdict.message
    assert check(s["delta2"], typed(2 * s["delta2"].expected, 4)).mistake == "batch_average"


def test_a_mistake_that_gives_the_right_number_is_not_offered():
    # a batch of one: averaging or not is the same number, so that "mistake" would call a right answer wrong
    s = by_key(default_steps())
    assert all(m.code != "batch_average" for step in s.values() for m in step.mistakes)


def test_wrong_count_and_garbage_get_clear_messages():
    s = by_key(default_steps())
    assert "a 2×2 matrix" in check(s["dW2"], "0.1, 0.2, 0.3").message
    assert "must be a number" in check(s["delta2"], "abc, 1").message
    unknown = check(s["delta2"], "0.9, 0.9")
    assert not unknown.right and unknown.mistake is None and unknown.wrong_entries == (0, 1)


def test_random_exercises_differ_by_seed_and_repeat_with_it():
    a, b = random_network(1), random_network(2)
    assert not np.array_equal(a[1][0], b[1][0])
    np.testing.assert_array_equal(random_network(1)[1][0], a[1][0])
    with pytest.raises(ValueError, match="seed"):
        random_network(-1)


def test_graph_steps_equal_the_graphs_own_gradients_and_name_the_local_factor():
    steps = by_key(graph_exercise([1.0, 0.5], [0.6, -0.4], -0.1, 0.0))
    graph = neuron_graph([1.0, 0.5], [0.6, -0.4], -0.1, 0.0)
    for name in ("a", "z", "b", "w1", "w2", "x1", "x2"):
        assert steps[f"grad_{name}"].expected == pytest.approx(graph[name].grad)
    verdict = check(steps["grad_z"], typed(graph["a"].grad))
    assert verdict.mistake == "forgot_f_prime" and "σ′(z)" in verdict.message
    assert check(steps["grad_w2"], typed(graph["p2"].grad * -0.4)).mistake == "used_w"


def test_progress_reads_all_steps_right_at_the_end():
    assert progress_text(12, 0, 12) == "All 12 steps right!"
    assert progress_text(5, 1, 12) == "5 of 12 steps right (1 shown)"


def test_two_hidden_layers_and_mse_outputs_are_exercises_too():
    x, weights, biases, target = random_network(7, (3, 3, 2, 2), "tanh")
    steps = network_exercise([3, 3, 2, 2], "tanh", x, weights, biases, target, 0.1, output="sigmoid", loss="mse")
    assert len(steps) == 3 + 5 * 2 + 2 * 3 == 19
    s = by_key(steps)
    net = MLP([3, 3, 2, 2], activation="tanh", output="sigmoid", loss="mse", dtype=np.float64)
    net.set_params(weights, biases)
    t = trace_step(net, x, target, 0.1)
    np.testing.assert_allclose(s["delta1"].expected, t.layers[0].delta)
    np.testing.assert_allclose(s["back2"].expected, t.layers[2].W.T @ t.layers[2].delta)
    for step in steps:
        assert check(step, typed(step.expected, 6)).right, step.key
    y_hat, y = t.y_hat, t.y
    assert check(s["delta3"], typed((y_hat - y) * 2 / 2, 6)).mistake == "forgot_f_prime"   # ∂L/∂ŷ without σ′
