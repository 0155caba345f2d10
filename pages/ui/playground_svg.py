"""The Playground's live pictures as SVG text (no Streamlit here, so the benchmark can time them).

Why SVG and not plotly: while training plays, these pictures are redrawn several times a second. A plotly
chart whose figure changes is mounted afresh by the browser each time and shows blank while it renders, so
the animation flickers; an inline SVG is swapped in place. Hovering an element shows its <title> (a weight,
a neuron's bias, a point's label).

Colours follow TensorFlow Playground: orange = negative / class 0, blue = positive / class 1.
"""
import base64
import io
from html import escape

import numpy as np
from PIL import Image

from lab.playground import FEATURES, R

ORANGE, BLUE, MIDDLE = np.array([245, 147, 34]), np.array([8, 119, 189]), np.array([240, 240, 240])
INK, GRID_INK, FIT_RED = "#444", "#ddd", "#e4572e"
FONT = 'font-family="Source Sans Pro, sans-serif" font-size="12"'


# ---- colours and images --------------------------------------------------------------------

def diverging_rgb(t):
    """Colours for t ∈ [−1, 1]: −1 orange, 0 light grey, +1 blue.   (...) -> (..., 3) uint8"""
    t = np.clip(np.nan_to_num(np.asarray(t, dtype=np.float64)), -1, 1)[..., None]
    return np.where(t < 0, MIDDLE + (ORANGE - MIDDLE) * -t, MIDDLE + (BLUE - MIDDLE) * t).astype(np.uint8)


def png_uri(t):
    """A data: URI of the map t (rows = x₂ from low to high) as a diverging-colour PNG, top row = highest x₂."""
    buffer = io.BytesIO()
    Image.fromarray(diverging_rgb(t[::-1])).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def output_colors(output, problem, discretize):
    """The output surface on the colour scale [−1, 1]: 2ŷ − 1 for a probability, ŷ for regression."""
    t = 2 * output - 1 if problem == "classification" else output
    return np.sign(t) if discretize else t


def svg(width, height, body, label):
    """An SVG that scales to its container's width (at most its natural width), on one line for Markdown."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
            f'style="max-width:{width:.0f}px" role="img" aria-label="{escape(label)}" {FONT}>{"".join(body)}</svg>')


def _title(text):
    return f"<title>{escape(text)}</title>"


# ---- axes -------------------------------------------------------------------------------------

class Frame:
    """A plotting rectangle (left, top, width, height in px) showing data ranges xlim × ylim (y maybe log)."""

    def __init__(self, left, top, width, height, xlim, ylim, ylog=False):
        self.left, self.top, self.width, self.height = left, top, width, height
        self.xlim, self.ylim, self.ylog = xlim, ylim, ylog

    def px(self, x):
        return self.left + (np.asarray(x, dtype=np.float64) - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * self.width

    def py(self, y):
        y, (lo, hi) = np.asarray(y, dtype=np.float64), self.ylim
        if self.ylog:
            y, lo, hi = np.log10(y), np.log10(lo), np.log10(hi)
        return self.top + self.height - (y - lo) / (hi - lo) * self.height

    def axes(self, xticks, yticks, xlabel="", ylabel="", grid=True):
        """Tick labels, light grid lines and axis titles."""
        out = []
        for x in xticks:
            X = self.px(x)
            if grid:
                out.append(f'<line x1="{X:.1f}" y1="{self.top}" x2="{X:.1f}" y2="{self.top + self.height}" '
                           f'stroke="{GRID_INK}" stroke-width="0.7"/>')
            out.append(f'<text x="{X:.1f}" y="{self.top + self.height + 14}" text-anchor="middle" '
                       f'fill="{INK}">{x:g}</text>')
        for y in yticks:
            Y = self.py(y)
            if grid:
                out.append(f'<line x1="{self.left}" y1="{Y:.1f}" x2="{self.left + self.width}" y2="{Y:.1f}" '
                           f'stroke="{GRID_INK}" stroke-width="0.7"/>')
            out.append(f'<text x="{self.left - 5}" y="{Y + 4:.1f}" text-anchor="end" fill="{INK}">{y:.3g}</text>')
        if xlabel:
            out.append(f'<text x="{self.left + self.width / 2:.1f}" y="{self.top + self.height + 31}" '
                       f'text-anchor="middle" fill="{INK}">{escape(xlabel)}</text>')
        if ylabel:
            x, y = self.left - 32, self.top + self.height / 2
            out.append(f'<text x="{x}" y="{y:.1f}" text-anchor="middle" fill="{INK}" '
                       f'transform="rotate(-90 {x} {y:.1f})">{escape(ylabel)}</text>')
        return out

    def line(self, x, y, color, width=1.5, dash=None, title=None, opacity=1.0):
        """A polyline through the finite points (x, y), clipped to the frame's y range."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        keep = np.isfinite(y) & ((y > 0) if self.ylog else True)
        if keep.sum() < 1:
            return ""
        y = np.clip(y[keep], *self.ylim)
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(self.px(x[keep]), self.py(y)))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        return (f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{width}" '
                f'opacity="{opacity}"{dashes} stroke-linejoin="round">{_title(title) if title else ""}</polyline>')


