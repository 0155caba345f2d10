"""Optimizers, schedules, the perceptron and the live statistics."""
import numpy as np
import pytest

from core.network import MLP
from core.optim import OPTIMIZERS, SGD, Adam, AdamW, Momentum, RMSProp, make_optimizer
from core.perceptron import Perceptron
from lab.data import LOGIC_GATES, gate_data
from lab.steps import Progress, perceptron_step
from lab.schedules import scheduled_lr
from lab.surfaces import OPTIMIZER_TITLES
from lab.stats import activation_stats, dead_fraction, gradient_scale, layer_gradient_stats


def quadratic_grad(theta):
    """f(θ) = ½ θᵀ diag(1, 10) θ  →  ∇f = diag(1, 10) θ."""
    return np.array([1.0, 10.0]) * theta


@pytest.mark.parametrize("opt", [SGD(0.05), Momentum(0.02), RMSProp(0.01), Adam(0.05), AdamW(0.05)])
def test_every_optimizer_reaches_the_minimum_of_a_quadratic(opt):
    theta = np.array([3.0, -2.0])
    for _ in range(2000):
        opt.step([theta], [quadratic_grad(theta)])
    assert np.abs(theta).max() < 2e-2


def test_sgd_with_too_large_lr_diverges():
    theta = np.array([3.0, -2.0])
    opt = SGD(0.25)                                   # > 2 / 10: unstable along the steep axis
    for _ in range(100):
        opt.step([theta], [quadratic_grad(theta)])
    assert np.abs(theta).max() > 1e6


def test_sgd_and_momentum_by_hand():
    p = [np.array([1.0])]
    SGD(0.1).step(p, [np.array([2.0])])
    assert p[0][0] == pytest.approx(0.8)
    p, opt = [np.array([1.0])], Momentum(0.1, beta=0.9)
    opt.step(p, [np.array([2.0])])                    # v = 2
    opt.step(p, [np.array([2.0])])                    # v = 0.9·2 + 2 = 3.8
    assert p[0][0] == pytest.approx(1 - 0.2 - 0.38)


def test_rmsprop_first_step_by_hand():
    p = [np.array([1.0])]
    RMSProp(0.01, rho=0.9).step(p, [np.array([2.0])])  # s = 0.1·4 = 0.4
    assert p[0][0] == pytest.approx(1 - 0.01 * 2 / (np.sqrt(0.4) + 1e-8))


def test_adamw_decay_is_decoupled_from_the_gradient():
    p_w, p_a = [np.array([5.0])], [np.array([5.0])]
    AdamW(0.1, weight_decay=0.5).step(p_w, [np.array([2.0])])
    Adam(0.1).step(p_a, [np.array([2.0])])
    assert p_w[0][0] == pytest.approx(p_a[0][0] - 0.1 * 0.5 * 5.0)


def test_lr_can_change_between_steps():
    p, opt = [np.array([0.0])], SGD(0.1)
    opt.step(p, [np.array([1.0])])
    opt.lr = 1.0
    opt.step(p, [np.array([1.0])])
    assert p[0][0] == pytest.approx(-1.1)


def test_lr_given_to_step_is_used_instead_of_opt_lr():
    p, opt = [np.array([0.0])], SGD(0.1)
    opt.step(p, [np.array([1.0])], lr=0.5)                      # η = 0.5 for this step only
    opt.step(p, [np.array([1.0])])                              # back to opt.lr = 0.1
    assert p[0][0] == pytest.approx(-0.6) and opt.lr == 0.1


@pytest.mark.parametrize("make", [lambda: Momentum(0.1), lambda: RMSProp(0.1), lambda: Adam(0.1)])
def test_passing_lr_equals_setting_it(make):
    a, b = make(), make()
    pa, pb = [np.array([1.0, -2.0])], [np.array([1.0, -2.0])]
    for t in range(5):
        g = [np.array([0.3 * t - 1.0, 2.0])]
        a.step(pa, g, lr=0.01 * (t + 1))
        b.lr = 0.01 * (t + 1)
        b.step(pb, g)
    np.testing.assert_array_equal(pa[0], pb[0])


