"""AppTest for two sections of issue 13: the remedies on the Vanishing gradients page and the Dropout toggle
on the Forward pass page. Every number the page shows is checked against NumPy written out in the tests."""
import json

import numpy as np
import pytest
from apptest import assert_fine, open_page
from stacks import gradient_rms

from core.network import MLP
from lab.depth import REMEDIES, REMEDY_WIDTH, fixed_batch

W1, B1 = np.array([[0.3, 0.7], [-0.2, 0.4]]), np.array([0.1, -0.1])     # the forward worked example
W2, B2 = np.array([[0.5, -0.3], [0.2, 0.6]]), np.zeros(2)
X = np.array([1.0, 0.5])


def column(values):
    """How the pages write a column vector (3 decimals)."""
    return r"\begin{bmatrix}" + r" \\ ".join("0" if v == 0 else f"{v:.3f}" for v in values) + r"\end{bmatrix}"


def latex(at):
    return "\n".join(e.value for e in at.latex)


def markdown(at):
    return "\n".join(str(e.value) for e in at.markdown)


def chart(at, key):
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no plotly chart with key {key!r}")


# ---- the remedies ------------------------------------------------------------------------------

def reference_rms(name, depth=20):
    """RMS(∂L/∂W_l) at initialization of one remedy's stack, by the chain rule of tests/stacks.py."""
    settings = REMEDIES[name][1]
    net = MLP([REMEDY_WIDTH] * (depth + 1) + [10], seed=0, **settings)
    X, y = fixed_batch(REMEDY_WIDTH)
    return gradient_rms(net.weights, net.biases, X, y, settings["activation"], settings.get("batchnorm", False),
                        settings.get("residual", False))


def remedies_table(at):
    frames = [e.value for e in at.dataframe if "W₁ vs plain" in e.value.columns]
    assert len(frames) == 1
    return frames[0].set_index("stack")


def test_the_remedies_table_prints_the_factors_numpy_computes():
    at = open_page("vanishing_gradients")
    table = remedies_table(at)
    plain = reference_rms("plain")
    assert float(table.loc[REMEDIES["plain"][0], "W₁ / W20"]) == pytest.approx(
        plain[0] / plain[-2], rel=0.05)
    assert table.loc[REMEDIES["plain"][0], "verdict"] == "vanishing"
    for name in ("batchnorm", "residual", "relu_he"):
        row, ref = table.loc[REMEDIES[name][0]], reference_rms(name)
        printed = float(row["W₁ vs plain"].rstrip("×"))
        assert printed == pytest.approx(ref[0] / plain[0], rel=0.05), name          # 2 significant digits
        assert printed > 1e6
        assert float(row["W₁ at init"]) == pytest.approx(ref[0], rel=0.05)
        assert float(row["W₁ / W20"]) == pytest.approx(ref[0] / ref[-2], rel=0.05)
        assert row["verdict"] == "steady"
        sentence = [m for m in markdown(at).split("\n") if m.startswith(f"**{REMEDIES[name][0]}.**")]
        assert f"{row['W₁ vs plain']} the plain stack's" in sentence[0]              # one story: same number
        assert "**steady**" in sentence[0]


def test_the_remedies_charts_have_a_line_per_stack_on_log_axes_and_no_verdict_box():
    at = open_page("vanishing_gradients")
    for key in ("remedies_init", "remedies_trained"):
        figure = chart(at, key)
        assert [t["name"] for t in figure["data"]] == [title for title, _ in REMEDIES.values()]
        assert figure["layout"]["yaxis"]["type"] == "log"
        assert len({t["line"]["color"] for t in figure["data"]}) == 4
    assert [w.value.split()[0] for w in at.warning] == ["**Vanishing.**"]           # the explorer's one verdict
    assert not at.success and not at.error
    latex_text = latex(at)
    assert r"I + \frac{\partial F}{\partial a}" in latex_text                       # the highway's formula


def test_the_remedies_follow_their_controls():
    at = open_page("vanishing_gradients")
    at.slider(key="keep_vg_rem_depth").set_value(6).run()
    at.slider(key="keep_vg_rem_steps").set_value(0).run()
    assert_fine(at)
    table = remedies_table(at)
    plain, residual = reference_rms("plain", 6), reference_rms("residual", 6)
    row = table.loc[REMEDIES["residual"][0]]
    assert float(row["W₁ vs plain"].rstrip("×")) == pytest.approx(residual[0] / plain[0], rel=0.05)
    assert row["W₁ at init"] == row["W₁ after 0 steps"]                            # no steps: nothing moved
    assert float(row["W₁ / W6"]) == pytest.approx(residual[0] / residual[-2], rel=0.05)
    assert len(chart(at, "remedies_init")["data"][0]["x"]) == 7                      # W1..W7


