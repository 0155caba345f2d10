"""The lessons' network: BatchNorm, Dropout, residual blocks, clipping by global norm, the plateau schedule,
their model files, the trainer's and the CLI's options — each checked against central differences or
against a computation written here from the definition."""
import io
import math
import os

import numpy as np
import pytest

from core.layers import BatchNorm, Dropout, ResidualAdd, Step
from lab.modelfile import load_model, model_bytes, save_model
from core.network import MLP
from core.optim import (
    OPTIMIZERS,
    SGD,
    AdamW,
    clip_by_global_norm,
    global_norm,
)
from lab.data import load_sample
from lab.live import LiveRun
from lab.plateau import ReduceLROnPlateau
from lab.schedules import scheduled_lr
from lab.train import build_parser, main, parse_args
from lab.trainer import PRESETS, TrainConfig, Trainer, batch_starts, make_train_data

H = 1e-6          # central-difference step (float64)
EPS = 1e-5        # BatchNorm's ε, written out here from the definition
SAMPLE = os.path.join(os.path.dirname(__file__), "..", "assets", "mnist_sample_5k.npz")


def numeric_grads(f, params):
    """∂f/∂θ for every array θ in params by central differences (f reads the arrays in place)."""
    out = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + H
            up = f()
            p[idx] = old - H
            down = f()
            p[idx] = old
            g[idx] = (up - down) / (2 * H)
        out.append(g)
    return out


def batchnorm_by_definition(x, gamma, beta):
    """y = γ (x − μ)/√(σ² + ε) + β with the batch's μ and biased σ², and the batch's μ, σ²."""
    mu = x.sum(axis=0) / len(x)
    var = ((x - mu) ** 2).sum(axis=0) / len(x)
    return gamma * (x - mu) / np.sqrt(var + EPS) + beta, mu, var


def small_data(seed=0, B=6, n_in=5, K=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, n_in)), rng.integers(0, K, B)


# ---- BatchNorm ---------------------------------------------------------------------------------

def test_batchnorm_in_training_mode_matches_the_definition_and_its_running_statistics_match_pytorchs_rule():
    rng = np.random.default_rng(1)
    bn = BatchNorm(3, dtype=np.float64)
    bn.gamma[:] = [1.5, -0.5, 2.0]
    bn.beta[:] = [0.1, 0.2, -0.3]
    want_mean, want_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(4, 3))
        y, state = bn.forward(x, train=True)
        want, mu, _ = batchnorm_by_definition(x, bn.gamma, bn.beta)
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
        bn.update_running(state)
        want_mean = 0.9 * want_mean + 0.1 * mu
        want_var = 0.9 * want_var + 0.1 * ((x - mu) ** 2).sum(axis=0) / (len(x) - 1)    # unbiased, as PyTorch
        np.testing.assert_allclose(bn.running_mean, want_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, want_var, rtol=1e-12)
    x = rng.normal(size=(2, 3))
    y, _ = bn.forward(x, train=False)                 # evaluation: the running statistics, not the batch's
    np.testing.assert_allclose(y, bn.gamma * (x - want_mean) / np.sqrt(want_var + EPS) + bn.beta, rtol=1e-12)


