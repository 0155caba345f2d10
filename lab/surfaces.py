"""Two-dimensional loss surfaces for watching optimizers race, and the Adam worked example.

A surface is a function f(θ) of two parameters θ = (x, y) with its gradient ∇f = (∂f/∂x, ∂f/∂y).
Both are vectorised, so f(X, Y) on a meshgrid gives the contour plot. The optimizers are the
real classes from core.optim, stepping a parameter array θ of shape (2,):

    θ_0 = start,   g_t = ∇f(θ_{t−1}),   θ_t = opt.step(θ_{t−1}, g_t)

    ravine:      f = x²/50 + y²                          (ill-conditioned: curvatures 0.04 and 2)
    rosenbrock:  f = (1 − x)² + 100 (y − x²)²            (a curved, flat-bottomed valley)
    saddle:      f = x² + (y² − 1)² / 4                  (a saddle at (0, 0) between two valleys)
    local_min:   f = (x² − 1)² + 0.3 x + y²              (a local minimum near x = 0.96, the global near x = −1.04)

A run *diverges* when the loss or θ stops being finite, or θ leaves the box |x|, |y| ≤ ESCAPE.
"""
from typing import Callable, NamedTuple

import numpy as np

from core.checks import finite_number
from core.optim import Adam, make_optimizer

ESCAPE = 1e3          # |x| or |y| beyond this counts as escaping to infinity
MAX_STEPS = 5000
MAX_START = 100.0     # a start point further out than this is refused


class Surface(NamedTuple):
    """A 2-D loss f(x, y) with its analytic gradient, a plotting window and suggested learning rates."""
    name: str
    title: str
    formula: str                # LaTeX of f(x, y)
    f: Callable                 # f(x, y), element-wise on arrays
    grad: Callable              # (x, y) -> (∂f/∂x, ∂f/∂y), element-wise on arrays
    minima: tuple               # ((x, y), ...), the global minimum first
    start: tuple                # default start point
    x_range: tuple
    y_range: tuple
    lrs: dict                   # optimizer name -> a learning rate that shows its character here
    steps: int                  # enough steps to see the story
    story: str                  # one line: what to watch for


# ---- the four surfaces ----------------------------------------------------------------------

def ravine(x, y):
    """f = x²/50 + y²."""
    return x * x / 50.0 + y * y


def ravine_grad(x, y):
    """∇f = (x/25, 2y)."""
    return x / 25.0, 2.0 * y


def rosenbrock(x, y):
    """f = (1 − x)² + 100 (y − x²)²."""
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def rosenbrock_grad(x, y):
    """∇f = (−2(1 − x) − 400 x (y − x²),  200 (y − x²))."""
    return -2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)


def saddle(x, y):
    """f = x² + (y² − 1)² / 4."""
    return x * x + (y * y - 1.0) ** 2 / 4.0


def saddle_grad(x, y):
    """∇f = (2x, y (y² − 1))."""
    return 2.0 * x, y * (y * y - 1.0)


def local_min(x, y):
    """f = (x² − 1)² + 0.3 x + y²."""
    return (x * x - 1.0) ** 2 + 0.3 * x + y * y


def local_min_grad(x, y):
    """∇f = (4x (x² − 1) + 0.3,  2y)."""
    return 4.0 * x * (x * x - 1.0) + 0.3, 2.0 * y


def _local_min_roots():
    """The two minima of (x² − 1)² + 0.3x: roots of 4x³ − 4x + 0.3 with f'' > 0 (global one first)."""
    roots = np.sort(np.roots([4.0, 0.0, -4.0, 0.3]).real)     # three real roots: min, max, min
    return (float(roots[0]), 0.0), (float(roots[2]), 0.0)


