"""Deep stacks written out in float64 NumPy, from the definitions, for checking lab.depth's remedies.

Each hidden layer: z = a Wᵀ + b, [x̂ = (z − μ)/√(σ² + ε) over the batch, γ = 1, β = 0], h = f(·), then
a ← h (plain) or a ← a + h (residual). The output layer: softmax, mean cross-entropy. Nothing from core
is used but the initial weights.
"""
import numpy as np

EPS = 1e-5


def _f(name, x):
    return 1 / (1 + np.exp(-x)) if name == "sigmoid" else np.maximum(x, 0)


def _f_prime(name, x):
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)
    return (x > 0).astype(float)


def gradient_rms(Ws, bs, X, y, activation="sigmoid", batchnorm=False, residual=False):
    """RMS of ∂L/∂W_l for every layer l, by the chain rule written out here."""
    Ws = [np.asarray(W, dtype=np.float64) for W in Ws]
    bs = [np.asarray(b, dtype=np.float64) for b in bs]
    a = np.asarray(X, dtype=np.float64)
    cache = []
    for W, b in zip(Ws[:-1], bs[:-1]):
        z = a @ W.T + b                                               # (B, n)
        x_hat, inv_std = z, None
        if batchnorm:
            mu, var = z.mean(axis=0), z.var(axis=0)                   # biased variance, as BatchNorm's definition
            inv_std = 1 / np.sqrt(var + EPS)
            x_hat = (z - mu) * inv_std
        h = _f(activation, x_hat)
        cache.append((a, x_hat, inv_std))
        a = a + h if residual and W.shape[0] == W.shape[1] else h
    z = a @ Ws[-1].T + bs[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (p - np.eye(Ws[-1].shape[0])[y]) / len(X)                # ∂L/∂z_L
    rms = [np.sqrt(np.mean((delta.T @ a) ** 2))]
    d_a = delta @ Ws[-1]                                              # ∂L/∂a_{L−1}
    for W, (a_in, x_hat, inv_std) in zip(reversed(Ws[:-1]), reversed(cache)):
        d = d_a * _f_prime(activation, x_hat)                         # ∂L/∂x̂ (or ∂L/∂z without BatchNorm)
        if batchnorm:                                                 # dz = (dx̂ − mean dx̂ − x̂ mean(dx̂ x̂)) / √(σ² + ε)
            d = inv_std * (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0))
        rms.insert(0, np.sqrt(np.mean((d.T @ a_in) ** 2)))
        skip = d_a if residual and W.shape[0] == W.shape[1] else 0
        d_a = d @ W + skip                                            # ∂L/∂a_in: through F, plus the skip
    return np.array(rms)