def test_batchnorms_compact_backward_equals_the_long_form_and_central_differences():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3))
    dy = rng.normal(size=(4, 3))                      # a given ∂L/∂y; L = Σ dy ⊙ y
    bn = BatchNorm(3, dtype=np.float64)
    bn.gamma[:] = [0.7, 1.3, -2.0]
    bn.beta[:] = [0.5, 0.0, 1.0]
    y, state = bn.forward(x, train=True)
    dx, (dgamma, dbeta) = bn.backward(Step(x, y, state), dy)
    # the long form, from the chain rule written out
    B = len(x)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + EPS)
    dx_hat = dy * bn.gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * (var + EPS) ** -1.5
    dmu = -np.sum(dx_hat, axis=0) / np.sqrt(var + EPS) + dvar * -2 * np.mean(x - mu, axis=0)
    dx_long = dx_hat / np.sqrt(var + EPS) + dvar * 2 * (x - mu) / B + dmu / B
    np.testing.assert_allclose(dx, dx_long, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, np.sum(dy * x_hat, axis=0), rtol=1e-12)
    np.testing.assert_allclose(dbeta, dy.sum(axis=0), rtol=1e-12)

    def loss():
        return float(np.sum(dy * bn.forward(x, train=True)[0]))
    num_x, num_gamma, num_beta = numeric_grads(loss, [x, bn.gamma, bn.beta])
    np.testing.assert_allclose(dx, num_x, atol=1e-7)
    np.testing.assert_allclose(dgamma, num_gamma, atol=1e-7)
    np.testing.assert_allclose(dbeta, num_beta, atol=1e-7)


def test_batchnorm_in_evaluation_mode_has_the_gradient_of_a_fixed_affine_map():
    rng = np.random.default_rng(3)
    bn = BatchNorm(2, dtype=np.float64)
    bn.running_mean[:], bn.running_var[:] = [0.5, -1.0], [4.0, 0.25]
    x, dy = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    y, state = bn.forward(x, train=False)
    dx, _ = bn.backward(Step(x, y, state), dy)
    num, = numeric_grads(lambda: float(np.sum(dy * bn.forward(x)[0])), [x])
    np.testing.assert_allclose(dx, num, atol=1e-7)


def test_batchnorm_refuses_a_training_batch_of_one_example():
    with pytest.raises(ValueError, match="at least 2 examples"):
        BatchNorm(3).forward(np.ones((1, 3), np.float32), train=True)


# ---- Dropout and the residual block --------------------------------------------------------------

def test_dropout_scales_the_kept_units_in_training_and_is_the_identity_in_evaluation():
    x = np.arange(8.0).reshape(2, 4)
    mask = np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=bool)
    drop = Dropout(0.25)
    y, scaled = drop.forward(x, train=True, mask=mask)
    np.testing.assert_allclose(y, x * mask / 0.75)
    delta = np.ones_like(x)
    np.testing.assert_allclose(drop.backward(Step(x, y, scaled), delta)[0], mask / 0.75)
    assert drop.forward(x, train=False)[0] is x
    keep = drop.draw_mask((200, 100), np.random.default_rng(0)).mean()
    assert abs(keep - 0.75) < 0.01                           # kept with probability 1 − p
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_a_residual_add_passes_its_gradient_both_ways():
    a, fa = np.ones((2, 3)), np.full((2, 3), 2.0)
    y, _ = ResidualAdd(0).forward(fa, skip=a)
    np.testing.assert_allclose(y, 3.0)
    delta = np.arange(6.0).reshape(2, 3)
    assert ResidualAdd(0).backward(Step(fa, y), delta)[0] is delta


@pytest.mark.parametrize("layers", [
    {"batchnorm": True},
    {"dropout": 0.4},
    {"residual": True},
    {"batchnorm": True, "residual": True},
    {"batchnorm": True, "dropout": 0.3, "residual": True},
], ids=lambda d: "+".join(d))
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_every_gradient_of_the_new_layers_matches_central_differences_with_l2(layers, activation):
    X, y = small_data()
    net = MLP([5, 4, 4, 3], activation=activation, dtype=np.float64, l2=0.03, seed=4, **layers)
    for b in net.biases:
        b += 0.1          # off ReLU's kink: a row that dropout zeroes entirely would give z = b = 0 exactly
    rng = np.random.default_rng(5)
    masks = [rng.random((6, 4)) > layers.get("dropout", 0) for _ in net.dropouts]
    _, per_layer = net.loss_and_grads(X, y, masks=masks)
    grads = [g for pair in per_layer for g in pair]                    # one tuple per layer with parameters
    assert [g.shape for g in grads] == [p.shape for p in net.params]
    n_kinds = 2 * len(net.linears) + 2 * len(net.norms)
    assert len(net.params) == n_kinds
    numeric = numeric_grads(lambda: net.loss_and_grads(X, y, masks=masks)[0], net.params)
    for i, (g, num) in enumerate(zip(grads, numeric)):
        np.testing.assert_allclose(g, num, atol=1e-7, err_msg=f"parameter {i}")


