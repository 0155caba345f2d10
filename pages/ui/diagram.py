"""Plotly pictures: a tiny network (neurons coloured by value, edges by weight or gradient) and the
computational graph of one neuron. Numbers come in from core; nothing is computed here but layout."""
import numpy as np
import plotly.graph_objects as go

from lab.steps import graph_path
from pages.ui.palette import DIVERGING, HIGHLIGHT, NEGATIVE, NEUTRAL, POSITIVE   # blue +, orange −, grey: not yet

NEURON_SIZE = 54                                                 # px: room for a 3-digit value inside
FONT = 15                                                        # px: labels beside neurons and on lines
MAX_EDGE_LABELS = 6                                              # more labels than this only clutter: hover instead
DIM = 0.15                                                       # opacity of what the current step doesn't use


def _layer_y(n):
    """y positions of n neurons, centred on 0, one unit apart, first neuron on top."""
    return (n - 1) / 2 - np.arange(n)


def _ink(values, scale, n):
    """Text colour inside each neuron: white on dark fills, black on light ones."""
    if values is None:
        return ["black"] * n
    return ["white" if abs(float(v)) > 0.55 * scale else "black" for v in values]


def _short(v):
    return "" if v is None else f"{float(v):.3g}".replace("-", "−")


def network_figure(sizes, values, labels, edges, *, edge_kind="weight", lit_layers=(), lit_edges=(),
                   inactive=(), dropped=(), layer_names=None, height=None):
    """The network as circles and lines.

    sizes:     [n_0, …, n_L]
    values:    per layer an array (n_l,) that colours the neurons, or None (not computed yet: white)
    labels:    per layer a list of n_l strings written beside each neuron
    edges:     per weight layer l = 1..L an array (n_l, n_{l−1}) (weights or gradients), or None (grey)
    edge_kind: "weight" or "gradient" (only changes the hover text)
    lit_layers, lit_edges: the neuron layers / weight layers the current step uses (the rest fades);
               both empty: nothing fades
    inactive:  (layer, i) pairs of ReLU neurons with z ≤ 0 (crossed out)
    dropped:   (layer, i) pairs of hidden neurons the dropout mask drops (crossed out, another hover text)
    """
    fig = go.Figure()
    fading = bool(lit_layers) or bool(lit_edges)
    ys = [_layer_y(n) for n in sizes]
    finite = [np.abs(e).max() for e in edges if e is not None and np.size(e)]
    edge_scale = max(finite) if finite and max(finite) > 0 else 1.0
    for l, E in enumerate(edges):                       # edges from layer l to layer l + 1
        lit = not fading or l in lit_edges
        for i in range(sizes[l + 1]):
            for j in range(sizes[l]):
                v = None if E is None else float(E[i, j])
                colour = NEUTRAL if v is None else (POSITIVE if v >= 0 else NEGATIVE)
                width = 1.5 if v is None else 1 + 7 * abs(v) / edge_scale
                fig.add_trace(go.Scatter(
                    x=[l, l + 1], y=[ys[l][j], ys[l + 1][i]], mode="lines",
                    line=dict(color=colour, width=width), opacity=0.9 if lit else DIM,
                    hoverinfo="text", showlegend=False,
                    text=f"{edge_kind} from neuron {j + 1} of layer {l} to neuron {i + 1} of layer {l + 1}: "
                         f"{_short(v)}"))
                if v is not None and fading and lit and sizes[l] * sizes[l + 1] <= MAX_EDGE_LABELS:
                    t = 0.3 if sizes[l] > 1 else 0.5       # label near the source, where lines fan out
                    fig.add_annotation(x=l + t, y=ys[l][j] + t * (ys[l + 1][i] - ys[l][j]),
                                       text=f"<b>{v:.2f}</b>".replace("-", "−"),
                                       showarrow=False, font=dict(color=colour, size=FONT - 1),
                                       bgcolor="rgba(255,255,255,0.9)", borderpad=1)

    computed = [v for v in values if v is not None]
    scale = max([np.abs(v).max() for v in computed] + [1e-12])
    for l, n in enumerate(sizes):
        lit = not fading or l in lit_layers
        v = values[l]
        marker = dict(size=NEURON_SIZE, line=dict(color=HIGHLIGHT if (fading and lit) else "#555",
                                         width=4 if (fading and lit) else 1.5))
        if v is None:
            marker.update(color="white")
        else:
            marker.update(color=np.asarray(v, dtype=float), colorscale=DIVERGING, cmin=-scale, cmax=scale,
                          showscale=l == len(sizes) - 1,
                          colorbar=dict(title="value", thickness=10, len=0.6))
        fig.add_trace(go.Scatter(x=[l] * n, y=ys[l], mode="markers", hoverinfo="skip", showlegend=False,
                                 marker=dict(size=NEURON_SIZE, color="white")))   # hides the lines behind a faded neuron
        fig.add_trace(go.Scatter(
            x=[l] * n, y=ys[l], mode="markers+text", marker=marker, opacity=1.0 if lit else 0.35,
            text=[_short(e) for e in (v if v is not None else [None] * n)], textposition="middle center",
            textfont=dict(size=FONT - 1, color=_ink(v, scale, n)), hovertext=labels[l], hoverinfo="text",
            showlegend=False))
        fig.add_trace(go.Scatter(
            x=[l] * n, y=ys[l] - 0.42, mode="text", text=labels[l], textfont=dict(size=FONT, color="#333"),
            hoverinfo="skip", showlegend=False, opacity=1.0 if lit else 0.45))
    crosses = [(l, i, "z ≤ 0: this ReLU outputs 0 and passes no gradient back") for l, i in inactive]
    crosses += [(l, i, "dropped by the mask: outputs 0 in this training pass") for l, i in dropped]
    for l, i, why in crosses:
        fig.add_trace(go.Scatter(
            x=[l], y=[ys[l][i]], mode="markers", hoverinfo="text", showlegend=False, text=why,
            marker=dict(symbol="x-thin", size=NEURON_SIZE - 6, line=dict(color="#444", width=3))))
    names = layer_names or ["input"] + [f"hidden {l}" for l in range(1, len(sizes) - 1)] + ["output"]
    for l, name in enumerate(names):
        fig.add_annotation(x=l, y=(max(sizes) - 1) / 2 + 0.6, text=f"<b>{name}</b>",
                           showarrow=False, font=dict(size=FONT))
    top = (max(sizes) - 1) / 2 + 0.75
    fig.update_layout(
        height=height or max(340, 110 * max(sizes) + 100), margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False, range=[-0.45, len(sizes) - 0.55]),
        yaxis=dict(visible=False, range=[-top, top]),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hovermode="closest")
    return fig


