"""A plotly figure drawn as one inline SVG: what the Train page shows while a run trains (no Streamlit here).

Why: the browser mounts a plotly chart afresh every time a fragment sends it again, changed or not. On a
2-core machine that costs 50–150 ms of the page's one main thread per chart; the Train page refreshes a
dozen charts while a network trains, and a key press on the η slider then waited behind them (measured
with benchmarks/bench_live.py and with the browser's long-task timer: five plotly charts refreshed twice a
second kept the main thread busy ~1,000 ms per second, the same five curves as SVG ~250 ms). An inline SVG
is swapped in place in a few milliseconds. When the run pauses or ends the page shows the very same
figures as plotly charts again, with zoom and hover; hovering an SVG trace shows its name.

`figure_svg(fig)` draws the part of plotly the Train page's figures use (pages/ui/train_charts.py):
scatter (lines, markers, steps, filled bands), bar and heatmap traces (a heatmap is one PNG, its colour
bar another), several subplots side by side (axis domains, overlaying axes, equal-aspect axes), linear,
log and category axes, reversed axes, line shapes, annotations, the title and a legend under the plot.
Anything else in a figure is ignored rather than drawn wrongly.
"""
import base64
import io
import itertools
import re
from html import escape

import numpy as np
import plotly.colors
from PIL import Image

from pages.ui.playground_svg import log_ticks, nice_ticks

INK, GRID_INK, AXIS_INK = "#444", "#e5e5e5", "#bbb"
FONT = 'font-family="Source Sans Pro, sans-serif" font-size="12"'
DASHES = {"dot": "2 3", "dash": "6 4", "dashdot": "6 3 2 3", "longdash": "10 4"}
LEGEND_ROW = 18              # px per legend row under the plot
COLORBAR = 58                # px the colour bar and its labels take on the right
_ids = itertools.count()     # SVGs on one page share one id space: each clip path gets a new number


def figure_svg(fig, width=640):
    """The figure `fig` (a plotly go.Figure) as an SVG string `width` px wide (it scales to its column)."""
    spec = _arrays(fig.to_plotly_json())
    traces, layout = spec.get("data", []), spec.get("layout", {})
    height = float(layout.get("height") or 300)
    legend = _legend_items(traces, layout)
    colorbar = next((t for t in traces if t.get("type") == "heatmap" and t.get("showscale", True) is not False), None)
    notes_above = any(_paper(a, "y") >= 1 for a in layout.get("annotations") or [])
    top = (30 if _text(layout.get("title")) else 8) + (18 if notes_above else 0)
    left, right = 8, 12 + (COLORBAR if colorbar is not None else 0)
    rows = _legend_rows(legend, width - 20)
    bottom = 8 + LEGEND_ROW * rows
    axes = _axes(traces, layout)
    if any(a["visible"] and a["letter"] == "x" and a["ticks"] for a in axes.values()):
        bottom += 18 + (16 if any(a["title"] for a in axes.values() if a["letter"] == "x" and a["visible"]) else 0)
    labelled = [a for a in axes.values() if a["visible"] and a["letter"] == "y" and a["ticks"] and not a["overlaying"]]
    if labelled:                                   # room for the longest tick label (~6.5 px a character)
        longest = max(len(label) for a in labelled for _, label in _ticks(a, _limits(a, False)))
        left += 12 + 6.5 * longest + (18 if any(a["title"] for a in labelled) else 0)
    area = (left, top, width - left - right, max(height - top - bottom, 20))
    body = []
    frames = _frames(traces, layout, axes, area)
    for frame in frames.values():
        body += frame.grid_and_ticks()
    for trace in traces:
        frame = frames[(trace.get("xaxis", "x"), trace.get("yaxis", "y"))]
        body.append(_TRACES.get(trace.get("type", "scatter"), lambda *a: "")(frame, trace))
        frame.last = trace if trace.get("type", "scatter") == "scatter" else frame.last
    for shape in layout.get("shapes") or []:
        body.append(_shape(shape, frames, area))
    for note in layout.get("annotations") or []:
        body.append(_annotation(note, frames, area))
    title = _text(layout.get("title"))
    if title:
        body.append(f'<text x="{width / 2:.0f}" y="19" text-anchor="middle" font-size="15" fill="{INK}">'
                    f'{escape(title)}</text>')
    if colorbar is not None:
        body += _colorbar(colorbar, area)
    body += _draw_legend(legend, width - 20, height - LEGEND_ROW * rows + 4)
    label = escape(title or "chart")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
            f'style="max-width:{width:.0f}px" role="img" aria-label="{label}" {FONT}>{"".join(body)}</svg>')


