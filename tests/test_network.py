"""The MLP: gradients against central differences, properties, errors, save/load."""
import io
import threading
import warnings

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.gradcheck import gradient_check, max_relative_error, relative_error
from core.layers import Activation, Linear, Step
from core.network import MLP
from core.optim import SGD
from lab.modelfile import load_model, model_bytes

PAIRS = [("softmax", "cross_entropy"), ("sigmoid", "bce"), ("sigmoid", "mse"), ("identity", "mse")]


def random_net(hidden, activation, output, loss, seed=0, **kw):
    """A float64 net with small random (nonzero) biases, so no ReLU sits exactly on its kink."""
    net = MLP([3, *hidden, 4], activation=activation, output=output, loss=loss, init="xavier",
              dtype=np.float64, seed=seed, **kw)
    rng = np.random.default_rng(seed + 100)
    for b in net.biases:
        b[...] = rng.uniform(-0.3, 0.3, b.shape)
    return net


def batch(output, seed=0, B=6, K=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, 3))
    y = rng.integers(0, K, B) if output == "softmax" else rng.random((B, K))
    return X, y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output,loss", PAIRS)
def test_gradients_match_central_differences(activation, output, loss):
    net = random_net([5], activation, output, loss)
    X, y = batch(output)
    assert max_relative_error(net, X, y) < 1e-6


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "gelu"])
def test_gradients_for_1_to_4_hidden_layers(depth, activation):
    net = random_net([4] * depth, activation, "softmax", "cross_entropy", seed=depth)
    X, y = batch("softmax", seed=depth)
    assert max_relative_error(net, X, y) < 1e-6


@pytest.mark.parametrize("l1,l2", [(0.0, 0.1), (0.05, 0.0), (0.02, 0.03)])
def test_regularization_gradients(l1, l2):
    net = random_net([5, 4], "tanh", "softmax", "cross_entropy", l1=l1, l2=l2)
    X, y = batch("softmax")
    assert max_relative_error(net, X, y) < 1e-6
    plain = random_net([5, 4], "tanh", "softmax", "cross_entropy")
    assert net.batch_loss(X, y) > plain.batch_loss(X, y)


def test_gradient_check_catches_a_wrong_gradient():
    net = random_net([5], "sigmoid", "softmax", "cross_entropy")
    X, y = batch("softmax")
    for layer in net.layers:
        if isinstance(layer, Activation):
            layer.act = layer.act._replace(prime=lambda z: np.ones_like(z))   # a classic bug: forget σ'
    worst = max(c.rel_error for c in gradient_check(net, X, y))
    assert worst > 1e-2


def test_relative_error_is_zero_for_equal_and_for_zero_gradients():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == 1.0


def test_int_labels_equal_one_hot_targets():
    net = random_net([5], "relu", "softmax", "cross_entropy")
    X, y = batch("softmax")
    loss_a, grads_a = net.loss_and_grads(X, y)
    loss_b, grads_b = net.loss_and_grads(X, np.eye(4)[y])
    assert loss_a == pytest.approx(loss_b)
    for (dWa, dba), (dWb, dbb) in zip(grads_a, grads_b):
        np.testing.assert_allclose(dWa, dWb)
        np.testing.assert_allclose(dba, dbb)


def test_loss_is_the_batch_mean():
    """The loss of a batch equals the mean of its one-example losses (and so do the gradients)."""
    net = random_net([5], "tanh", "softmax", "cross_entropy")
    X, y = batch("softmax")
    singles = [net.loss_and_grads(X[i:i + 1], y[i:i + 1]) for i in range(len(X))]
    loss, grads = net.loss_and_grads(X, y)
    assert loss == pytest.approx(np.mean([s[0] for s in singles]))
    np.testing.assert_allclose(grads[0][0], np.mean([s[1][0][0] for s in singles], axis=0), atol=1e-12)


def test_softmax_outputs_are_probabilities_even_for_huge_inputs():
    net = MLP([3, 8, 5], activation="relu", seed=1)
    X = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32) * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = net.forward(X)
    assert P.shape == (7, 5) and P.dtype == np.float32
    assert np.all(P >= 0) and np.allclose(P.sum(axis=1), 1, atol=1e-5)


def test_forward_returns_a_copy_not_a_buffer():
    net = MLP([3, 4, 2])
    X = np.ones((2, 3), dtype=np.float32)
    first = net.forward(X)
    net.forward(-X)
    np.testing.assert_array_equal(first, net.forward(X))


