"""Plotly figures for the Train-on-MNIST page, drawn from core.trainer snapshots (no Streamlit here)."""
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.activations import get_activation
from core.trainer import downsample, smooth

ACCENT = "#e4572e"
BLUE, GREEN, GREY = "#1f77b4", "#2a9d8f", "#9aa0a6"
RUN_COLORS = ["#e4572e", "#1f77b4", "#2a9d8f", "#9b5de5", "#f4a261", "#6c757d", "#d62828", "#118ab2"]


def _layout(fig, title, height=300, **kwargs):
    fig.update_layout(title=dict(text=title, font=dict(size=15)), height=height,
                      margin=dict(l=10, r=10, t=45, b=10), legend=dict(orientation="h", y=-0.2), **kwargs)
    return fig


def loss_figure(snap):
    """Loss of every batch (faint), its moving average, and the mean per epoch (train and validation)."""
    fig = go.Figure()
    n = len(snap.losses)
    if n:
        x = np.arange(1, n + 1) / snap.batches_per_epoch           # in epochs
        keep = downsample(snap.losses)
        fig.add_scatter(x=x[keep], y=snap.losses[keep], mode="lines", name="batch",
                        line=dict(color=GREY, width=1), opacity=0.5)
        fig.add_scatter(x=x[keep], y=smooth(snap.losses)[keep], mode="lines", name="batch, smoothed",
                        line=dict(color=ACCENT, width=2))
    logs = snap.epochs_log
    if logs:
        fig.add_scatter(x=[e["epoch"] for e in logs], y=[e["loss"] for e in logs], mode="markers+lines",
                        name="train (epoch mean)", line=dict(color=BLUE, dash="dot"), marker=dict(size=8))
        if logs[0]["val_loss"] is not None:
            fig.add_scatter(x=[e["epoch"] for e in logs], y=[e["val_loss"] for e in logs], mode="markers+lines",
                            name="validation", line=dict(color=GREEN), marker=dict(size=8, symbol="diamond"))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(title="cross-entropy (log scale)", type="log")
    return _layout(fig, "Loss")


def accuracy_figure(snap):
    """Batch accuracy (smoothed) while training, train/validation/test accuracy at each epoch end."""
    fig = go.Figure()
    n = len(snap.batch_accs)
    if n:
        x = np.arange(1, n + 1) / snap.batches_per_epoch
        keep = downsample(snap.batch_accs)
        fig.add_scatter(x=x[keep], y=100 * smooth(snap.batch_accs)[keep], mode="lines",
                        name="batches, smoothed", line=dict(color=ACCENT, width=2))
    logs = snap.epochs_log
    epochs = [e["epoch"] for e in logs]
    for key, name, color, symbol in (("train_acc", "train (epoch)", BLUE, "circle"),
                                     ("val_acc", "validation", GREEN, "diamond"),
                                     ("test_acc", "test", "#6a4c93", "square")):
        values = [e[key] for e in logs if e[key] is not None]
        if values:
            fig.add_scatter(x=epochs, y=[100 * v for v in values], mode="markers+lines", name=name,
                            line=dict(color=color, dash="dot" if key == "train_acc" else "solid"),
                            marker=dict(size=8, symbol=symbol))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(title="accuracy (%)", range=[0, 100.5])
    return _layout(fig, "Accuracy")


def layer_names(sizes):
    return [f"W{l + 1} ({sizes[l]}→{sizes[l + 1]})" for l in range(len(sizes) - 1)]