def _arrays(value):
    """The figure's JSON with plotly's typed arrays ({"dtype", "bdata", "shape"}) decoded back to NumPy."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            if isinstance(shape, str):
                shape = [int(n) for n in shape.split(",")]
            return array.reshape(shape) if shape else array
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_arrays(v) for v in value]
    return value


# ---- axes and subplots ----------------------------------------------------------------------

def _axis_key(ref):
    """"x2" → "xaxis2", "y" → "yaxis"."""
    return f"{ref[0]}axis{ref[1:]}"


def _axes(traces, layout):
    """Every axis the traces use: its layout settings and the values plotted on it."""
    axes = {}
    for trace in traces:
        for letter in "xy":
            ref = trace.get(f"{letter}axis", letter)
            if ref not in axes:
                a = layout.get(_axis_key(ref)) or {}
                axes[ref] = {"letter": letter, "values": [], "categories": [], "spans": [],
                             "type": a.get("type"), "range": a.get("range"), "domain": a.get("domain", [0, 1]),
                             "visible": a.get("visible", True) is not False,
                             "ticks": a.get("showticklabels", True) is not False and a.get("visible", True) is not False,
                             "reversed": a.get("autorange") == "reversed", "title": _text(a.get("title")),
                             "overlaying": a.get("overlaying"), "anchor": a.get("anchor"),
                             "scaleanchor": a.get("scaleanchor"), "dtick": a.get("dtick")}
            _collect(axes[ref], trace, letter)
    return axes


def _collect(axis, trace, letter):
    kind = trace.get("type", "scatter")
    if kind == "heatmap":
        z = np.asarray(trace.get("z"), dtype=np.float64)
        if z.ndim != 2 or not z.size:
            return
        n = z.shape[1] if letter == "x" else z.shape[0]
        given = trace.get(letter)
        if given is not None and len(given) == n and _categorical(given):
            axis["categories"] += [c for c in map(str, given) if c not in axis["categories"]]
            axis["type"] = "category"
        elif given is not None and len(given) == n and n > 0:
            centers = np.asarray(given, dtype=np.float64)
            half = (np.diff(centers).min() / 2) if n > 1 else 0.5
            axis["spans"].append((float(centers.min() - half), float(centers.max() + half)))
        else:
            axis["spans"].append((-0.5, n - 0.5))
        return
    values = trace.get(letter)
    if values is None:
        other = trace.get("y" if letter == "x" else "x")
        values = np.arange(len(other)) if other is not None else []
    if _categorical(values):
        axis["categories"] += [c for c in map(str, values) if c not in axis["categories"]]
        axis["type"] = "category"
        return
    v = np.asarray(values, dtype=np.float64).ravel()
    axis["values"].append(v[np.isfinite(v)])
    if kind == "bar" and letter == "y":
        axis["values"].append(np.zeros(1))                          # bars stand on 0
    if kind == "bar" and letter == "x" and len(v) > 1:
        half = float(np.min(np.diff(np.sort(v)))) / 2
        axis["spans"].append((float(np.nanmin(v) - half), float(np.nanmax(v) + half)))


def _categorical(values):
    return len(values) > 0 and isinstance(np.asarray(values, dtype=object).ravel()[0], str)


def _limits(axis, markers_or_bars):
    """(lo, hi) of an axis in its own units (log10 units on a log axis), as plotly's autorange would pick."""
    log = axis["type"] == "log"
    if axis["range"] is not None:
        return tuple(float(r) for r in axis["range"])
    if axis["type"] == "category":
        return -0.5, len(axis["categories"]) - 0.5
    values = np.concatenate(axis["values"]) if axis["values"] else np.zeros(0)
    if log:
        values = np.log10(values[values > 0])
    spans = axis["spans"]
    lows = ([float(values.min())] if len(values) else []) + [a for a, _ in spans]
    highs = ([float(values.max())] if len(values) else []) + [b for _, b in spans]
    lo, hi = (min(lows), max(highs)) if lows else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    elif markers_or_bars and not spans:
        pad = 0.05 * (hi - lo)
        lo, hi = lo - (pad if lo != 0 else 0), hi + pad
    return lo, hi


