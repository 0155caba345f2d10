"""Loss surfaces, optimizer races and their verdicts, the Adam worked example and the learning-rate sweep."""
import numpy as np
import pytest

from core.optim import SGD, Adam, Momentum
from lab.lr_sweep import RISE, classify, lr_grid, lr_sweep
from lab.surfaces import (
    SURFACES,
    Path,
    adam_trace,
    distance_to_minimum,
    is_global,
    min_value,
    optimizer_path,
    race,
    surface_grid,
    verdict,
)


@pytest.mark.parametrize("name", list(SURFACES))
def test_gradient_matches_finite_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(1)
    x = rng.uniform(*surface.x_range, 50)                           # (50,)
    y = rng.uniform(*surface.y_range, 50)
    gx, gy = surface.grad(x, y)
    h = 1e-6
    num_x = (surface.f(x + h, y) - surface.f(x - h, y)) / (2 * h)
    num_y = (surface.f(x, y + h) - surface.f(x, y - h)) / (2 * h)
    np.testing.assert_allclose(gx, num_x, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gy, num_y, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", list(SURFACES))
def test_minima_are_stationary_and_global_first(name):
    surface = SURFACES[name]
    for point in surface.minima:
        np.testing.assert_allclose(surface.grad(*point), (0.0, 0.0), atol=1e-9)
    xs, ys, Z = surface_grid(surface, n=201)
    assert Z.min() >= min_value(surface) - 1e-9                     # nothing on the grid is lower


def test_grid_is_vectorised_in_contour_orientation():
    surface = SURFACES["rosenbrock"]
    xs, ys, Z = surface_grid(surface, n=31)
    assert xs.shape == (31,) and ys.shape == (31,) and Z.shape == (31, 31)
    assert Z[4, 7] == pytest.approx(surface.f(xs[7], ys[4]))         # Z[i, j] = f(x_j, y_i)


def test_local_min_surface_has_a_worse_local_minimum():
    surface = SURFACES["local_min"]
    (gx, _), (lx, _) = surface.minima
    assert gx == pytest.approx(-1.0356, abs=1e-3) and lx == pytest.approx(0.9601, abs=1e-3)
    assert surface.f(gx, 0) < surface.f(lx, 0)


def test_path_uses_the_real_optimizer_step():
    """SGD on the ravine: θ_t = θ_{t−1} − η ∇f(θ_{t−1}), exactly as core.optim.SGD computes it."""
    surface = SURFACES["ravine"]
    path = optimizer_path(surface, "sgd", (-9.0, 2.0), 5, 0.9)
    theta, opt = np.array([-9.0, 2.0]), SGD(0.9)
    for t in range(1, 6):
        opt.step([theta], [np.array(surface.grad(*theta))])
        np.testing.assert_array_equal(path.points[t], theta)
    assert path.losses[3] == surface.f(*path.points[3])


def test_momentum_path_matches_core_momentum():
    surface = SURFACES["rosenbrock"]
    path = optimizer_path(surface, "momentum", (-1.5, 2.0), 20, 0.001, beta=0.8)
    theta, opt = np.array([-1.5, 2.0]), Momentum(0.001, beta=0.8)
    for _ in range(20):
        opt.step([theta], [np.array(surface.grad(*theta))])
    np.testing.assert_array_equal(path.points[-1], theta)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_adam_and_momentum_reach_the_minimum_of_the_quadratic(name):
    surface = SURFACES["ravine"]
    path = optimizer_path(surface, name, surface.start, 300, surface.lrs[name])
    assert not path.diverged
    assert distance_to_minimum(surface, path.points[-1]) < 1e-2
    assert path.final_loss < 1e-4 * path.losses[0]


def test_sgd_crawls_along_the_ravine_where_momentum_arrives():
    surface = SURFACES["ravine"]
    runs = race(surface, {n: {"lr": surface.lrs[n]} for n in ("sgd", "momentum")}, surface.start, surface.steps)
    assert distance_to_minimum(surface, runs["sgd"].points[-1]) > 10 * distance_to_minimum(
        surface, runs["momentum"].points[-1])
    y = runs["sgd"].points[:6, 1]
    assert np.all(y[1:] * y[:-1] < 0)                                 # zig-zag across the valley


def test_sgd_with_too_large_lr_diverges_and_says_so():
    surface = SURFACES["ravine"]
    path = optimizer_path(surface, "sgd", surface.start, 200, 1.5)  # y ← (1 − 2η) y = −2y
    assert path.diverged and 1 <= path.diverged_at < 200
    assert "escaped" in path.reason
    assert len(path.points) == path.diverged_at                      # stops where it broke
    assert np.all(np.isfinite(path.losses))
    assert not optimizer_path(surface, "sgd", surface.start, 200, 0.9).diverged


def test_overflow_to_infinity_is_reported_not_raised():
    path = optimizer_path(SURFACES["rosenbrock"], "sgd", (-1.5, 2.0), 50, 0.9)
    assert path.diverged and path.reason


def test_local_minimum_traps_sgd_but_momentum_rolls_through():
    surface = SURFACES["local_min"]
    sgd = optimizer_path(surface, "sgd", surface.start, surface.steps, surface.lrs["sgd"])
    momentum = optimizer_path(surface, "momentum", surface.start, surface.steps, surface.lrs["momentum"])
    assert np.hypot(*(sgd.points[-1] - surface.minima[1])) < 1e-2      # the local one
    assert np.hypot(*(momentum.points[-1] - surface.minima[0])) < 1e-2  # the global one
    assert verdict(surface, sgd) == "stuck in the local minimum"
    assert verdict(surface, momentum) == "reached the minimum"


def ended_at(point, diverged_at=None):
    """A made-up run that ends at `point` (the verdict reads only the end and whether it broke)."""
    return Path("sgd", 0.1, np.array([[5.0, 5.0], point]), np.array([1.0, 0.5]), diverged_at,
                "the loss became infinite or NaN" if diverged_at else "")


def test_verdict_names_the_minimum_a_run_ends_in():
    local_min, saddle = SURFACES["local_min"], SURFACES["saddle"]
    (gx, _), (lx, _) = local_min.minima                              # roots of 4x³ − 4x + 0.3, checked above
    assert verdict(local_min, ended_at([gx + 0.005, 0.0])) == "reached the minimum"
    assert verdict(local_min, ended_at([lx, 0.005])) == "stuck in the local minimum"
    assert verdict(local_min, ended_at([lx + 0.02, 0.0])) == "still on its way"       # 2 × the 1e-2 radius
    assert verdict(local_min, ended_at([lx, 0.0], diverged_at=7)) == "diverged at step 7"
    # the saddle surface's two valleys are equally deep: both are global, neither is "local"
    assert [is_global(saddle, m) for m in saddle.minima] == [True, True]
    assert verdict(saddle, ended_at([0.0, -1.0])) == "reached the minimum"
    assert [is_global(local_min, m) for m in local_min.minima] == [True, False]


def test_saddle_holds_sgd_longer_than_adam():
    surface = SURFACES["saddle"]
    sgd = optimizer_path(surface, "sgd", surface.start, 60, surface.lrs["sgd"])
    adam = optimizer_path(surface, "adam", surface.start, 60, surface.lrs["adam"])
    assert abs(sgd.points[-1, 1]) < 0.1 < abs(adam.points[-1, 1])


@pytest.mark.parametrize("start", [(np.nan, 0), (np.inf, 1), (1e9, 0), (1, 2, 3), "abc", None])
def test_bad_start_is_refused(start):
    with pytest.raises(ValueError, match="start"):
        optimizer_path("ravine", "sgd", start, 10, 0.1)


@pytest.mark.parametrize("steps", [0, -3, 10**6, 2.5])
def test_bad_steps_are_refused(steps):
    with pytest.raises(ValueError, match="steps"):
        optimizer_path("ravine", "sgd", (1, 1), steps, 0.1)


def test_bad_lr_and_optimizer_are_refused():
    with pytest.raises(ValueError, match="learning rate"):
        optimizer_path("ravine", "sgd", (1, 1), 10, float("nan"))
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimizer_path("ravine", "lion", (1, 1), 10, 0.1)
    with pytest.raises(ValueError, match="unknown surface"):
        optimizer_path("himmelblau", "sgd", (1, 1), 10, 0.1)


# ---- Adam worked example ---------------------------------------------------------------------

def test_adam_trace_worked_example():
    rows = adam_trace(5.0, 0.1, [2.0, 1.5, 3.0])
    assert [r["t"] for r in rows] == [1, 2, 3]
    assert [round(r["m"], 4) for r in rows] == [0.2, 0.33, 0.597]
    assert [round(r["v"], 6) for r in rows] == [0.004, 0.006246, 0.01524]
    assert [round(r["m_hat"], 3) for r in rows] == [2.0, 1.737, 2.203]
    assert [round(r["v_hat"], 3) for r in rows] == [4.0, 3.125, 5.085]
    assert [round(r["theta"], 3) for r in rows] == [4.9, 4.802, 4.704]


@pytest.mark.parametrize("grads", [[2.0, 1.5, 3.0], list(np.random.default_rng(3).normal(0, 5, 40))])
def test_adam_trace_agrees_with_core_adam_exactly(grads):
    rows = adam_trace(5.0, 0.1, grads, beta1=0.8, beta2=0.99)
    theta, opt = np.array([5.0]), Adam(0.1, beta1=0.8, beta2=0.99)
    for row, g in zip(rows, grads):
        opt.step([theta], [np.array([g])])
        assert row["theta"] == theta[0]
        assert row["m"] == opt.m[0][0] and row["v"] == opt.v[0][0]


@pytest.mark.parametrize("theta0, lr, grads", [(np.nan, 0.1, [1]), (5, np.inf, [1]), (5, 0.1, []),
                                               (5, 0.1, [1, np.nan]), (1e9, 0.1, [1]), (5, -0.1, [1])])
def test_adam_trace_refuses_bad_input(theta0, lr, grads):
    with pytest.raises(ValueError):
        adam_trace(theta0, lr, grads)


# ---- learning-rate sweep ---------------------------------------------------------------------

def test_classify_marks_too_low_good_and_diverging():
    curves = [[1.0, 1.0, 1.0], [1.0, 0.95, 0.9], [1.0, 0.7, 0.5], [1.0, 0.5, 0.2], [1.0, 1.05, 0.3],
              [1.0, 1.2, 1.5], [1.0, np.inf, np.inf], [1.0, np.nan, np.nan]]
    assert classify(curves) == ["too low", "too low", "good", "good", "good", "diverging", "diverging", "diverging"]


def test_a_run_that_overshoots_and_lands_low_still_counts_as_diverging():
    """Judged by its last step alone this run would be the best: it spiked to 12 L₀ on the way."""
    curves = [[1.0, 0.6, 0.3], [1.0, 12.0, 0.01], [1.0, RISE * 1.0, 0.4]]
    assert classify(curves) == ["good", "diverging", "good"]


def test_the_adam_sweep_does_not_recommend_a_learning_rate_that_overshot():
    """Issue 14: the Adam finder recommended η ≈ 1.69, whose loss had risen to ~12× its start."""
    sweep = lr_sweep(lr_grid(1e-4, 3.0, 19), optimizer="adam")
    peaks = sweep.curves.max(axis=1)
    assert 0.05 < sweep.best_lr < 0.3
    assert peaks[list(sweep.lrs).index(sweep.best_lr)] <= RISE * sweep.start_loss
    assert all(v == "diverging" for v, lr in zip(sweep.verdicts, sweep.lrs) if lr > 1.0)


def test_sgd_sweep_finds_all_three_regimes_in_order():
    sweep = lr_sweep(lr_grid(1e-3, 30.0, 13), steps=40)
    order = {"too low": 0, "good": 1, "diverging": 2}
    ranks = [order[v] for v in sweep.verdicts]
    assert set(sweep.verdicts) == set(order)
    assert ranks == sorted(ranks)                                    # too low, then good, then diverging
    assert sweep.verdicts[list(sweep.lrs).index(sweep.best_lr)] == "good"
    assert sweep.curves.shape == (13, 41)
    assert np.all(sweep.curves[:, 0] == sweep.start_loss)            # every run starts from the same weights


def test_lr_grid_is_log_spaced_and_checked():
    grid = lr_grid(1e-3, 10.0, 5)
    np.testing.assert_allclose(grid, [1e-3, 1e-2, 1e-1, 1.0, 10.0])
    with pytest.raises(ValueError):
        lr_grid(1.0, 0.1)
