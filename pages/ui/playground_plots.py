"""Plotly figures for the Playground page (no Streamlit here, so the benchmark can time them).

Colours follow TensorFlow Playground: orange = negative / class 0, blue = positive / class 1.
"""
import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from core.playground import FEATURES, R

ORANGE, BLUE, MIDDLE = np.array([245, 147, 34]), np.array([8, 119, 189]), np.array([240, 240, 240])
COLORSCALE = [[0.0, "rgb(245,147,34)"], [0.5, "rgb(240,240,240)"], [1.0, "rgb(8,119,189)"]]
GRAY, BLUE_HEX, ORANGE_HEX = "#777", "#0877bd", "#f59322"


def diverging_rgb(t):
    """Colours for t ∈ [−1, 1]: −1 orange, 0 light grey, +1 blue.   (h, w) -> (h, w, 3) uint8"""
    t = np.clip(np.nan_to_num(t), -1, 1)[..., None]
    rgb = np.where(t < 0, MIDDLE + (ORANGE - MIDDLE) * -t, MIDDLE + (BLUE - MIDDLE) * t)
    return rgb.astype(np.uint8)


def output_colors(output, problem, discretize):
    """The output surface on the colour scale [−1, 1]: 2ŷ − 1 for a probability, ŷ for regression."""
    t = 2 * output - 1 if problem == "classification" else output
    return np.sign(t) if discretize else t


# ---- output surface -----------------------------------------------------------------------

def surface_figure(pg, surfaces, show_test=False, discretize=False, height=400):
    """The output over the plane as a heatmap, with the training points (and test points if asked)."""
    problem = pg.cfg.problem
    label = "P(class 1)" if problem == "classification" else "ŷ"
    heatmap = dict(type="heatmap", z=output_colors(surfaces.output, problem, discretize), x=surfaces.axis,
                   y=surfaces.axis, zmin=-1, zmax=1, colorscale=COLORSCALE, showscale=False,
                   zsmooth=False if discretize else "best", customdata=surfaces.output,
                   hovertemplate=f"x₁=%{{x:.2f}}, x₂=%{{y:.2f}}<br>{label} = %{{customdata:.3f}}<extra></extra>")
    traces = [heatmap, _points(pg.data.X_train, pg.data.y_train, problem, "white", "train")]
    if show_test:
        traces.append(_points(pg.data.X_test, pg.data.y_test, problem, "black", "test"))
    axis = dict(range=[-R, R], constrain="domain", fixedrange=True, zeroline=False)
    layout = dict(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False, plot_bgcolor="white",
                  uirevision="surface", xaxis=dict(axis, title_text="x₁"),
                  yaxis=dict(axis, title_text="x₂", scaleanchor="x", scaleratio=1))
    return go.Figure(data=traces, layout=layout)


def _points(X, y, problem, outline, name):
    color = 2 * y - 1 if problem == "classification" else y
    return dict(type="scatter", x=X[:, 0], y=X[:, 1], mode="markers", name=name, customdata=y,
                marker=dict(size=6, color=color, cmin=-1, cmax=1, colorscale=COLORSCALE,
                            line=dict(color=outline, width=1)),
                hovertemplate=f"{name}: x₁=%{{x:.2f}}, x₂=%{{y:.2f}}, y=%{{customdata:.3g}}<extra></extra>")


# ---- the network diagram ------------------------------------------------------------------

COL_GAP, NODE = 1.7, 0.78          # column spacing and node size in row units


