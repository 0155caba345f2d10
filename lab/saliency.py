"""Why did the network say "7"? One digit through a trained MLP, with every number a page shows.

    read_digit(net, x)            the forward pass: hidden activations, scores z_L, probabilities
    class_score_gradient(net, x, c)   saliency: ∂z_c/∂x, how each input pixel moves class c's score
    output_terms(net, a, c)       z_c = Σ_j W_cj a_j + b_c, its biggest terms

The class score is the output layer's pre-activation z_c (the "logit", before softmax): softmax
couples the classes, while z_c answers "what makes it look more like a 7" on its own
(Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks", 2013).
"""
from dataclasses import dataclass

import numpy as np

from core.network import MLP


@dataclass
class Reading:
    """What the network computes for one input x."""
    x: np.ndarray           # (n_in,)   the input a_0
    hidden: list            # [a_1, ..., a_{L−1}]   each (n_l,)
    z: np.ndarray           # (K,)      output scores z_L = W_L a_{L−1} + b_L
    p: np.ndarray           # (K,)      output ŷ = out(z_L): probabilities for softmax
    prediction: int         # argmax ŷ
    confidence: float       # ŷ[prediction]

    @property
    def top_classes(self):
        """Classes by decreasing ŷ."""
        return [int(c) for c in np.argsort(-self.p, kind="stable")]


def read_digit(net, x):
    """Run x (n_in,) forward through net and keep every layer's output (float64 copies)."""
    x = _one_input(net, x)
    run = net.run(x[None, :])
    p = run.output[0].astype(np.float64)                               # (K,)
    hidden = [a[0].astype(np.float64) for a in run.activations[1:-1]]  # [(n_l,)]
    z = run.logits[0].astype(np.float64)                               # (K,)
    c = int(np.argmax(p))
    return Reading(x=x.astype(np.float64), hidden=hidden, z=z, p=p, prediction=c, confidence=float(p[c]))


def class_score_gradient(net, x, c):
    """Saliency: ∂z_c/∂x (n_in,), the chain rule from class c's score back to the input pixels.

        g = W_L[c]                        ∂z_c/∂a_{L−1}    (one row of the output weights)
        g = g ⊙ f'(z_l),  g = W_lᵀ g      ∂z_c/∂z_l, then ∂z_c/∂a_{l−1}, for l = L−1 … 1

    It is the network's own backprop (every layer's backward) with δ_L = e_c (a one-hot on class c)
    instead of ŷ − y, run one layer further, down to a_0 = x. Positive: more ink there raises the
    class's score; negative: lowers it. Computed in float64 on a float64 copy of the network.
    """
    x = _one_input(net, x)
    if not 0 <= c < net.sizes[-1]:
        raise ValueError(f"class must be in 0..{net.sizes[-1] - 1}; got {c}")
    net64 = MLP(net.sizes, **{**net.settings(), "dtype": np.float64})
    net64.set_params(net.weights, net.biases, net.norm_arrays())
    run = net64.run(x[None, :])
    e_c = np.zeros((1, net.sizes[-1]))                                 # (1, K)  δ_L = ∂z_c/∂z_L
    e_c[0, c] = 1.0
    return net64.backprop(run, e_c, input_grad=True).input[0]          # (n_in,)  ∂z_c/∂x


def numerical_class_score_gradient(net, x, c, eps=1e-5):
    """(z_c(x + ε e_i) − z_c(x − ε e_i)) / 2ε for every pixel i: the check for class_score_gradient."""
    x = _one_input(net, x).astype(np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (read_digit(net, plus).z[c] - read_digit(net, minus).z[c]) / (2 * eps)
    return grad


@dataclass
class OutputTerms:
    """z_c = Σ_j W_cj a_j + b_c for one class, with its biggest terms spelled out."""
    cls: int
    z: float                # the score z_c
    bias: float             # b_c
    terms: list             # [(j, W_cj, a_j, W_cj a_j)] with the largest |W_cj a_j| first
    rest: float             # the sum of all the other terms
    n_rest: int             # how many other terms there are (of them, those with a_j = 0 add nothing)


def output_terms(net, a, c, n_terms=5):
    """Split the score z_c = W_L[c] · a + b_c into its n_terms biggest terms, the rest, and the bias.

    a is the output layer's input a_{L−1} (n_{L−1},): the last hidden layer (or x for a network
    with no hidden layer).
    """
    a = np.asarray(a, dtype=np.float64)
    w = net.weights[-1][c].astype(np.float64)                          # (n_{L−1},)
    if a.shape != w.shape:
        raise ValueError(f"a must have shape {w.shape}; got {a.shape}")
    products = w * a                                                   # (n_{L−1},)  W_cj a_j
    top = np.argsort(-np.abs(products), kind="stable")[:n_terms]
    terms = [(int(j), float(w[j]), float(a[j]), float(products[j])) for j in top]
    bias = float(net.biases[-1][c])
    rest = float(products.sum() - products[top].sum())
    return OutputTerms(cls=int(c), z=float(products.sum() + bias), bias=bias, terms=terms,
                       rest=rest, n_rest=int(a.size - len(top)))


def _one_input(net, x):
    """x as one example (n_in,), checked."""
    x = np.asarray(x)
    if x.shape != (net.sizes[0],):
        raise ValueError(f"x must be one input of shape ({net.sizes[0]},); got {x.shape}")
    return x