SURFACES = {
    "ravine": Surface(
        "ravine", "Ravine (ill-conditioned quadratic)", r"f(x, y) = \frac{x^2}{50} + y^2",
        ravine, ravine_grad, ((0.0, 0.0),), (-9.0, 2.0), (-10.0, 10.0), (-3.0, 3.0),
        {"sgd": 0.9, "momentum": 0.1, "rmsprop": 0.1, "adam": 0.3, "adamw": 0.3}, 150,
        "Steep across, shallow along: SGD zig-zags across the valley and crawls along it."),
    "rosenbrock": Surface(
        "rosenbrock", "Rosenbrock (curved valley)", r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        rosenbrock, rosenbrock_grad, ((1.0, 1.0),), (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0),
        {"sgd": 0.0015, "momentum": 0.001, "rmsprop": 0.01, "adam": 0.1, "adamw": 0.1}, 500,
        "Finding the valley is easy, following its flat curved floor to (1, 1) is hard."),
    "saddle": Surface(
        "saddle", "Saddle point", r"f(x, y) = x^2 + \tfrac14\,(y^2 - 1)^2",
        saddle, saddle_grad, ((0.0, 1.0), (0.0, -1.0)), (-2.0, 0.001), (-2.5, 2.5), (-2.0, 2.0),
        {"sgd": 0.05, "momentum": 0.02, "rmsprop": 0.02, "adam": 0.05, "adamw": 0.05}, 200,
        "Off the ridge the gradient is tiny: SGD lingers at the saddle (0, 0); RMSProp and Adam rescale it and escape."),
    "local_min": Surface(
        "local_min", "Local minimum", r"f(x, y) = (x^2 - 1)^2 + 0.3\,x + y^2",
        local_min, local_min_grad, _local_min_roots(), (2.0, 1.5), (-2.0, 2.2), (-2.0, 2.0),
        {"sgd": 0.02, "momentum": 0.01, "rmsprop": 0.05, "adam": 0.1, "adamw": 0.1}, 200,
        "Two valleys: the right one is only a local minimum. Momentum can roll over the hump."),
}

OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}


def get_surface(name):
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; expected one of {list(SURFACES)}")
    return SURFACES[name]


def surface_grid(surface, n=121):
    """xs (n,), ys (n,), Z (n, n) with Z[i, j] = f(xs[j], ys[i]) — what a contour plot takes."""
    xs = np.linspace(*surface.x_range, n)                  # (n,)
    ys = np.linspace(*surface.y_range, n)                  # (n,)
    X, Y = np.meshgrid(xs, ys)                             # (n, n) each
    return xs, ys, surface.f(X, Y)                         # (n, n)


def min_value(surface):
    """f at the global minimum."""
    return float(surface.f(*surface.minima[0]))


def distance_to_minimum(surface, point):
    """Distance from point to the nearest minimum of the surface."""
    return min(float(np.hypot(point[0] - mx, point[1] - my)) for mx, my in surface.minima)


def is_global(surface, minimum):
    """True if f at this minimum is as low as at the global one (the saddle surface has two equal ones)."""
    return bool(np.isclose(surface.f(*minimum), min_value(surface)))


REACHED = 1e-2        # a run that ends within this distance of a minimum has reached it


def verdict(surface, path):
    """How a run ended: "diverged at step t", "reached the minimum", "stuck in the local minimum"
    (it ended within REACHED of a minimum that is higher than the global one) or "still on its way"."""
    if path.diverged:
        return f"diverged at step {path.diverged_at}"
    end = path.points[-1]                                           # (2,)
    nearest = min(surface.minima, key=lambda m: np.hypot(end[0] - m[0], end[1] - m[1]))
    if np.hypot(end[0] - nearest[0], end[1] - nearest[1]) >= REACHED:
        return "still on its way"
    return "reached the minimum" if is_global(surface, nearest) else "stuck in the local minimum"


# ---- running an optimizer on a surface ------------------------------------------------------

class Path(NamedTuple):
    """One optimizer's run: θ_0..θ_n and f(θ_0)..f(θ_n); a diverged run stops where it broke."""
    optimizer: str
    lr: float
    points: np.ndarray          # (n + 1, 2)   θ_t
    losses: np.ndarray          # (n + 1,)     f(θ_t)
    diverged_at: object         # the step t at which the run broke, or None
    reason: str                 # why it broke ("" when it did not)

    @property
    def diverged(self):
        return self.diverged_at is not None

    @property
    def final_loss(self):
        return float(self.losses[-1])