def test_a_deep_residual_stack_keeps_the_gradient_that_a_plain_sigmoid_stack_loses():
    X, y = small_data(B=16, n_in=8)
    sizes = [8] + [8] * 12 + [3]
    plain = MLP(sizes, activation="sigmoid", init="xavier", dtype=np.float64, seed=0)
    skips = MLP(sizes, activation="sigmoid", init="xavier", dtype=np.float64, seed=0, residual=True)

    def first_layer_gradient(net):
        return float(np.linalg.norm(net.backward(net.run(X, True), y).dW[0]))
    assert first_layer_gradient(skips) > 100 * first_layer_gradient(plain)


def test_residual_needs_a_hidden_layer_of_equal_widths():
    with pytest.raises(ValueError, match="equal"):
        MLP([5, 4, 3], residual=True)
    assert len(MLP([5, 4, 4, 3], residual=True).layers) == 6         # only 4 → 4 gets a skip


# ---- the contract other checks rely on ---------------------------------------------------------

def test_the_lessons_network_trains_in_training_mode_and_predicts_in_evaluation_mode():
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784)).astype(np.float32), rng.integers(0, 10, 64)
    net = MLP([784, 256, 256, 10], activation="relu", batchnorm=True, dropout=0.3, residual=False, seed=0)
    assert [p.shape for p in net.params] == [(256, 784), (256,), (256,), (256,), (256, 256), (256,), (256,),
                                              (256,), (10, 256), (10,)]
    opt = AdamW(1e-3)
    first = net.train_step(X, y, opt)
    assert np.isfinite(first)
    assert not np.allclose(net.norms[0].running_mean, 0)               # the step moved the running statistics
    P = net.forward(X)
    np.testing.assert_array_equal(P, net.forward(X))                    # no dropout in evaluation
    np.testing.assert_allclose(net.forward(X[:1]), P[:1], rtol=1e-5, atol=1e-7)   # no batch statistics either
    _, grads = net.loss_and_grads(X, y)
    assert [g.shape for pair in grads for g in pair] == [p.shape for p in net.params]
    gamma = net.params[2]
    gamma *= 0                                                          # params are the network's own arrays
    np.testing.assert_allclose(net.forward(X), net.forward(np.zeros_like(X)), rtol=1e-5, atol=1e-6)


def test_with_dropout_zero_the_training_loss_is_a_function_of_the_parameters():
    X, y = small_data(B=8)
    net = MLP([5, 6, 6, 3], dtype=np.float64, batchnorm=True, dropout=0.0, seed=1)
    a, _ = net.loss_and_grads(X, y)
    net.train_step(X, y, SGD(0.0))                                       # η = 0: only running stats move
    b, _ = net.loss_and_grads(X, y)
    assert a == b


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_steps_each_parameter_by_its_own_gradient(name):
    """learn() hands the optimizer γ and β with their gradients: the same step as the optimizer applied to
    central-difference gradients."""
    X, y = small_data(B=8)
    net = MLP([5, 4, 4, 3], dtype=np.float64, batchnorm=True, residual=True, l2=0.01, seed=2)
    for layer in net.norms:
        layer.gamma[:] = np.linspace(0.5, 1.5, layer.gamma.size)
    numeric = numeric_grads(lambda: net.loss_and_grads(X, y)[0], net.params)
    expected = [p.copy() for p in net.params]
    OPTIMIZERS[name](0.05).step(expected, numeric)
    net.learn(X, y, OPTIMIZERS[name](0.05))
    for i, (p, want) in enumerate(zip(net.params, expected)):
        np.testing.assert_allclose(p, want, atol=1e-7, err_msg=f"parameter {i}")


