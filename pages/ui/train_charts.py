"""Plotly figures for the Train-on-MNIST page, drawn from lab.trainer snapshots (no Streamlit here).

The live views redraw several times a second while a run trains, and every millisecond spent here is a
millisecond the page answers the learner later. So the figures are written as plain dicts and wrapped
without plotly's (slow) per-property validation: 3–4× cheaper than building them trace by trace.
"""
import numpy as np
import pandas  # noqa: F401  plotly looks pandas up lazily in sys.modules: a half-imported one breaks it
import plotly.graph_objects as go

from core.activations import get_activation
from lab.stats import SATURATION_Z
from lab.trainer import downsample, smooth  # noqa: F401  (smooth: the page's metrics use the same average)
from pages.ui import palette

ACCENT = palette.HIGHLIGHT
BLUE, GREEN, PURPLE, GREY, VERMILLION = palette.BLUE, palette.GREEN, palette.PURPLE, "#9aa0a6", palette.VERMILLION
_BOX = {"bgcolor": "rgba(255,255,255,0.7)", "font": {"size": 11}}
INSIDE_TOP_RIGHT = {"x": 0.99, "y": 0.99, "xanchor": "right", "yanchor": "top", **_BOX}
INSIDE_BOTTOM_RIGHT = {"x": 0.99, "y": 0.01, "xanchor": "right", "yanchor": "bottom", **_BOX}
BELOW = {"orientation": "h", "x": 0, "y": -0.32, "yanchor": "top", "font": {"size": 11}}   # legends off the curves
                                                                                          # and below the axis title
LOG_DECADES = 4              # a log-scale loss axis spans at most this many powers of ten below its top:
                             # a loss of ~0 on one batch would otherwise stretch it over ~25 decades
RUN_COLORS = palette.CATEGORICAL


def figure(data, title="", height=300, **layout):
    """A go.Figure from trace dicts and layout keywords, without per-property validation."""
    layout = {"title": {"text": title, "font": {"size": 15}}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 45, "b": 10},
              "legend": {"orientation": "h", "y": -0.25}, **layout}
    try:
        return go.Figure(data=data, layout=layout, _validate=False)
    except TypeError:                      # a plotly without the private switch: validate, slower but fine
        return go.Figure(data=data, layout=layout)


def _line(x, y, name, color, width=2, dash="solid", markers=False, **extra):
    return {"type": "scatter", "x": x, "y": y, "name": name, "mode": "lines+markers" if markers else "lines",
            "line": {"color": color, "width": width, "dash": dash}, **extra}