def nice_ticks(lo, hi, count=5):
    """About `count` round numbers between lo and hi."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    step = 10 ** np.floor(np.log10(raw))
    step *= min((m for m in (1, 2, 5, 10) if m * step >= raw), default=10)
    start = np.ceil(lo / step) * step
    return [float(v) + 0.0 for v in np.round(np.arange(start, hi + step * 1e-9, step), 12)]


def log_ticks(lo, hi):
    """Round numbers 1, 2, 5 × 10^k between lo > 0 and hi (just the powers of ten when there are many)."""
    ticks = [m * 10.0 ** k for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
             for m in (1, 2, 5) if lo <= m * 10.0 ** k <= hi]
    if not ticks:
        return [float(f"{lo:.2g}"), float(f"{hi:.2g}")]
    return [t for t in ticks if f"{t:e}".startswith("1")] if len(ticks) > 5 else ticks


def _padded(lo, hi, pad=0.08):
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -1.0, 1.0
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    d = (hi - lo) * pad
    return lo - d, hi + d


# ---- output surface ---------------------------------------------------------------------------

def surface_svg(pg, surfaces, show_test=False, discretize=False, size=300):
    """The output over the plane as a heatmap, with the training points (white rim) and test points (black rim)."""
    f = Frame(44, 8, size, size, (-R, R), (-R, R))
    problem = pg.cfg.problem
    smooth = "pixelated" if discretize else "auto"
    body = [f'<image href="{png_uri(output_colors(surfaces.output, problem, discretize))}" x="{f.left}" '
            f'y="{f.top}" width="{size}" height="{size}" preserveAspectRatio="none" '
            f'style="image-rendering:{smooth}"/>']
    body += f.axes([-6, -4, -2, 0, 2, 4, 6], [-6, -4, -2, 0, 2, 4, 6], "x₁", "x₂", grid=False)
    sets = [(pg.data.X_train, pg.data.y_train, "white", "train")]
    if show_test:
        sets.append((pg.data.X_test, pg.data.y_test, "black", "test"))
    for X, y, rim, name in sets:
        rgb = diverging_rgb(2 * y - 1 if problem == "classification" else y)          # (n, 3)
        for (x1, x2), X1, X2, (r, g, b), v in zip(X, f.px(X[:, 0]), f.py(X[:, 1]), rgb, y):
            body.append(f'<circle cx="{X1:.1f}" cy="{X2:.1f}" r="3.3" fill="rgb({r},{g},{b})" stroke="{rim}" '
                        f'stroke-width="1">{_title(f"{name}: ({x1:.2f}, {x2:.2f}), y = {v:.3g}")}</circle>')
    return svg(size + 54, size + 44, body, "the network's output over the input plane with the data points")


# ---- the network diagram ------------------------------------------------------------------

NODE, ROW_STEP, LEFT, TOP = 50, 62, 58, 26


def network_svg(pg, surfaces, discretize=False):
    """Every node's output over the plane as a small image, laid out as the network; edges coloured and
    thickened by weight (blue w > 0, orange w < 0).

    Inputs each have their own colour scale ±max |value|; each hidden layer shares one, ±max |a| over the
    plane — hover a node for its scale and bias, an edge for its weight.
    """
    net, names = pg.net, list(pg.cfg.features)
    columns = [[_scaled(m) for m in surfaces.features]]
    for maps in surfaces.hidden:
        scale = max(float(np.max(np.abs(maps))), 1e-9)
        columns.append([(m / scale, scale) for m in maps])
    columns.append([(output_colors(surfaces.output, pg.cfg.problem, discretize), 1.0)])
    rows = max(len(c) for c in columns)
    step = 110 if len(columns) <= 5 else 86                      # column spacing: tighter for deep networks
    centers = [[(LEFT + c * step + NODE / 2, TOP + i * ROW_STEP + NODE / 2) for i in range(len(col))]
               for c, col in enumerate(columns)]

    body = _edges(net.weights, centers)
    for c, col in enumerate(columns):
        for i, ((t, scale), (x, y)) in enumerate(zip(col, centers[c])):
            body.append(f'<g>{_title(_node_text(c, i, len(columns), names, net, scale))}'
                        f'<image href="{png_uri(t)}" x="{x - NODE / 2:.0f}" y="{y - NODE / 2:.0f}" width="{NODE}" '
                        f'height="{NODE}" preserveAspectRatio="none"/>'
                        f'<rect x="{x - NODE / 2:.0f}" y="{y - NODE / 2:.0f}" width="{NODE}" height="{NODE}" '
                        f'fill="none" stroke="#bbb" stroke-width="0.8"/></g>')
    titles = ["features"] + [f"layer {l} · {len(m)}" for l, m in enumerate(surfaces.hidden, 1)] + ["output"]
    for c, title in enumerate(titles):
        body.append(f'<text x="{LEFT + c * step + NODE / 2}" y="{TOP - 9}" text-anchor="middle" '
                    f'fill="{INK}">{escape(title)}</text>')
    for (x, y), name in zip(centers[0], names):
        body.append(f'<text x="{x - NODE / 2 - 6}" y="{y + 4}" text-anchor="end" fill="{INK}">'
                    f'{escape(FEATURES[name].label)}</text>')
    width = LEFT + (len(columns) - 1) * step + NODE + 8
    return svg(width, TOP + rows * ROW_STEP, body, "the network: every neuron's output over the plane")


def _scaled(m):
    scale = max(float(np.max(np.abs(m))), 1e-9)
    return m / scale, scale


def _node_text(c, i, n_columns, names, net, scale):
    if c == 0:
        return f"input {FEATURES[names[i]].label} (colour scale ±{scale:.3g})"
    if c == n_columns - 1:
        return f"output ŷ, bias b = {float(net.biases[-1][0]):.3f}"
    return f"layer {c}, neuron {i + 1}: bias b = {float(net.biases[c - 1][i]):.3f}, colour scale ±{scale:.3g}"


def _edges(weights, centers):
    """One line per weight from node i of column l to node j of column l + 1; width ∝ |w| / max |w|."""
    w_max = max(max(float(np.max(np.abs(W))) for W in weights), 1e-9)
    out = []
    for l, W in enumerate(weights):                          # W (n_out, n_in): column l -> column l + 1
        for (j, i), w in np.ndenumerate(W):
            (x0, y0), (x1, y1) = centers[l][i], centers[l + 1][j]
            strength = min(abs(float(w)) / w_max, 1.0)
            color = f"rgb({','.join(map(str, BLUE if w >= 0 else ORANGE))})"
            out.append(f'<line x1="{x0 + NODE / 2:.1f}" y1="{y0:.1f}" x2="{x1 - NODE / 2:.1f}" y2="{y1:.1f}" '
                       f'stroke="{color}" stroke-width="{0.5 + 5 * strength:.2f}" '
                       f'opacity="{0.25 + 0.75 * strength:.2f}">{_title(f"w = {w:.3f}")}</line>')
    return out


# ---- loss curve ---------------------------------------------------------------------------

def loss_svg(history, x_label="epoch", y_label="loss", names=("train", "test"), width=340, height=170):
    """Training (and test) loss against the epoch on a log scale (so the end of training stays visible next
    to a high start): history rows are (epoch, train, test) or (step, loss)."""
    h = np.asarray(history, dtype=np.float64)                     # (T, 2 or 3)
    if len(h) > 600:                                              # a long run: draw every k-th point (and the last)
        h = np.concatenate([h[:-1:len(h) // 300], h[-1:]])
    values = h[:, 1:][np.isfinite(h[:, 1:]) & (h[:, 1:] > 0)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.1, 1.0)
    lo, hi = max(lo / 1.3, hi * 1e-6), hi * 1.3
    f = Frame(48, 22, width - 60, height - 58, (0, max(h[-1, 0], 10)), (lo, hi), ylog=True)
    body = f.axes(nice_ticks(*f.xlim, 4), log_ticks(lo, hi), x_label, f"{y_label} (log)")
    series = [(1, "#0877bd", names[0])] + ([(2, "black", names[1])] if h.shape[1] > 2 else [])
    for k, (column, color, name) in enumerate(series):
        body.append(f.line(h[:, 0], h[:, column], color, 1.8, title=f"{name} {y_label}"))
        body.append(f'<line x1="{f.left + 70 * k}" y1="9" x2="{f.left + 70 * k + 18}" y2="9" stroke="{color}" '
                    f'stroke-width="2"/><text x="{f.left + 70 * k + 22}" y="13" fill="{INK}">{name}</text>')
    return svg(width, height, body, "loss curve")


# ---- universal approximation --------------------------------------------------------------

def fit_svg(fit, width=720, panel=230):
    """Top: the target f(x) and the fit ŷ(x). Bottom: each last-hidden-layer neuron's piece w_i a_i(x) and b."""
    terms, bias, y_hat = fit.contributions()
    x, w = fit.x, fit.net.weights[-1][0]
    top = Frame(48, 26, width - 60, panel, (-1, 1), _padded(min(fit.y.min(), np.nanmin(y_hat)),
                                                           max(fit.y.max(), np.nanmax(y_hat))))
    low = Frame(48, 26 + panel + 48, width - 60, panel,
                (-1, 1), _padded(min(np.nanmin(terms), bias), max(np.nanmax(terms), bias)))
    body = top.axes(nice_ticks(-1, 1, 4), nice_ticks(*top.ylim, 4))
    body.append(top.line(x, fit.y, "black", 2, dash="6 4", title="target f(x)"))
    body.append(top.line(x, y_hat, FIT_RED, 3, title="the network's fit ŷ(x)"))
    body.append(f'<text x="{top.left}" y="16" fill="{INK}">target f(x) (dashed) and the network\'s fit ŷ(x) '
                f'(red)</text>')
    body += low.axes(nice_ticks(-1, 1, 4), nice_ticks(*low.ylim, 4), "x")
    for i, term in enumerate(terms):
        color = "#0877bd" if w[i] >= 0 else "#f59322"
        body.append(low.line(x, term, color, 1.4, opacity=0.85, title=f"neuron {i + 1}: w = {w[i]:.3f}"))
    body.append(low.line([-1, 1], [bias, bias], INK, 1.2, dash="2 3", title=f"output bias b = {bias:.3f}"))
    body.append(f'<text x="{low.left}" y="{low.top - 10}" fill="{INK}">each hidden neuron\'s piece wᵢ·aᵢ(x) '
                f'(blue w &gt; 0, orange w &lt; 0) and the bias b (dotted): they add up to ŷ(x)</text>')
    return svg(width, low.top + panel + 36, body, "universal approximation: the fit and its pieces")