class _Frame:
    """One subplot: a pixel box and the data ranges of its x and y axes."""

    def __init__(self, box, x, y, xlim, ylim):
        self.box, self.x, self.y, self.xlim, self.ylim = box, x, y, xlim, ylim
        self.clip = f"svgfig{next(_ids)}"
        self.last = None                          # the previous scatter trace drawn here (for fill="tonexty")

    def _to(self, values, axis, lim, start, size, flip):
        v = self.units(values, axis)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):   # ±inf / 1e308 spans: NaN, not drawn
            t = (v - lim[0]) / (lim[1] - lim[0])
        t = 1 - t if flip else t
        return start + t * size

    def units(self, values, axis):
        """Values in the axis's own units: category labels → indices, log axis → log10."""
        if axis["type"] == "category":
            index = {c: i for i, c in enumerate(axis["categories"])}
            if len(values) and isinstance(np.asarray(values, dtype=object).ravel()[0], str):
                return np.array([index.get(str(v), np.nan) for v in values], dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if axis["type"] == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(v > 0, np.log10(np.where(v > 0, v, 1)), np.nan)
        return v

    def px(self, values):
        left, _, w, _ = self.box
        return self._to(values, self.x, self.xlim, left, w, self.x["reversed"])

    def py(self, values):
        _, top, _, h = self.box
        return self._to(values, self.y, self.ylim, top, h, not self.y["reversed"])

    def clip_path(self):
        left, top, w, h = self.box
        return (f'<clipPath id="{self.clip}"><rect x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" '
                f'height="{h:.1f}"/></clipPath>')

    def grid_and_ticks(self):
        left, top, w, h = self.box
        out = [self.clip_path()]
        if self.x["visible"]:
            for value, label in _ticks(self.x, self.xlim):
                X = float(self.px([value] if self.x["type"] != "log" else [10 ** value])[0])
                out.append(f'<line x1="{X:.1f}" y1="{top:.1f}" x2="{X:.1f}" y2="{top + h:.1f}" stroke="{GRID_INK}"/>')
                if self.x["ticks"]:
                    out.append(f'<text x="{X:.1f}" y="{top + h + 14:.1f}" text-anchor="middle" fill="{INK}">'
                               f'{escape(label)}</text>')
            if self.x["title"]:
                out.append(f'<text x="{left + w / 2:.1f}" y="{top + h + 31:.1f}" text-anchor="middle" '
                           f'fill="{INK}">{escape(self.x["title"])}</text>')
        if self.y["visible"] and not self.y["overlaying"]:
            for value, label in _ticks(self.y, self.ylim):
                Y = float(self.py([value] if self.y["type"] != "log" else [10 ** value])[0])
                out.append(f'<line x1="{left:.1f}" y1="{Y:.1f}" x2="{left + w:.1f}" y2="{Y:.1f}" stroke="{GRID_INK}"/>')
                if self.y["ticks"]:
                    out.append(f'<text x="{left - 5:.1f}" y="{Y + 4:.1f}" text-anchor="end" fill="{INK}">'
                               f'{escape(label)}</text>')
            if self.y["title"]:
                longest = max((len(label) for _, label in _ticks(self.y, self.ylim)), default=1)
                x, y = left - 16 - 6.5 * longest, top + h / 2
                out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="{INK}" '
                           f'transform="rotate(-90 {x:.1f} {y:.1f})">{escape(self.y["title"])}</text>')
        if self.x["visible"] or self.y["visible"]:
            out.append(f'<line x1="{left:.1f}" y1="{top + h:.1f}" x2="{left + w:.1f}" y2="{top + h:.1f}" '
                       f'stroke="{AXIS_INK}"/>')
        return out


def _ticks(axis, lim):
    """[(value in axis units, label)] for an axis's range."""
    lo, hi = min(lim), max(lim)
    if axis["type"] == "category":
        cats = axis["categories"]
        every = max(1, int(np.ceil(len(cats) / 12)))
        return [(i, c if len(c) <= 14 else c[:13] + "…") for i, c in enumerate(cats) if i % every == 0]
    if axis["type"] == "log":
        return [(np.log10(t), f"{t:g}") for t in log_ticks(10 ** lo, 10 ** hi)]
    if not np.isfinite(hi - lo):                  # values near ±1e308 (a diverging run): no round ticks exist
        return [(lo, f"{lo:.3g}"), (hi, f"{hi:.3g}")] if np.isfinite([lo, hi]).all() else []
    return [(t, f"{t:g}") for t in nice_ticks(lo, hi, 5) if lo - 1e-9 <= t <= hi + 1e-9]