def test_training_reduces_the_loss_and_learns_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    net = MLP([2, 8, 2], activation="tanh", init="xavier", seed=3)
    opt = SGD(lr=0.5)
    first = net.train_step(X, y, opt)
    for _ in range(500):
        last = net.train_step(X, y, opt)
    assert last < first / 10
    np.testing.assert_array_equal(net.predict(X), y)


def test_train_step_updates_in_place_and_skips_non_finite_losses():
    net = MLP([3, 4, 2], seed=0)
    W = net.weights[0]
    X = np.ones((2, 3), dtype=np.float32)
    net.train_step(X, np.array([0, 1]), SGD(0.1))
    assert net.weights[0] is W                         # same array, changed in place
    before = [w.copy() for w in net.weights]
    net.weights[1][0, 0] = np.inf                      # a diverged network: loss is NaN
    assert not np.isfinite(net.train_step(X, np.array([0, 1]), SGD(0.1)))
    np.testing.assert_array_equal(net.weights[0], before[0])


def test_zero_init_keeps_hidden_neurons_identical():
    net = MLP([4, 6, 3], activation="sigmoid", init="zeros")
    X = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    y = np.arange(10) % 3
    opt = SGD(0.5)
    for _ in range(20):
        net.train_step(X, y, opt)
    W = net.weights[0]
    assert np.allclose(W, W[0])                        # every hidden neuron has the same weights


@pytest.mark.parametrize("init,expected_std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 500)),
                                               ("zeros", 0.0)])
def test_init_scales(init, expected_std):
    net = MLP([400, 100, 10], init=init, seed=0)
    assert net.weights[0].std() == pytest.approx(expected_std, rel=0.05, abs=1e-12)
    assert net.weights[0].shape == (100, 400) and net.biases[0].shape == (100,)


def test_normal_init_uses_the_given_std():
    net = MLP([400, 100, 10], init="normal", init_std=1.0, seed=0)
    assert net.weights[0].std() == pytest.approx(1.0, rel=0.05)


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = MLP([5, 4, 3], seed=1), MLP([5, 4, 3], seed=1), MLP([5, 4, 3], seed=2)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_float32_default_and_float64_accepted():
    assert MLP([2, 2]).weights[0].dtype == np.float32
    assert MLP([2, 2], dtype=np.float64).weights[0].dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        MLP([2, 2], dtype=np.int32)


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=[3]), "at least an input and an output"),
    (dict(sizes=[3, 0, 2]), "all ≥ 1"),
    (dict(sizes="abc"), "list of layer widths"),
    (dict(sizes=[3, 2], activation="swish"), "unknown activation 'swish'"),
    (dict(sizes=[3, 2], output="softmax", loss="mse"), "does not go with output"),
    (dict(sizes=[3, 2], output="tanh"), "unknown output"),
    (dict(sizes=[3, 2], init="orthogonal"), "unknown init"),
])
def test_bad_settings_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


