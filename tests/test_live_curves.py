"""The Train page's live curves: SVG while a run trains, plotly once it pauses or ends (pages/ui/live_curves.py)."""
import json
import re
from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from runs import sample_slice, small

from lab.trainer import Trainer
from pages.ui import live_curves

K = "keep_train_"


@pytest.fixture(scope="module")
def snap():
    return Trainer(small(epochs=2), sample_slice(), slots=None).run()


def polylines(svg_text):
    """{title: [(x, y), ...]} of every polyline in the SVG."""
    out = {}
    for points, title in re.findall(r'<polyline points="([^"]*)"[^>]*><title>([^<]*)</title>', svg_text):
        out[title] = [tuple(map(float, p.split(","))) for p in points.split()]
    return out


def plotly_titled(app, title):
    """The page's plotly charts whose figure has this title."""
    return [c for c in app.get("plotly_chart") if json.loads(c.proto.spec)["layout"].get("title", {}).get("text") == title]


def test_the_loss_curve_draws_every_series_of_the_run_with_the_smoothed_loss_falling(snap):
    lines = polylines(live_curves.loss_svg(snap))
    assert {"loss of each batch", "batch loss, smoothed", "train, epoch mean", "validation"} <= set(lines)
    assert len(lines["loss of each batch"]) == len(snap.losses)             # 2 epochs: fewer than 600 points
    smoothed = lines["batch loss, smoothed"]
    assert smoothed[-1][1] > smoothed[0][1]              # SVG y grows downwards: a falling loss ends lower
    xs = [x for x, _ in smoothed]
    assert xs == sorted(xs) and len(lines["train, epoch mean"]) == len(snap.epochs_log) == 2


def test_an_eta_change_is_marked_with_its_new_value_where_it_happened(snap):
    marked = replace(snap, lr_marks=[(0, 0.1), (snap.batches_per_epoch, 0.02)])
    text = live_curves.loss_svg(marked)
    assert "η → 0.02" in text and "η → 0.1<" not in text         # the starting η is not a change
    x_mark = float(re.search(r'<line x1="([\d.]+)"[^>]*stroke-dasharray="4 3" stroke-width="1"><title>η', text)[1])
    end = polylines(text)["loss of each batch"][-1][0]          # the last batch sits at epoch 2
    start = 60                                                   # the frame's left edge: epoch 0
    assert x_mark == pytest.approx(start + (end - start) / 2, abs=1.0)   # epoch 1 of 2: half way


def test_a_loss_of_almost_zero_does_not_stretch_the_log_axis_beyond_four_decades(snap):
    losses = np.array(snap.losses, dtype=np.float64)
    losses[5] = 1e-30
    text = live_curves.loss_svg(replace(snap, losses=losses))
    ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="#444">([^<]+)</text>', text)]
    assert ticks and max(ticks) / min(ticks) <= 10 ** live_curves.LOG_DECADES


def test_the_accuracy_curve_marks_each_epochs_accuracies_in_percent(snap):
    text = live_curves.accuracy_svg(snap)
    lines = polylines(text)
    assert {"batch accuracy, smoothed", "train (epoch)", "validation", "test"} <= set(lines)
    shown = re.findall(r"<title>test, epoch (\d+): ([\d.]+)%</title>", text)
    assert [(int(e), float(a)) for e, a in shown] == [
        (e["epoch"], round(100 * e["test_acc"], 1)) for e in snap.epochs_log]


def test_the_page_draws_svg_curves_while_training_and_plotly_charts_once_the_run_stops():
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
    svg_curves = [m for m in at.markdown if 'aria-label="loss curve"' in m.value]
    assert svg_curves and not plotly_titled(at, "Loss")
    next(b for b in at.button if b.label == "Stop").click()
    at.run()
    at.run()
    assert not at.exception
    assert not [m for m in at.markdown if 'aria-label="loss curve"' in m.value]
    assert plotly_titled(at, "Loss") and plotly_titled(at, "Accuracy")