# ---- clipping ----------------------------------------------------------------------------------

def test_clipping_by_global_norm_scales_all_gradients_together_and_reports_both_norms():
    g = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]               # ‖g‖ = 5
    before, after = clip_by_global_norm(g, 1.0)
    assert before == pytest.approx(5.0) and after == pytest.approx(1.0)
    np.testing.assert_allclose(g[0], [0.6, 0.0])
    np.testing.assert_allclose(g[1], [[0.0, 0.8]])
    small = [np.array([0.3, 0.4])]
    assert clip_by_global_norm(small, 1.0) == pytest.approx((0.5, 0.5))
    np.testing.assert_allclose(small[0], [0.3, 0.4])                   # under the limit: untouched
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm(small, 0.0)


def test_a_clipped_step_moves_by_the_clipped_central_difference_gradient():
    X, y = small_data(B=8)
    net = MLP([5, 4, 4, 3], dtype=np.float64, batchnorm=True, l2=0.01, seed=3)
    numeric = numeric_grads(lambda: net.loss_and_grads(X, y)[0], net.params)
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in numeric))
    limit = norm / 4
    before = [p.copy() for p in net.params]
    step = net.learn(X, y, SGD(0.1), clip=limit)
    assert step.grad_norm[0] == pytest.approx(norm, rel=1e-6) and step.grad_norm[1] == pytest.approx(limit)
    assert global_norm(step.grads.params) == pytest.approx(limit)
    for p, old, g in zip(net.params, before, numeric):
        np.testing.assert_allclose(p, old - 0.1 * g * (limit / norm), atol=1e-8)


# ---- the plateau schedule ------------------------------------------------------------------------

def test_the_plateau_schedule_cuts_eta_after_patience_evaluations_without_improvement():
    plateau = ReduceLROnPlateau(factor=0.5, patience=1)
    scales = [plateau.observe(loss) for loss in [1.0, 0.8, 0.8, 0.79999, 0.9, 0.5, 0.6, 0.6, float("nan")]]
    # 0.8 = no improvement (1 bad), 0.79999 is < 0.01 % better (2 bad > 1: halve), 0.9 (1), 0.5 better,
    # 0.6 (1), 0.6 (2: halve), NaN (1)
    assert scales == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert scheduled_lr("plateau", 0.1, 123, 1000, scale=plateau.scale) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


# ---- model files -------------------------------------------------------------------------------

def trained_layered_net():
    rng = np.random.default_rng(0)
    net = MLP([20, 8, 8, 3], batchnorm=True, dropout=0.3, residual=True, seed=0)
    X, y = rng.random((16, 20)).astype(np.float32), rng.integers(0, 3, 16)
    opt = AdamW(1e-2)
    for _ in range(5):
        net.train_step(X, y, opt)
    return net, X


def test_a_saved_network_with_batchnorm_loads_in_evaluation_mode_with_its_running_statistics():
    net, X = trained_layered_net()
    loaded, _ = load_model(model_bytes(net))
    assert (loaded.batchnorm, loaded.dropout, loaded.residual) == (True, pytest.approx(0.3), True)
    for a, b in zip(net.norm_arrays(), loaded.norm_arrays()):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    assert int(np.load(io.BytesIO(model_bytes(net)))["format_version"]) == 3
    assert int(np.load(io.BytesIO(model_bytes(MLP([4, 3, 2]))))["format_version"]) == 2   # plain stays 2