def graph_figure(graph, lit=None, height=560, hide_grads=False):
    """The computational graph of one neuron (core.graph.NeuronGraph): each box shows the forward value and
    ∂L/∂node; each arrow is labelled with its local gradient ×∂child/∂parent. `lit` names a leaf whose path
    to L is highlighted. hide_grads=True shows "?" for every gradient (the learner computes them by hand)."""
    n = sum(1 for node in graph.nodes if not node.parents and node.name.startswith("x"))
    leaf_names = [name for i in range(1, n + 1) for name in (f"w{i}", f"x{i}")] + ["b"]
    pos = {name: (0, -k) for k, name in enumerate(leaf_names)}
    for i in range(1, n + 1):
        pos[f"p{i}"] = (1, -(2 * i - 1.5))
    middle = -(len(leaf_names) - 1) / 2
    pos.update(z=(2, middle), a=(3, middle), L=(4, middle))
    on_path = set()
    if lit is not None:
        on_path = {(child.name, parent.name) for child, parent, _ in graph_path(graph, lit)}

    fig = go.Figure()
    for node in graph.nodes:
        for parent, local in zip(node.parents, node.local_grads):
            (x0, y0), (x1, y1) = pos[parent.name], pos[node.name]
            hot = (node.name, parent.name) in on_path
            fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                     line=dict(color=HIGHLIGHT if hot else "#999", width=4 if hot else 1.5)))
            t = 1 - 0.45 / (x1 - x0)              # label 0.45 left of the child: clear of the boxes in between
            fig.add_trace(go.Scatter(
                x=[x0 + t * (x1 - x0)], y=[y0 + t * (y1 - y0) + 0.12], mode="text", showlegend=False,
                text=["×?" if hide_grads else f"×{local:.3g}"], hoverinfo="text",
                hovertext=f"local gradient ∂{node.name}/∂{parent.name} = " + ("?" if hide_grads else f"{local:.6g}"),
                textfont=dict(size=13, color=HIGHLIGHT if hot else "#666")))
    ops = {"": "", "×": "×", "+": "+", "f": graph.activation, "loss": "loss"}
    names = [node.name for node in graph.nodes]
    fig.add_trace(go.Scatter(
        x=[pos[k][0] for k in names], y=[pos[k][1] for k in names], mode="markers+text", showlegend=False,
        marker=dict(symbol="square", size=72, color="#fdf2ec",
                    line=dict(color=[HIGHLIGHT if lit and any(k in e for e in on_path) else "#555"
                                     for k in names], width=2)),
        text=[f"<b>{node.name}</b>{' ' + ops[node.op] if node.op else ''}<br>{node.value:.3g}"
              f"<br><span style='color:{HIGHLIGHT}'>grad {'?' if hide_grads else f'{node.grad:.3g}'}</span>"
              for node in graph.nodes],
        textfont=dict(size=13, color="black"), hoverinfo="text",
        hovertext=[f"{node.name} = {node.value:.6g}, ∂L/∂{node.name} = "
                   + ("?" if hide_grads else f"{node.grad:.6g}") for node in graph.nodes]))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(visible=False, range=[-0.5, 4.5]),
                      yaxis=dict(visible=False, range=[-len(leaf_names) + 0.4, 0.6]),
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig


def loss_curve(losses, height=220):
    """A small line plot of the loss after 0, 1, 2, … training steps."""
    fig = go.Figure(go.Scatter(x=np.arange(len(losses)), y=losses, mode="lines+markers",
                               marker=dict(size=4), line=dict(color=HIGHLIGHT)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title="loss on this example",
                      xaxis_title="steps taken", yaxis_title="loss")
    return fig


def boundary_figure(X, y, w, b, previous=None, current=None, height=360):
    """The perceptron's data (filled = class 1, hollow = class 0), the region it calls 1 (shaded), its line
    w1 x1 + w2 x2 + b = 0 (solid) and, if given, the line before the last update (dashed)."""
    grid = np.linspace(-0.5, 1.5, 81)
    G1, G2 = np.meshgrid(grid, grid)
    fig = go.Figure(go.Heatmap(x=grid, y=grid, z=(w[0] * G1 + w[1] * G2 + b > 0).astype(float), zmin=0, zmax=1,
                               colorscale=[[0, "rgba(213,94,0,0.08)"], [1, "rgba(33,102,172,0.18)"]],   # NEGATIVE, POSITIVE
                               showscale=False, hoverinfo="skip"))
    for (w1, w2, b0), style in ((previous or (None, None, None), dict(color="#888", dash="dash", width=2)),
                                ((w[0], w[1], b), dict(color=HIGHLIGHT, width=3))):
        if w1 is None:
            continue
        line = _line_points(w1, w2, b0)
        if line is not None:
            fig.add_trace(go.Scatter(x=line[0], y=line[1], mode="lines", line=style, hoverinfo="skip",
                                     showlegend=False))
    X = np.asarray(X)
    for label, symbol in ((1, "circle"), (0, "circle-open")):
        pick = np.asarray(y) == label
        fig.add_trace(go.Scatter(x=X[pick, 0], y=X[pick, 1], mode="markers", name=f"y = {label}",
                                 marker=dict(symbol=symbol, size=18, color=POSITIVE if label else NEGATIVE,
                                             line=dict(width=3, color=POSITIVE if label else NEGATIVE))))
    if current is not None:
        fig.add_trace(go.Scatter(x=[X[current, 0]], y=[X[current, 1]], mode="markers", name="next sample",
                                 marker=dict(symbol="circle-open", size=32, color=HIGHLIGHT, line=dict(width=3))))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(range=[-0.5, 1.5], title="x₁", zeroline=False, constrain="domain"),
                      yaxis=dict(range=[-0.5, 1.5], title="x₂", zeroline=False, scaleanchor="x", constrain="domain"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def _line_points(w1, w2, b):
    """Two points of the line w1 x1 + w2 x2 + b = 0 spanning the plot, or None when w = 0 (no line)."""
    if abs(w2) > 1e-12:
        x1 = np.array([-0.5, 1.5])
        return x1, -(w1 * x1 + b) / w2
    if abs(w1) > 1e-12:
        return np.full(2, -b / w1), np.array([-0.5, 1.5])
    return None
