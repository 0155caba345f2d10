"""What the live pages plot about a network while it learns, from one step's Pass and Gradients.

Nothing here runs the network again: the numbers come from the z_l, a_l of a forward pass
(core.network.Pass) and the dW_l of its backward pass (core.network.Gradients), given as arguments.

    gradient scale of layer l:   ‖dW_l‖ / √(size of W_l)   (an RMS, so wide layers don't look stronger)
    neuron gradient magnitude:   mean_j |dW_l[i, j]|        (how hard neuron i is being pushed)
    dead ReLU:                   a hidden neuron with z ≤ 0 for every example in the batch
    saturated (sigmoid / tanh):  |z| > 4, where the slope is below ~0.07
"""
import numpy as np

SATURATION_Z = 4.0


def gradient_scale(dW):
    """‖dW‖ / √(size of dW): the root-mean-square gradient of one layer."""
    return float(np.sqrt(np.mean(np.square(dW, dtype=np.float64))))


def layer_gradient_stats(dWs):
    """Per layer: the norm ‖dW‖, the RMS ‖dW‖/√size and the mean |dW|."""
    stats = []
    for dW in dWs:
        rms = gradient_scale(dW)
        stats.append({"norm": rms * np.sqrt(dW.size), "rms": rms,
                      "mean_abs": float(np.mean(np.abs(dW)))})
    return stats


def neuron_gradient_magnitude(dW):
    """(n_l,): mean |dW| of each neuron's incoming weights (row i of dW)."""
    return np.mean(np.abs(dW), axis=1)


def dead_fraction(z):
    """Fraction of neurons (columns of z, (B, n)) whose pre-activation is ≤ 0 for the whole batch."""
    return float(np.mean(np.all(z <= 0, axis=0)))


def saturated_fraction(z):
    """Fraction of the entries of z with |z| > 4 (sigmoid'/tanh' nearly zero there)."""
    return float(np.mean(np.abs(z) > SATURATION_Z))


def activation_stats(pass_, sample=256, rng=None):
    """Per hidden layer of a Pass: mean and std of z and a, dead and saturated fractions, a sample of z values."""
    rng = rng or np.random.default_rng(0)
    stats = []
    for z, a in zip(pass_.zs[:-1], pass_.activations[1:-1]):
        flat = z.ravel()
        pick = flat if flat.size <= sample else flat[rng.choice(flat.size, sample, replace=False)]
        stats.append({"z_mean": float(z.mean()), "z_std": float(z.std()),
                      "a_mean": float(a.mean()), "a_std": float(a.std()),
                      "dead": dead_fraction(z), "saturated": saturated_fraction(z),
                      "z_sample": pick.astype(np.float32)})
    return stats

