"""The book's computations spelled out for the pages, every intermediate number kept (services, not the book).

    softmax_steps(z)                softmax in the three steps a learner does by hand
    batchnorm_trace(x, γ, β, dy)    one batch through BatchNorm and back, long form beside compact form,
                                    with central differences of every gradient (the BatchNorm stepper page)
    graph_path(graph, name)         the edges from L down to a node of core.graph's one-neuron graph,
    chain_product(graph, name)      and the product of their local gradients (= ∂L/∂node)
    chain_through_outputs(g, J)     ∂L/∂z through every output of a softmax, path by path
    perceptron_step(p, X, y, prog)  the perceptron's rule on one example at a time (the Perceptron page)

The formulas and their derivations are in the book: core/activations.py (softmax), core/layers.py
(BatchNorm's docstring derives both backward forms), core/graph.py (the chain rule on a graph),
core/perceptron.py (the learning rule).
"""
from dataclasses import dataclass

import numpy as np

from core.checks import check_jacobian, check_vector
from core.layers import BatchNorm, Step


def softmax_steps(z):
    """softmax(z) in the three steps a learner does by hand: shift = z − max z, e = exp(shift), p = e / Σe."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max()
    e = np.exp(shifted)
    return {"z": z, "shifted": shifted, "exp": e, "sum": float(e.sum()), "p": e / e.sum()}


@dataclass
class BatchNormTrace:
    """One batch through BatchNorm and back, every number kept (x and dL/dy are (B, n), the rest per feature).

    Training mode, L = Σ dL/dy ⊙ y for a given upstream gradient dL/dy (derived in core.layers.BatchNorm):

        μ = mean_b x,  σ² = mean_b (x − μ)²,  x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β
        dβ = Σ_b dy,  dγ = Σ_b dy ⊙ x̂,  dx̂ = dy ⊙ γ
        dσ² = Σ_b dx̂ ⊙ (x − μ) · (−½)(σ² + ε)^(−3/2)
        dμ  = −Σ_b dx̂ / √(σ² + ε) + dσ² · (−2/B) Σ_b (x − μ)
        dx  = dx̂ / √(σ² + ε) + dσ² · 2(x − μ)/B + dμ/B                          (the long form)
            = (γ/√(σ² + ε)) (dy − mean_b dy − x̂ mean_b(dy ⊙ x̂))                 (the compact form)

    Evaluation mode normalizes the same batch with the running statistics given; after this training
    step those would become running ← 0.9 running + 0.1 batch (unbiased variance for running_var).
    """
    x: np.ndarray           # (B, n)  the batch
    gamma: np.ndarray       # (n,)
    beta: np.ndarray        # (n,)
    dy: np.ndarray          # (B, n)  the given ∂L/∂y
    eps: float              # ε
    mu: np.ndarray          # (n,)
    var: np.ndarray         # (n,)    biased: divide by B
    std: np.ndarray         # (n,)    √(σ² + ε)
    x_hat: np.ndarray       # (B, n)
    y: np.ndarray           # (B, n)
    loss: float             # Σ dy ⊙ y
    dbeta: np.ndarray       # (n,)
    dgamma: np.ndarray      # (n,)
    dx_hat: np.ndarray      # (B, n)
    dvar: np.ndarray        # (n,)
    dmu: np.ndarray         # (n,)
    dx: np.ndarray          # (B, n)  the long form
    dx_compact: np.ndarray  # (B, n)  the compact form, as core.layers.BatchNorm.backward computes it
    numeric: dict           # central differences of L: "dx", "dgamma", "dbeta", "dx_hat", "dmu", "dvar"
    running_mean: np.ndarray        # (n,)  the running statistics given (evaluation mode uses them)
    running_var: np.ndarray
    eval_x_hat: np.ndarray          # (B, n)  (x − running_mean)/√(running_var + ε)
    eval_y: np.ndarray              # (B, n)  γ eval_x_hat + β
    new_running_mean: np.ndarray    # (n,)  0.9 running_mean + 0.1 μ
    new_running_var: np.ndarray     # (n,)  0.9 running_var + 0.1 σ² B/(B − 1)


def batchnorm_trace(x, gamma, beta, dy, running_mean=None, running_var=None, h=1e-6):
    """BatchNormTrace of a batch x (B, n) with γ, β (n,), upstream gradient dy (B, n) and running statistics
    (default 0 and 1, a fresh layer's), in float64. Raises ValueError for shapes that do not fit."""
    x = np.array(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must be a batch (B, n) of at least 2 examples; got shape {x.shape}")
    B, n = x.shape
    gamma, beta = (np.array(v, dtype=np.float64).reshape(-1) for v in (gamma, beta))
    dy = np.array(dy, dtype=np.float64)
    running_mean = np.zeros(n) if running_mean is None else np.array(running_mean, dtype=np.float64).reshape(-1)
    running_var = np.ones(n) if running_var is None else np.array(running_var, dtype=np.float64).reshape(-1)
    for name, v in (("γ", gamma), ("β", beta), ("running mean", running_mean), ("running variance", running_var)):
        if v.shape != (n,):
            raise ValueError(f"{name} must have one value per feature ({n}); got {v.size}")
    if dy.shape != x.shape:
        raise ValueError(f"dL/dy must have the shape of x {x.shape}; got {dy.shape}")
    if not all(np.isfinite(v).all() for v in (x, gamma, beta, dy, running_mean, running_var)):
        raise ValueError("every number must be finite")
    if (running_var < 0).any():
        raise ValueError("a running variance cannot be negative")
    eps = BatchNorm.EPS
    mu = x.mean(axis=0)                                          # (n,)
    var = ((x - mu) ** 2).mean(axis=0)                           # (n,)
    std = np.sqrt(var + eps)                                     # (n,)
    x_hat = (x - mu) / std                                       # (B, n)
    y = gamma * x_hat + beta                                     # (B, n)
    dbeta = dy.sum(axis=0)                                       # (n,)
    dgamma = (dy * x_hat).sum(axis=0)                            # (n,)
    dx_hat = dy * gamma                                          # (B, n)
    dvar = (dx_hat * (x - mu)).sum(axis=0) * -0.5 * (var + eps) ** -1.5            # (n,)
    dmu = -(dx_hat / std).sum(axis=0) + dvar * (-2 / B) * (x - mu).sum(axis=0)     # (n,)
    dx = dx_hat / std + dvar * 2 * (x - mu) / B + dmu / B                          # (B, n)

    layer = BatchNorm(n, dtype=np.float64)
    layer.gamma[:], layer.beta[:] = gamma, beta
    layer.running_mean[:], layer.running_var[:] = running_mean, running_var
    out, state = layer.forward(x, train=True)
    dx_compact, _ = layer.backward(Step(x, out, state), dy)
    eval_y, _ = layer.forward(x, train=False)
    layer.update_running(state)

    def loss_of(x_=x, gamma_=gamma, beta_=beta, mu_=None, var_=None, x_hat_=None):
        """L = Σ dy ⊙ y; μ, σ² or x̂ given: held at that value (how the intermediate gradients are defined)."""
        m = x_.mean(axis=0) if mu_ is None else mu_
        v = ((x_ - m) ** 2).mean(axis=0) if var_ is None else var_
        xh = (x_ - m) / np.sqrt(v + eps) if x_hat_ is None else x_hat_
        return float(np.sum(dy * (gamma_ * xh + beta_)))

    def central(arg, value):
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[idx] += h
            down[idx] -= h
            fixed = {"mu_": mu, "var_": var} if arg in ("mu_", "var_") else {}
            g[idx] = (loss_of(**{**fixed, arg: up}) - loss_of(**{**fixed, arg: down})) / (2 * h)
        return g

    numeric = {"dx": central("x_", x), "dgamma": central("gamma_", gamma), "dbeta": central("beta_", beta),
               "dx_hat": central("x_hat_", x_hat), "dmu": central("mu_", mu), "dvar": central("var_", var)}
    return BatchNormTrace(x=x, gamma=gamma, beta=beta, dy=dy, eps=eps, mu=mu, var=var, std=std, x_hat=x_hat,
                          y=y, loss=float(np.sum(dy * y)), dbeta=dbeta, dgamma=dgamma, dx_hat=dx_hat, dvar=dvar,
                          dmu=dmu, dx=dx, dx_compact=dx_compact, numeric=numeric, running_mean=running_mean,
                          running_var=running_var, eval_x_hat=(x - running_mean) / np.sqrt(running_var + eps),
                          eval_y=eval_y, new_running_mean=layer.running_mean.copy(),
                          new_running_var=layer.running_var.copy())


# ---- paths through the one-neuron graph (core.graph.neuron_graph) ----------------------------

def graph_path(graph, name):
    """The edges from L down to node `name`: a list of (child, parent, ∂child/∂parent).

    The product of the local gradients along the path is ∂L/∂node (each node here feeds one other node).
    """
    target = graph[name]
    edges, node = [], graph.output
    while node is not target:
        for parent, local in zip(node.parents, node.local_grads):
            if _reaches(parent, target):
                edges.append((node, parent, local))
                node = parent
                break
        else:
            raise ValueError(f"{name!r} is not on a path to L")
    return edges


def chain_product(graph, name):
    """∏ of the local gradients from L down to `name` — equal to graph[name].grad."""
    return float(np.prod([local for _, _, local in graph_path(graph, name)]))


def _reaches(node, target):
    return node is target or any(_reaches(p, target) for p in node.parents)


def chain_through_outputs(dL_dyhat, jacobian):
    """∂L/∂z_j = Σ_k ∂L/∂ŷ_k · ∂ŷ_k/∂z_j  (every output ŷ_k is a path from z_j to L);  returns (K,).

    Also returns the terms (K, K): terms[k, j] = ∂L/∂ŷ_k · ∂ŷ_k/∂z_j, one per path, to display.
    """
    g = check_vector(dL_dyhat, "dL/dŷ")
    J = check_jacobian(jacobian, g.size)
    terms = g[:, None] * J                                      # (K, K)
    return terms.sum(axis=0), terms


# ---- the perceptron's learning rule, one example at a time (core.perceptron.Perceptron) -------------------

@dataclass
class Progress:
    """Where a run of the learning rule over a data set stands, one example at a time."""
    i: int = 0                  # the example the rule visits next
    epoch: int = 0              # complete passes over the data
    clean: int = 0              # examples in a row the neuron got right (and so left unchanged)
    corrections: int = 0        # updates that changed w and b
    converged_at: int | None = None   # the pass (counting one under way) in which `clean` reached len(X)

    @property
    def passes(self):
        """Passes over the data, counting the one under way."""
        return self.epoch + (self.i > 0)


def perceptron_step(neuron, X, y, progress):
    """Apply the rule to example progress.i of (X, y), then move progress on (in place); return the Update.

    Converged: len(X) examples in a row needed no correction, so every example is now right
    (w and b have not changed since any of them was checked) — the pass Perceptron.train returns.
    """
    u = neuron.update(np.asarray(X, dtype=float)[progress.i], int(y[progress.i]))
    progress.corrections += int(u.changed)
    progress.clean = 0 if u.changed else progress.clean + 1
    progress.i = (progress.i + 1) % len(X)
    progress.epoch += int(progress.i == 0)
    if progress.clean >= len(X) and progress.converged_at is None:
        progress.converged_at = progress.passes
    return u
