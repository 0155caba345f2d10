"""Step-by-step traces: one example through a tiny network, every intermediate number kept.

``trace_step(net, x, y, lr)`` runs one forward pass, one backward pass and one SGD update
θ ← θ − η ∂L/∂θ on a single example and returns every number a stepper page shows (each field's
formula is beside it below). The numbers come from the same MLP code that trains MNIST (a batch of
one), so the pages show exactly what the network computes. The caller's network is not changed.
"""
from dataclasses import dataclass

import numpy as np

from core.checks import check_one_example, check_target


@dataclass
class LayerTrace:
    """Layer l's numbers for one example (vectors are 1-D, matrices (n_l, n_{l−1}))."""
    W: np.ndarray          # (n_l, n_{l−1})
    b: np.ndarray          # (n_l,)
    a_in: np.ndarray       # (n_{l−1},)   a_{l−1}, the layer's input
    z: np.ndarray          # (n_l,)       W a_{l−1} + b
    a: np.ndarray          # (n_l,)       f(z) for hidden layers, ŷ for the output layer
    delta: np.ndarray      # (n_l,)       ∂L/∂z_l = back ⊙ f'(z_l) (hidden), δ_out from the loss record (output)
    dW: np.ndarray         # (n_l, n_{l−1})  δ_l a_{l−1}ᵀ
    db: np.ndarray         # (n_l,)       δ_l
    W_new: np.ndarray      # (n_l, n_{l−1})  W − η dW
    b_new: np.ndarray      # (n_l,)       b − η db
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
    x = check_one_example(x, net.sizes[0], net.dtype)
    label, Y = check_target(y, net.sizes[-1], net.dtype)
    X, Yb, work = x[None, :], Y[None, :], net.copy()            # a batch of one: (1, n_in), (1, K)
    p = work.run(X, train=True)                                 # every layer's input and output
    grads, loss = work.backward(p, Yb), work.pass_loss(p, Yb)
    zs, acts, deltas = [z[0] for z in p.zs], [a[0] for a in p.activations], [d[0] for d in grads.deltas]
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
    return Trace(x=x, y=Y, label=label, layers=layers, y_hat=acts[-1], loss=float(loss),
                 dL_dyhat=net.criterion.slope(acts[-1], Y), lr=float(lr), new_y_hat=work.forward(X)[0],
                 new_loss=float(work.batch_loss(X, Yb)), activation=net.activation, output=net.output,
                 loss_name=net.loss)
