"""Optimizers: how a gradient g becomes a change of the parameters θ — SGD, Momentum, RMSProp, Adam,
AdamW, each with its update rule in its docstring.

``opt.step(params, grads, lr)`` updates the arrays in ``params`` in place with step size η = lr
(Nielsen's ``eta``; None: ``opt.lr``), so a live page passes η each step. ``AdamW.step`` takes
``weight_decay`` the same way.

Learning-rate schedules, η as a function of the step t, are a training-loop service: lab/schedules.py.

Gradient clipping by global norm rescales all gradients together when their joint length is too large:

    ‖g‖ = √(Σ_i Σ g_i²)  over every gradient array;   g ← g · min(1, max_norm / ‖g‖)
"""
import math

import numpy as np

from core.checks import check_beta, check_gradients, finite_number


class Optimizer:
    """Base class: keeps the default η and one scratch array per parameter, so a step allocates no arrays."""

    state = ()                     # the names of a subclass's own per-parameter arrays (Adam's m and v)

    def __init__(self, lr):
        self.lr = finite_number(lr, "learning rate", low=0)
        self.t = 0                 # number of steps taken
        self._scratch = None

    def step(self, params, grads, lr=None):
        """Update every θ in params in place using its gradient g in grads, with η = lr (None: self.lr)."""
        lr = self._begin(params, grads, lr)
        for i, (p, g) in enumerate(zip(params, grads)):
            self._update(i, p, g, lr)

    def _begin(self, params, grads, lr):
        """Check the arrays, make the state on the first step, count the step; returns η."""
        lr = finite_number(self.lr if lr is None else lr, "learning rate", low=0)
        check_gradients(params, grads, self._scratch)
        if self._scratch is None:
            self._scratch = [np.zeros_like(p) for p in params]
            for name in self.state:                        # zeros shaped like the parameters, made once
                setattr(self, name, [np.zeros_like(p) for p in params])
        self.t += 1
        return lr

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    """Plain gradient descent: θ ← θ − η g."""

    def _update(self, i, p, g, lr):
        p -= np.multiply(g, lr, out=self._scratch[i])    # θ ← θ − η g   (η g in the scratch array: no allocation)


class Momentum(Optimizer):
    """Heavy-ball momentum: v ← β v + g;  θ ← θ − η v   (v is a running sum of past gradients)."""

    state = ("v",)

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = check_beta(beta, "beta")

    def _update(self, i, p, g, lr):
        v = self.v[i]
        v *= self.beta
        v += g
        p -= np.multiply(v, lr, out=self._scratch[i])    # θ ← θ − η v


class RMSProp(Optimizer):
    """RMSProp: s ← ρ s + (1 − ρ) g²;  θ ← θ − η g / (√s + ε)   (each weight gets its own step size)."""

    state = ("s",)

    def __init__(self, lr, rho=0.9, eps=1e-8):
        super().__init__(lr)
        self.rho, self.eps = check_beta(rho, "rho"), eps

    def _update(self, i, p, g, lr):
        s, step = self.s[i], self._scratch[i]
        s *= self.rho
        np.multiply(g, 1 - self.rho, out=step)
        step *= g
        s += step                          # s ← ρ s + (1 − ρ) g²   (through the scratch array: no temporaries)
        np.sqrt(s, out=step)
        step += self.eps
        np.divide(g, step, out=step)       # g / (√s + ε)
        step *= lr
        p -= step


class Adam(Optimizer):
    """Adam: momentum (m) and RMSProp (v) with bias correction m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ):

        m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;   θ ← θ − η m̂ / (√v̂ + ε)
    """

    state = ("m", "v")

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1, self.beta2 = check_beta(beta1, "beta1"), check_beta(beta2, "beta2")
        self.eps = eps

    def _update(self, i, p, g, lr):
        m, v, step = self.m[i], self.v[i], self._scratch[i]
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=step)  # m ← β₁ m + (1 − β₁) g   (the scratch array holds the
        v *= self.beta2                                #   products, so the step makes no temporaries)
        np.multiply(g, 1 - self.beta2, out=step)
        step *= g
        v += step                                      # v ← β₂ v + (1 − β₂) g²
        m_corr = 1 - self.beta1 ** self.t              # m̂ = m / m_corr
        v_corr = 1 - self.beta2 ** self.t              # v̂ = v / v_corr
        np.divide(v, v_corr, out=step)
        np.sqrt(step, out=step)
        step += self.eps                               # √v̂ + ε
        np.divide(m, step, out=step)
        step *= lr / m_corr                            # η m̂ / (√v̂ + ε)
        p -= step


class AdamW(Adam):
    """AdamW: θ ← θ − η λ θ (decoupled weight decay, applied to weights and biases), then Adam."""

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = finite_number(weight_decay, "weight_decay", low=0)

    def step(self, params, grads, lr=None, weight_decay=None):
        """The Adam step after θ ← θ − η λ θ, with η = lr and λ = weight_decay (None: the optimizer's own)."""
        lr = self._begin(params, grads, lr)
        decay = finite_number(self.weight_decay if weight_decay is None else weight_decay, "weight_decay", low=0)
        for i, (p, g) in enumerate(zip(params, grads)):
            if decay:
                p *= 1 - lr * decay
            self._update(i, p, g, lr)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def make_optimizer(name, lr, **kwargs):
    """Build an optimizer by name: sgd, momentum, rmsprop, adam, adamw."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {list(OPTIMIZERS)}")
    return OPTIMIZERS[key](lr, **kwargs)


# ---- gradient clipping ------------------------------------------------------------------------

def global_norm(grads):
    """‖g‖ = √(Σ over every array of Σ g²), all gradients taken as one long vector.

    Speed: each Σ g² is BLAS's dot of a flat view, ravel(order="K"), a view for the column-major dW too;
    np.vdot flattens in row-major order and so copied dW first: ~28 % of a lessons' training step.
    """
    return math.sqrt(sum(float(np.dot(v, v)) for v in (g.ravel(order="K") for g in grads)))


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient in place by min(1, max_norm / ‖g‖); returns (‖g‖ before, ‖g‖ after).

    The direction of the step is kept, only its length is capped — what PyTorch's clip_grad_norm_ does
    (it scales by max_norm / (‖g‖ + 1e-6); here exactly max_norm / ‖g‖, so the "after" norm is max_norm).
    A non-finite norm is left alone and reported: there is no direction to keep.
    """
    max_norm = finite_number(max_norm, "max_norm", low=0, above=True)
    before = global_norm(grads)
    if not math.isfinite(before) or before <= max_norm:
        return before, before
    scale = max_norm / before
    for g in grads:
        g *= scale
    return before, before * scale          # ‖s g‖ = s ‖g‖ = max_norm: no second pass over the gradients