def _rewrite(data, **changes):
    arrays = dict(np.load(io.BytesIO(data)))
    arrays.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del arrays[key]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("change, words", [
    ({"bn1_running_var": None}, "missing 'bn1_running_var'"),
    ({"bn0_running_var": -np.ones(8, np.float32)}, "negative"),
    ({"bn0_gamma": np.full(8, np.nan, np.float32)}, "NaN"),
    ({"bn0_beta": np.zeros(9, np.float32)}, "expected shape (8,)"),
    ({"dropout": np.array(1.5)}, "dropout"),
    ({"batchnorm": np.array("yes")}, "batchnorm"),
])
def test_a_damaged_batchnorm_file_is_refused_with_a_clear_message(change, words):
    net, _ = trained_layered_net()
    with pytest.raises(ValueError, match=None) as info:
        load_model(_rewrite(model_bytes(net), **change))
    assert words in str(info.value)


def test_a_format_2_reader_never_sees_a_layered_network_as_a_plain_one(tmp_path):
    """A plain file written now is what format 2 always was: every entry an older reader expects, nothing new."""
    plain = MLP([6, 4, 2], seed=1)
    path = tmp_path / "plain.npz"
    save_model(plain, path)
    keys = set(np.load(path).keys())
    assert keys == {"format_version", "sizes", "card_json", "activation", "output", "loss", "init", "dtype",
                    "init_std", "alpha", "l1", "l2", "W0", "b0", "W1", "b1"}
    loaded, _ = load_model(path)
    assert not (loaded.batchnorm or loaded.dropout or loaded.residual)


# ---- trainer, live run and command line ------------------------------------------------------------

@pytest.fixture(scope="module")
def data():
    s = load_sample()
    return make_train_data(s["x_train"], s["y_train"], s["x_test"], s["y_test"], train_size=641,
                           val_fraction=0.1, seed=0)


def lessons_like(**changes):
    return TrainConfig(**{"hidden": (32, 32), "batchnorm": True, "dropout": 0.2, "residual": True, "clip": 0.5,
                          "optimizer": "adamw", "lr": 3e-3, "l2": 1e-4, "epochs": 2, **changes})


def test_a_trainer_run_uses_the_new_layers_and_reports_clipping_and_gamma_beta(data):
    trainer = Trainer(lessons_like(schedule="plateau"), data, slots=None, record_every=0.0)
    assert trainer.net.batchnorm and trainer.net.dropout == 0.2 and trainer.net.residual
    snap = trainer.run()
    assert snap.state == "finished", snap.message
    before, after = snap.latest["grad_norm"]
    assert after <= 0.5 + 1e-6 and before >= after
    assert len(snap.latest["batchnorm"]) == 2
    gamma = snap.latest["batchnorm"][0]["gamma"]
    assert gamma["mean"] == pytest.approx(float(np.mean(trainer.net.norms[0].gamma)))
    assert gamma["min"] <= gamma["mean"] <= gamma["max"] and gamma["mean"] != 1.0    # γ learned
    model = trainer.model()                                   # carries γ, β and the running statistics
    X = data.test_images[:50] / np.float32(255)
    np.testing.assert_allclose(model.forward(X), trainer.net.forward(X), rtol=1e-5, atol=1e-7)
    assert snap.evaluation["accuracy"] > 0.5


def test_a_plain_run_has_no_clipping_record_and_no_batchnorm_summaries(data):
    snap = Trainer(TrainConfig(hidden=(16,), epochs=1), data, slots=None, record_every=0.0).run()
    assert snap.latest["grad_norm"] is None and snap.latest["batchnorm"] == []


def test_a_last_batch_of_one_joins_the_one_before_when_batchnorm_is_on():
    assert batch_starts(129, 64, batchnorm=True) == [0, 64]          # rows 64..128: 65 of them
    assert batch_starts(129, 64) == [0, 64, 128]
    assert batch_starts(130, 64, batchnorm=True) == [0, 64, 128]