def network_figure(pg, surfaces, discretize=False):
    """Every node's output over the plane as a small image, laid out as the network, edges by weight.

    Inputs each have their own colour scale ±max |value|; hidden layers share one per layer, ±max |a|
    over the plane (shown in the hover). All node images are pasted into ONE transparent picture and the
    labels are one text trace: the figure is redrawn every frame, so it is kept light.
    """
    net = pg.net
    columns = [[_scaled(m) for m in surfaces.features]]                        # inputs, each its own scale
    for maps in surfaces.hidden:
        scale = max(float(np.max(np.abs(maps))), 1e-9)
        columns.append([(m / scale, scale) for m in maps])
    columns.append([(output_colors(surfaces.output, pg.cfg.problem, discretize), 1.0)])
    rows = max(len(c) for c in columns)
    centers = [[(c * COL_GAP + 0.5, -(i + 0.5)) for i in range(len(col))] for c, col in enumerate(columns)]
    x_range, y_range = [-0.9, (len(columns) - 1) * COL_GAP + 1], [-rows - 0.1, 0.55]

    traces = _edge_traces(net.weights, centers)
    names = list(pg.cfg.features)
    hover = [(x, y, _node_text(c, i, len(columns), names, net, scale))
             for c, col in enumerate(columns) for i, ((x, y), (_, scale)) in enumerate(zip(centers[c], col))]
    traces.append(dict(type="scatter", x=[h[0] for h in hover], y=[h[1] for h in hover], mode="markers",
                       hovertext=[h[2] for h in hover], hoverinfo="text",
                       marker=dict(size=28, opacity=0, symbol="square")))
    titles = ["features"] + [f"layer {l} · {len(m)}" for l, m in enumerate(surfaces.hidden, 1)] + ["output"]
    labels = [(c * COL_GAP + 0.5, 0.25, t) for c, t in enumerate(titles)]
    labels += [(x - NODE / 2 - 0.3, y, FEATURES[n].label) for (x, y), n in zip(centers[0], names)]
    traces.append(dict(type="scatter", x=[t[0] for t in labels], y=[t[1] for t in labels], mode="text",
                       text=[t[2] for t in labels], hoverinfo="skip", textfont=dict(size=11, color=GRAY)))
    picture = _node_picture(columns, centers, x_range, y_range)
    image = dict(source=palette_png_uri(picture), xref="x", yref="y", x=x_range[0], y=y_range[1], layer="above",
                 sizex=x_range[1] - x_range[0], sizey=y_range[1] - y_range[0], xanchor="left", yanchor="top",
                 sizing="stretch")
    layout = dict(images=[image], height=62 * rows + 50, showlegend=False,
                  margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white", uirevision="network",
                  xaxis=dict(visible=False, range=x_range, fixedrange=True),
                  yaxis=dict(visible=False, range=y_range, scaleanchor="x", scaleratio=1,
                             constrain="domain", constraintoward="top", fixedrange=True))
    return go.Figure(data=traces, layout=layout)


PALETTE_SIZE = 255                                   # colour levels; index 255 is transparent


def palette_png_uri(levels):
    """A data: URI of a palette PNG: pixel values 0 … 254 run along the diverging scale, 255 is transparent.

    One byte per pixel instead of four makes encoding the big diagram picture every frame cheap.
    """
    image = Image.fromarray(levels, mode="P")
    palette = diverging_rgb(np.linspace(-1, 1, PALETTE_SIZE)).ravel().tolist() + [255, 255, 255]
    image.putpalette(palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1, transparency=PALETTE_SIZE)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _node_picture(columns, centers, x_range, y_range):
    """The diagram's area as palette levels (255 = transparent) with each node's map pasted at its place."""
    maps = np.stack([t for col in columns for t, _ in col])[:, ::-1]  # (nodes, size, size), row 0 = top = x₂ max
    t = np.clip(np.nan_to_num(maps), -1, 1)
    levels = np.rint((t + 1) / 2 * (PALETTE_SIZE - 1)).astype(np.uint8)     # (nodes, size, size) in 0 … 254
    size = maps.shape[1]
    px = size / NODE                                                  # pixels per unit: a node is size px
    H, W = round((y_range[1] - y_range[0]) * px), round((x_range[1] - x_range[0]) * px)
    picture = np.full((H, W), PALETTE_SIZE, dtype=np.uint8)          # (H, W), all transparent
    for k, (x, y) in enumerate(xy for col_centers in centers for xy in col_centers):
        top, left = round((y_range[1] - y) * px - size / 2), round((x - x_range[0]) * px - size / 2)
        picture[top:top + size, left:left + size] = levels[k]
    return picture


def _scaled(m):
    scale = max(float(np.max(np.abs(m))), 1e-9)
    return m / scale, scale


def _node_text(c, i, n_columns, names, net, scale):
    if c == 0:
        return f"input {FEATURES[names[i]].label} (colour scale ±{scale:.3g})"
    if c == n_columns - 1:
        return f"output ŷ<br>b = {float(net.biases[-1][0]):.3f}"
    return f"layer {c}, neuron {i + 1}<br>b = {float(net.biases[c - 1][i]):.3f}<br>colour scale ±{scale:.3g}"


