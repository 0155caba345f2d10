"""The Train page's loss and accuracy curves as SVG text, drawn while a run trains (no Streamlit here).

Why not plotly while the run is live: the browser mounts a plotly chart afresh whenever its figure
changes, which costs it 100–300 ms of its one main thread per chart on a 2-core machine. Redrawn every
second, two such charts kept the page busy enough that a key press on the η slider showed in the status
line 1.5–3× later than on a quiet page (benchmarks/bench_live.py). An inline SVG of the same curves is
swapped in place in a few milliseconds. When the run pauses or ends the page shows the same curves as
plotly charts again, with zoom and hover (pages/ui/train_charts.py).

Both figures read a lab.trainer snapshot: the series are cut to at most 600 points (lab.trainer.downsample).
"""
from html import escape

import numpy as np

from lab.trainer import downsample, smooth
from pages.ui.palette import BLACK, BLUE, GREEN, HIGHLIGHT, NEUTRAL, PURPLE
from pages.ui.playground_svg import INK, Frame, log_ticks, nice_ticks, svg

WIDTH, HEIGHT = 600, 300                    # px of the viewBox; the SVG scales to its column's width
LOG_DECADES = 4                             # as pages/ui/train_charts.LOG_DECADES: the log axis spans at most
                                            # this many powers of ten below its top
ETA_INK = PURPLE


def _legend(items, y):
    """A row of (colour, dash, name) swatches under the plot."""
    out, x = [], 50
    for color, dash, name in items:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{color}" stroke-width="2.5"'
                   f'{dashes}/><text x="{x + 23}" y="{y}" fill="{INK}">{escape(name)}</text>')
        x += 32 + 7 * len(name)
    return out


def _title(text):
    return f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" fill="{INK}" font-size="15">{escape(text)}</text>'


def _epochs(snap):
    """The x axis: from 0 to the run's planned epochs (so the curve grows from left to right)."""
    done = len(snap.losses) / max(snap.batches_per_epoch, 1)
    return 0.0, float(max(snap.config.epochs, done, 1))


def loss_svg(snap):
    """Loss of every batch (faint), its moving average, the epoch means (train, validation), and a dashed
    line with the new value wherever the learner changed η. Log scale, at most LOG_DECADES decades."""
    frame_args = (60, 44, WIDTH - 80, HEIGHT - 110)
    losses = np.asarray(snap.losses, dtype=np.float64)
    logs = snap.epochs_log or []
    values = np.concatenate([losses, [e["loss"] for e in logs]]) if len(losses) else np.ones(1)
    values = values[np.isfinite(values) & (values > 0)]
    top = float(values.max()) * 1.5 if len(values) else 10.0
    bottom = max(float(values.min()) / 1.5, top / 10 ** LOG_DECADES) if len(values) else 0.1
    f = Frame(*frame_args, _epochs(snap), (bottom, top), ylog=True)
    body = [_title("Loss")]
    body += f.axes(nice_ticks(*f.xlim, 5), log_ticks(bottom, top), "epoch", "cross-entropy (log)")
    legend = []
    if len(losses):
        keep = downsample(losses)
        x = (keep + 1) / snap.batches_per_epoch
        body.append(f.line(x, losses[keep], NEUTRAL, 1, title="loss of each batch", opacity=0.8))
        body.append(f.line(x, np.asarray(snap.smoothed, dtype=np.float64)[keep], HIGHLIGHT, 2,
                           title="batch loss, smoothed"))
        legend += [(NEUTRAL, None, "batch"), (HIGHLIGHT, None, "batch, smoothed")]
    if logs:
        epochs = [e["epoch"] for e in logs]
        body.append(f.line(epochs, [e["loss"] for e in logs], BLUE, 2, dash="4 3", title="train, epoch mean"))
        legend.append((BLUE, "4 3", "train (epoch mean)"))
        if logs[0]["val_loss"] is not None:
            body.append(f.line(epochs, [e["val_loss"] for e in logs], GREEN, 2, title="validation"))
            legend.append((GREEN, None, "validation"))
    for step, lr in snap.lr_marks[1:]:                             # the first mark is the starting η
        X = float(f.px(step / snap.batches_per_epoch))
        body.append(f'<line x1="{X:.1f}" y1="{f.top}" x2="{X:.1f}" y2="{f.top + f.height}" stroke="{ETA_INK}" '
                    f'stroke-dasharray="4 3" stroke-width="1"><title>η → {lr:g}</title></line>'
                    f'<text x="{X:.1f}" y="{f.top - 4}" text-anchor="middle" fill="{ETA_INK}">η → {lr:g}</text>')
    body += _legend(legend, HEIGHT - 8)
    return svg(WIDTH, HEIGHT, body, "loss curve")


def accuracy_svg(snap):
    """Batch accuracy (smoothed) while training; train / validation / test accuracy at each epoch end."""
    f = Frame(60, 44, WIDTH - 80, HEIGHT - 110, _epochs(snap), (0.0, 100.5))
    body = [_title("Accuracy")]
    body += f.axes(nice_ticks(*f.xlim, 5), [0, 20, 40, 60, 80, 100], "epoch", "accuracy (%)")
    legend = []
    if len(snap.batch_accs):
        keep = downsample(snap.batch_accs)
        body.append(f.line((keep + 1) / snap.batches_per_epoch, 100 * smooth(snap.batch_accs)[keep], HIGHLIGHT, 2,
                           title="batch accuracy, smoothed"))
        legend.append((HIGHLIGHT, None, "batches, smoothed"))
    for key, name, color, dash in (("train_acc", "train (epoch)", BLUE, "4 3"), ("val_acc", "validation", GREEN, None),
                                   ("test_acc", "test", BLACK, None)):
        points = [(e["epoch"], 100 * e[key]) for e in snap.epochs_log or [] if e[key] is not None]
        if points:
            x, y = zip(*points)
            body.append(f.line(x, y, color, 2, dash=dash, title=name))
            body += [f'<circle cx="{float(f.px(a)):.1f}" cy="{float(f.py(b)):.1f}" r="3" fill="{color}">'
                     f'<title>{escape(name)}, epoch {a}: {b:.1f}%</title></circle>' for a, b in points]
            legend.append((color, dash, name))
    body += _legend(legend, HEIGHT - 8)
    return svg(WIDTH, HEIGHT, body, "accuracy curve")