@pytest.mark.parametrize("changes, word", [
    ({"residual": True, "hidden": (32, 16)}, "equal width"),
    ({"dropout": 0.95}, "dropout"),
    ({"clip": 0.0}, "clip"),
    ({"schedule": "sometimes"}, "schedule"),
])
def test_bad_layer_settings_raise_clear_errors(changes, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig(**changes).check()


def test_a_live_run_of_the_layered_network_ends_with_the_same_model_as_the_trainer(data):
    ended = []
    run = LiveRun(lessons_like(), data, slots=None, on_end=lambda snap, net: ended.append((snap, net)))
    run.start()
    try:
        deadline = __import__("time").monotonic() + 60
        while not run.done and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.05)
        assert run.done
        here = Trainer(lessons_like(), data, slots=None).run()
        (snap, net), = ended
        assert snap.state == "finished" and snap.latest["grad_norm"] is not None
        assert len(snap.latest["batchnorm"]) == 2
        assert net.batchnorm and net.residual
        X = data.test_images / np.float32(255)
        assert net.accuracy(X, data.test_labels) == pytest.approx(here.evaluation["accuracy"])
    finally:
        run.stop()


def test_the_cli_takes_the_new_options():
    args = parse_args(build_parser(), ["--batchnorm", "--dropout", "0.3", "--residual", "--hidden", "64", "64",
                                       "--clip", "1.0", "--schedule", "plateau", "--weight-decay", "1e-4"])
    assert (args.batchnorm, args.dropout, args.residual, args.clip, args.schedule, args.l2) == \
        (True, 0.3, True, 1.0, "plateau", 1e-4)
    plain = parse_args(build_parser(), [])
    assert (plain.batchnorm, plain.dropout, plain.residual, plain.clip) == (False, 0.0, False, None)


def test_the_lessons_preset_is_the_lessons_network_and_explicit_options_override_it():
    args = parse_args(build_parser(), ["--preset", "lessons"])
    assert (args.hidden, args.batchnorm, args.dropout, args.activation, args.optimizer, args.lr, args.l2,
            args.schedule, args.clip, args.epochs, args.batch_size) == \
        ([256, 256], True, 0.3, "relu", "adamw", 1e-3, 1e-4, "cosine", 1.0, 20, 64)
    args = parse_args(build_parser(), ["--preset", "lessons", "--epochs", "1", "--no-batchnorm"])
    assert args.epochs == 1 and args.batchnorm is False and args.dropout == 0.3
    assert PRESETS["lessons"].check() is PRESETS["lessons"]


def test_the_lessons_preset_trains_on_the_sample_and_says_what_the_lesson_reports(tmp_path, capsys):
    out = tmp_path / "lessons.npz"
    code = main(["--preset", "lessons", "--data-dir", SAMPLE, "--no-download", "--epochs", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "98.12 % on full MNIST after 20 epochs" in printed
    assert "784-256-256-10 relu +BN +dropout 0.3 · clip 1 · adamw η=0.001" in printed
    net, card = load_model(out)
    assert net.sizes == [784, 256, 256, 10] and net.batchnorm and net.dropout == pytest.approx(0.3)
    assert card.settings["clip"] == 1.0 and card.settings["schedule"] == "cosine" and card.settings["l2"] == 1e-4
    assert card.test_accuracy > 0.8                          # one epoch of 4,000 images


def test_the_saliency_of_a_layered_network_matches_central_differences():
    from lab.saliency import class_score_gradient, numerical_class_score_gradient

    rng = np.random.default_rng(0)
    net = MLP([12, 6, 6, 3], batchnorm=True, dropout=0.3, residual=True, seed=0, dtype=np.float64)
    X, y = rng.random((16, 12)), rng.integers(0, 3, 16)
    opt = AdamW(1e-2)
    for _ in range(5):
        net.train_step(X, y, opt)                   # running statistics away from 0 and 1
    x = rng.random(12)
    np.testing.assert_allclose(class_score_gradient(net, x, 1), numerical_class_score_gradient(net, x, 1),
                               rtol=1e-6, atol=1e-8)