def _frames(traces, layout, axes, area):
    """A _Frame for every (x axis, y axis) pair the traces use, placed by the axes' domains."""
    left, top, width, height = area
    frames = {}
    markers = {}
    for t in traces:
        pair = (t.get("xaxis", "x"), t.get("yaxis", "y"))
        markers[pair] = markers.get(pair, False) or t.get("type") == "bar" or "markers" in str(t.get("mode", ""))
    for pair in markers:
        x, y = axes[pair[0]], axes[pair[1]]
        base = axes.get(y["overlaying"]) if y["overlaying"] else y
        dx, dy = x["domain"], (base or y)["domain"]
        gap = 4 if len(markers) > 1 else 0
        box = [left + dx[0] * width + (gap if dx[0] > 0 else 0), top + (1 - dy[1]) * height,
               (dx[1] - dx[0]) * width - (gap if dx[0] > 0 else 0), (dy[1] - dy[0]) * height]
        xlim, ylim = _limits(x, markers[pair]), _limits(y, markers[pair])
        if y["scaleanchor"] == pair[0]:                    # equal units on both axes: shrink one side, centred
            per_x, per_y = box[2] / (xlim[1] - xlim[0]), box[3] / (ylim[1] - ylim[0])
            per = min(per_x, per_y)
            w, h = per * (xlim[1] - xlim[0]), per * (ylim[1] - ylim[0])
            box = [box[0] + (box[2] - w) / 2, box[1] + (box[3] - h) / 2, w, h]
        frames[pair] = _Frame(tuple(box), x, y, xlim, ylim)
    return frames


# ---- traces ---------------------------------------------------------------------------------

def _scatter(f, t):
    y = t.get("y")
    if y is None or len(y) == 0:
        return ""
    x = t.get("x") if t.get("x") is not None else np.arange(len(y))
    X, Y = f.px(x), f.py(y)
    ok = np.isfinite(X) & np.isfinite(Y)
    line, mode = t.get("line") or {}, str(t.get("mode", "lines"))
    color = line.get("color") or (t.get("marker") or {}).get("color") or INK
    opacity = t.get("opacity", 1)
    name = escape(str(t.get("name") or ""))
    out = []
    fill = t.get("fill")
    if fill in ("toself", "tonexty", "tozeroy") and ok.sum() > 1:
        ring_x, ring_y = X[ok], Y[ok]
        if fill == "tonexty" and f.last is not None and f.last.get("y") is not None:
            below = f.last
            bx = f.px(below.get("x") if below.get("x") is not None else np.arange(len(below["y"])))
            by = f.py(below["y"])
            keep = np.isfinite(bx) & np.isfinite(by)
            ring_x, ring_y = np.concatenate([ring_x, bx[keep][::-1]]), np.concatenate([ring_y, by[keep][::-1]])
        elif fill == "tozeroy":
            zero = float(f.py([0])[0]) if f.y["type"] != "log" else f.box[1] + f.box[3]
            ring_x = np.concatenate([ring_x, ring_x[::-1][:1], ring_x[:1]])
            ring_y = np.concatenate([ring_y, [zero, zero]])
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(ring_x, ring_y))
        out.append(f'<polygon points="{points}" fill="{t.get("fillcolor", color)}" opacity="{opacity}" stroke="none"/>')
    if "lines" in mode and line.get("width", 2) != 0 and fill != "toself":
        if line.get("shape") == "hvh" and ok.sum() > 1:
            X, Y = _steps(X[ok], Y[ok])
            ok = np.ones(len(X), bool)
        for run in _finite_runs(ok):
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(X[run], Y[run]))
            dash = DASHES.get(line.get("dash"))
            out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{line.get("width", 2)}"'
                       f' opacity="{opacity}" stroke-linejoin="round"' + (f' stroke-dasharray="{dash}"' if dash else "")
                       + f'><title>{name}</title></polyline>')
    if "markers" in mode:
        marker = t.get("marker") or {}
        size, mcolor = float(marker.get("size", 6)), marker.get("color", color)
        for a, b in zip(X[ok], Y[ok]):
            if str(marker.get("symbol", "")).startswith("x"):
                r = size / 2
                out.append(f'<path d="M{a - r:.1f},{b - r:.1f}L{a + r:.1f},{b + r:.1f}M{a - r:.1f},{b + r:.1f}'
                           f'L{a + r:.1f},{b - r:.1f}" stroke="{mcolor}" stroke-width="1"/>')
            else:
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{size / 2:.1f}" fill="{mcolor}" opacity="{opacity}">'
                           f'<title>{name}</title></circle>')
    return f'<g clip-path="url(#{f.clip})">{"".join(out)}</g>'


