"""Backprop by hand on the Backpropagation page, tried as a new user would (AppTest)."""
import numpy as np
from apptest import assert_fine, open_page

from core.graph import neuron_graph
from core.network import MLP
from core.trace import trace_step

PREFIX = "backprop_hand"
W_EXAMPLE = [[[0.3, 0.7], [-0.2, 0.4]], [[0.5, -0.3], [0.2, 0.6]]]


def worked_example():
    """The page's default network (sigmoid 2-2-2, x = [1, 0.5], target 0, η = 0.5) traced by the core."""
    net = MLP([2, 2, 2], activation="sigmoid", dtype=np.float64)
    net.set_params([np.array(W) for W in W_EXAMPLE], [np.zeros(2), np.zeros(2)])
    t = trace_step(net, [1.0, 0.5], 0, 0.5)
    h, o = t.layers
    return [("delta2", o.delta), ("dW2", o.dW), ("db2", o.db), ("back1", h.back), ("fprime1", h.f_prime),
            ("delta1", h.delta), ("dW1", h.dW), ("db1", h.db), ("W2_new", o.W_new), ("b2_new", o.b_new),
            ("W1_new", h.W_new), ("b1_new", h.b_new)]


def typed(values):
    return ", ".join(f"{v:.3f}".replace("-", "−") for v in np.ravel(values))


def answer(at, key, text, prefix=PREFIX):
    at.text_input(key=f"{prefix}_answer_{key}").input(text).run()
    at.button(key=f"{prefix}_check").click().run()
    assert_fine(at)


def green(at):
    """The steps shown as right (green, with a check mark); the gradient check's own success box is not one."""
    return [e for e in at.success if e.icon == ":material/check_circle:"]


def progress(at):
    return [p.text for p in at.get("progress")]


def test_delta_one_without_f_prime_gets_the_hint_naming_it_and_right_numbers_turn_green():
    at = open_page("backpropagation")
    steps = worked_example()
    for key, value in steps[:5]:
        answer(at, key, typed(value))
    assert len(green(at)) == 5 and "5 of 12 steps right" in progress(at)[0]
    answer(at, "delta1", typed(steps[3][1]))                      # W₂ᵀδ₂ without ⊙ f′(z₁)
    assert any("missing ⊙ f′(z₁)" in e.value for e in at.error)
    assert len(green(at)) == 5                                     # not counted
    answer(at, "delta1", typed(steps[5][1]))
    assert len(green(at)) == 6 and not any("missing" in e.value for e in at.error)


def test_all_twelve_steps_right_for_the_default_network():
    at = open_page("backpropagation")
    for key, value in worked_example():
        answer(at, key, typed(value))
    assert len(green(at)) == 12
    assert "All 12 steps right!" in progress(at)[0]
    assert any("All 12 steps right!" in m.value for m in at.markdown)


def test_show_me_reveals_a_step_and_counts_it_as_shown():
    at = open_page("backpropagation")
    at.button(key=f"{PREFIX}_show").click().run()
    assert len(at.info) >= 1 and any("(shown: δ₂ = " in i.value for i in at.info)
    assert "0 of 12 steps right (1 shown)" in progress(at)[0]


def test_a_new_exercise_puts_new_numbers_into_the_network_and_starts_the_count_again():
    at = open_page("backpropagation")
    answer(at, "delta2", typed(worked_example()[0][1]))
    assert len(green(at)) == 1
    at.button(key="backprop_hand_new").click().run()
    assert_fine(at)
    assert at.text_input(key="keep_backprop_net_W1_0_0").value != "0.3"
    assert len(green(at)) == 0 and "0 of 12 steps right" in progress(at)[0]


def test_the_one_neuron_graph_by_hand_names_the_missing_local_derivative():
    at = open_page("backpropagation")
    at.toggle(key="keep_backprop_graph_hand").set_value(True).run()
    assert_fine(at)
    graph = neuron_graph([1.0, 0.5], [0.6, -0.4], -0.1, 0.0)
    answer(at, "grad_a", typed(graph["a"].grad), prefix="backprop_graph_hand")
    answer(at, "grad_z", typed(graph["a"].grad), prefix="backprop_graph_hand")   # forgot × σ′(z)
    assert any("missing × σ′(z)" in e.value for e in at.error)
    answer(at, "grad_z", typed(graph["z"].grad), prefix="backprop_graph_hand")
    assert any("2 of 9 steps right" in p for p in progress(at))