def _log10(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.log10(x)
    out[~np.isfinite(out)] = np.nan                               # a zero gradient has no log: left blank
    return out


def gradient_heatmap(snap, sizes):
    """Layers × steps, colour = log10(‖dW_l‖/√size): vanishing gradients show as dark low rows."""
    G = snap.grad_scale                                            # (R, L)
    fig = go.Figure()
    if len(G):
        keep = downsample(snap.record_steps, 300)
        fig.add_heatmap(z=_log10(G[keep]).T, x=snap.record_steps[keep], y=layer_names(sizes),
                        colorscale="Viridis", colorbar=dict(title="log₁₀", thickness=12),
                        hovertemplate="step %{x}<br>%{y}<br>log₁₀ RMS grad %{z:.2f}<extra></extra>")
    fig.update_xaxes(title="training step")
    return _layout(fig, "Gradient size per layer: log₁₀(‖dW‖ / √size)", height=260)


def neuron_heatmap(latest, sizes):
    """Neurons × layers for the latest step, colour = log10 of each neuron's mean |dW| (blank = no neuron)."""
    fig = go.Figure()
    if latest:
        grads = latest["neuron_grad"]
        width = max(len(g) for g in grads)
        Z = np.full((width, len(grads)), np.nan)
        for l, g in enumerate(grads):
            Z[:len(g), l] = _log10(g)
        fig.add_heatmap(z=Z, x=layer_names(sizes), colorscale="Viridis", colorbar=dict(title="log₁₀", thickness=12),
                        hovertemplate="%{x}<br>neuron %{y}<br>log₁₀ mean |dW| %{z:.2f}<extra></extra>")
        fig.update_yaxes(title="neuron", autorange="reversed")
    step = f" (step {latest['step']})" if latest else ""
    return _layout(fig, "Gradient per neuron" + step, height=260)


def activation_figure(snap, activation):
    """For each hidden layer: f(z) over the current histogram of its pre-activations z."""
    latest = snap.latest
    n_hidden = len(snap.config.hidden)
    titles = []
    for l in range(n_hidden):
        if len(snap.dead):
            frac = snap.dead[-1, l] if activation == "relu" else snap.saturated[-1, l]
            word = "dead" if activation == "relu" else "|z| > 4"
            titles.append(f"layer {l + 1}: {100 * frac:.0f}% {word}")
        else:
            titles.append(f"layer {l + 1}")
    fig = make_subplots(rows=1, cols=n_hidden, subplot_titles=titles, specs=[[{"secondary_y": True}] * n_hidden])
    f = get_activation(activation).f
    for l in range(n_hidden):
        z = latest["z_sample"][l] if latest else np.zeros(0)
        z = z[np.isfinite(z)]
        lo, hi = (min(-5.0, float(np.percentile(z, 1))), max(5.0, float(np.percentile(z, 99)))) if len(z) else (-5, 5)
        if len(z):
            counts, edges = np.histogram(np.clip(z, lo, hi), bins=40, range=(lo, hi))
            fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / counts.sum(), marker_color=GREY, opacity=0.6,
                        name="share of z", showlegend=l == 0, row=1, col=l + 1, secondary_y=True)
        zz = np.linspace(lo, hi, 200)
        fig.add_scatter(x=zz, y=f(zz), mode="lines", line=dict(color=ACCENT, width=2), name=f"{activation}(z)",
                        showlegend=l == 0, row=1, col=l + 1, secondary_y=False)
        fig.update_xaxes(title_text="z", row=1, col=l + 1)
    fig.update_yaxes(showgrid=False, secondary_y=True, showticklabels=False)
    fig.update_layout(bargap=0)
    return _layout(fig, "Where the neurons sit on the activation curve", height=280)


def weight_images(first_layer, columns=8):
    """First-layer weights of some hidden neurons as 28×28 images (red +, blue −): what each neuron looks for."""
    fig = go.Figure()
    if first_layer is not None and len(first_layer):
        k = len(first_layer)
        rows = int(np.ceil(k / columns))
        grid = np.full((rows * 29 - 1, columns * 29 - 1), np.nan)
        for i, w in enumerate(first_layer):
            r, c = divmod(i, columns)
            grid[r * 29:r * 29 + 28, c * 29:c * 29 + 28] = w
        m = float(np.nanmax(np.abs(grid))) or 1.0
        fig.add_heatmap(z=grid, colorscale="RdBu_r", zmin=-m, zmax=m, showscale=False,
                        hovertemplate="w = %{z:.3f}<extra></extra>")
        fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
        fig.update_xaxes(visible=False)
    return _layout(fig, "First-layer weights of 16 hidden neurons", height=260)


def weight_histograms(latest, sizes):
    """One histogram of weights per layer."""
    fig = go.Figure()
    if latest:
        for l, (counts, edges) in enumerate(latest["weight_hist"]):
            fig.add_scatter(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(counts.sum(), 1), mode="lines",
                            line=dict(shape="hvh", color=RUN_COLORS[l % len(RUN_COLORS)]),
                            name=layer_names(sizes)[l])
    fig.update_xaxes(title="weight value")
    fig.update_yaxes(title="share")
    return _layout(fig, "Weight histograms", height=260)


def confusion_figure(evaluation, class_names):
    C = evaluation["confusion"]
    fig = go.Figure(go.Heatmap(z=C, x=class_names, y=class_names, colorscale="Blues", showscale=False,
                               text=C, texttemplate="%{text}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title="predicted", type="category")
    fig.update_yaxes(title="true", autorange="reversed", type="category")
    return _layout(fig, "Confusion matrix (test set)", height=380)


def per_class_figure(evaluation, class_names):
    acc = 100 * evaluation["per_class"]
    fig = go.Figure(go.Bar(x=class_names, y=acc, marker_color=ACCENT, text=[f"{a:.0f}" for a in acc],
                           textposition="outside"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(title="accuracy (%)", range=[0, 110])
    return _layout(fig, "Accuracy per class (test set)", height=380)


def class_counts_figure(counts, class_names):
    fig = go.Figure(go.Bar(x=class_names, y=counts, marker_color=BLUE, text=counts, textposition="outside"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.15 * max(counts.max(), 1)])
    return _layout(fig, "Training images per class", height=260)


def history_figure(runs):
    """Overlay of several runs: smoothed loss and validation (else test) accuracy per epoch."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (smoothed)", "Validation / test accuracy (%)"))
    for i, run in enumerate(runs):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        name = f"#{run['id']} {run['label']}"
        fig.add_scatter(x=run["curve_x"], y=run["curve_loss"], mode="lines", line=dict(color=color),
                        name=name, legendgroup=name, row=1, col=1)
        logs = run["epochs_log"]
        key = "val_acc" if logs and logs[0]["val_acc"] is not None else "test_acc"
        fig.add_scatter(x=[e["epoch"] for e in logs], y=[100 * e[key] for e in logs], mode="lines+markers",
                        line=dict(color=color), name=name, legendgroup=name, showlegend=False, row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="epoch")
    return _layout(fig, "", height=340)