def _steps(X, Y):
    """A step line through points, each value held from half way to its left neighbour to half way to its right."""
    mids = (X[:-1] + X[1:]) / 2
    xs = np.concatenate([[X[0]], np.repeat(mids, 2), [X[-1]]])
    ys = np.repeat(Y, 2)
    return xs, ys


def _finite_runs(ok):
    """Index arrays of the runs of consecutive True values (a line breaks where a value is missing)."""
    idx = np.flatnonzero(ok)
    if not len(idx):
        return []
    return [r for r in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(r) > 1]


def _bar(f, t):
    x, y = t.get("x"), t.get("y")
    if x is None or y is None or not len(y):
        return ""
    X, Y, base = f.px(x), f.py(y), float(f.py([0 if f.y["type"] != "log" else 10 ** f.ylim[0]])[0])
    spacing = np.min(np.diff(np.sort(X))) if len(X) > 1 else f.box[2] / 2
    gap = 0.0 if spacing < 6 else 0.2
    w = spacing * (1 - gap)
    colors = (t.get("marker") or {}).get("color", "#888")
    colors = colors if isinstance(colors, (list, tuple, np.ndarray)) else [colors] * len(X)
    name = escape(str(t.get("name") or ""))
    out = [f'<rect x="{a - w / 2:.1f}" y="{min(b, base):.1f}" width="{max(w, 0.5):.1f}" height="{abs(base - b):.1f}" '
           f'fill="{c}" opacity="{t.get("opacity", 1)}"><title>{name} {v}</title></rect>'
           for a, b, c, v in zip(X, Y, colors, y) if np.isfinite(a) and np.isfinite(b)]
    text = t.get("text")
    if text is not None and not isinstance(text, str) and t.get("textposition", "outside") in ("outside", "auto"):
        out += [f'<text x="{a:.1f}" y="{min(b, base) - 4:.1f}" text-anchor="middle" fill="{INK}" font-size="11">'
                f'{escape(str(v))}</text>' for a, b, v in zip(X, Y, text) if np.isfinite(a) and np.isfinite(b)]
    return f'<g clip-path="url(#{f.clip})">{"".join(out)}</g>'


def _heatmap(f, t):
    z = np.asarray(t.get("z"), dtype=np.float64)
    if z.ndim != 2 or not z.size:
        return ""
    lo, hi = _zrange(t, z)
    rgba = _colors(t, (z - lo) / (hi - lo if hi > lo else 1.0))
    rgba[~np.isfinite(z)] = 0                                         # missing cells stay transparent
    if t.get("xgap") or t.get("ygap"):                                # tiles: a 1-px gap around every cell
        k = 8
        rgba = np.kron(rgba, np.ones((k, k, 1), dtype=np.uint8))
        rgba[k - 1::k, :, 3] = 0
        rgba[:, k - 1::k, 3] = 0
    X = f.px(_cell_edges(t, z.shape[1], "x")) if f.x["type"] != "category" else _category_px(f, "x", z.shape[1], t)
    Y = f.py(_cell_edges(t, z.shape[0], "y")) if f.y["type"] != "category" else _category_px(f, "y", z.shape[0], t)
    image = rgba[::-1] if Y[0] > Y[-1] else rgba                      # row 0 at the bottom unless reversed
    image = image[:, ::-1] if X[0] > X[-1] else image
    x0, x1, y0, y1 = min(X[0], X[-1]), max(X[0], X[-1]), min(Y[0], Y[-1]), max(Y[0], Y[-1])
    out = [f'<image x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" preserveAspectRatio="none" '
           f'style="image-rendering:pixelated" href="{_png(image)}"/>']
    text = t.get("text")
    if text is not None and t.get("texttemplate") and z.size <= 400:   # numbers in the cells (a confusion matrix)
        text, shade = np.asarray(text), _colors(t, (z - lo) / (hi - lo if hi > lo else 1.0))[..., :3] @ [0.299, 0.587, 0.114]
        for r in range(z.shape[0]):
            for j in range(z.shape[1]):
                ink = "white" if shade[r, j] < 140 else "black"
                out.append(f'<text x="{(X[j] + X[j + 1]) / 2:.1f}" y="{(Y[r] + Y[r + 1]) / 2 + 4:.1f}" '
                           f'text-anchor="middle" fill="{ink}" font-size="11">{escape(str(text[r, j]))}</text>')
    return f'<g clip-path="url(#{f.clip})">{"".join(out)}</g>'