def test_bad_inputs_raise_clear_errors():
    net = MLP([3, 4, 2])
    with pytest.raises(ValueError, match=r"shape \(B, 3\).*X\[None, :\]"):
        net.forward(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(B, 3\)"):
        net.forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.forward(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="empty"):
        net.forward(np.ones((0, 3)))
    with pytest.raises(ValueError, match="real numbers"):
        net.forward(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        net.loss_and_grads(np.ones((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError, match="2 labels but X has 3"):
        net.loss_and_grads(np.ones((3, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"targets of shape \(2, 2\)"):
        net.loss_and_grads(np.ones((2, 3)), np.ones((2, 3)))


def test_save_and_load_round_trip(tmp_path):
    net = MLP([6, 5, 4, 3], activation="leaky_relu", alpha=0.2, output="sigmoid", loss="bce", l2=0.01, seed=4)
    path = tmp_path / "model.npz"
    net.save(path, meta={"test_accuracy": 0.97, "data": "mnist", "settings": {"normalize": False}})
    loaded, card = load_model(path)                 # an old-style meta dict becomes the model card
    meta = card.to_dict()
    assert meta["test_accuracy"] == 0.97 and meta["dataset"] == "mnist" and meta["normalize"] is False
    assert loaded.sizes == net.sizes and loaded.settings() == net.settings()
    X = np.random.default_rng(0).random((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    assert MLP.load(io.BytesIO(model_bytes(net))).sizes == [6, 5, 4, 3]


def _saved_arrays(net):
    with np.load(io.BytesIO(model_bytes(net))) as f:
        return {k: f[k] for k in f.files}


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(W0=np.ones((2, 2), np.float32)), r"'W0'.*expected shape \(5, 6\)"),
    (lambda a: a.update(W1=np.full((3, 5), np.nan, np.float32)), "NaN or infinite"),
    (lambda a: a.pop("b1"), "missing 'b1'"),
    (lambda a: a.pop("sizes"), "missing 'sizes'"),
    (lambda a: a.update(activation=np.array("swish")), "unknown activation"),
    (lambda a: a.update(format_version=np.array(99)), "format 99 is not supported"),
])
def test_load_rejects_bad_files(change, message):
    arrays = _saved_arrays(MLP([6, 5, 3]))
    change(arrays)
    with pytest.raises(ValueError, match=message):
        MLP.load(_npz(arrays))


def test_load_rejects_a_file_that_is_not_npz_and_pickles(tmp_path):
    with pytest.raises(ValueError, match="not a Backprop Lab model file"):
        MLP.load(io.BytesIO(b"this is not a zip file"))
    bad = tmp_path / "pickled.npz"
    np.savez(bad, sizes=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="not a Backprop Lab model file"):
        MLP.load(bad)


def test_copy_is_independent():
    net = MLP([3, 4, 2], seed=0)
    twin = net.copy()
    twin.weights[0][...] = 0
    assert np.abs(net.weights[0]).sum() > 0


def test_predict_single_sigmoid_output_thresholds_at_half():
    net = MLP([2, 1], activation="identity", output="sigmoid", loss="bce", init="zeros")
    net.biases[0][...] = 1.0
    np.testing.assert_array_equal(net.predict(np.zeros((3, 2))), [1, 1, 1])


# ---- the Pass, the Gradients, the layers ---------------------------------------------------

def test_a_pass_records_each_layers_input_and_output():
    """Checked against the forward pass written out by hand: tanh hidden layer, softmax output."""
    net = random_net([5], "tanh", "softmax", "cross_entropy")
    X, _ = batch("softmax")
    p = net.run(X)
    W1, b1, W2, b2 = net.params
    z1 = X @ W1.T + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2.T + b2
    y_hat = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    expected = [(X, z1), (z1, a1), (a1, z2)]                    # Linear, Activation, Linear
    assert len(p.steps) == 3
    for step, (a_in, a_out) in zip(p.steps, expected):
        np.testing.assert_allclose(step.input, a_in, rtol=1e-12)
        np.testing.assert_allclose(step.output, a_out, rtol=1e-12)
    np.testing.assert_allclose(p.output, y_hat, rtol=1e-12)
    for got, want in zip(p.zs, [z1, z2]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for got, want in zip(p.activations, [X, a1, y_hat]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(p.logits, z2, rtol=1e-12)


def test_gradients_record_deltas_and_a_list_parallel_to_params():
    net = random_net([5, 4], "sigmoid", "softmax", "cross_entropy")
    X, y = batch("softmax")
    p = net.run(X, train=True)
    g = net.backward(p, y)
    assert [a.shape for a in g.params] == [a.shape for a in net.params]
    np.testing.assert_allclose(g.deltas[-1], (p.output - np.eye(4)[y]) / len(X), rtol=1e-12)   # δ_L = (ŷ − y)/B
    for dW, delta, a in zip(g.dW, g.deltas, p.activations):
        np.testing.assert_allclose(dW, delta.T @ a, rtol=1e-12)                               # dW_l = δ_lᵀ a_{l−1}
    _, grads = net.loss_and_grads(X, y)
    for (dW, db), dW2, db2 in zip(grads, g.dW, g.db):
        np.testing.assert_array_equal(dW, dW2)
        np.testing.assert_array_equal(db, db2)


def test_backprop_to_the_input_matches_central_differences():
    net = random_net([5], "gelu", "identity", "mse")
    X, y = batch("identity")
    p = net.run(X, train=True)
    delta = net.criterion.delta(net.output, p.output, y)
    dX = net.backprop(p, delta, input_grad=True).input
    numeric = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        e = np.zeros_like(X)
        e[i] = 1e-6
        numeric[i] = (net.batch_loss(X + e, y) - net.batch_loss(X - e, y)) / 2e-6
    assert relative_error(dX, numeric) < 1e-6


def _numeric(f, x, h=1e-6):
    """∂f/∂x by central differences, changing x in place and restoring it."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        out[i] = (plus - minus) / (2 * h)
    return out


def test_linear_backward_matches_central_differences():
    """For L = Σ r ⊙ (a Wᵀ + b) with a fixed random r, backward(δ = r) gives ∂L/∂a, ∂L/∂W, ∂L/∂b."""
    rng = np.random.default_rng(2)
    a, r = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    lin = Linear(rng.standard_normal((2, 3)), rng.standard_normal(2))
    loss = lambda: float(np.sum(r * lin.forward(a)[0]))            # noqa: E731
    z, _ = lin.forward(a)
    d_in, (dW, db) = lin.backward(Step(a, z), r)
    assert relative_error(d_in, _numeric(loss, a)) < 1e-8
    assert relative_error(dW, _numeric(loss, lin.W)) < 1e-8
    assert relative_error(db, _numeric(loss, lin.b)) < 1e-8


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_central_differences(name):
    rng = np.random.default_rng(3)
    z, r = rng.standard_normal((4, 3)) + 0.01, rng.standard_normal((4, 3))
    act = Activation(ACTIVATIONS[name])
    loss = lambda: float(np.sum(r * act.forward(z)[0]))            # noqa: E731
    a, _ = act.forward(z)
    d_in, grads = act.backward(Step(z, a), r)
    assert grads == [] and relative_error(d_in, _numeric(loss, z)) < 1e-7


def test_float32_gradients_agree_with_float64_on_the_same_weights():
    net64 = random_net([16, 8], "relu", "softmax", "cross_entropy", seed=5)
    net32 = MLP(net64.sizes, **{**net64.settings(), "dtype": np.float32})
    net32.set_params(net64.weights, net64.biases)
    X, y = batch("softmax", seed=5, B=32)
    loss64, g64 = net64.loss_and_grads(X, y)
    loss32, g32 = net32.loss_and_grads(X.astype(np.float32), y)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for (dW32, db32), (dW64, db64) in zip(g32, g64):
        assert dW32.dtype == np.float32
        assert relative_error(dW32, dW64) < 1e-5 and relative_error(db32, db64) < 1e-5


def test_forward_from_two_threads_at_once_gives_the_one_thread_answers():
    net = MLP([784, 64, 10], seed=0)
    rng = np.random.default_rng(0)
    batches = [rng.random((n, 784), dtype=np.float32) for n in (50, 7, 50, 13) * 10]
    alone = [net.forward(X) for X in batches]
    start = threading.Barrier(2)

    def work(order, results):
        start.wait()
        for i in order:
            results[i] = net.forward(batches[i])

    results = [{}, {}]
    threads = [threading.Thread(target=work, args=(order, out))
               for order, out in ((range(len(batches)), results[0]), (reversed(range(len(batches))), results[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in results:
        for i, P in out.items():
            np.testing.assert_array_equal(P, alone[i])
        assert len(out) == len(batches)


def test_learn_returns_the_pass_before_the_update_and_its_gradients():
    net = MLP([3, 4, 2], activation="tanh", seed=0, dtype=np.float64)
    X, y = np.random.default_rng(0).random((5, 3)), np.array([0, 1, 1, 0, 1])
    before = net.forward(X)
    loss, grads = net.loss_and_grads(X, y)
    W = net.weights[0].copy()
    step = net.learn(X, y, SGD(123.0), lr=0.5)                  # η passed, not opt.lr
    np.testing.assert_allclose(step.pass_.output, before)
    np.testing.assert_allclose(step.grads.dW[0], grads[0][0])
    np.testing.assert_allclose(net.weights[0], W - 0.5 * grads[0][0])
    assert step.loss == pytest.approx(loss, rel=1e-12)


def test_learn_takes_regularization_strengths_for_one_step():
    a = random_net([5], "tanh", "softmax", "cross_entropy", l2=0.1)
    b = random_net([5], "tanh", "softmax", "cross_entropy")
    X, y = batch("softmax")
    la = a.learn(X, y, SGD(0.1)).loss
    lb = b.learn(X, y, SGD(0.1), l2=0.1).loss
    assert la == pytest.approx(lb)
    for Wa, Wb in zip(a.weights, b.weights):
        np.testing.assert_allclose(Wa, Wb)
    assert b.l2 == 0.0                                          # the network's own setting is unchanged
