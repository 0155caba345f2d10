"""BatchNorm, step by step: lab.steps.batchnorm_trace against a computation written here from the
definition (to 3 decimals, what the page shows), and the page (AppTest) showing those numbers."""
import numpy as np
import pytest
from apptest import assert_fine, open_page

from lab.steps import batchnorm_trace
from pages.ui.tiny_net import mat as matrix_of


def mat(M):
    """How the page writes a matrix: 3 decimals, float rounding of an exact 0 (|v| < 1e-12) as 0."""
    return matrix_of(np.where(np.abs(M) < 1e-12, 0.0, M))

EPS = 1e-5
X = np.array([[1.0, 20, 101], [3.0, 5, 100], [-2.0, 15, 103], [2.0, -10, 102]])     # the page's default
DY = np.array([[0.1, -0.2, 0.3], [0.4, 0.1, -0.1], [-0.3, 0.2, 0.2], [0.2, -0.1, 0.0]])
GAMMA, BETA = np.array([1.0, 2.0, 0.5]), np.array([0.0, 1.0, -1.0])


def by_definition(x, gamma, beta, dy, running_mean, running_var):
    """Loops over features and examples, straight from the definitions (no vector tricks)."""
    B, n = x.shape
    out = {k: np.zeros(n) for k in ("mu", "var", "dbeta", "dgamma", "dvar", "dmu", "new_mean", "new_var")}
    for k in ("x_hat", "y", "dx", "eval_y"):
        out[k] = np.zeros((B, n))
    for j in range(n):
        col = [x[b, j] for b in range(B)]
        mu = sum(col) / B
        var = sum((v - mu) ** 2 for v in col) / B
        s = (var + EPS) ** 0.5
        x_hat = [(v - mu) / s for v in col]
        # L = Σ dy y; ∂L/∂x_bj by the quotient rule on x̂_b = (x_b − μ)/s, with ∂μ/∂x_c = 1/B and
        # ∂var/∂x_c = 2(x_c − μ)/B:  ∂x̂_b/∂x_c = ([b = c] − 1/B)/s − (x_b − μ)(x_c − μ)/(B s³)
        for c in range(B):
            out["dx"][c, j] = sum(dy[b, j] * gamma[j] * (((b == c) - 1 / B) / s - (col[b] - mu) * (col[c] - mu) / (B * s ** 3))
                                  for b in range(B))
        out["mu"][j], out["var"][j] = mu, var
        out["x_hat"][:, j] = x_hat
        out["y"][:, j] = [gamma[j] * h + beta[j] for h in x_hat]
        out["dbeta"][j] = sum(dy[:, j])
        out["dgamma"][j] = sum(dy[b, j] * x_hat[b] for b in range(B))
        out["dvar"][j] = sum(dy[b, j] * gamma[j] * (col[b] - mu) for b in range(B)) * -0.5 * (var + EPS) ** -1.5
        out["dmu"][j] = -sum(dy[b, j] * gamma[j] for b in range(B)) / s
        out["eval_y"][:, j] = [gamma[j] * (v - running_mean[j]) / (running_var[j] + EPS) ** 0.5 + beta[j] for v in col]
        out["new_mean"][j] = 0.9 * running_mean[j] + 0.1 * mu
        out["new_var"][j] = 0.9 * running_var[j] + 0.1 * var * B / (B - 1)
    return out


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_the_trace_matches_the_definition_to_three_decimals(seed):
    if seed is None:
        x, dy, gamma, beta, rm, rv = X, DY, GAMMA, BETA, np.zeros(3), np.ones(3)
    else:
        rng = np.random.default_rng(seed)
        x, dy = rng.normal(1, 2, (4, 3)), rng.normal(size=(4, 3))
        gamma, beta, rm, rv = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), rng.random(3) + 0.5
    t = batchnorm_trace(x, gamma, beta, dy, rm, rv)
    want = by_definition(x, gamma, beta, dy, rm, rv)
    pairs = {"mu": t.mu, "var": t.var, "x_hat": t.x_hat, "y": t.y, "dbeta": t.dbeta, "dgamma": t.dgamma,
             "dvar": t.dvar, "dmu": t.dmu, "dx": t.dx, "eval_y": t.eval_y, "new_mean": t.new_running_mean,
             "new_var": t.new_running_var}
    for name, got in pairs.items():
        np.testing.assert_allclose(np.round(got, 3), np.round(want[name], 3), atol=1.001e-3, err_msg=name)
    np.testing.assert_allclose(t.dx_compact, want["dx"], atol=1e-9)
    np.testing.assert_allclose(t.dx_hat, dy * gamma)
    for key, numeric in t.numeric.items():
        np.testing.assert_allclose(getattr(t, key), numeric, atol=1e-7, err_msg=key)


def test_the_trace_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="one value per feature"):
        batchnorm_trace(X, [1, 2], BETA, DY)
    with pytest.raises(ValueError, match="at least 2 examples"):
        batchnorm_trace(X[:1], GAMMA, BETA, DY[:1])
    with pytest.raises(ValueError, match="negative"):
        batchnorm_trace(X, GAMMA, BETA, DY, running_var=[1, -1, 1])


def latex(at):
    return "\n".join([e.value for e in at.latex] + [e.value for e in at.markdown])


def test_the_page_shows_the_forward_and_backward_numbers_and_passes_every_check():
    at = open_page("batchnorm")
    t = batchnorm_trace(X, GAMMA, BETA, DY)
    shown = latex(at)
    for matrix in (t.x_hat, t.y, t.dx_hat, t.dx, t.dx_compact, t.eval_y):
        assert mat(matrix) in shown
    assert r"\mu_1 = \tfrac{1}{4}(1.000 + 3.000 + (-2.000) + 2.000) = 1.000" in shown
    table = at.dataframe[0].value
    assert list(table["gradient"]) == ["dβ", "dγ", "dx̂", "dσ²", "dμ", "dx"]
    assert set(table["check"]) == {"passes"}
    assert "Long and compact form agree" in at.success[0].value


def test_editing_the_batch_changes_every_number_and_bad_input_gets_a_message():
    at = open_page("batchnorm")
    new_x = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 0.0], [2.0, 3.0, 1.0], [5.0, -1.0, 1.0]])
    at.text_area(key="bn_x").set_value("\n".join(" ".join(str(v) for v in row) for row in new_x)).run()
    assert_fine(at)
    t = batchnorm_trace(new_x, GAMMA, BETA, DY)
    assert mat(t.dx) in latex(at) and mat(t.y) in latex(at)
    at.text_input(key="bn_gamma").set_value("1 two 3").run()
    assert_fine(at)
    assert "γ: write numbers" in at.error[0].value
    at.text_input(key="bn_gamma").set_value("1 2").run()
    assert "γ: expected 3 numbers" in at.error[0].value
