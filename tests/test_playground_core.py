"""lab/playground.py: data generators, features, regularization gradients, grid surfaces, the 1-D fit,
URL (de)serialisation of the settings, and the lessons doing what they promise."""
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import numpy as np
import pytest

from core.gradcheck import max_relative_error
from core.network import MLP
from core.optim import SGD
from lab.playground import (
    DATASETS,
    FEATURES,
    GRID,
    LESSONS,
    RULES,
    TARGETS_1D,
    Config,
    Fit1D,
    Playground,
    R,
    build_net,
    check_config,
    config_from_query,
    config_to_query,
    feature_matrix,
    grid_points,
    grid_surfaces,
    lesson_config,
    make_data,
    multi_gaussian,
    target_1d,
)

CLASSIFICATION = [k for k, d in DATASETS.items() if d.problem == "classification"]
REGRESSION = [k for k, d in DATASETS.items() if d.problem == "regression"]


# ---- data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(DATASETS))
def test_generator_shapes_range_and_seed(name):
    make = DATASETS[name].make
    X, y = make(301, 0.2, np.random.default_rng(5))
    assert X.shape == (301, 2) and y.shape == (301,)
    assert np.all(np.abs(X) <= R + 1.0)                       # spiral jitter may step ≤ noise outside
    X2, y2 = make(301, 0.2, np.random.default_rng(5))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(301, 0.2, np.random.default_rng(6))
    assert not np.array_equal(X, X3)
    if DATASETS[name].problem == "classification":
        assert y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    else:
        assert y.dtype == np.float64


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [200, 201])
def test_classes_are_balanced_without_noise(name, n):
    _, y = DATASETS[name].make(n, 0.0, np.random.default_rng(0))
    assert abs(int(y.sum()) - (n - int(y.sum()))) <= 1


def test_noise_free_labels_follow_the_rule():
    rng = np.random.default_rng(1)
    X, y = DATASETS["xor"].make(400, 0.0, rng)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert np.min(np.abs(X)) >= 0.3                             # kept off the axes
    X, y = DATASETS["circle"].make(400, 0.0, rng)
    np.testing.assert_array_equal(y, (np.linalg.norm(X, axis=1) < 3).astype(int))
    X, y = DATASETS["gauss"].make(400, 0.0, rng)
    assert X[y == 1].mean(axis=0) == pytest.approx([2, 2], abs=0.3)
    assert X[y == 0].mean(axis=0) == pytest.approx([-2, -2], abs=0.3)
    X, y = DATASETS["plane"].make(400, 0.0, rng)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 12)
    X, y = DATASETS["multigauss"].make(400, 0.0, rng)
    np.testing.assert_allclose(y, multi_gaussian(X))
    assert multi_gaussian(np.array([[-4.0, 2.5]]))[0] == pytest.approx(1.0, abs=0.01)


def test_noise_flips_some_labels_near_the_boundary():
    X, y = DATASETS["xor"].make(1000, 0.5, np.random.default_rng(0))
    wrong = np.mean(y != (X[:, 0] * X[:, 1] > 0))
    assert 0.05 < wrong < 0.45


def test_make_data_splits_all_points_once():
    d = make_data("spiral", n=300, noise=0.1, train_fraction=0.3, seed=7)
    assert len(d.X_train) == 90 and len(d.X_test) == 210
    everything = np.concatenate([d.X_train, d.X_test])
    assert len(np.unique(everything, axis=0)) == 300
    again = make_data("spiral", n=300, noise=0.1, train_fraction=0.3, seed=7)
    np.testing.assert_array_equal(d.X_test, again.X_test)
    assert not np.array_equal(d.X_train, make_data("spiral", 300, 0.1, 0.3, seed=8).X_train)


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="moons"), "unknown data set"), (dict(name="xor", n=2), "n must be"),
    (dict(name="xor", noise=0.9), "noise"), (dict(name="xor", train_fraction=1.0), "train_fraction"),
])
def test_make_data_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_data(**kwargs)


# ---- features -----------------------------------------------------------------------------

def test_feature_values_and_order():
    X = np.array([[2.0, -3.0], [0.5, 1.0]])
    F = feature_matrix(X, list(FEATURES))
    np.testing.assert_allclose(F[0], [2, -3, 4, 9, -6, np.sin(2), np.sin(-3)])
    np.testing.assert_allclose(feature_matrix(X, ["sinx2", "x1"]), [[np.sin(-3), 2], [np.sin(1), 0.5]])