def _edge_traces(weights, centers, levels=5):
    """Lines from every node to every node of the next column; colour = sign of w, width ∝ |w|.

    Lines are grouped into a few traces by sign and width level (NaN breaks the line between segments),
    plus invisible markers near each line's end whose hover shows w.
    """
    w_max = max(max(float(np.max(np.abs(W))) for W in weights), 1e-9)
    segments = {}                                            # (w ≥ 0, level) -> list of (x0, y0, x1, y1)
    mids, texts = [], []
    for l, W in enumerate(weights):                          # W (n_out, n_in): column l -> column l + 1
        for (j, i), w in np.ndenumerate(W):
            (x0, y0), (x1, y1) = centers[l][i], centers[l + 1][j]
            x0, x1 = x0 + NODE / 2, x1 - NODE / 2
            level = min(int(abs(w) / w_max * levels), levels - 1)
            segments.setdefault((bool(w >= 0), level), []).append((x0, y0, x1, y1))
            mids.append((0.3 * x0 + 0.7 * x1, 0.3 * y0 + 0.7 * y1))
            texts.append(f"w = {w:.3f}")
    traces = []
    for (positive, level), segs in segments.items():
        s = np.asarray(segs)                                 # (m, 4)
        gap = np.full(len(s), np.nan)
        xs = np.stack([s[:, 0], s[:, 2], gap], axis=1).ravel()
        ys = np.stack([s[:, 1], s[:, 3], gap], axis=1).ravel()
        color = f"rgba({','.join(map(str, BLUE if positive else ORANGE))},{0.35 + 0.13 * level:.2f})"
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip",
                           line=dict(color=color, width=0.6 + 1.6 * level)))
    mids = np.asarray(mids)
    traces.append(dict(type="scatter", x=mids[:, 0], y=mids[:, 1], mode="markers", hovertext=texts,
                       hoverinfo="text", marker=dict(size=8, opacity=0)))
    return traces


# ---- loss curve ---------------------------------------------------------------------------

def loss_figure(history, height=220, y_title="loss"):
    """Training (and test) loss against the epoch: history rows are (epoch, train, test) or (step, loss)."""
    h = np.asarray(history, dtype=np.float64)                     # (T, 2 or 3)
    traces = [dict(type="scatter", x=h[:, 0], y=h[:, 1], mode="lines", name="train", line=dict(color=BLUE_HEX))]
    if h.shape[1] > 2:
        traces.append(dict(type="scatter", x=h[:, 0], y=h[:, 2], mode="lines", name="test",
                           line=dict(color="black")))
    layout = dict(height=height, margin=dict(l=10, r=10, t=10, b=10), uirevision="loss",
                  legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                  xaxis=dict(title_text="epoch" if h.shape[1] > 2 else "step", range=[0, max(h[-1, 0], 10)]),
                  yaxis=dict(title_text=y_title))
    return go.Figure(data=traces, layout=layout)


# ---- universal approximation --------------------------------------------------------------

def fit_figure(fit, height=560):
    """Top: the target f(x) and the network's ŷ(x). Bottom: each neuron's weighted contribution w_i a_i(x)."""
    terms, bias, y_hat = fit.contributions()
    x = fit.x
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.5, 0.5],
                        subplot_titles=("target f(x) and the network's fit ŷ(x)",
                                        "ŷ(x) = Σᵢ wᵢ aᵢ(x) + b: each hidden neuron's piece"))
    fig.add_trace(go.Scatter(x=x, y=fit.y, name="target f(x)", line=dict(color="black", dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=y_hat, name="fit ŷ(x)", line=dict(color="#e4572e", width=3)), 1, 1)
    w = fit.net.weights[-1][0]
    for i, term in enumerate(terms):
        color = BLUE_HEX if w[i] >= 0 else ORANGE_HEX
        fig.add_trace(go.Scatter(x=x, y=term, mode="lines", line=dict(color=color, width=1.3), opacity=0.8,
                                 name=f"neuron {i + 1}", showlegend=False,
                                 hovertemplate=f"neuron {i + 1}: w = {w[i]:.3f}<br>x=%{{x:.2f}}, piece=%{{y:.3f}}"
                                               "<extra></extra>"), 2, 1)
    fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[bias, bias], mode="lines", name=f"bias b = {bias:.3f}",
                             line=dict(color=GRAY, dash="dot")), 2, 1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), uirevision="fit",
                      legend=dict(orientation="h", y=1.08, yanchor="bottom", x=0))
    fig.update_xaxes(title_text="x", row=2, col=1)
    return fig