def _log10(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(x)
    out[~np.isfinite(out)] = np.nan                           # a zero gradient has no log: left blank
    return out


def _rgba(hex_color, alpha):
    """"#0072B2", 0.15 → "rgba(0,114,178,0.15)": a palette colour made translucent (for bands)."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def layer_names(sizes):
    return [f"W{l + 1} ({sizes[l]}→{sizes[l + 1]})" for l in range(len(sizes) - 1)]


# ---- curves ---------------------------------------------------------------------------------

def loss_figure(snap):
    """Loss of every batch (faint), its moving average, the mean per epoch (train and validation),
    and a mark wherever the learner changed η."""
    data = []
    if len(snap.losses):
        keep = downsample(snap.losses)
        x = (keep + 1) / snap.batches_per_epoch                 # in epochs
        data += [_line(x, snap.losses[keep], "batch", GREY, width=1, opacity=0.5),
                 _line(x, snap.smoothed[keep], "batch, smoothed", ACCENT)]
    logs = snap.epochs_log
    if logs:
        epochs = [e["epoch"] for e in logs]
        data.append(_line(epochs, [e["loss"] for e in logs], "train (epoch mean)", BLUE, dash="dot", markers=True))
        if logs[0]["val_loss"] is not None:
            data.append(_line(epochs, [e["val_loss"] for e in logs], "validation", GREEN, markers=True))
    values = np.concatenate([snap.losses, [e["loss"] for e in logs]]) if len(snap.losses) else np.ones(1)
    values = values[np.isfinite(values) & (values > 0)]
    yaxis = {"title": {"text": "cross-entropy (log scale)"}, "type": "log"}
    if len(values):
        top = float(values.max()) * 1.5
        bottom = max(float(values.min()) / 1.5, top / 10 ** LOG_DECADES)
        yaxis["range"] = [np.log10(bottom), np.log10(top)]
        if top > 10 * bottom:
            yaxis["dtick"] = "D2"                                 # over a decade: label 1, 2, 5 only
    shapes, notes = [], []
    for step, lr in snap.lr_marks[1:]:                            # the first mark is the starting η
        x = step / snap.batches_per_epoch
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                       "line": {"color": PURPLE, "width": 1, "dash": "dash"}})
        notes.append({"x": x, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
                      "text": f"η → {lr:g}", "font": {"size": 11, "color": PURPLE}})
    return figure(data, "Loss", legend=BELOW, xaxis={"title": {"text": "epoch"}, "rangemode": "tozero"},
                  yaxis=yaxis, shapes=shapes, annotations=notes, margin={"l": 10, "r": 10, "t": 60, "b": 10})


def accuracy_figure(snap):
    """Batch accuracy (smoothed) while training; train / validation / test accuracy at each epoch end."""
    data = []
    if len(snap.batch_accs):
        keep = downsample(snap.batch_accs)
        data.append(_line((keep + 1) / snap.batches_per_epoch, 100 * smooth(snap.batch_accs)[keep],
                          "batches, smoothed", ACCENT))
    logs = snap.epochs_log
    for key, name, color, dash in (("train_acc", "train (epoch)", BLUE, "dot"), ("val_acc", "validation", GREEN, "solid"),
                                   ("test_acc", "test", PURPLE, "solid")):
        points = [(e["epoch"], 100 * e[key]) for e in logs if e[key] is not None]
        if points:
            data.append(_line(*zip(*points), name, color, dash=dash, markers=True))
    return figure(data, "Accuracy", legend=BELOW, xaxis={"title": {"text": "epoch"}, "rangemode": "tozero"},
                  yaxis={"title": {"text": "accuracy (%)"}, "range": [0, 100.5]})


# ---- gradients ------------------------------------------------------------------------------

def gradient_heatmap(snap, sizes):
    """Layers × steps, colour = log10(‖dW_l‖/√size): vanishing gradients show as dark rows."""
    data = []
    if len(snap.grad_scale):
        keep = downsample(snap.record_steps, 300)
        data.append({"type": "heatmap", "z": _log10(snap.grad_scale[keep]).T, "x": snap.record_steps[keep],
                     "y": layer_names(sizes), "colorscale": palette.SEQUENTIAL,
                     "colorbar": {"title": {"text": "log₁₀"}, "thickness": 12},
                     "hovertemplate": "step %{x}<br>%{y}<br>log₁₀ RMS gradient %{z:.2f}<extra></extra>"})
    return figure(data, "Gradient size per layer: log₁₀(‖dW‖ / √size)", height=260,
                  xaxis={"title": {"text": "training step"}}, yaxis={"type": "category"})


def tile_grid(values, columns=None):
    """(rows, columns) grid of `values` in reading order, NaN-padded: n neurons as a near-square block of tiles."""
    values = np.asarray(values, dtype=np.float64)
    columns = columns or int(np.ceil(np.sqrt(len(values))))
    rows = int(np.ceil(len(values) / columns))
    grid = np.full(rows * columns, np.nan)
    grid[:len(values)] = values
    return grid.reshape(rows, columns)


def neuron_heatmap(latest, sizes):
    """One block of square tiles per layer, one tile per neuron, colour = log10 of its mean |dW| (latest step).

    The tiles share one colour scale across layers. A dark tile is a neuron that gets almost no gradient
    (e.g. a sigmoid stuck at 0 or 1); a neuron whose gradient is exactly 0 (a dead ReLU: z ≤ 0 for the whole
    batch) has no logarithm and is drawn as an empty tile with a grey cross.
    """
    data, layout, notes = [], {}, []
    if latest:
        grads = latest["neuron_grad"]
        logs = [_log10(g) for g in grads]
        finite = np.concatenate([g[np.isfinite(g)] for g in logs]) if logs else np.zeros(0)
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (-1.0, 0.0)
        n = len(grads)
        for l, (g, z) in enumerate(zip(grads, logs)):
            ax = "" if l == 0 else str(l + 1)
            Z = tile_grid(z)
            index = tile_grid(np.arange(len(z)), Z.shape[1])
            left, right = l / n + 0.02, (l + 1) / n - 0.02
            data.append({"type": "heatmap", "z": Z, "customdata": index, "colorscale": palette.SEQUENTIAL,
                         "zmin": lo, "zmax": hi, "showscale": l == n - 1, "xgap": 1, "ygap": 1,
                         "colorbar": {"title": {"text": "log₁₀"}, "thickness": 12},
                         "xaxis": f"x{ax}", "yaxis": f"y{ax}",
                         "hovertemplate": f"{layer_names(sizes)[l]}<br>neuron %{{customdata}}"
                                          "<br>log₁₀ mean |dW| %{z:.2f}<extra></extra>"})
            zero = np.flatnonzero(np.asarray(g) == 0)
            if len(zero):
                r, c = np.divmod(zero, Z.shape[1])
                data.append({"type": "scatter", "x": c, "y": r, "mode": "markers", "showlegend": False,
                             "marker": {"symbol": "x-thin", "color": GREY, "size": 6, "line": {"width": 1, "color": GREY}},
                             "xaxis": f"x{ax}", "yaxis": f"y{ax}", "hoverinfo": "skip"})
            layout[f"xaxis{ax}"] = {"domain": [left, right], "anchor": f"y{ax}", "visible": False,
                                    "constrain": "domain"}
            layout[f"yaxis{ax}"] = {"anchor": f"x{ax}", "visible": False, "autorange": "reversed",
                                    "scaleanchor": f"x{ax}", "constrain": "domain"}
            dead = f", {len(zero)} at 0" if len(zero) else ""
            notes.append({"text": f"{layer_names(sizes)[l]}<br>{len(g)} neurons{dead}", "x": (left + right) / 2,
                          "y": 1.0, "xref": "paper", "yref": "paper", "yanchor": "bottom", "showarrow": False,
                          "font": {"size": 11}})
    step = f" (step {latest['step']})" if latest else ""
    return figure(data, "Gradient per neuron: log₁₀ mean |dW|" + step, height=320,
                  margin={"l": 10, "r": 10, "t": 85, "b": 10}, annotations=notes, **layout)


def grad_norm_figure(snap):
    """The global gradient norm ‖g‖ of the recorded steps, before and after clipping, and the clipping bound."""
    clip = snap.config.clip
    data, shapes, title = [], [], "Gradient norm ‖g‖ (all parameters as one vector)"
    norms = snap.grad_norms if snap.grad_norms is not None else np.zeros((0, 2))
    if len(norms):
        keep = downsample(snap.record_steps, 400)
        x = snap.record_steps[keep]
        data.append(_line(x, norms[keep, 0], "before clipping" if clip else "‖g‖", VERMILLION if clip else BLUE))
        if clip:
            share = float(np.mean(norms[:, 0] > clip))
            data.append(_line(x, norms[keep, 1], f"after (what the step used; {100 * share:.0f}% of steps clipped)",
                              BLUE, dash="dot"))
            title = f"Gradient norm before and after clipping to {clip:g}"
    if clip:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": clip, "y1": clip,
                       "line": {"color": GREY, "width": 1, "dash": "dash"}})
    return figure(data, title, height=280, legend=BELOW, shapes=shapes, showlegend=True,
                  xaxis={"title": {"text": "training step"}}, yaxis={"type": "log", "title": {"text": "‖g‖"}})


def batchnorm_figure(snap, sizes):
    """BatchNorm's γ (scale) and β (shift) of each hidden layer over the run: the mean over its neurons ± one
    standard deviation (the band). They start at γ = 1, β = 0; where they go is what the network learned to
    undo or keep of the normalization."""
    stats = snap.bn_stats if snap.bn_stats is not None else np.zeros((0, 0, 4))
    data = []
    if len(stats):
        keep = downsample(snap.record_steps, 300)
        x = snap.record_steps[keep]
        for l in range(stats.shape[1]):
            color = RUN_COLORS[l % len(RUN_COLORS)]
            for k, axis in ((0, ""), (2, "2")):
                mean, std = stats[keep, l, k], stats[keep, l, k + 1]
                group = f"layer {l + 1}"
                band = {"type": "scatter", "x": x, "mode": "lines", "line": {"width": 0, "color": color},
                        "hoverinfo": "skip", "showlegend": False, "legendgroup": group,
                        "xaxis": f"x{axis}", "yaxis": f"y{axis}"}
                data.append({**band, "y": mean + std})
                data.append({**band, "y": mean - std, "fill": "tonexty", "fillcolor": _rgba(color, 0.15)})
                data.append(_line(x, mean, f"BN after hidden layer {l + 1} ({sizes[l + 1]} neurons)", color,
                                  legendgroup=group, showlegend=k == 0, xaxis=f"x{axis}", yaxis=f"y{axis}"))
    notes = [{"text": text, "x": x, "y": 1.0, "xref": "paper", "yref": "paper", "yanchor": "bottom",
              "showarrow": False} for text, x in (("γ (scale), started at 1", 0.22), ("β (shift), started at 0", 0.78))]
    return figure(data, "BatchNorm's γ and β: mean over neurons ± spread", height=320, legend=BELOW,
                  annotations=notes, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                  xaxis={"domain": [0, 0.45], "title": {"text": "training step"}, "anchor": "y"},
                  yaxis={"anchor": "x"},
                  xaxis2={"domain": [0.55, 1], "title": {"text": "training step"}, "anchor": "y2"},
                  yaxis2={"anchor": "x2"})


# ---- activations ----------------------------------------------------------------------------

def activation_figure(snap, activation):
    """For each hidden layer: f(z) drawn over the current distribution of that layer's pre-activations z."""
    latest, n = snap.latest, len(snap.config.hidden)
    f = get_activation(activation).f
    legend = {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.14, "yanchor": "bottom", "font": {"size": 11}}
    data, layout, notes = [], {"bargap": 0, "showlegend": True, "legend": legend}, []
    for l in range(n):
        ax = "" if l == 0 else str(l + 1)
        z = latest["z_sample"][l] if latest else np.zeros(0)
        z = z[np.isfinite(z)]
        lo, hi = -5.0, 5.0
        if len(z):
            lo, hi = min(lo, float(np.percentile(z, 1))), max(hi, float(np.percentile(z, 99)))
            counts, edges = np.histogram(np.clip(z, lo, hi), bins=40, range=(lo, hi))
            data.append({"type": "bar", "x": (edges[:-1] + edges[1:]) / 2, "y": counts / counts.sum(),
                         "marker": {"color": GREY}, "opacity": 0.6, "name": "share of z", "showlegend": l == 0,
                         "xaxis": f"x{ax}", "yaxis": f"y{n + l + 1}", "legendgroup": "z"})
        zz = np.linspace(lo, hi, 200)
        data.append(_line(zz, f(zz), f"{activation}(z)", ACCENT, showlegend=l == 0, xaxis=f"x{ax}", yaxis=f"y{ax}",
                          legendgroup="f"))
        left, right = l / n + 0.03, (l + 1) / n - 0.03
        layout[f"xaxis{ax}"] = {"domain": [left, right], "anchor": f"y{ax}", "title": {"text": "z"}}
        layout[f"yaxis{ax}"] = {"anchor": f"x{ax}"}
        layout[f"yaxis{n + l + 1}"] = {"overlaying": f"y{ax}", "anchor": f"x{ax}", "side": "right",
                                       "showticklabels": False, "showgrid": False}
        notes.append({"text": _layer_note(snap, l, activation), "x": (left + right) / 2, "y": 1.0,
                      "xref": "paper", "yref": "paper", "yanchor": "bottom", "showarrow": False})
    layout["annotations"] = notes
    return figure(data, "Where the neurons sit on the activation curve", height=290, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                  **layout)


def _layer_note(snap, l, activation):
    if not len(snap.dead):
        return f"layer {l + 1}"
    if activation == "relu":
        return f"layer {l + 1}: {100 * snap.dead[-1, l]:.0f}% dead ReLUs"
    if activation in ("sigmoid", "tanh"):
        return f"layer {l + 1}: {100 * snap.saturated[-1, l]:.0f}% of z saturated (|z| > {SATURATION_Z:g})"
    return f"layer {l + 1}"


# ---- weights --------------------------------------------------------------------------------

def weight_images(first_layer, columns=4):
    """First-layer weights of some hidden neurons as 28×28 images: what each neuron looks for.

    The app's diverging scale centred on 0 (with its colour bar): blue pixels excite the neuron, orange ones
    inhibit it, white ones do not matter (blue–orange stays distinct for every colour-vision deficiency).
    """
    data = []
    if first_layer is not None and len(first_layer):
        rows = int(np.ceil(len(first_layer) / columns))
        grid = np.full((rows * 29 - 1, columns * 29 - 1), np.nan)
        for i, w in enumerate(first_layer):
            r, c = divmod(i, columns)
            grid[r * 29:r * 29 + 28, c * 29:c * 29 + 28] = w
        m = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
        data.append({"type": "heatmap", "z": np.round(grid, 3), "colorscale": palette.DIVERGING,
                     "zmin": -(m or 1.0), "zmax": m or 1.0, "zmid": 0,
                     "colorbar": {"title": {"text": "w"}, "thickness": 12},
                     "hovertemplate": "w = %{z:.3f}<extra></extra>"})
    return figure(data, f"First-layer weights of {len(first_layer) if first_layer is not None else 0} hidden neurons",
                  height=360, xaxis={"visible": False},
                  yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"})


def weight_image(w, neuron):
    """One neuron's 28×28 first-layer weights, large, on a diverging scale centred on 0 (±max |w|)."""
    m = float(np.max(np.abs(w))) or 1.0
    return figure([{"type": "heatmap", "z": np.round(w, 4), "colorscale": palette.DIVERGING, "zmin": -m, "zmax": m,
                    "zmid": 0, "colorbar": {"title": {"text": "w"}, "thickness": 12},
                    "hovertemplate": "row %{y}, column %{x}<br>w = %{z:.4f}<extra></extra>"}],
                  f"Neuron {neuron}, enlarged (±{m:.3g})", height=380,
                  xaxis={"visible": False, "constrain": "domain"},
                  yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"})


def weight_histograms(latest, sizes):
    """One histogram of the weights of each layer."""
    data = []
    if latest:
        for l, (counts, edges) in enumerate(latest["weight_hist"]):
            data.append(_line((edges[:-1] + edges[1:]) / 2, counts / max(counts.sum(), 1), layer_names(sizes)[l],
                              RUN_COLORS[l % len(RUN_COLORS)], width=2))
            data[-1]["line"]["shape"] = "hvh"
    return figure(data, "Weight histograms", height=260, legend=INSIDE_TOP_RIGHT, xaxis={"title": {"text": "weight value"}},
                  yaxis={"title": {"text": "share"}})


# ---- results --------------------------------------------------------------------------------

def confusion_figure(evaluation, class_names):
    C = evaluation["confusion"]
    return figure([{"type": "heatmap", "z": C, "x": class_names, "y": class_names, "colorscale": "Blues", "reversescale": True,
                    "showscale": False, "text": C, "texttemplate": "%{text}",
                    "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>"}],
                  "Confusion matrix (test set)", height=380,
                  xaxis={"title": {"text": "predicted"}, "type": "category"},
                  yaxis={"title": {"text": "true"}, "type": "category", "autorange": "reversed"})


def per_class_figure(evaluation, class_names):
    acc = 100 * evaluation["per_class"]
    return figure([{"type": "bar", "x": class_names, "y": acc, "marker": {"color": ACCENT},
                    "text": [f"{a:.0f}" for a in acc], "textposition": "outside", "name": "accuracy"}],
                  "Accuracy per class (test set)", height=380, xaxis={"type": "category"},
                  yaxis={"title": {"text": "accuracy (%)"}, "range": [0, 110]})


def class_counts_figure(counts, class_names):
    return figure([{"type": "bar", "x": class_names, "y": counts, "marker": {"color": BLUE},
                    "text": [str(c) for c in counts], "textposition": "outside", "name": "images"}],
                  "Training images per class", height=280, xaxis={"type": "category"},
                  yaxis={"range": [0, 1.15 * max(int(np.max(counts)), 1)]})


def history_figure(runs, labels):
    """Stored runs overlaid: smoothed loss, and validation (else test) accuracy per epoch.

    runs: lab.runstore.StoredRun records; labels: {run id: "#3 η=10 · sgd"} naming what differs.
    """
    data = []
    for i, run in enumerate(runs):
        color, name = RUN_COLORS[i % len(RUN_COLORS)], labels[run.id]
        per_epoch = run.batches_per_epoch or 1
        loss = [np.nan if v is None else v for v in run.loss]
        data.append(_line(np.asarray(run.loss_steps, dtype=float) / per_epoch, loss, name, color, legendgroup=name))
        logs = run.epochs_log
        key = "val_acc" if logs and logs[0].get("val_acc") is not None else "test_acc"
        points = [(e["epoch"], 100 * e[key]) for e in logs if e.get(key) is not None]
        if points:
            data.append(_line(*zip(*points), name, color, markers=True, legendgroup=name, showlegend=False,
                              xaxis="x2", yaxis="y2"))
    return figure(data, "", height=380, legend={**BELOW, "y": -0.2},
                  xaxis={"domain": [0, 0.46], "title": {"text": "epoch"}, "anchor": "y"},
                  yaxis={"type": "log", "title": {"text": "loss (smoothed, log scale)"}, "anchor": "x"},
                  xaxis2={"domain": [0.54, 1], "title": {"text": "epoch"}, "anchor": "y2"},
                  yaxis2={"title": {"text": "validation (or test) accuracy (%)"}, "anchor": "x2"})
