"""The Train page's views inside the network — gradients per layer and per neuron, activations, first-layer
weights, BatchNorm's γ and β, update sizes — as rows of charts and captions.

One layout for both ways they are drawn: by Streamlit (plotly charts) once the run has ended, and as HTML
by the live feed (pages/ui/live_feed.py) while it trains, so the page does not rerun to refresh them.
"""
from lab.explain import chart_help
from pages.ui import health_charts
from pages.ui import train_charts as charts

TOPICS = {"loss": "Loss", "accuracy": "Accuracy", "gradient_heatmap": "Gradient size per layer",
          "dead": "Dead ReLUs", "saturated": "Saturated units", "update_ratio": "Update size per layer",
          "weights_vs_init": "Weights now vs at initialisation", "confusion": "Confusion matrix"}
ENLARGE_HELP = "One of the first-layer neurons of the weight images, large, with its own colour scale centred on 0."

NEURONS_CAPTION = ("One tile per neuron, one block per layer, on one colour scale. A **dark** tile is a neuron whose "
                   "incoming weights get almost no gradient (e.g. a sigmoid stuck near 0 or 1); a tile with a **grey ×** "
                   "gets exactly none — a dead ReLU, z ≤ 0 for every image of the batch, so ReLU′(z) = 0 stops the "
                   "gradient there.")
NO_BATCHNORM = "BatchNorm is off: switch it on (or pick the lessons' network) to watch its γ and β learn."


def dropout_caption(p):
    return (f"Dropout p = {p:g} acts only while training: each step zeroes a random {p:.0%} of every hidden layer's "
            f"outputs (and scales the rest by 1/(1−p)). When evaluating — validation, test, the confusion matrix, the "
            f"mistakes and the Draw page — dropout is off and BatchNorm uses its running averages. The batch accuracy "
            f"is measured in training mode, with dropout on.")


def first_layer(snap):
    """The first hidden layer's weights (n, 784) as of the last record, or None before one."""
    return snap.latest["first_layer"] if snap.latest else None


def rows(snap, sizes, neuron=1):
    """The views as rows: each a list of ("chart", figure, key) and ("caption", markdown) items; a row of one
    item spans the page's width, of two halves it. `neuron` (1-based) is the first-layer neuron shown large."""
    cfg, first = snap.config, first_layer(snap)
    out = [[("chart", charts.gradient_heatmap(snap, sizes), "train_live_grad"),
            ("chart", charts.grad_norm_figure(snap), "train_live_gnorm")],
           [("chart", charts.neuron_heatmap(snap.latest, sizes), "train_live_neurons")],
           [("caption", NEURONS_CAPTION)],
           [("chart", charts.activation_figure(snap, cfg.activation), "train_live_act")]]
    if cfg.dropout:
        out.append([("caption", dropout_caption(cfg.dropout))])
    weights = [("chart", charts.weight_images(first), "train_live_w1")]
    if first is not None and len(first):
        neuron = min(max(int(neuron), 1), len(first))
        weights.append(("chart", charts.weight_image(first[neuron - 1], neuron), "train_live_w1_big"))
    out.append(weights)
    if cfg.batchnorm:
        out += [[("chart", charts.batchnorm_figure(snap, sizes), "train_live_bn")],
                [("chart", charts.weight_histograms(snap.latest, sizes), "train_live_whist")]]
    else:
        out.append([("chart", charts.weight_histograms(snap.latest, sizes), "train_live_whist"),
                    ("caption", NO_BATCHNORM)])
    out.append([("chart", health_charts.update_ratio_figure(snap, sizes), "train_live_update"),
                ("chart", health_charts.weights_now_vs_init_figure(snap, sizes), "train_live_winit")])
    return out


def explanations(snap):
    """[(topic, text)] for "Explain these charts, with this run's numbers"."""
    texts = chart_help(snap)
    return [(TOPICS[name], texts[name]) for name in TOPICS]
