"""AppTest for the stepper pages: Home, Perceptron, Forward pass, Backpropagation.

Each page is reached through app.py's navigation, as a learner reaches it. The worked examples of the
foundation issue must appear, every number must match the core, edits must flow downstream, bad input must
give a message (never a traceback). Each page keeps its own tiny network: it survives a trip to another page,
edits on one page leave the other alone, and each page can copy the other's network with a button.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from apptest import assert_fine, open_page

from core.gradcheck import max_relative_error
from core.network import MLP
from core.optim import SGD
from core.trace import trace_step
from pages.ui.tiny_net import cell_names

APP = Path(__file__).resolve().parents[1] / "app.py"
W1, W2 = [[0.3, 0.7], [-0.2, 0.4]], [[0.5, -0.3], [0.2, 0.6]]


def latex(at):
    return "\n".join(e.value for e in at.latex)


def text(at):
    parts = [*at.markdown, *at.caption, *at.success, *at.error, *at.warning, *at.info]
    return "\n".join(str(e.value) for e in parts)


def column(values):
    """How the pages write a column vector (3 decimals)."""
    return r"\begin{bmatrix}" + r" \\ ".join("0" if v == 0 else f"{v:.3f}" for v in values) + r"\end{bmatrix}"


def matrix(M):
    rows = [" & ".join("0" if v == 0 else f"{v:.3f}" for v in row) for row in M]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def core_trace(activation, W, b, x=(1.0, 0.5), label=0, lr=0.5, output="softmax", loss="cross_entropy"):
    net = MLP([2, 2, 2], activation=activation, output=output, loss=loss, dtype=np.float64)
    net.set_params([np.array(w, dtype=float) for w in W], [np.array(v, dtype=float) for v in b])
    return trace_step(net, np.array(x), label, lr)


def click(at, key):
    at.button(key=key).click().run()
    assert_fine(at)


def show_all(at, page):
    click(at, f"{page}_all")


def set_cell(at, page, key, value):
    at.text_input(key=f"keep_{page}_net_{key}").input(value).run()
    assert_fine(at)


def cell(at, page, key):
    return at.text_input(key=f"keep_{page}_net_{key}").value


# ---- Home ------------------------------------------------------------------------------------------

def test_home_lists_the_learning_path_in_order():
    at = open_page("home")
    links = [link.proto.page for link in at.get("page_link")]        # url paths of the linked pages
    assert links == ["perceptron", "forward_pass", "backpropagation", "activation_functions", "loss_functions",
                     "optimizers", "vanishing_gradients", "playground", "train_mnist", "draw_digit"]
    assert "see how a neural network learns" in text(at)
    assert len(at.caption) == 10                      # one line per card


def test_home_promises_the_digits_this_machine_has(tmp_path, monkeypatch):
    """Issue 14: the card said 60,000 digits while the lab had the 4,000-image sample."""
    import streamlit as st
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (123, 28, 28), dtype=np.uint8), np.arange(123) % 10
    np.savez_compressed(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x[:7], y_test=y[:7])
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(tmp_path / "mnist.npz"))
    st.cache_data.clear()                                  # the page caches what it found
    card = [c.value for c in open_page("home").caption if "handwritten digits" in c.value]
    assert card == ["Train a real network on 123 handwritten digits with the same NumPy code, on your CPU."]
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(tmp_path / "nowhere"))
    st.cache_data.clear()
    card = [c.value for c in open_page("home").caption if "handwritten digits" in c.value]
    assert "no usable MNIST copy yet" in card[0] and "60,000" not in card[0]
    st.cache_data.clear()


# ---- Forward pass -----------------------------------------------------------------------------------

def test_forward_default_is_the_worked_example():
    at = open_page("forward_pass")                    # a fresh session: the ReLU forward example
    show_all(at, "forward")
    tex = latex(at)
    assert column([0.75, -0.1]) in tex                # z1
    assert column([0.75, 0]) in tex                   # a1
    assert column([0.375, 0.15]) in tex               # z2
    assert column([0.556, 0.444]) in tex              # ŷ
    assert "probability 0.556" in text(at)
    assert "Inactive ReLU (neuron 2 of hidden layer 1)" in text(at)   # z = −0.1: marked and explained


def test_forward_stepping_walks_every_stage():
    at = open_page("forward_pass")
    titles = ["Input", "z₁ = W₁x + b₁", "a₁ = f(z₁)", "z₂ = W₂a₁ + b₂", "ŷ = softmax(z)"]
    for k, title in enumerate(titles):
        assert at.session_state["keep_forward_step"] == k
        assert f"**{k + 1}. {title}**  ← this step" in text(at)
        assert len(at.latex) == [1, 3, 4, 6, 7][k]    # every earlier step stays on screen
        click(at, "forward_next")
    assert at.session_state["keep_forward_step"] == len(titles) - 1   # Next stops at the end
    click(at, "forward_back")
    assert at.session_state["keep_forward_step"] == len(titles) - 2


def test_forward_editing_a_weight_changes_everything_downstream():
    at = open_page("forward_pass")
    set_cell(at, "forward", "W1_0_0", "0.9")
    set_cell(at, "forward", "x_1", "-1")
    show_all(at, "forward")
    t = core_trace("relu", [[[0.9, 0.7], W1[1]], W2], [[0.1, -0.1], [0, 0]], x=(1.0, -1.0))
    tex = latex(at)
    assert column(t.layers[0].z) in tex and column(t.layers[1].z) in tex and column(t.y_hat) in tex
    assert column([0.556, 0.444]) not in tex
    at.selectbox(key="keep_forward_net_activation").select("tanh").run()
    assert_fine(at)
    t = core_trace("tanh", [[[0.9, 0.7], W1[1]], W2], [[0.1, -0.1], [0, 0]], x=(1.0, -1.0))
    assert column(t.layers[0].a) in latex(at) and column(t.y_hat) in latex(at)
    assert "Inactive ReLU" not in text(at)


@pytest.mark.parametrize("bad, message", [("", "is empty"), ("abc", "must be a number"), ("nan", "must be a finite"),
                                          ("inf", "must be a finite"), ("1e9", "must be between")])
def test_forward_bad_cell_gives_a_message_not_a_traceback(bad, message):
    at = open_page("forward_pass")
    set_cell(at, "forward", "b1_1", bad)
    assert any(message in e.value and "b₁ entry 2" in e.value for e in at.error)
    assert not at.latex                                # no half-computed steps
    set_cell(at, "forward", "b1_1", "−0.1")            # a typographic minus is fine
    assert not at.error and at.latex


def test_forward_sizes_and_random_weights():
    at = open_page("forward_pass")
    at.selectbox(key="keep_forward_net_depth").select(2).run()
    at.selectbox(key="keep_forward_net_h2").select(3).run()
    at.selectbox(key="keep_forward_net_n_out").select(4).run()
    assert_fine(at)
    ss = at.session_state
    assert "keep_forward_net_W3_3_2" in ss and "keep_forward_net_W2_2_1" in ss
    assert "keep_forward_net_W3_0_3" not in ss
    show_all(at, "forward")
    assert len([m for m in at.markdown if "← this step" in m.value]) == 1
    first = ss["keep_forward_net_W1_0_0"]
    at.number_input(key="keep_forward_net_seed").set_value(7).run()
    click(at, "forward_random")
    assert ss["keep_forward_net_W1_0_0"] != first
    assert_fine(at)


def test_reset_to_example_restores_the_worked_numbers():
    at = open_page("forward_pass")
    set_cell(at, "forward", "x_0", "3")
    at.selectbox(key="keep_forward_net_activation").select("gelu").run()
    click(at, "forward_reset")
    show_all(at, "forward")
    assert column([0.556, 0.444]) in latex(at)
    assert at.selectbox(key="keep_forward_net_activation").value == "relu"


# ---- each page's own network: kept across navigation, independent, copied on request ------------------

def visit_other_pages_and_return(at, page):
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/perceptron.py").run()
    at.switch_page(f"pages/{page}.py").run()
    assert_fine(at)


def test_each_page_keeps_its_own_network_across_navigation():
    at = open_page("forward_pass")
    set_cell(at, "forward", "W2_1_0", "-0.8")
    click(at, "forward_next")
    at.switch_page("pages/backpropagation.py").run()
    assert_fine(at)
    assert cell(at, "backprop", "W2_1_0") == "0.2"               # the backprop page's own example, untouched
    assert at.selectbox(key="keep_backprop_net_activation").value == "sigmoid"
    set_cell(at, "backprop", "x_0", "2")
    at.selectbox(key="keep_backprop_net_n_out").select(3).run()
    assert_fine(at)
    visit_other_pages_and_return(at, "forward_pass")
    assert cell(at, "forward", "W2_1_0") == "-0.8"                # the forward edit survived, …
    assert cell(at, "forward", "x_0") == "1"                      # … and the backprop edits never reached it
    assert at.selectbox(key="keep_forward_net_n_out").value == 2
    assert at.session_state["keep_forward_step"] == 1
    t = core_trace("relu", [W1, [W2[0], [-0.8, 0.6]]], [[0.1, -0.1], [0, 0]])
    show_all(at, "forward")
    assert column(t.y_hat) in latex(at)
    visit_other_pages_and_return(at, "backpropagation")
    assert cell(at, "backprop", "x_0") == "2" and cell(at, "backprop", "W2_1_0") != "-0.8"
    assert at.selectbox(key="keep_backprop_net_n_out").value == 3


def test_backprop_uses_the_forward_network_on_request():
    at = open_page("forward_pass")
    set_cell(at, "forward", "W2_1_0", "-0.8")
    at.switch_page("pages/backpropagation.py").run()
    click(at, "backprop_copy")
    assert cell(at, "backprop", "W2_1_0") == "-0.8" and cell(at, "backprop", "b1_0") == "0.1"
    assert at.selectbox(key="keep_backprop_net_activation").value == "relu"
    show_all(at, "backprop")
    t = core_trace("relu", [W1, [W2[0], [-0.8, 0.6]]], [[0.1, -0.1], [0, 0]])
    tex = latex(at)
    assert column(t.y_hat) in tex and matrix(t.layers[1].W_new) in tex and column(t.layers[0].delta) in tex
    set_cell(at, "backprop", "W2_1_0", "0.9")                     # a copy: editing it leaves the forward page alone
    at.switch_page("pages/forward_pass.py").run()
    assert cell(at, "forward", "W2_1_0") == "-0.8"


def test_backprop_copy_takes_sizes_and_the_cells_as_typed():
    at = open_page("forward_pass")
    at.selectbox(key="keep_forward_net_depth").select(2).run()
    at.selectbox(key="keep_forward_net_n_out").select(3).run()
    set_cell(at, "forward", "x_0", "oops")
    names = cell_names([2, 2, 2, 3])                                         # x, W1·b1, W2·b2, W3·b3
    forward_cells = [cell(at, "forward", name) for name in names]
    at.switch_page("pages/backpropagation.py").run()
    click(at, "backprop_copy")
    assert [cell(at, "backprop", name) for name in names] == forward_cells
    assert [at.selectbox(key=f"keep_backprop_net_{k}").value for k in ("n_in", "depth", "h1", "h2", "n_out")] \
        == [2, 2, 2, 2, 3]
    assert any("x₁" in e.value and "must be a number" in e.value for e in at.error)   # the typo came along
    assert at.selectbox(key="keep_backprop_target").options == ["0", "1", "2"]


def test_forward_uses_the_backprop_network_on_request():
    at = open_page("forward_pass")
    click(at, "forward_copy")                         # the backprop page was never opened: its sigmoid example
    assert at.selectbox(key="keep_forward_net_activation").value == "sigmoid"
    assert cell(at, "forward", "b1_0") == "0"
    show_all(at, "forward")
    t = core_trace("sigmoid", [W1, W2], [[0, 0], [0, 0]])
    assert column(t.layers[0].a) in latex(at) and column(t.y_hat) in latex(at)
    at.switch_page("pages/backpropagation.py").run()
    set_cell(at, "backprop", "W1_0_1", "-0.5")
    at.switch_page("pages/forward_pass.py").run()
    assert cell(at, "forward", "W1_0_1") == "0.7"                 # not copied until asked
    click(at, "forward_copy")
    assert cell(at, "forward", "W1_0_1") == "-0.5"
    assert at.session_state["keep_forward_step"] == 0


# ---- Backpropagation ----------------------------------------------------------------------------------

def test_backprop_default_is_the_sigmoid_worked_example():
    at = open_page("backpropagation")                 # a fresh session: no button pressed
    show_all(at, "backprop")
    tex = latex(at)
    assert column([0.65, 0]) in tex and column([0.657, 0.5]) in tex            # z1, a1
    assert column([0.179, 0.431]) in tex                                         # z2
    assert column([-0.563, 0.563]) in tex                                        # δ2 = ŷ − y
    assert matrix([[-0.370, -0.281], [0.370, 0.281]]) in tex                    # dW2
    assert column([-0.038, 0.127]) in tex                                        # δ1
    assert matrix([[0.685, -0.159], [0.015, 0.459]]) in tex                     # new W2
    t = core_trace("sigmoid", [W1, W2], [[0, 0], [0, 0]])
    assert column(t.y_hat) in tex and f"{t.loss:.3f}" in tex and f"{t.new_loss:.3f}" in tex
    assert t.new_loss < t.loss
    assert at.selectbox(key="keep_backprop_target").value == 0
    assert at.number_input(key="keep_backprop_lr").value == 0.5


def test_backprop_stepping_walks_every_stage():
    at = open_page("backpropagation")
    titles = ["Forward pass", "Loss", "δ₂ = ∂L/∂z₂", "∂L/∂W₂, ∂L/∂b₂", "δ₁ = (W₂ᵀδ₂) ⊙ f'(z₁)", "∂L/∂W₁, ∂L/∂b₁",
              "Update", "New loss"]
    for k, title in enumerate(titles):
        assert at.session_state["keep_backprop_step"] == k
        assert f"**{k + 1}. {title}**  ← this step" in text(at)
        click(at, "backprop_next")
    assert at.session_state["keep_backprop_step"] == len(titles) - 1
    click(at, "backprop_back")
    assert at.session_state["keep_backprop_step"] == len(titles) - 2


def diagram_labels(at):
    """The text beside every neuron of the backprop diagram, layer by layer (the traces drawn in mode "text")."""
    spec = [e for e in at.get("plotly_chart") if e.proto.id.endswith("-backprop_diagram")][0].proto.spec
    return [t["text"] for t in json.loads(spec)["data"] if t.get("mode") == "text"]


def test_backprop_step_5_says_its_lines_are_weights_and_step_8_labels_every_neuron():
    at = open_page("backpropagation")
    for _ in range(4):
        click(at, "backprop_next")
    assert "The lit lines are weights, labelled with their values" in text(at)      # δ₁: along W₂
    assert "Lines: the gradients" not in text(at)
    show_all(at, "backprop")                                                       # 8. New loss
    labels = diagram_labels(at)
    assert all(label for layer in labels for label in layer), labels
    # the updated network's hidden activations, computed here from one SGD step by hand
    t = core_trace("sigmoid", [W1, W2], [[0, 0], [0, 0]])
    x = np.array([1.0, 0.5])
    a1 = 1 / (1 + np.exp(-(t.layers[0].W_new @ x + t.layers[0].b_new)))
    assert labels[1] == [f"a={v:.3g}" for v in a1]
    assert labels[2] == [f"ŷ={v:.3g}" for v in t.new_y_hat]


def test_backprop_reset_to_example():
    at = open_page("backpropagation")
    set_cell(at, "backprop", "W2_0_0", "2")
    at.selectbox(key="keep_backprop_target").select(1).run()
    click(at, "backprop_copy")                        # the forward page's ReLU network
    click(at, "backprop_reset")
    show_all(at, "backprop")
    assert matrix([[0.685, -0.159], [0.015, 0.459]]) in latex(at)
    assert at.selectbox(key="keep_backprop_target").value == 0


def test_backprop_gradient_check_panel_passes():
    at = open_page("backpropagation")
    assert any("All 4 gradients agree" in s.value and "< 1e-6" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert list(table["check"]) == ["pass"] * 4
    net = MLP([2, 2, 2], activation="sigmoid", dtype=np.float64)
    net.set_params([np.array(W1), np.array(W2)], [np.zeros(2), np.zeros(2)])
    assert max(float(v) for v in table["relative error"]) == pytest.approx(
        max_relative_error(net, np.array([[1.0, 0.5]]), np.array([0])), rel=0.1)


def test_backprop_train_steps_match_core_sgd():
    at = open_page("backpropagation")
    click(at, "backprop_train_10")
    net = MLP([2, 2, 2], activation="sigmoid", dtype=np.float64)
    net.set_params([np.array(W1), np.array(W2)], [np.zeros(2), np.zeros(2)])
    opt, X, y = SGD(0.5), np.array([[1.0, 0.5]]), np.array([0])
    losses = [net.train_step(X, y, opt) for _ in range(10)]
    assert at.session_state["backprop_loss_history"] == pytest.approx(losses)
    shown = cell(at, "backprop", "W2_0_0")
    assert shown == f"{net.weights[1][0, 0]:.4g}"                     # 4 significant digits fit the cell at 1024 px
    assert losses[-1] < losses[0]
    assert at.metric[0].value == "10"
    click(at, "backprop_train_100")
    assert len(at.session_state["backprop_loss_history"]) == 110
    assert any("loss on this example" in e.proto.spec for e in at.get("plotly_chart"))
    click(at, "backprop_copy")                        # a new network: a new curve
    assert at.session_state["backprop_loss_history"] == []


def test_backprop_mse_loss_keeps_the_sigmoid_slope():
    at = open_page("backpropagation")
    at.radio(key="keep_backprop_loss").set_value("MSE (sigmoid outputs)").run()
    assert_fine(at)
    show_all(at, "backprop")
    t = core_trace("sigmoid", [W1, W2], [[0, 0], [0, 0]], output="sigmoid", loss="mse")
    tex = latex(at)
    assert column(t.out.delta) in tex and matrix(t.layers[1].W_new) in tex
    assert column([-0.563, 0.563]) in tex      # the comparison with cross-entropy's δ in the expander


def test_backprop_target_and_learning_rate_change_the_update():
    at = open_page("backpropagation")
    at.selectbox(key="keep_backprop_target").select(1).run()
    at.number_input(key="keep_backprop_lr").set_value(0.1).run()
    assert_fine(at)
    show_all(at, "backprop")
    t = core_trace("sigmoid", [W1, W2], [[0, 0], [0, 0]], label=1, lr=0.1)
    assert matrix(t.layers[1].W_new) in latex(at) and matrix(t.layers[0].W_new) in latex(at)


def test_backprop_bad_input_gives_a_message():
    at = open_page("backpropagation")
    set_cell(at, "backprop", "W1_1_1", "0.4.4")
    assert any("W₁ row 2, column 2" in e.value and "must be a number" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "backprop_train_1"]     # nothing to train until it is fixed
    set_cell(at, "backprop", "W1_1_1", "0.44")
    click(at, "backprop_train_1")
    assert len(at.session_state["backprop_loss_history"]) == 1


def test_computational_graph_shows_the_chain_rule():
    at = open_page("backpropagation")
    tex = latex(at)
    # L = (σ(0.3) − 0)²: ∂L/∂w1 = 2a · σ'(z) · 1 · x1 = 1.149 · 0.244 · 1 · 1 = 0.281
    assert r"\frac{\partial L}{\partial w_1} =" in tex and r"1.149 \cdot 0.244 \cdot 1.000 \cdot 1.000 = 0.281" in tex
    at.segmented_control(key="keep_backprop_graph_leaf").set_value("x2").run()
    assert r"= 1.149 \cdot 0.244 \cdot 1.000 \cdot (-0.400) = -0.112" in latex(at)
    at.selectbox(key="keep_backprop_graph_act").select("relu").run()
    at.selectbox(key="keep_backprop_graph_loss").select("bce").run()
    assert_fine(at)
    assert not at.error                          # a = ReLU(0.3) = 0.3 is a valid probability
    at.number_input(key="keep_backprop_graph_w1").set_value(3.0).run()   # a = 2.9: not a probability
    assert_fine(at)
    assert any("0 < a < 1" in e.value for e in at.error)


# ---- Perceptron ----------------------------------------------------------------------------------------

def test_perceptron_worked_example():
    at = open_page("perceptron")
    tex = latex(at)
    assert r"= 0.300 \;\Rightarrow\; \hat y = 1" in tex
    assert column([0.5, -0.45]) in tex and r"= -0.200" in tex
    assert r"s_{\text{new}} = 0.500\cdot1.000 + (-0.450)\cdot0.500 + (-0.200) = 0.075" in tex
    assert "(y − ŷ = −1)" in text(at)                      # the minus sign used everywhere else
    at.selectbox(key="keep_perceptron_y").select(1).run()
    assert "right, so y − ŷ = 0 and nothing changes" in text(at)


@pytest.mark.parametrize("gate, epochs", [("AND", 10), ("OR", 7), ("NAND", 10)])
def test_perceptron_converges_on_separable_gates(gate, epochs):
    at = open_page("perceptron")
    at.selectbox(key="keep_perceptron_gate").select(gate).run()
    click(at, "perceptron_next")
    assert at.session_state["perceptron_run"]["progress"].i == 1
    click(at, "perceptron_converge")
    assert any(f"after {epochs} epoch(s)" in s.value for s in at.success)     # as core's Perceptron.train says
    assert at.metric[2].value == "0"                                          # no point wrong


def test_perceptron_xor_never_converges_and_says_why():
    at = open_page("perceptron")
    at.selectbox(key="keep_perceptron_gate").select("XOR").run()
    assert any("Why XOR never converges" in w.value and "linearly separable" in w.value for w in at.warning)
    click(at, "perceptron_epoch")
    assert at.session_state["perceptron_run"]["progress"].epoch == 1
    click(at, "perceptron_converge")
    assert not at.success
    assert any("No convergence after 101 epochs" in w.value for w in at.warning)
    assert not at.error                                        # the lesson's verdict, not an error
    assert any(link.proto.page == "forward_pass" for link in at.get("page_link"))
    click(at, "perceptron_reset_run")
    assert at.session_state["perceptron_run"]["progress"].epoch == 0
