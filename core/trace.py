"""Step-by-step traces: one example through a tiny network, every intermediate number kept.

``trace_step(net, x, y, lr)`` runs one forward pass, one backward pass and one SGD update
θ ← θ − η ∂L/∂θ on a single example and returns everything a stepper page shows:

    forward:   z_l = W_l a_{l−1} + b_l,   a_l = f(z_l),   ŷ = out(z_L),   L(ŷ, y)
    backward:  ∂L/∂ŷ and δ_L = ∂L/∂z_L (from the loss record),   dW_l = δ_l a_{l−1}ᵀ,   db_l = δ_l,
               δ_{l−1} = (W_lᵀ δ_l) ⊙ f'(z_{l−1})
    update:    W_l ← W_l − η dW_l,   b_l ← b_l − η db_l,   then the new ŷ and loss.

The numbers come from the same MLP code that trains MNIST (a batch of one), so the pages
show exactly what the network computes. The caller's network is not changed.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class LayerTrace:
    """Layer l's numbers for one example (vectors are 1-D, matrices (n_l, n_{l−1}))."""
    W: np.ndarray          # (n_l, n_{l−1})
    b: np.ndarray          # (n_l,)
    a_in: np.ndarray       # (n_{l−1},)   a_{l−1}, the layer's input
    z: np.ndarray          # (n_l,)       W a_{l−1} + b
    a: np.ndarray          # (n_l,)       f(z) for hidden layers, ŷ for the output layer
    delta: np.ndarray      # (n_l,)       ∂L/∂z_l
    dW: np.ndarray         # (n_l, n_{l−1})  δ_l a_{l−1}ᵀ
    db: np.ndarray         # (n_l,)
    W_new: np.ndarray      # (n_l, n_{l−1})  W − η dW
    b_new: np.ndarray      # (n_l,)
    f_prime: np.ndarray    # (n_l,)  f'(z_l) for hidden layers (None for the output layer)
    back: np.ndarray       # (n_l,)  W_{l+1}ᵀ δ_{l+1}: the error arriving from above (None for output)


@dataclass
class Trace:
    """One forward + backward + update of a single example."""
    x: np.ndarray          # (n_in,)
    y: np.ndarray          # (K,)   target vector (one-hot for a class label)
    label: int             # the class, or None for a target vector
    layers: list           # [LayerTrace for l = 1..L]
    y_hat: np.ndarray      # (K,)
    loss: float
    dL_dyhat: np.ndarray   # (K,)   ∂L/∂ŷ, before the output layer's own derivative
    lr: float
    new_y_hat: np.ndarray  # (K,)   after the update
    new_loss: float
    activation: str
    output: str
    loss_name: str

    @property
    def hidden(self):
        return self.layers[:-1]

    @property
    def out(self):
        return self.layers[-1]


def trace_step(net, x, y, lr):
    """Trace one SGD step of ``net`` on example x (n_in,) with class y (int) or target vector y (K,)."""
    x = np.asarray(x, dtype=net.dtype)
    if x.ndim != 1:
        raise ValueError(f"x must be one example of shape ({net.sizes[0]},); got {x.shape}")
    label, Y = _target(y, net.sizes[-1], net.dtype)
    work = net.copy()
    p = work.run(x[None, :], train=True)                     # every layer's input and output
    grads = work.backward(p, Y[None, :])
    loss = work.pass_loss(p, Y[None, :])
    zs = [z[0] for z in p.zs]
    acts = [a[0] for a in p.activations]
    deltas = [d[0] for d in grads.deltas]
    new_weights = [W - lr * dW for W, dW in zip(work.weights, grads.dW)]
    new_biases = [b - lr * db for b, db in zip(work.biases, grads.db)]
    layers = []
    for l in range(work.n_layers):
        hidden = l < work.n_layers - 1
        layers.append(LayerTrace(
            W=work.weights[l].copy(), b=work.biases[l].copy(), a_in=acts[l], z=zs[l], a=acts[l + 1],
            delta=deltas[l], dW=grads.dW[l], db=grads.db[l], W_new=new_weights[l], b_new=new_biases[l],
            f_prime=work.act.prime(zs[l]) if hidden else None,
            back=work.weights[l + 1].T @ deltas[l + 1] if hidden else None))
    work.set_params(new_weights, new_biases)
    new_loss = work.batch_loss(x[None, :], Y[None, :])
    return Trace(x=x, y=Y, label=label, layers=layers, y_hat=acts[-1], loss=float(loss),
                 dL_dyhat=net.criterion.slope(acts[-1], Y), lr=float(lr),
                 new_y_hat=work.forward(x[None, :])[0], new_loss=float(new_loss),
                 activation=net.activation, output=net.output, loss_name=net.loss)


def softmax_steps(z):
    """softmax(z) in the three steps a learner does by hand: shift = z − max z, e = exp(shift), p = e / Σe."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max()
    e = np.exp(shifted)
    return {"z": z, "shifted": shifted, "exp": e, "sum": float(e.sum()), "p": e / e.sum()}


def _target(y, K, dtype):
    """(label or None, target vector (K,))."""
    if np.isscalar(y) and float(y).is_integer():
        label = int(y)
        if not 0 <= label < K:
            raise ValueError(f"class must be in 0..{K - 1}, got {label}")
        Y = np.zeros(K, dtype=dtype)
        Y[label] = 1
        return label, Y
    Y = np.asarray(y, dtype=dtype)
    if Y.shape != (K,):
        raise ValueError(f"target must be a class in 0..{K - 1} or a vector of {K} numbers; got shape {Y.shape}")
    return None, Y


# ---- BatchNorm, step by step ---------------------------------------------------------------

@dataclass
class BatchNormTrace:
    """One batch through BatchNorm and back, every number kept (x and dL/dy are (B, n), the rest per feature).

    Training mode, L = Σ dL/dy ⊙ y for a given upstream gradient dL/dy:

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
    from core.layers import BatchNorm, Step

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
