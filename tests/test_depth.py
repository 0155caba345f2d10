"""The vanishing-gradients experiment: gradient size per layer, saturation, symmetry of zero init."""
import numpy as np
import pytest

from core.optim import SGD
from lab.depth import build_net, depth_experiment, fixed_batch, symmetric_layers


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