def _cell_edges(t, n, letter):
    given = t.get(letter)
    if given is None or len(given) != n or _categorical(given):
        return np.arange(n + 1) - 0.5
    c = np.asarray(given, dtype=np.float64)
    if n == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mids = (c[:-1] + c[1:]) / 2
    return np.concatenate([[c[0] - (mids[0] - c[0])], mids, [c[-1] + (c[-1] - mids[-1])]])


def _category_px(f, letter, n, t):
    """Cell edges in px on a category axis: cell i spans category index i ± 0.5."""
    axis = f.x if letter == "x" else f.y
    given = t.get(letter)
    index = [axis["categories"].index(str(c)) for c in given] if given is not None else list(range(n))
    edges = np.concatenate([np.asarray(index, dtype=np.float64) - 0.5, [index[-1] + 0.5]])
    lim = f.xlim if letter == "x" else f.ylim
    box = f.box
    start, size = (box[0], box[2]) if letter == "x" else (box[1], box[3])
    flip = axis["reversed"] if letter == "x" else not axis["reversed"]
    u = (edges - lim[0]) / (lim[1] - lim[0])
    return start + (1 - u if flip else u) * size


def _zrange(t, z):
    finite = z[np.isfinite(z)]
    lo = t.get("zmin", float(finite.min()) if len(finite) else 0.0)
    hi = t.get("zmax", float(finite.max()) if len(finite) else 1.0)
    if t.get("zmid") is not None and ("zmin" not in t or "zmax" not in t):
        m = max(abs(lo - t["zmid"]), abs(hi - t["zmid"]))
        lo, hi = t["zmid"] - m, t["zmid"] + m
    return float(lo), float(hi)


def _colors(t, u):
    """RGBA (…, 4) uint8 of values u ∈ [0, 1] on the trace's colour scale."""
    scale = t.get("colorscale") or "Viridis"
    if isinstance(scale, str):       # a name means plotly.js's own scale (its "Blues" runs dark → light)
        scale = plotly.colors.PLOTLY_SCALES.get(scale) or plotly.colors.get_colorscale(scale)
    if t.get("reversescale"):
        scale = [[1 - s, c] for s, c in reversed(scale)]
    stops = np.array([float(s) for s, _ in scale])
    rgb = np.array([_rgb(c) for _, c in scale], dtype=np.float64)                       # (S, 3)
    u = np.clip(np.nan_to_num(u, nan=0.0), 0, 1)
    out = np.stack([np.interp(u, stops, rgb[:, k]) for k in range(3)] + [np.full(u.shape, 255.0)], axis=-1)
    return out.round().astype(np.uint8)


def _rgb(color):
    color = color.strip()
    if color.startswith("#"):
        h = color[1:]
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return [int(h[i:i + 2], 16) for i in (0, 2, 4)]
    return [float(v) for v in re.findall(r"[\d.]+", color)[:3]]


def _png(rgba):
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


_TRACES = {"scatter": _scatter, "scattergl": _scatter, "bar": _bar, "heatmap": _heatmap}


# ---- colour bar, shapes, annotations, legend -------------------------------------------------