@pytest.mark.parametrize("X, names", [(np.zeros((3, 2)), []), (np.zeros((3, 2)), ["x3"]), (np.zeros(2), ["x1"])])
def test_feature_matrix_rejects_bad_input(X, names):
    with pytest.raises(ValueError):
        feature_matrix(X, names)


# ---- regularization (in core.network) -----------------------------------------------------

def _float64_net(sizes, activation, output, loss, l1, l2, seed=0):
    net = MLP(sizes, activation=activation, output=output, loss=loss, init="xavier", seed=seed,
              dtype=np.float64, l1=l1, l2=l2)
    rng = np.random.default_rng(seed + 100)
    for b in net.biases:                      # small nonzero biases: no z sits exactly on a ReLU kink
        b[...] = rng.normal(0, 0.1, b.shape)
    return net


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.1), (0.05, 0.0), (0.03, 0.2)])
@pytest.mark.parametrize("output, loss", [("sigmoid", "bce"), ("identity", "mse"), ("softmax", "cross_entropy")])
def test_regularized_gradients_match_numerical(activation, l1, l2, output, loss):
    K = 3 if output == "softmax" else 1
    net = _float64_net([3, 5, 4, K], activation, output, loss, l1, l2)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    y = rng.integers(0, K, 7) if output == "softmax" else rng.normal(size=(7, 1))
    if loss == "bce":
        y = (y > 0).astype(np.float64)
    assert max_relative_error(net, X, y) < 1e-6


def test_regularization_adds_exactly_the_penalty_and_its_gradient():
    l1, l2 = 0.03, 0.2
    plain = _float64_net([2, 4, 1], "tanh", "identity", "mse", 0.0, 0.0)
    reg = _float64_net([2, 4, 1], "tanh", "identity", "mse", l1, l2)
    X, y = np.array([[0.5, -1.0], [1.5, 2.0]]), np.array([[0.3], [-0.2]])
    loss0, grads0 = plain.loss_and_grads(X, y)
    loss1, grads1 = reg.loss_and_grads(X, y)
    penalty = sum(l2 / 2 * np.sum(W ** 2) + l1 * np.sum(np.abs(W)) for W in reg.weights)
    assert loss1 == pytest.approx(loss0 + penalty, rel=1e-12)
    for W, (dW0, db0), (dW1, db1) in zip(reg.weights, grads0, grads1):
        np.testing.assert_allclose(dW1 - dW0, l2 * W + l1 * np.sign(W), atol=1e-12)
        np.testing.assert_array_equal(db1, db0)                  # biases are not penalised


def test_playground_reports_data_loss_without_the_penalty():
    cfg = replace(Config(), reg="l2", rate=0.3)
    pg = Playground(cfg)
    pg.train_epochs(2)
    train, _ = pg.losses()
    p = pg.net.forward(pg.F_train)[:, 0].astype(np.float64)
    y = pg.data.y_train
    assert train == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-5)   # BCE by hand
    free = Playground(Config())
    free.train_epochs(2)
    assert np.abs(pg.net.weights[0]).sum() < np.abs(free.net.weights[0]).sum()   # the penalty did act


def test_live_settings_change_without_restarting_and_reach_the_next_step():
    pg = Playground(Config())
    pg.train_epochs(1)
    W = pg.net.weights[0].copy()
    new = replace(Config(), lr=0.3, reg="l1", rate=0.01, batch=5)
    assert not pg.needs_rebuild(new)
    pg.update_live_settings(new)
    assert (pg.cfg.lr, pg.cfg.reg, pg.cfg.rate, pg.cfg.batch) == (0.3, "l1", 0.01, 5)
    np.testing.assert_array_equal(pg.net.weights[0], W)
    twin, rng = pg.net.copy(), np.random.default_rng()
    rng.bit_generator.state = pg.rng.bit_generator.state      # the same batch order as the next epoch
    pg.train_epochs(1)
    X, Y = pg.F_train, pg.data.y_train[:, None].astype(np.float32)
    order, opt = rng.permutation(len(X)), SGD(123.0)        # η must come from the settings, not from opt.lr
    for start in range(0, len(X), 5):
        rows = order[start:start + 5]
        twin.learn(X[rows], Y[rows], opt, lr=0.3, l1=0.01, l2=0.0)
    np.testing.assert_allclose(pg.net.weights[0], twin.weights[0], rtol=1e-5, atol=1e-6)
    assert pg.needs_rebuild(replace(Config(), hidden=(4,))) and pg.needs_rebuild(replace(Config(), seed=1))


