"""Training-health views experts watch (issue 15), from a lab.trainer.Snapshot: the update-to-data ratio per
layer over time, and each layer's weight histogram now against the one at initialisation."""
import numpy as np

from lab.trainer import downsample
from pages.ui.train_charts import INSIDE_TOP_RIGHT, RUN_COLORS, _line, figure, layer_names

GUIDE = 1e-3                 # the usual guide for ‖ΔW‖/‖W‖ per step


def update_ratio_figure(snap, sizes):
    """Per layer ‖ΔW‖/‖W‖ at each record, on a log axis, with the ~1e-3 guide line."""
    data = []
    ratios = snap.update_ratio if snap.update_ratio is not None else np.zeros((0, len(sizes) - 1))
    if len(ratios):
        keep = downsample(snap.record_steps, 400)
        x = snap.record_steps[keep]
        for l, name in enumerate(layer_names(sizes)):
            y = ratios[keep, l].astype(np.float64)
            y[~(y > 0)] = np.nan                                   # zero or NaN: no point on a log axis
            data.append(_line(x, y, name, RUN_COLORS[l % len(RUN_COLORS)]))
        data.append(_line([x[0], x[-1]], [GUIDE, GUIDE], "guide ≈ 1e-3", "#9aa0a6", dash="dash", width=1))
    return figure(data, "Update size per layer: ‖ΔW‖ / ‖W‖ per step", height=260, legend=INSIDE_TOP_RIGHT,
                  xaxis={"title": {"text": "training step"}},
                  yaxis={"type": "log", "title": {"text": "‖ΔW‖ / ‖W‖"}})


def weights_now_vs_init_figure(snap, sizes):
    """Each layer's weight histogram now (solid) and at initialisation (dotted)."""
    data = []
    now = (snap.latest or {}).get("weight_hist") or [None] * (len(sizes) - 1)
    initial = snap.weight_hist_init or [None] * (len(sizes) - 1)
    for l, name in enumerate(layer_names(sizes)):
        for hist, label, dash in ((now[l], "now", "solid"), (initial[l], "at init", "dot")):
            if hist is None:
                continue
            counts, edges = hist
            data.append(_line((edges[:-1] + edges[1:]) / 2, counts / max(counts.sum(), 1), f"{name} {label}",
                              RUN_COLORS[l % len(RUN_COLORS)], dash=dash))
            data[-1]["line"]["shape"] = "hvh"
    return figure(data, "Weights now vs at initialisation", height=260, legend=INSIDE_TOP_RIGHT,
                  xaxis={"title": {"text": "weight value"}}, yaxis={"title": {"text": "share"}})
