"""Plotly figures drawn as inline SVG (pages/ui/svg_figure.py): what the Train page shows while a run trains."""
import base64
import io
import json
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from runs import sample_slice, small

from lab.trainer import Trainer
from pages.ui import live_feed
from pages.ui import train_charts as charts
from pages.ui.svg_figure import figure_svg

K = "keep_train_"


@pytest.fixture(scope="module")
def snap():
    return Trainer(small(epochs=2), sample_slice(), slots=None).run()


def fig(data, **layout):
    return go.Figure(data=data, layout=layout)


def polylines(svg):
    """{title: [(x, y), ...]} of every polyline."""
    return {title: [tuple(map(float, p.split(","))) for p in points.split()]
            for points, title in re.findall(r'<polyline points="([^"]*)"[^>]*><title>([^<]*)</title>', svg)}


def plot_area(svg):
    """(left, top, width, height) of the first subplot's clip rectangle: the plotting area."""
    return tuple(float(v) for v in re.search(
        r'<clipPath id="[^"]+"><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg).groups())


def images(svg):
    """The PNG images embedded in the SVG, as (H, W, 4) arrays, in order."""
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGBA"))
            for b in re.findall(r'href="data:image/png;base64,([^"]+)"', svg)]


def test_a_point_lands_where_its_values_say_on_linear_axes():
    svg = figure_svg(fig([go.Scatter(x=[0, 5, 10], y=[0, 0.5, 1], name="line")],
                         xaxis={"range": [0, 10]}, yaxis={"range": [0, 1]}))
    left, top, w, h = plot_area(svg)
    (x0, y0), (x1, y1), (x2, y2) = polylines(svg)["line"]
    assert (x0, y0) == pytest.approx((left, top + h), abs=0.1)            # (0, 0): bottom left
    assert (x1, y1) == pytest.approx((left + w / 2, top + h / 2), abs=0.1)
    assert (x2, y2) == pytest.approx((left + w, top), abs=0.1)            # (10, 1): top right


def test_a_log_axis_puts_powers_of_ten_at_equal_distances():
    svg = figure_svg(fig([go.Scatter(x=[0, 1, 2], y=[1, 10, 100], name="loss")], yaxis={"type": "log"}))
    (_, a), (_, b), (_, c) = polylines(svg)["loss"]
    assert a - b == pytest.approx(b - c, abs=0.1) and a > b > c
    ticks = re.findall(r'text-anchor="end" fill="#444">([^<]+)</text>', svg)
    assert "1" in ticks and "10" in ticks and "100" in ticks


def test_a_heatmap_is_an_image_with_row_zero_at_the_bottom_unless_the_axis_is_reversed():
    data = [go.Heatmap(z=[[0, 1], [2, 3]], colorscale=[[0, "#000000"], [1, "#ffffff"]], showscale=False)]
    up = images(figure_svg(fig(data)))[0]
    assert up[-1, 0, 0] == 0 and up[0, -1, 0] == 255              # z=0 bottom left black, z=3 top right white
    assert up[-1, -1, 0] == 85 and up[0, 0, 0] == 170             # z=1 → 1/3 grey, z=2 → 2/3 grey
    down = images(figure_svg(fig(data, yaxis={"autorange": "reversed"})))[0]
    assert down[0, 0, 0] == 0 and down[-1, -1, 0] == 255


def test_named_colour_scales_are_plotly_js_ones_and_missing_cells_are_transparent():
    # the page's figures are not validated (train_charts.figure), so the name itself reaches plotly.js
    svg = figure_svg(charts.figure([{"type": "heatmap", "z": [[0.0, np.nan, 1.0]], "colorscale": "Blues",
                                     "showscale": False}]))
    row = images(svg)[0][0]
    assert tuple(row[0, :3]) == (5, 10, 172)                      # plotly.js's "Blues" starts dark blue
    assert row[1, 3] == 0 and row[0, 3] == 255


def test_a_diverging_scale_is_centred_on_zmid():
    svg = figure_svg(fig([go.Heatmap(z=[[-1.0, 0.0, 3.0]], zmid=0, colorscale=[[0, "#000000"], [1, "#ffffff"]])]))
    row = images(svg)[0][0]
    assert row[1, 0] == pytest.approx(128, abs=1)                 # 0 sits in the middle of −3 … 3
    assert ">-3<" in svg and ">3<" in svg                          # the colour bar says the range


def test_every_line_of_the_loss_figure_is_drawn_with_its_name_and_every_point(snap):
    svg = figure_svg(charts.loss_figure(snap))
    lines = polylines(svg)
    assert {"batch", "batch, smoothed", "train (epoch mean)", "validation"} <= set(lines)
    assert len(lines["batch"]) == len(snap.losses)                 # 2 short epochs: under 600 points
    assert lines["batch, smoothed"][-1][1] > lines["batch, smoothed"][0][1]   # y grows downwards: the loss fell
    assert 'aria-label="Loss"' in svg and "batch, smoothed</text>" in svg     # title and legend


def test_an_eta_change_is_a_dashed_line_at_its_step_with_the_new_value(snap):
    svg = figure_svg(charts.loss_figure(replace(snap, lr_marks=[(0, 0.1), (snap.batches_per_epoch, 0.02)])))
    assert "η → 0.02" in svg
    x = float(re.search(r'<line x1="([\d.]+)" y1="[\d.]+" x2="\1"[^>]*stroke-dasharray', svg)[1])
    batches = polylines(svg)["batch"]                                  # batch k at epoch (k + 1) / per epoch
    first, last = batches[0][0], batches[-1][0]
    per_batch = (last - first) / (len(batches) - 1)
    assert x == pytest.approx(first + per_batch * (snap.batches_per_epoch - 1), abs=0.5)


def test_every_chart_of_the_train_page_converts_with_its_title(snap):
    sizes = snap.config.sizes(784, 10)
    names = [str(k) for k in range(10)]
    figures = [charts.loss_figure(snap), charts.accuracy_figure(snap), charts.gradient_heatmap(snap, sizes),
               charts.neuron_heatmap(snap.latest, sizes), charts.activation_figure(snap, snap.config.activation),
               charts.weight_images(snap.latest["first_layer"]), charts.weight_histograms(snap.latest, sizes),
               charts.confusion_figure(snap.evaluation, names), charts.per_class_figure(snap.evaluation, names)]
    for figure in figures:
        svg = figure_svg(figure)
        title = re.sub(r"<[^>]+>", "", figure.layout.title.text or "chart")
        assert svg.startswith("<svg") and f'aria-label="{title}"' in svg
    confusion = figure_svg(charts.confusion_figure(snap.evaluation, names))
    counts = [int(v) for v in re.findall(r'font-size="11">(\d+)</text>', confusion)]
    assert sorted(counts) == sorted(np.asarray(snap.evaluation["confusion"]).ravel().tolist())


def plotly_titled(app, title):
    """The page's plotly charts whose figure has this title."""
    return [c for c in app.get("plotly_chart") if json.loads(c.proto.spec)["layout"].get("title", {}).get("text") == title]


def test_the_page_draws_svg_charts_while_training_and_plotly_charts_once_the_run_stops():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/train_mnist.py")
    at.run()
    at.select_slider(key=K + "size").set_value(500)
    at.number_input(key=K + "epochs").set_value(50)
    at.select_slider(key=K + "width1").set_value(32)
    at.select_slider(key=K + "speed").set_value(5)                 # slow: still training when we look
    at.run()
    next(b for b in at.button if b.label == "Train").click()
    at.run()
    # live, the curves come as SVG from the feed the page's live panel asks (pages/ui/live_feed.py)
    panel = next(h.proto.body for h in at.get("html") if 'class="bl-live"' in h.proto.body)
    path = re.search(r'data-feed="([^"]+)"', panel).group(1)
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": b"curves=1", "headers": [],
                       "path_params": {"token": path.rsplit("/", 1)[1]}})
    curves = json.loads(live_feed.serve(request).body)
    assert curves["loss"].startswith("<svg") and 'aria-label="Loss"' in curves["loss"]
    assert not plotly_titled(at, "Loss")
    next(b for b in at.button if b.label == "Stop").click()
    at.run()
    at.run()
    assert not at.exception
    assert not [h for h in at.get("html") if 'class="bl-live"' in h.proto.body]
    assert not [m for m in at.markdown if m.value.startswith("<svg")]
    assert plotly_titled(at, "Loss") and plotly_titled(at, "Accuracy")