def test_build_net_matches_problem():
    clf = build_net(3, (4, 2), "linear", "classification")
    reg = build_net(2, (), "relu", "regression")
    assert clf.sizes == [3, 4, 2, 1] and (clf.activation, clf.output, clf.loss) == ("identity", "sigmoid", "bce")
    assert reg.sizes == [2, 1] and (reg.output, reg.loss, reg.init) == ("identity", "mse", "he")


# ---- surfaces over the grid ---------------------------------------------------------------

def test_grid_orientation_and_shapes():
    axis, points = grid_points()
    assert points.shape == (GRID * GRID, 2) and axis[0] == -R and axis[-1] == R
    pg = Playground(replace(Config(), features=("x1", "x2", "x1x2"), hidden=(5, 3, 2)))
    s = pg.surfaces()
    assert [m.shape for m in s.features] == [(GRID, GRID)] * 3
    assert [h.shape for h in s.hidden] == [(5, GRID, GRID), (3, GRID, GRID), (2, GRID, GRID)]
    assert s.output.shape == (GRID, GRID)
    i, j = 7, 31                                   # row i is x₂ = axis[i], column j is x₁ = axis[j]
    assert s.features[0][i, j] == pytest.approx(axis[j]) and s.features[1][i, j] == pytest.approx(axis[i])


def test_every_neuron_map_equals_a_forward_pass_of_that_point():
    pg = Playground(replace(Config(), data="spiral", hidden=(8, 8, 8, 8), act="relu"))
    pg.train_epochs(3)
    s = pg.surfaces()
    axis = s.axis
    for i, j in [(0, 0), (12, 40), (49, 3)]:
        x = np.array([[axis[j], axis[i]]])
        run = pg.net.run(feature_matrix(x, pg.cfg.features))
        out = run.output
        for l, maps in enumerate(s.hidden, start=1):
            np.testing.assert_allclose(maps[:, i, j], run.activations[l][0], rtol=1e-5, atol=1e-6)
        assert s.output[i, j] == pytest.approx(out[0, 0], rel=1e-5)


def test_grid_is_one_batched_forward_pass(monkeypatch):
    net = build_net(2, (8, 8, 8, 8), "relu", "classification")
    calls = []
    run = net._run
    monkeypatch.setattr(net, "_run", lambda X, *rest: calls.append(X.shape) or run(X, *rest))
    grid_surfaces(net, ("x1", "x2"))
    assert calls == [(GRID * GRID, 2)]


# ---- training and the lessons -----------------------------------------------------------

def test_training_is_deterministic():
    a, b = Playground(Config()), Playground(Config())
    a.train_epochs(4)
    b.train_epochs(4)
    assert a.history == b.history and a.epoch == 4 and len(a.history) == 5


def test_xor_lesson_reaches_95_percent_test_accuracy_within_100_epochs():
    pg = Playground(lesson_config("xor_hidden"))
    for _ in range(100):
        pg.train_epochs(1)
        if pg.accuracy("test") >= 0.95:
            break
    assert pg.accuracy("test") >= 0.95, f"test accuracy {pg.accuracy('test'):.3f} after {pg.epoch} epochs"


def test_a_perceptron_cannot_learn_xor():
    pg = Playground(lesson_config("xor_perceptron"))
    pg.train_epochs(100)
    assert pg.accuracy("test") < 0.8 and pg.losses()[0] > 0.6


def test_sin_features_solve_the_spiral_quickly():
    pg = Playground(lesson_config("spiral_sin"))
    pg.train_epochs(150)
    assert pg.accuracy("test") >= 0.9


def test_six_sigmoid_layers_barely_learn():
    deep = Playground(lesson_config("sigmoid_deep"))
    shallow = Playground(replace(lesson_config("sigmoid_deep"), hidden=(8,)))
    deep.train_epochs(150)
    shallow.train_epochs(150)
    assert deep.losses()[0] > 0.68                                   # still about log 2: nothing learned
    assert shallow.losses()[0] < 0.65                                # the same with one sigmoid layer learns


def test_l2_lesson_generalises_better_than_the_overfitting_one():
    free, tamed = Playground(lesson_config("overfit")), Playground(lesson_config("l2_tames"))
    free.train_epochs(300)
    tamed.train_epochs(300)
    assert free.losses()[0] < tamed.losses()[0]            # without L2: lower training loss ...
    assert tamed.losses()[1] < free.losses()[1]            # ... but higher test loss
    assert free.losses()[1] > free.history[50][2]           # the over-fit test loss rises