def optimizer_path(surface, optimizer_name, start, steps, lr, **betas):
    """Run a core.optim optimizer for `steps` steps of θ ← step(θ, ∇f(θ)) from `start`.

    betas are passed to the optimizer (beta for Momentum, rho for RMSProp, beta1/beta2 for Adam,
    also weight_decay for AdamW). A non-finite loss or |θ| > ESCAPE stops the run and is reported.
    """
    surface = get_surface(surface) if isinstance(surface, str) else surface
    theta = _check_start(start)                                     # (2,)
    steps = _check_steps(steps)
    opt = make_optimizer(optimizer_name, lr, **betas)
    points, losses = [theta.copy()], [float(surface.f(*theta))]
    diverged_at, reason = None, ""
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = np.array(surface.grad(*theta), dtype=np.float64)    # (2,)
            opt.step([theta], [g])
            loss = float(surface.f(*theta))
            reason = _broken(theta, loss)
            if reason:
                diverged_at = t
                break
            points.append(theta.copy())
            losses.append(loss)
    return Path(optimizer_name, float(lr), np.array(points), np.array(losses), diverged_at, reason)


def race(surface, settings, start, steps):
    """Run several optimizers from the same start. settings: {name: dict(lr=..., **betas)}."""
    return {name: optimizer_path(surface, name, start, steps, **kw) for name, kw in settings.items()}


def _broken(theta, loss):
    """Why a run has diverged ("" if it has not)."""
    if not (np.all(np.isfinite(theta)) and np.isfinite(loss)):
        return "the loss became infinite or NaN"
    if np.max(np.abs(theta)) > ESCAPE:
        return f"θ escaped beyond ±{ESCAPE:g}"
    return ""


def _check_start(start):
    try:
        theta = np.array(start, dtype=np.float64).reshape(-1)        # (2,)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two numbers (x, y); got {start!r}") from None
    if theta.shape != (2,):
        raise ValueError(f"start must be two numbers (x, y); got {theta.size}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("start must be finite numbers (no NaN or infinity)")
    if np.max(np.abs(theta)) > MAX_START:
        raise ValueError(f"start must lie within ±{MAX_START:g} on each axis; got ({theta[0]:g}, {theta[1]:g})")
    return theta


def _check_steps(steps):
    if not (isinstance(steps, (int, np.integer)) and 1 <= steps <= MAX_STEPS):
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}; got {steps!r}")
    return int(steps)


# ---- the Adam worked example ------------------------------------------------------------------

ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8      # the usual defaults (Kingma & Ba, 2015)


def adam_trace(theta0, lr, grads, beta1=ADAM_BETA1, beta2=ADAM_BETA2, eps=ADAM_EPS):
    """Adam on one number θ, step by step, for a given list of gradients g_1, g_2, ...

        m_t = β₁ m_{t−1} + (1 − β₁) g_t          v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        m̂_t = m_t / (1 − β₁ᵗ)                    v̂_t = v_t / (1 − β₂ᵗ)
        θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

    Returns one dict per step with t, g, m, v, m_hat, v_hat, step (= η m̂/(√v̂ + ε)) and theta.
    The arithmetic is done in the same order as core.optim.Adam, so θ_t agrees with it exactly.
    """
    theta, lr = finite_number(theta0, "θ₀", -1e6, 1e6), finite_number(lr, "η", 0, 1e6)
    Adam(lr, beta1, beta2, eps)                     # validates η and the betas the same way
    grads = [finite_number(g, "each gradient", -1e6, 1e6) for g in grads]
    if not grads:
        raise ValueError("give at least one gradient")
    m = v = 0.0
    rows = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_corr, v_corr = 1 - beta1 ** t, 1 - beta2 ** t
        m_hat, v_hat = m / m_corr, v / v_corr
        step = m / (np.sqrt(v / v_corr) + eps) * (lr / m_corr)        # = η m̂ / (√v̂ + ε)
        theta = theta - step
        rows.append({"t": t, "g": g, "m": m, "v": v, "m_hat": m_hat, "v_hat": float(v_hat),
                     "step": float(step), "theta": float(theta)})
    return rows
