"""The vanishing-gradients experiment: gradient size per layer, saturation, symmetry of zero init."""
import numpy as np
import pytest
from stacks import gradient_rms

from core.network import MLP
from core.optim import SGD
from lab.depth import (
    EXPLODING_RATIO,
    REMEDIES,
    REMEDY_WIDTH,
    VANISHING_RATIO,
    DepthResult,
    build_net,
    depth_experiment,
    diagnose,
    fixed_batch,
    ratio_kind,
    remedies_experiment,
    symmetric_layers,
)


def test_sigmoid_stack_shrinks_the_gradient_about_a_quarter_per_layer():
    result = depth_experiment(10, 32, "sigmoid", "xavier")
    hidden = result.grad_rms[:-1]                                    # W1..W10 (the output layer has 10 rows)
    assert np.all(np.diff(hidden) > 0)                               # strictly smaller at every step down
    ratios = hidden[:-1] / hidden[1:]
    assert np.exp(np.mean(np.log(ratios))) < 0.5
    assert result.decay_per_layer == pytest.approx(np.exp(np.mean(np.log(ratios))))
    assert 0.15 < result.decay_per_layer < 0.35                      # ~¼, as σ' ≤ ¼ predicts
    assert hidden[0] < 1e-4 * hidden[-1]


def test_relu_with_he_keeps_gradients_within_an_order_of_magnitude():
    result = depth_experiment(10, 32, "relu", "he")
    assert result.grad_rms.max() / result.grad_rms.min() < 10
    assert 0.7 < result.decay_per_layer < 1.4


def test_zero_init_gives_identical_neurons_even_after_training():
    result = depth_experiment(6, 16, "sigmoid", "zeros", steps=5, lr=0.5)
    net = result.net
    assert all(symmetric_layers(net))
    top_hidden = net.weights[-2]                                     # (16, 16)
    assert np.abs(top_hidden).max() > 0                              # it did learn: the rows moved, together
    assert np.allclose(top_hidden, top_hidden[0])
    assert not all(symmetric_layers(depth_experiment(6, 16, "sigmoid", "xavier", steps=5).net))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_unit_normal_init_saturates_sigmoid_and_tanh(activation):
    big = depth_experiment(10, 64, activation, "normal", std=1.0)
    scaled = depth_experiment(10, 64, activation, "xavier")
    assert big.saturated.mean() > 0.25
    assert scaled.saturated.mean() < 0.05
    assert np.all(big.z_std > 3 * scaled.z_std)