def test_learning_rate_10_does_not_converge():
    pg = Playground(lesson_config("lr_diverges"))
    with np.errstate(all="ignore"):
        pg.train_epochs(50)
    last = np.array([train for _, train, _ in pg.history[-10:]])
    assert np.isfinite(last).all()                          # it bounces: NaN would be another failure
    assert last.mean() > np.log(2)                          # worse than guessing 50/50, epoch after epoch
    calm = Playground(replace(lesson_config("lr_diverges"), lr=0.1))
    calm.train_epochs(50)
    assert calm.losses()[0] < 0.1                           # the same network converges with η = 0.1


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_lesson_is_a_valid_configuration(name):
    cfg = lesson_config(name)
    assert config_from_query(config_to_query(cfg)) == (cfg, None)


# ---- universal approximation --------------------------------------------------------------

def test_targets_1d():
    assert set(TARGETS_1D) == {"sine", "step", "abs", "bump", "sawtooth"}
    values = {name: target_1d(name, np.array([-1.0, -0.5, 0.0, 0.5])) for name in TARGETS_1D}
    np.testing.assert_allclose(values["sine"], [0, -1, 0, 1], atol=1e-12)
    np.testing.assert_array_equal(values["step"], [0, 0, 1, 1])
    np.testing.assert_allclose(values["abs"], [1, 0.5, 0, 0.5])
    assert values["bump"][2] == 1.0 and values["bump"][1] == pytest.approx(np.exp(-3.125))
    np.testing.assert_allclose(values["sawtooth"], [-1, 0, -1, 0])
    assert target_1d("sawtooth", np.array([1.0]))[0] == 1.0          # the last tooth ends at the top
    with pytest.raises(ValueError):
        target_1d("square", [0.0])


@pytest.mark.parametrize("depth", [1, 2])
def test_contributions_add_up_to_the_output(depth):
    fit = Fit1D("bump", 7, depth=depth, seed=3)
    fit.train_steps(20)
    terms, bias, y_hat = fit.contributions()
    assert terms.shape == (7, len(fit.x))
    np.testing.assert_allclose(terms.sum(axis=0) + bias, y_hat, rtol=1e-5, atol=1e-5)


def test_one_layer_relu_pieces_are_hinges_with_kinks_spread_over_the_range():
    fit = Fit1D("sine", 12, depth=1, act="relu", seed=0)
    v, c = fit.net.weights[0][:, 0], fit.net.biases[0]
    kinks = -c / v
    assert np.all((-1 <= kinks) & (kinks <= 1)) and np.ptp(kinks) > 1.0
    fit.train_steps(30)
    terms, _, _ = fit.contributions()
    v, c, w = fit.net.weights[0][:, 0], fit.net.biases[0], fit.net.weights[1][0]
    hinges = w[:, None] * np.maximum(0, v[:, None] * fit.x[None, :] + c[:, None])     # (12, N)
    np.testing.assert_allclose(terms, hinges, rtol=1e-5, atol=1e-6)


def test_one_hidden_layer_learns_the_sine():
    fit = Fit1D("sine", 12, depth=1, act="relu", lr=0.01, seed=0)
    start = fit.loss()
    fit.train_steps(500)
    assert fit.loss() < 0.01 < start
    assert fit.history[-1] == (500, fit.loss())


def test_two_layers_of_6_beat_one_layer_of_12_on_the_sawtooth():
    cfg = lesson_config("ua_two_layers")
    deep = Fit1D(cfg.fn, cfg.units, cfg.depth, cfg.act1d, cfg.lr1d, cfg.seed)
    wide = Fit1D(cfg.fn, 2 * cfg.units, 1, cfg.act1d, cfg.lr1d, cfg.seed)
    deep.train_steps(2000)
    wide.train_steps(2000)
    assert deep.loss() < 0.001 < 0.005 < wide.loss()                 # the numbers the lesson quotes


def test_fit1d_rejects_bad_sizes():
    with pytest.raises(ValueError):
        Fit1D("sine", 0)
    with pytest.raises(ValueError):
        Fit1D("sine", 8, depth=3)


# ---- settings in the URL ------------------------------------------------------------------

ODD = replace(Config(), mode="1d", data="multigauss", noise=35, train=70, n=730, seed=42,
              features=("sinx2", "x1sq", "x1x2"), hidden=(8, 1, 3, 6, 2, 7), act="sigmoid", lr=0.00001,
              batch=1, reg="l1", rate=10.0, speed=20, show_test=True, discretize=True, fn="sawtooth", units=50,
              depth=2, act1d="tanh", lr1d=3.0, steps1d=500)


