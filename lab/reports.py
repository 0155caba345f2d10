"""Lab reports: one self-contained HTML file of what a learner did, and a summary of a folder of them.

A report opens offline in any browser: plotly.js is inlined once, every figure is plotly's HTML for it,
drawings are PNG data URIs. The same facts are embedded as JSON in
<script type="application/json" id="lab-report-data">, so a teacher can summarise a folder of reports:

    python -m lab.reports FOLDER            # one row per report: learner, lesson, answers, runs, best accuracy
    python -m lab.reports FOLDER --csv out.csv
"""
import argparse
import base64
import csv
import html
import io
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from lab.lessons import grade

FORMAT = "backprop-lab report"
VERSION = 1
DATA_ID = "lab-report-data"
_DATA = re.compile(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', re.S)
MAX_REPORT_BYTES = 50 * 2**20          # plotly.js alone is ~4.6 MB; 50 runs of curves stay far below this


# ---- building a report ------------------------------------------------------------------------

def lesson_answers(lesson, answers):
    """One record per step of the lesson: its title, question, the learner's answer, right/wrong/None."""
    out = []
    for i, step in enumerate(lesson["steps"] if lesson else []):
        q, answer = step.get("question"), answers.get(i)
        shown = answer
        if q and q["kind"] == "choice" and isinstance(answer, int) and 0 <= answer < len(q["choices"]):
            shown = q["choices"][answer]
        out.append({"step": i + 1, "title": step["title"], "question": (q or {}).get("text") or step["prompt"],
                    "answer": shown, "right": grade(q, answer)})
    return out


def report_data(lesson, answers, runs, digits, learner="", when=None):
    """The report's facts as a JSON-able dict (runs: lab.runstore export dicts; digits: Draw page records)."""
    when = when or datetime.now(timezone.utc)
    return {"format": FORMAT, "version": VERSION, "created": when.isoformat(timespec="seconds"),
            "learner": learner.strip()[:100], "lesson": lesson["title"] if lesson else None,
            "answers": lesson_answers(lesson, answers), "runs": runs,
            "digits": [{k: d[k] for k in ("source", "prediction", "p", "image")} for d in digits]}


def build_report(lesson, answers, runs, digits, learner="", when=None):
    """The HTML text of a lab report (see the module docstring)."""
    data = report_data(lesson, answers, runs, digits, learner, when)
    embedded = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")   # no early </script>
    e = html.escape
    parts = [f"<h1>Backprop Lab report{': ' + e(data['learner']) if data['learner'] else ''}</h1>",
             f"<p>Created {e(data['created'].replace('T', ' '))} UTC.</p>"]
    if lesson:
        parts.append(f"<h2>Lesson: {e(lesson['title'])}</h2><table><tr><th>Step</th><th>Question</th>"
                     "<th>Answer</th><th></th></tr>")
        for a in data["answers"]:
            mark = {True: "right", False: "not right", None: ""}[a["right"]]
            answer = "—" if a["answer"] is None else a["answer"]
            parts.append(f"<tr><td>{a['step']}. {e(a['title'])}</td><td>{e(a['question'])}</td>"
                         f"<td>{e(str(answer))}</td><td>{mark}</td></tr>")
        parts.append("</table>")
    parts.append(f"<h2>Training runs ({len(runs)})</h2>")
    if not runs:
        parts.append("<p>No runs on the Train page yet.</p>")
    for run in runs:
        parts.append(_run_html(run))
    parts.append(f"<h2>Digits ({len(digits)})</h2>")
    if not digits:
        parts.append("<p>No digits read on the Draw page.</p>")
    for d in digits:
        parts.append(f'<figure><img alt="digit" width="112" height="112" src="{_png(d["image"])}">'
                     f"<figcaption>{e(d['source'])}: the network says <b>{d['prediction']}</b> "
                     f"(p = {max(d['p']):.2f})</figcaption></figure>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Backprop Lab report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
figure{{display:inline-block;margin:8px}}.charts{{display:flex;flex-wrap:wrap}}</style>
<script>{get_plotlyjs()}</script>
<script type="application/json" id="{DATA_ID}">{embedded}</script></head>
<body>{''.join(parts)}</body></html>
"""


def _run_html(run):
    e = html.escape
    acc = run.get("test_acc")
    rows = "".join(f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>" for k, v in run["settings"].items())
    head = (f"<h3>Run #{run['id']} on {e(run['data'])}: {e(run['state'])}"
            f"{f', test accuracy {acc:.2%}' if acc is not None else ''}</h3>")
    loss = go.Figure(go.Scatter(x=run["loss_steps"], y=run["loss"], mode="lines", name="loss"))
    loss.update_layout(title="Training loss", xaxis_title="step", yaxis_title="loss", width=520, height=340)
    charts = [loss.to_html(full_html=False, include_plotlyjs=False)]
    if run.get("confusion"):
        cm = np.array(run["confusion"])
        fig = go.Figure(go.Heatmap(z=cm, x=list(range(cm.shape[1])), y=list(range(cm.shape[0])), colorscale="Blues",
                                   text=cm, texttemplate="%{text}"))
        fig.update_layout(title="Confusion matrix (rows: true, columns: predicted)", width=520, height=340,
                          yaxis_autorange="reversed")
        charts.append(fig.to_html(full_html=False, include_plotlyjs=False))
    return f"{head}<details><summary>Settings</summary><table>{rows}</table></details>" \
           f"<div class='charts'>{''.join(charts)}</div>"


def _png(image):
    """A 28×28 grey image (nested lists, 0 … 255) as a PNG data URI."""
    from PIL import Image
    pixels = np.clip(np.asarray(image, dtype=np.float64), 0, 255).astype(np.uint8)     # (28, 28)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").resize((112, 112), Image.NEAREST).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ---- reading reports back ---------------------------------------------------------------------

def read_report(text):
    """The embedded data of a report's HTML text; ValueError saying what is wrong otherwise."""
    match = _DATA.search(text)
    if not match:
        raise ValueError("no embedded report data: not a Backprop Lab report")
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError as e:
        raise ValueError(f"the embedded report data is not valid JSON ({e.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("the embedded data is not a Backprop Lab report")
    if data.get("version") != VERSION:
        raise ValueError(f"report version {data.get('version')!r}; this code reads version {VERSION}")
    return data


COLUMNS = ("file", "learner", "created", "lesson", "answered", "right", "graded", "runs", "best_test_acc")


def summary_row(name, data):
    answers = data.get("answers") or []
    graded = [a for a in answers if a.get("right") is not None]
    accs = [r["test_acc"] for r in data.get("runs") or [] if r.get("test_acc") is not None]
    return {"file": name, "learner": data.get("learner") or "", "created": data.get("created", ""),
            "lesson": data.get("lesson") or "", "answered": sum(a.get("answer") is not None for a in answers),
            "right": sum(a["right"] for a in graded), "graded": len(graded), "runs": len(data.get("runs") or []),
            "best_test_acc": round(max(accs), 4) if accs else None}


def summarise(folder):
    """(rows, problems): one summary row per readable report in folder (*.html), one line per unreadable one."""
    rows, problems = [], []
    for path in sorted(Path(folder).glob("*.html")):
        try:
            if path.stat().st_size > MAX_REPORT_BYTES:
                raise ValueError(f"larger than {MAX_REPORT_BYTES // 2**20} MB")
            rows.append(summary_row(path.name, read_report(path.read_text(encoding="utf-8", errors="replace"))))
        except (OSError, ValueError) as e:
            problems.append(f"{path.name}: {e}")
    return rows, problems


def table(rows):
    """The rows as a plain-text table with aligned columns."""
    cells = [list(COLUMNS)] + [["" if r[c] is None else str(r[c]) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.reports", description="Summarise a folder of lab reports.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    rows, problems = summarise(args.folder)
    print(table(rows))
    for p in problems:
        print(f"skipped {p}", file=sys.stderr)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return 0 if rows or not problems else 1


if __name__ == "__main__":
    sys.exit(main())