def test_adamw_weight_decay_can_be_passed_per_step():
    p_passed, p_default = [np.array([5.0])], [np.array([5.0])]
    AdamW(0.1, weight_decay=0.0).step(p_passed, [np.array([2.0])], weight_decay=0.5)
    AdamW(0.1, weight_decay=0.5).step(p_default, [np.array([2.0])])
    assert p_passed[0][0] == pytest.approx(p_default[0][0])
    p = [np.array([5.0])]
    Adam(0.1).step(p, [np.array([2.0])])
    assert p_passed[0][0] == pytest.approx(p[0][0] - 0.1 * 0.5 * 5.0)   # θ ← θ − ηλθ, then Adam


def test_every_optimizer_has_a_title_for_the_pages():
    assert list(OPTIMIZER_TITLES) == list(OPTIMIZERS)
    assert list(OPTIMIZER_TITLES.values()) == ["SGD", "Momentum", "RMSProp", "Adam", "AdamW"]


def test_optimizer_errors():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lion", 0.1)
    with pytest.raises(ValueError, match="finite number ≥ 0"):
        SGD(float("nan"))
    with pytest.raises(ValueError, match="beta"):
        Momentum(0.1, beta=1.5)
    opt = SGD(0.1)
    with pytest.raises(ValueError, match="2 parameter arrays but 1"):
        opt.step([np.zeros(2), np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match="has shape"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    opt.lr = -1
    with pytest.raises(ValueError, match="learning rate"):
        opt.step([np.zeros(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match="learning rate"):
        SGD(0.1).step([np.zeros(2)], [np.zeros(2)], lr=float("inf"))
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(0.1).step([np.zeros(2)], [np.zeros(2)], weight_decay=-1)


def test_optimizer_trains_an_mlp_in_float32_without_changing_dtype():
    net = MLP([4, 8, 3], seed=0)
    X = np.random.default_rng(0).random((12, 4)).astype(np.float32)
    y = np.arange(12) % 3
    for name in ["sgd", "momentum", "rmsprop", "adam", "adamw"]:
        opt = make_optimizer(name, 0.01)
        net.train_step(X, y, opt)
        assert all(p.dtype == np.float32 for p in net.params)


def test_schedules():
    assert scheduled_lr("constant", 0.1, 500, 1000) == 0.1
    assert scheduled_lr("step", 0.1, 2500, 10000, every=1000, gamma=0.5) == pytest.approx(0.025)
    assert scheduled_lr("cosine", 0.1, 0, 1000) == pytest.approx(0.1)
    assert scheduled_lr("cosine", 0.1, 500, 1000) == pytest.approx(0.05)
    assert scheduled_lr("cosine", 0.1, 1000, 1000) == pytest.approx(0.0)
    lrs = [scheduled_lr("cosine", 0.1, t, 100) for t in range(101)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    with pytest.raises(ValueError, match="unknown schedule"):
        scheduled_lr("warmup", 0.1, 0, 10)


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_perceptron_converges_on_separable_gates(gate):
    X, y = gate_data(gate)
    p = Perceptron([0.0, 0.0], 0.0, lr=0.1)
    assert p.train(X, y, max_epochs=100) is not None
    assert p.errors(X, y) == 0


def test_perceptron_never_converges_on_xor():
    X, y = gate_data("XOR")
    p = Perceptron([0.0, 0.0], 0.0, lr=0.1)
    assert p.train(X, y, max_epochs=1000) is None
    assert p.errors(X, y) >= 1


def test_stepping_one_example_at_a_time_converges_when_a_full_pass_is_right():
    """The definition, checked on the record of every step: convergence is declared exactly when the last
    len(X) steps changed nothing, every example is then right, and train() agrees on the pass."""
    X, y = gate_data("AND")
    p, progress, history = Perceptron([0.0, 0.0], 0.0, lr=0.1), Progress(), []
    while progress.converged_at is None:
        history.append(perceptron_step(p, X, y, progress).changed)
        assert len(history) < 400
    assert history[-4:] == [False] * 4 and history[-5]           # the last correction, then four clean
    assert p.errors(X, y) == 0
    assert progress.corrections == sum(history)
    assert progress.converged_at == -(-len(history) // 4)         # the pass the last step fell in
    assert Perceptron([0.0, 0.0], 0.0, lr=0.1).train(X, y) == progress.converged_at


def test_train_sweeping_whole_passes_agrees_with_stepping_on_random_data():
    """train() stops at the first pass without a correction; stepping declares convergence when len(X) steps
    in a row changed nothing. On any data the two name the same pass and leave the same w and b."""
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(2, 9))
        X = rng.normal(size=(n, 2)).round(1)
        y = (X @ rng.normal(size=2) + rng.normal() * 0.3 > 0).astype(int) if trial % 3 else rng.integers(0, 2, n)
        w0, b0, lr = rng.normal(size=2).round(1), round(float(rng.normal()), 1), float(rng.choice([0.1, 0.5, 1.0]))
        stepped, progress = Perceptron(w0, b0, lr), Progress()
        while progress.converged_at is None and progress.epoch < 50:
            perceptron_step(stepped, X, y, progress)
        swept = Perceptron(w0, b0, lr)
        assert swept.train(X, y, max_epochs=50) == progress.converged_at
        if progress.converged_at is not None:
            assert swept.w.tolist() == stepped.w.tolist() and swept.b == stepped.b


def test_stepping_wraps_around_the_examples_in_order():
    X, y = gate_data("OR")
    p, progress = Perceptron([0.0, 0.0], 0.0, lr=0.1), Progress()
    seen = [tuple(perceptron_step(p, X, y, progress).x) for _ in range(6)]
    assert seen == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 0), (0, 1)]
    assert (progress.i, progress.epoch, progress.passes) == (2, 1, 2)


def test_perceptron_only_changes_when_wrong():
    p = Perceptron([1.0, 1.0], -0.5, lr=0.1)
    update = p.update([1.0, 1.0], 1)
    assert not update.changed and update.w_new.tolist() == [1.0, 1.0]


def test_perceptron_errors():
    with pytest.raises(ValueError, match="2 numbers"):
        Perceptron([1.0, 1.0]).score([1.0])
    with pytest.raises(ValueError, match="0 or 1"):
        Perceptron([1.0, 1.0]).update([1.0, 1.0], 2)
    with pytest.raises(ValueError, match="unknown data set"):
        gate_data("XNOR")
    assert set(LOGIC_GATES) == {"AND", "OR", "NAND", "XOR"}


def test_gradient_scale_is_size_independent():
    assert gradient_scale(np.full((10, 10), 0.5)) == pytest.approx(0.5)
    assert gradient_scale(np.full((100, 100), 0.5)) == pytest.approx(0.5)
    stats = layer_gradient_stats([np.full((4, 25), 0.2)])
    assert stats[0]["norm"] == pytest.approx(0.2 * 10) and stats[0]["mean_abs"] == pytest.approx(0.2)


def test_dead_fraction():
    z = np.array([[-1.0, 2.0, -3.0], [-0.5, -1.0, 0.0]])   # neuron 0 and 2 never positive
    assert dead_fraction(z) == pytest.approx(2 / 3)


def test_activation_stats_come_from_the_pass_given():
    net = MLP([5, 7, 6, 3], activation="relu", seed=0)
    net.biases[0][:3] = -10.0                                     # three first-layer neurons that never fire
    X = np.random.default_rng(0).random((9, 5)).astype(np.float32)
    stats = activation_stats(net.run(X, train=True), sample=20)
    z1 = X.astype(np.float64) @ net.weights[0].T.astype(np.float64) + net.biases[0]   # by hand
    assert len(stats) == 2
    assert stats[0]["dead"] == pytest.approx(np.mean(np.all(z1 <= 0, axis=0)))
    assert stats[0]["dead"] >= 3 / 7
    assert stats[0]["z_mean"] == pytest.approx(z1.mean(), rel=1e-5)
    assert stats[0]["a_mean"] == pytest.approx(np.maximum(z1, 0).mean(), rel=1e-5)
    assert stats[1]["z_sample"].size == 20