@pytest.mark.parametrize("cfg", [Config(), ODD, replace(Config(), hidden=())], ids=["default", "odd", "no-hidden"])
def test_query_round_trip_through_a_real_url(cfg):
    query = config_to_query(cfg)
    assert set(query) == set(RULES) and all(isinstance(v, str) for v in query.values())
    back = dict(parse_qsl(urlencode(query), keep_blank_values=True))
    assert config_from_query(back) == (cfg, None)


def test_query_examples():
    query = config_to_query(replace(Config(), hidden=(), features=("x1", "sinx1"), lr=0.003))
    assert (query["hidden"], query["features"], query["lr"], query["show_test"]) == ("none", "x1,sinx1", "0.003", "0")
    cfg, notice = config_from_query({"data": "spiral", "hidden": "8,8,8", "lr": "0.1", "show_test": "true"})
    assert notice is None
    assert (cfg.data, cfg.problem, cfg.hidden, cfg.lr, cfg.show_test) == ("spiral", "classification", (8, 8, 8),
                                                                           0.1, True)
    assert config_from_query({}) == (Config(), None)
    assert config_from_query({"utm_source": "mail", "embed": "true"}) == (Config(), None)   # not ours: ignored
    assert config_from_query({"data": ["xor", "circle"]})[0].data == "circle"               # repeated: last wins


def test_garbage_falls_back_to_defaults_with_a_notice():
    garbage = {"mode": "3d", "data": "<script>", "noise": "nan", "train": "lots", "n": "1e9", "seed": "-5",
               "features": "x1,evil", "hidden": "9,9,9,9,9,9,9,9", "act": "swish", "lr": "abc", "batch": "0",
               "reg": "l3", "rate": "-1", "speed": "inf", "show_test": "maybe", "discretize": "",
               "fn": "square", "units": "x", "depth": "7", "act1d": "", "lr1d": "1e400", "steps1d": "12"}
    cfg, notice = config_from_query(garbage)
    check_config(cfg)                                               # whatever came in, the result is valid
    default = Config()
    assert (cfg.mode, cfg.data, cfg.noise, cfg.train, cfg.act, cfg.lr, cfg.reg, cfg.rate) == (
        default.mode, default.data, default.noise, default.train, default.act, default.lr, default.reg, default.rate)
    assert (cfg.n, cfg.seed, cfg.batch, cfg.depth, cfg.steps1d) == (1000, 0, 1, 2, 10)      # clamped / snapped
    assert cfg.features == ("x1",) and cfg.hidden == (8,) * 6
    assert (cfg.show_test, cfg.discretize, cfg.fn, cfg.units) == (False, False, "sine", 8)
    for key in garbage:
        assert f"{key}=" in notice, key
    assert "<script>" in notice                                     # quoted back as text (the page escapes it)


def test_random_junk_never_breaks_the_settings():
    rng = np.random.default_rng(0)
    alphabet = list("0123456789.,-+eE xXnaif;%&=/<>'\"") + ["none", "nan", "inf", "1e999", "x1", "relu", "é", ""]
    for _ in range(300):
        params = {key: "".join(rng.choice(alphabet, rng.integers(0, 6))) for key in RULES if rng.random() < 0.6}
        cfg, notice = config_from_query(params)
        check_config(cfg)
        assert notice is None or notice.startswith("Some settings")


@pytest.mark.parametrize("raw", ["inf,2", "nan", "4,,2", "1e999", "4;2"])
def test_unreadable_hidden_layers_fall_back_to_the_default(raw):
    cfg, notice = config_from_query({"hidden": raw})
    assert cfg.hidden == Config().hidden and "hidden=" in notice


@pytest.mark.parametrize("raw, value", [("0.05", 0.03), ("0.031", 0.03), ("2", 3.0), ("100", 10.0),
                                        ("0", 0.00001)])
def test_learning_rate_snaps_to_the_nearest_choice(raw, value):
    cfg, notice = config_from_query({"lr": raw})
    assert cfg.lr == value and "nearest" in notice


def test_check_config_rejects_invalid_settings():
    with pytest.raises(ValueError, match="hidden"):
        check_config(replace(Config(), hidden=(9,)))
    with pytest.raises(ValueError, match="lr"):
        check_config(replace(Config(), lr=0.05))
    with pytest.raises(ValueError, match="data"):
        Playground(replace(Config(), data="moons"))
