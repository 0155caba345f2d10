"""Activations and losses: derivatives, stability, properties."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.activations import ACTIVATIONS, gelu, get_activation, softmax
from core.losses import (
    LOSSES,
    bce_from_logits,
    binary_cross_entropy,
    cross_entropy,
    cross_entropy_from_logits,
    log_softmax,
    mse,
    one_hot,
)

finite = st.floats(-50, 50, allow_nan=False, width=64)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_central_difference(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-5, 5, 101) + 0.013            # avoid ReLU's kink at exactly 0
    h = 1e-6
    numeric = (act.f(z + h) - act.f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.prime(z), numeric, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_overflow_for_huge_inputs_and_dtype_kept(name, dtype):
    act = ACTIVATIONS[name]
    z = np.array([-1e4, -100, -1, 0, 1, 100, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, d = act.f(z), act.prime(z)
    assert a.dtype == dtype and d.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()


def test_limits():
    big = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(ACTIVATIONS["sigmoid"].f(big), [0, 1])
    np.testing.assert_array_equal(ACTIVATIONS["tanh"].f(big), [-1, 1])
    np.testing.assert_array_equal(gelu(big), [0, 1e4])
    np.testing.assert_allclose(get_activation("leaky_relu").f(big), [-100, 1e4])


def test_leaky_alpha_and_unknown_names():
    act = get_activation("leaky_relu", alpha=0.2)
    np.testing.assert_allclose(act.f(np.array([-1.0, 2.0])), [-0.2, 2.0])
    np.testing.assert_allclose(act.prime(np.array([-1.0, 2.0])), [0.2, 1.0])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        get_activation("swish")
    with pytest.raises(ValueError, match="alpha"):
        get_activation("leaky_relu", alpha=-1)


def test_activation_writes_into_out():
    z = np.array([[-1.0, 2.0]], dtype=np.float32)
    for act in ACTIVATIONS.values():
        out = np.empty_like(z)
        result = act.f(z, out=out)
        assert result is out
        np.testing.assert_allclose(out, act.f(z))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 6)), elements=finite))
def test_softmax_is_a_distribution_and_shift_invariant(z):
    p = softmax(z)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1)
    np.testing.assert_allclose(softmax(z + 123.0), p, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)), p, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 6)), elements=finite), st.data())
def test_cross_entropy_from_logits_equals_from_probabilities(z, data):
    labels = np.array(data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z))))
    Y = one_hot(labels, z.shape[1])
    assert cross_entropy_from_logits(z, Y) >= 0
    if np.ptp(z) < 20:                           # where probabilities don't underflow
        assert cross_entropy_from_logits(z, Y) == pytest.approx(cross_entropy(softmax(z), Y), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=finite),
       arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(0, 1)))
def test_bce_from_logits_equals_from_probabilities(z, y):
    y = np.resize(y, z.shape)
    p = 1 / (1 + np.exp(-z))
    if np.all((p > 1e-9) & (p < 1 - 1e-9)):
        assert bce_from_logits(z, y) == pytest.approx(binary_cross_entropy(p, y), rel=1e-6, abs=1e-9)


def test_cross_entropy_of_a_huge_confident_wrong_logit_is_finite():
    z = np.array([[1e4, -1e4]])
    assert cross_entropy_from_logits(z, [[0, 1]]) == pytest.approx(2e4)


def test_mse_is_mean_over_batch_and_outputs():
    assert mse([[1, 2], [3, 4]], [[0, 0], [0, 0]]) == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_output_delta_formulas():
    y_hat = np.array([[0.2, 0.8]])
    y = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(LOSSES["cross_entropy"].delta("softmax", y_hat, y), [[0.2, -0.2]])
    np.testing.assert_allclose(LOSSES["mse"].delta("identity", y_hat, y), [[0.2, -0.2]])   # 2(ŷ−y)/K, K=2
    np.testing.assert_allclose(LOSSES["mse"].delta("sigmoid", y_hat, y), [[0.2 * 0.16, -0.2 * 0.16]])
    np.testing.assert_allclose(LOSSES["bce"].delta("sigmoid", y_hat, y), [[0.1, -0.1]])    # (ŷ−y)/K, K=2


@pytest.mark.parametrize("name,output", [("cross_entropy", "softmax"), ("bce", "sigmoid"), ("mse", "sigmoid"),
                                         ("mse", "identity")])
def test_each_loss_record_slope_and_delta_match_central_differences(name, output):
    """∂L/∂ŷ against differences of L in ŷ; δ_out against differences of L(out(z)) in z."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4))
    y = one_hot(np.array([0, 3, 1]), 4, np.float64) if output == "softmax" else rng.random((3, 4))
    out = {"softmax": softmax, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "identity": lambda v: v}[output]
    loss, h = LOSSES[name], 1e-6
    y_hat = out(z)
    slope, delta = np.zeros_like(z), np.zeros_like(z)
    for i in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i] = h
        slope[i] = (loss.value(y_hat + e, y) - loss.value(y_hat - e, y)) / (2 * h)
        delta[i] = (loss.value(out(z + e), y) - loss.value(out(z - e), y)) / (2 * h)
    np.testing.assert_allclose(loss.slope(y_hat, y), slope, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(loss.delta(output, y_hat, y), delta, rtol=1e-5, atol=1e-9)
    if loss.from_logits:
        assert loss.from_logits(z, y) == pytest.approx(loss.value(y_hat, y), rel=1e-9)


def test_bce_is_the_mean_over_batch_and_outputs():
    """Written out independently: −mean over all B·K entries of y log σ(z) + (1 − y) log(1 − σ(z))."""
    z = np.array([[2.0, -1.0, 0.5], [-3.0, 0.0, 1.5]])
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    total = 0.0
    for b in range(2):
        for k in range(3):
            p = 1 / (1 + np.exp(-z[b, k]))
            total += y[b, k] * np.log(p) + (1 - y[b, k]) * np.log(1 - p)
    expected = -total / 6
    assert bce_from_logits(z, y) == pytest.approx(expected, rel=1e-12)
    assert binary_cross_entropy(1 / (1 + np.exp(-z)), y) == pytest.approx(expected, rel=1e-12)
    try:
        import torch
    except ImportError:
        return
    torch_value = torch.nn.BCEWithLogitsLoss()(torch.tensor(z), torch.tensor(y)).item()
    assert bce_from_logits(z, y) == pytest.approx(torch_value, rel=1e-9)


def test_loss_shape_mismatch_and_bad_labels():
    with pytest.raises(ValueError, match="shapes differ"):
        mse([0.1, 0.9], [0, 1, 0])
    with pytest.raises(ValueError, match="labels must be in 0..2"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="1-D array of ints"):
        one_hot(np.array([0.5]), 3)