def _colorbar(t, area):
    left, top, width, height = area
    z = np.asarray(t.get("z"), dtype=np.float64)
    lo, hi = _zrange(t, z)
    strip = _colors(t, np.linspace(1, 0, 64)[:, None])
    x = left + width + 14
    title = _text((t.get("colorbar") or {}).get("title"))
    out = [f'<image x="{x:.1f}" y="{top:.1f}" width="12" height="{height:.1f}" preserveAspectRatio="none" '
           f'href="{_png(strip)}"/>']
    for value, y in ((hi, top + 4), ((lo + hi) / 2, top + height / 2 + 4), (lo, top + height)):
        out.append(f'<text x="{x + 16:.1f}" y="{y:.1f}" fill="{INK}" font-size="11">{value:.3g}</text>')
    if title:
        out.append(f'<text x="{x:.1f}" y="{top - 5:.1f}" fill="{INK}" font-size="11">{escape(title)}</text>')
    return out


def _position(value, ref, frames, area, letter):
    """A shape's or annotation's coordinate in px: on a data axis, or on the plot area ("paper")."""
    left, top, width, height = area
    if ref == "paper" or ref is None:
        return left + value * width if letter == "x" else top + (1 - value) * height
    frame = next((f for (xr, yr), f in frames.items() if (xr if letter == "x" else yr) == ref), None)
    if frame is None:
        return None
    return float((frame.px if letter == "x" else frame.py)([value])[0])


def _shape(s, frames, area):
    if s.get("type") != "line":
        return ""
    x0, x1 = (_position(s.get(k), s.get("xref"), frames, area, "x") for k in ("x0", "x1"))
    y0, y1 = (_position(s.get(k), s.get("yref"), frames, area, "y") for k in ("y0", "y1"))
    if None in (x0, x1, y0, y1) or not all(np.isfinite([x0, x1, y0, y1])):
        return ""
    line = s.get("line") or {}
    dash = DASHES.get(line.get("dash"))
    return (f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{line.get("color", INK)}" '
            f'stroke-width="{line.get("width", 1)}"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")


def _paper(note, letter):
    return float(note.get(letter, 0)) if note.get(f"{letter}ref") == "paper" else 0.0


def _annotation(a, frames, area):
    x = _position(a.get("x", 0), a.get("xref"), frames, area, "x")
    y = _position(a.get("y", 0), a.get("yref"), frames, area, "y")
    if x is None or y is None or not np.isfinite([x, y]).all():
        return ""
    y = y - 5 if a.get("yanchor") == "bottom" else y + 12 if a.get("yanchor") == "top" else y + 4
    font = a.get("font") or {}
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="{font.get("color", INK)}" '
            f'font-size="{font.get("size", 12)}">{escape(_plain(str(a.get("text", ""))))}</text>')


def _legend_items(traces, layout):
    """[(colour, dash, name)] of the traces a plotly legend would list."""
    if layout.get("showlegend") is False:
        return []
    named = [t for t in traces if t.get("name") and t.get("showlegend", True) is not False]
    if len(named) < 2 and layout.get("showlegend") is not True:
        return []
    items, seen = [], set()
    for t in named:
        key = (t.get("legendgroup"), t.get("name"))
        if key in seen:
            continue
        seen.add(key)
        line = t.get("line") or {}
        color = line.get("color") or (t.get("marker") or {}).get("color") or INK
        items.append((color if isinstance(color, str) else INK, DASHES.get(line.get("dash")), str(t["name"]),
                      t.get("type") == "bar"))
    return items


def _legend_rows(items, width):
    rows, x = (1 if items else 0), 0
    for *_, name, _bar in items:
        w = 32 + 6.5 * len(name)
        if x and x + w > width:
            rows, x = rows + 1, 0
        x += w
    return rows


def _draw_legend(items, width, y):
    out, x = [], 10.0
    for color, dash, name, is_bar in items:
        w = 32 + 6.5 * len(name)
        if x > 10 and x + w > width:
            x, y = 10.0, y + LEGEND_ROW
        swatch = (f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="16" height="8" fill="{color}" opacity="0.7"/>' if is_bar
                  else f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" stroke="{color}" '
                       f'stroke-width="2.5"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        out.append(swatch + f'<text x="{x + 23:.1f}" y="{y:.1f}" fill="{INK}">{escape(name)}</text>')
        x += w
    return out


def _text(title):
    if isinstance(title, dict):
        title = title.get("text")
    return _plain(str(title)) if title else ""


def _plain(text):
    """Plotly's rich text as plain text: <br> becomes a separator, other tags go."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " · ", text))
