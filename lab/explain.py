"""Explain anything on the Train page: a short text for every chart and control, with its current value.

    chart_help(snap)        {chart: text} from a lab.trainer.Snapshot
    control_help(config)    {TrainConfig field: text} from the run's (or the form's) TrainConfig

A page shows them where the learner can open them in place (a control's help=, a chart's "?" popover).
"""
import math

import numpy as np

from lab.tutor import GUIDE_UPDATE, fmt


def _per_layer(values, what):
    values = [v for v in np.ravel(values)]
    if not values:
        return f"no {what} recorded yet"
    return ", ".join(f"layer {l + 1}: {fmt(v)}" for l, v in enumerate(values))


def chart_help(snap):
    """{chart name: text} for the Train page's charts, each quoting the run's latest numbers."""
    loss = fmt(snap.smoothed[-1]) if snap.smoothed is not None and len(snap.smoothed) else "not yet measured"
    last_grad = snap.grad_scale[-1] if snap.grad_scale is not None and len(snap.grad_scale) else []
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.asarray(last_grad, dtype=np.float64))
    last_dead = snap.dead[-1] if snap.dead is not None and len(snap.dead) else []
    last_sat = snap.saturated[-1] if snap.saturated is not None and len(snap.saturated) else []
    ratios = snap.update_ratio[-1] if snap.update_ratio is not None and len(snap.update_ratio) else []
    accuracy = snap.batch_accs[-1] if snap.batch_accs is not None and len(snap.batch_accs) else None
    ev = snap.evaluation
    return {
        "loss": f"The loss of every batch (faint) and its moving average, now {loss} at step {snap.step}; a network "
                f"that guesses scores ln 10 = {math.log(10):.2f}. Marks show where η was changed (η now "
                f"{fmt(snap.lr_now)}).",
        "accuracy": "The share of each batch classified right before its update"
                    + (f", now {accuracy:.0%}." if accuracy is not None else " (none yet)."),
        "gradient_heatmap": f"Row l is layer l; the colour is log₁₀ of the gradient's RMS ‖dW‖/√size, now "
                            f"{_per_layer(logs, 'gradients')}. A row much darker than the one after it: "
                            f"vanishing gradients.",
        "dead": f"The share of hidden ReLUs with z ≤ 0 for every example of the batch (they pass no gradient), now "
                f"{_per_layer(last_dead, 'dead fractions')}.",
        "saturated": f"The share of hidden z values with |z| > 4, where sigmoid and tanh are flat, now "
                     f"{_per_layer(last_sat, 'saturation')}.",
        "update_ratio": f"How much one step changes each layer's weights, ‖ΔW‖/‖W‖ (log scale), now "
                        f"{_per_layer(ratios, 'updates')}; about {fmt(GUIDE_UPDATE)} (the dashed line) is the usual "
                        f"guide: far below, η is too small; far above, the weights are thrown around.",
        "weights_vs_init": "Each layer's weight histogram now (solid) and at initialisation (dotted): training "
                           "that barely moved the weights leaves the two on top of each other.",
        "confusion": ("Row = the true digit, column = the prediction, on the test set"
                      + (f"; test accuracy {ev['accuracy']:.1%}." if ev else " (after the first epoch).")),
    }


def control_help(config):
    """{TrainConfig field: text} for the Train page's controls, each with the current value."""
    c = config
    return {
        "lr": f"η, the step size of W ← W − η·step. Now {fmt(c.lr)} ({c.optimizer}); usual: 0.1 for SGD and "
              f"momentum, 0.001 for Adam.",
        "optimizer": f"How the gradient becomes a step. Now {c.optimizer}.",
        "schedule": f"How η changes during the run. Now {c.schedule}.",
        "batch_size": f"Examples per gradient step: larger averages more noise away. Now {c.batch_size}.",
        "activation": f"f in a = f(z) of every hidden layer. Now {c.activation}.",
        "init": f"How the weights start: He (σ² = 2/n_in) for ReLU, Xavier (σ² = 1/n_in) for sigmoid/tanh. Now {c.init}"
                + (f" with σ = {fmt(c.init_std)}." if c.init == "normal" else "."),
        "l2": f"λ of the L2 penalty λ/2 ΣW² (weight decay with AdamW). Now {fmt(c.l2)}.",
        "epochs": f"Passes over the training set. Now {c.epochs}.",
        "hidden": f"Widths of the hidden layers. Now {', '.join(map(str, c.hidden))}.",
        "normalize": f"Scale pixels to [0, 1] (x/255). Now {'on' if c.normalize else 'off: raw 0–255'}.",
        "shuffle": f"A new random batch order every epoch. Now {'on' if c.shuffle else 'off: sorted by class'}.",
        "dropout": f"The share p of hidden units switched off at random in training. Now {fmt(c.dropout)}.",
        "batchnorm": f"BatchNorm after each hidden Linear layer. Now {'on' if c.batchnorm else 'off'}.",
    }