def test_gradient_norms_match_a_backprop_written_out_in_the_test():
    """‖dW_l‖ against the chain rule done by hand in float64: tanh layers, softmax + cross-entropy."""
    result = depth_experiment(4, 8, "tanh", "xavier")
    net = build_net(4, 8, "tanh", "xavier")
    X, y = fixed_batch(8)
    Ws = [W.astype(np.float64) for W in net.weights]
    bs = [b.astype(np.float64) for b in net.biases]
    a = [X.astype(np.float64)]
    for W, b in zip(Ws[:-1], bs[:-1]):
        a.append(np.tanh(a[-1] @ W.T + b))                           # a_l = tanh(W a + b)
    z = a[-1] @ Ws[-1].T + bs[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (p - np.eye(10)[y]) / len(X)                             # δ_L = (ŷ − y) / B
    norms = []
    for l in reversed(range(len(Ws))):
        norms.insert(0, np.linalg.norm(delta.T @ a[l]))              # ‖dW_l‖ = ‖δ_lᵀ a_{l−1}‖
        delta = (delta @ Ws[l]) * (1 - a[l] ** 2)                    # tanh' = 1 − a²
    np.testing.assert_allclose(result.grad_norms, norms, rtol=1e-4)
    sizes = [W.size for W in Ws]
    np.testing.assert_allclose(result.grad_rms, np.array(norms) / np.sqrt(sizes), rtol=1e-4)


def test_activation_samples_and_shapes():
    result = depth_experiment(5, 12, "sigmoid", "xavier", sample=50)
    assert result.sizes == [12] * 6 + [10]
    assert len(result.grad_norms) == 6 and len(result.activation_samples) == 5
    assert all(s.shape == (50,) and np.all((s > 0) & (s < 1)) for s in result.activation_samples)
    samples = [s.copy() for s in result.activation_samples]
    result.net.train_step(*fixed_batch(12), SGD(0.1))                # the samples are the result's own
    assert all(np.array_equal(a, b) for a, b in zip(samples, result.activation_samples))


def test_training_history_is_layers_by_steps():
    result = depth_experiment(4, 8, "relu", "he", steps=7, lr=0.1)
    assert result.history.shape == (5, 7)
    np.testing.assert_allclose(result.history[:, 0], result.grad_rms, rtol=1e-6)   # step 1 starts at the init
    assert result.final_loss < result.loss


@pytest.mark.parametrize("kwargs, message", [
    (dict(depth=1), "depth"), (dict(depth=21), "depth"), (dict(width=0), "width"), (dict(width=10**6), "width"),
    (dict(init="normal", std=float("nan")), "σ"), (dict(init="normal", std=0.0), "σ"),
    (dict(init="normal", std=1e9), "σ"), (dict(init="orthogonal"), "init"), (dict(activation="swish"), "activation"),
    (dict(steps=10**6), "steps")])
def test_bad_settings_are_refused(kwargs, message):
    settings = dict(depth=4, width=8, activation="sigmoid", init="xavier", std=1.0) | kwargs
    steps = settings.pop("steps", 0)
    with pytest.raises(ValueError, match=message):
        depth_experiment(**settings, steps=steps)


# ---- the diagnosis the Vanishing gradients page shows ----------------------------------------------

@pytest.mark.parametrize("activation, init, std, kind", [
    ("sigmoid", "xavier", 1.0, "vanishing"), ("relu", "he", 1.0, "steady"), ("sigmoid", "zeros", 1.0, "symmetry"),
    ("tanh", "normal", 1.0, "saturation"), ("tanh", "xavier", 1.0, "steady"), ("sigmoid", "normal", 1.0, "saturation")])
def test_each_preset_is_diagnosed_as_its_name_says(activation, init, std, kind):
    """The page's presets: 'Sigmoid + Xavier: vanishing', 'ReLU + He: steady', 'Zero init: symmetry',
    'tanh + N(0, 1): saturation' (issue 14: that one used to headline 'Exploding')."""
    result = depth_experiment(10, 32, activation, init, std, steps=5 if init == "zeros" else 0)
    assert diagnose(result, activation, init).kind == kind


def made_up(grad_rms, saturated=0.0, dead=0.0):
    """A DepthResult with chosen hidden-layer gradient sizes (the output layer's is the last entry)."""
    depth = len(grad_rms) - 1
    return DepthResult(sizes=[], grad_norms=np.array(grad_rms), grad_rms=np.array(grad_rms, dtype=float),
                       activation_samples=[], z_std=np.ones(depth), saturated=np.full(depth, saturated),
                       dead=np.full(depth, dead), loss=2.3, final_loss=2.3, net=build_net(2, 4), history=np.zeros((3, 0)))


def test_the_thresholds_decide_between_vanishing_steady_and_exploding():
    """The ratio first / last hidden layer against 1e-2 and 1e2, read off numbers made up for the purpose."""
    assert diagnose(made_up([0.5 * VANISHING_RATIO, 1.0, 1.0]), "relu", "he").kind == "vanishing"
    assert diagnose(made_up([2 * VANISHING_RATIO, 1.0, 1.0]), "relu", "he").kind == "steady"
    assert diagnose(made_up([0.5 * EXPLODING_RATIO, 1.0, 1.0]), "relu", "he").kind == "steady"
    assert diagnose(made_up([2 * EXPLODING_RATIO, 1.0, 1.0]), "relu", "he").kind == "exploding"
    assert diagnose(made_up([0.0, 1.0, 1.0]), "relu", "he").kind == "no gradient"
    assert diagnose(made_up([2.0, 1.0, 1.0]), "tanh", "normal").ratio == 2.0


def test_saturation_counts_only_for_sigmoid_and_tanh_and_dead_relus_are_a_side_note():
    assert diagnose(made_up([1.0, 1.0, 1.0], saturated=0.3), "tanh", "normal").kind == "saturation"
    assert diagnose(made_up([1.0, 1.0, 1.0], saturated=0.05), "tanh", "normal").kind == "steady"
    assert diagnose(made_up([1.0, 1.0, 1.0], saturated=0.3), "relu", "normal").kind == "steady"
    note = diagnose(made_up([1.0, 1.0, 1.0], dead=0.3), "relu", "he")
    assert note.kind == "steady" and note.many_dead
    assert not diagnose(made_up([1.0, 1.0, 1.0], dead=0.3), "gelu", "he").many_dead


# ---- the remedies, side by side ------------------------------------------------------------------

def remedy_reference(name, depth, seed=0):
    """RMS(∂L/∂W_l) of one remedy's stack at initialization, by the NumPy chain rule of tests/stacks.py."""
    settings = REMEDIES[name][1]
    net = MLP([REMEDY_WIDTH] * (depth + 1) + [10], seed=seed, **settings)
    X, y = fixed_batch(REMEDY_WIDTH, seed)
    return gradient_rms(net.weights, net.biases, X, y, settings["activation"], settings.get("batchnorm", False),
                        settings.get("residual", False))


@pytest.mark.parametrize("name", list(REMEDIES))
def test_each_remedys_gradients_match_the_chain_rule_written_out(name):
    result = remedies_experiment(depth=8, steps=0)[name]
    np.testing.assert_allclose(result.at_init, remedy_reference(name, 8), rtol=1e-3)
    np.testing.assert_array_equal(result.trained, result.at_init)            # no steps: nothing moved


def test_the_remedies_keep_the_gradient_the_plain_stack_loses():
    """The page's story at its default, 20 sigmoid layers: plain vanishes, every remedy stays steady, at
    initialization and after 20 steps, and W₁'s gradient is many orders of magnitude above the plain one's."""
    results = remedies_experiment(depth=20, steps=20, lr=0.5)
    plain = results["plain"]
    assert ratio_kind(plain.ratio) == ratio_kind(plain.trained_ratio) == "vanishing"
    for name in ("batchnorm", "residual", "relu_he"):
        r = results[name]
        assert ratio_kind(r.ratio) == ratio_kind(r.trained_ratio) == "steady", name
        assert r.at_init[0] > 1e6 * plain.at_init[0], name
    assert results["batchnorm"].final_loss < results["batchnorm"].loss


def test_plain_batchnorm_and_residual_start_from_the_same_weights():
    nets = [MLP([REMEDY_WIDTH] * 5 + [10], seed=3, **REMEDIES[name][1]) for name in ("plain", "batchnorm", "residual")]
    for Ws in zip(*(net.weights for net in nets)):
        assert all(np.array_equal(Ws[0], W) for W in Ws[1:])


@pytest.mark.parametrize("kwargs, message", [
    (dict(depth=1), "depth"), (dict(depth=21), "depth"), (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"),
    (dict(lr=0), "learning rate"), (dict(lr=float("nan")), "learning rate"), (dict(lr="fast"), "learning rate")])
def test_bad_remedy_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        remedies_experiment(**(dict(depth=4, steps=0) | kwargs))


def test_ratio_kind_uses_the_explorers_thresholds():
    assert ratio_kind(0.5 * VANISHING_RATIO) == "vanishing"
    assert ratio_kind(2 * VANISHING_RATIO) == ratio_kind(0.5 * EXPLODING_RATIO) == "steady"
    assert ratio_kind(2 * EXPLODING_RATIO) == "exploding"