# ---- the Dropout toggle on the Forward pass page ------------------------------------------------

def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def worked_example(mask=None, p=0.5):
    """ŷ of the forward worked example (ReLU hidden layer), with the hidden layer dropped by mask / (1 − p)."""
    a1 = np.maximum(W1 @ X + B1, 0)
    if mask is not None:
        a1 = a1 * mask / (1 - p)
    return softmax(W2 @ a1 + B2)


def mask_for(seed, p, n=2):
    """Inverted dropout's keep-mask as the page promises to draw it: uniform [0, 1) ≥ p, from the seed."""
    return (np.random.default_rng(seed).random((1, n), dtype=np.float32) >= p).astype(float).ravel()


def dropout_on(at, p=None, seed=None):
    at.toggle(key="keep_forward_dropout").set_value(True).run()
    if p is not None:
        at.select_slider(key="keep_forward_dropout_p").set_value(p).run()
    if seed is not None:
        at.number_input(key="keep_forward_dropout_seed").set_value(seed).run()
    assert_fine(at)


def test_dropout_shows_the_mask_the_scaling_and_training_vs_evaluation():
    at = open_page("forward_pass")
    before = latex(at)
    dropout_on(at)
    mask = mask_for(2, 0.5)
    assert mask.tolist() == [1, 0]                                  # the default seed drops neuron 2
    assert "mask m₁ = [1, 0]: neuron 2 dropped. (neuron 2: a = 0 already" in markdown(at)
    tex = latex(at)
    assert r"0.750\cdot 1 / 0.5 \\ 0\cdot 0 / 0.5" in tex           # a · m / (1 − p), substituted
    assert column([1.5, 0]) in tex                                  # ã₁
    assert rf"{column([1.5, 0])} + {column([0, 0])} = {column([0.75, 0.3])}" in tex   # z₂ = W₂ ã₁ + b₂
    assert r"\frac{1}{1-p} = 2.000" in markdown(at)
    train, evaluation = worked_example(mask), worked_example()
    assert rf"\hat y_\text{{train}} = {column(train)}" in tex
    assert rf"\hat y_\text{{eval}} = {column(evaluation)}" in tex
    assert column(evaluation) == column([0.556, 0.444])            # the page's ŷ without dropout
    assert not np.allclose(train, evaluation)
    assert tex.startswith(before)                                  # the steps above are unchanged


@pytest.mark.parametrize("p, seed", [(0.2, 1), (0.8, 5), (0.5, 1)])
def test_another_rate_or_seed_draws_the_mask_the_seed_promises(p, seed):
    at = open_page("forward_pass")
    dropout_on(at, p, seed)
    mask = mask_for(seed, p)
    assert f"mask m₁ = [{', '.join(str(int(v)) for v in mask)}]" in markdown(at)
    assert rf"\frac{{1}}{{1-p}} = {1 / (1 - p):.3f}" in markdown(at)
    assert column(worked_example(mask, p)) in latex(at)
    assert rf"\hat y_\text{{eval}} = {column(worked_example())}" in latex(at)


def test_dropout_off_leaves_the_page_as_it_was():
    at = open_page("forward_pass")
    at.button(key="forward_all").click().run()
    before = latex(at)
    dropout_on(at)
    at.toggle(key="keep_forward_dropout").set_value(False).run()
    assert_fine(at)
    assert latex(at) == before
    assert "mask" not in markdown(at)


def test_dropout_on_two_hidden_layers_feeds_the_dropped_values_upward():
    at = open_page("forward_pass")
    at.selectbox(key="keep_forward_net_depth").select(2).run()
    dropout_on(at, 0.5, 1)
    ss = at.session_state
    read = lambda name: float(ss[f"keep_forward_net_{name}"].replace("−", "-"))        # noqa: E731
    sizes = [2, 2, 2, 2]
    Ws = [np.array([[read(f"W{l}_{i}_{j}") for j in range(sizes[l - 1])] for i in range(sizes[l])]) for l in (1, 2, 3)]
    bs = [np.array([read(f"b{l}_{i}") for i in range(sizes[l])]) for l in (1, 2, 3)]
    x = np.array([read("x_0"), read("x_1")])
    rng = np.random.default_rng(1)
    masks = [(rng.random((1, 2), dtype=np.float32) >= 0.5).astype(float).ravel() for _ in range(2)]
    a = x
    for W, b, m in zip(Ws[:2], bs[:2], masks):
        a = np.maximum(W @ a + b, 0) * m / 0.5
    assert rf"\hat y_\text{{train}} = {column(softmax(Ws[2] @ a + bs[2]))}" in latex(at)
    assert "now sees ã₁ instead of a₁" in markdown(at)
