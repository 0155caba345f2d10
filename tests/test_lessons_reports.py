"""Lessons (lab/lessons.py, lessons/*.json, pages/lessons.py) and lab reports (lab/reports.py)."""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lab import reports
from lab.lessons import LessonError, builtin_lessons, grade, lesson_from_rows, lesson_json, read_lesson
from lab.runstore import MemoryRunStore, new_owner_id
from tests.apptest import open_page

REPO = Path(__file__).resolve().parents[1]
PAGES = tuple([""] + sorted(p.stem for p in (REPO / "pages").glob("*.py")))
LESSONS = builtin_lessons(PAGES)
STEPS = [(name, i, step) for name, lesson in LESSONS.items() for i, step in enumerate(lesson["steps"])]


def test_the_built_in_lessons_follow_the_learning_path():
    pages = [step["link"].split("?")[0] for _, _, step in STEPS]
    order = ["perceptron", "playground", "forward_pass", "backpropagation", "vanishing_gradients", "train_mnist"]
    assert [p for p in dict.fromkeys(pages) if p in order] == order        # first visits in the path's order
    assert len(LESSONS) >= 3 and all(lesson_json(lesson) for lesson in LESSONS.values())


@pytest.mark.parametrize("name,i,step", STEPS, ids=[f"{n}-{i + 1}" for n, i, _ in STEPS])
def test_every_step_link_of_a_built_in_lesson_opens_its_page_without_a_notice(name, i, step):
    page, _, query = step["link"].partition("?")
    from urllib.parse import parse_qsl
    at = open_page(page, dict(parse_qsl(query)))
    assert not [w.value for w in at.warning if "could not be used" in w.value]


def test_the_forward_lesson_step_asks_for_the_number_the_page_computes():
    name, i, step = next(s for s in STEPS if s[2]["link"].startswith("forward_pass"))
    page, _, query = step["link"].partition("?")
    from urllib.parse import parse_qsl
    at = open_page(page, {**dict(parse_qsl(query)), "step": "10"})           # every equation shown
    answer = step["question"]["answer"]
    assert any(f"{answer:.3f}" in line for line in (e.value for e in at.latex))


@pytest.mark.parametrize("text,message", [
    ("{not json", "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
    ("[]", "one JSON object"),
    ('{"title": "T", "steps": []}', "steps must be a list of 1"),
    ('{"title": "T", "steps": [{"title": "a", "link": "nowhere?x=1", "prompt": "p"}]}',
     "step 1 link: 'nowhere' is not a page of the app"),
    ('{"title": "T", "steps": [{"title": "a", "link": "perceptron", "prompt": ""}]}', "step 1 prompt must be"),
    ('{"title": "T", "steps": [{"title": "a", "link": "perceptron", "prompt": "p", "question": '
     '{"kind": "choice", "choices": ["x", "y"], "answer": 2}}]}', "step 1 question.answer must be the index (0 … 1)"),
    ('{"title": "T", "steps": [{"title": "a", "link": "perceptron", "prompt": "p", "question": {"kind": "essay"}}]}',
     "step 1 question.kind must be one of choice, number, text"),
    ('{"title": "T", "stepz": []}', "unknown fields: stepz"),
])
def test_a_malformed_lesson_file_gets_a_clear_message(text, message):
    with pytest.raises(LessonError) as caught:
        read_lesson(text.encode(), PAGES, "bad.json")
    assert str(caught.value).startswith("bad.json") and message in str(caught.value)


def test_a_lesson_file_written_out_reads_back_the_same():
    lesson = LESSONS[next(iter(LESSONS))]
    assert read_lesson(lesson_json(lesson).encode(), PAGES) == lesson


def test_a_lesson_written_in_the_table_becomes_a_lesson_file():
    rows = [{"title": "AND", "link": "http://host:8501/perceptron?gate=AND&hide=nav", "prompt": "Run it.",
             "kind": "choice", "question": "Converged?", "choices": "Yes | No", "answer": "1"},
            {"title": "", "link": "", "prompt": "", "kind": "", "question": "", "choices": "", "answer": ""},
            {"title": "η", "link": "train_mnist?lr=10", "prompt": "Train.", "kind": "number", "answer": "−2",
             "question": "", "choices": ""}]
    lesson = lesson_from_rows("Mine", rows, PAGES)
    assert [s["question"] for s in lesson["steps"]] == [
        {"kind": "choice", "text": "Converged?", "choices": ["Yes", "No"], "answer": 0},
        {"kind": "number", "text": "", "answer": -2.0, "tolerance": 0.02}]
    assert read_lesson(lesson_json(lesson), PAGES) == lesson
    with pytest.raises(LessonError, match="step 1 answer must be the number of the right choice"):
        lesson_from_rows("Mine", [{**rows[0], "answer": "Yes"}], PAGES)
    with pytest.raises(LessonError, match="step 1 link: 'nowhere' is not a page"):
        lesson_from_rows("Mine", [{**rows[0], "link": "nowhere"}], PAGES)


def test_answers_are_graded_only_where_the_lesson_has_an_answer():
    assert grade({"kind": "choice", "choices": ["a", "b"], "answer": 1}, 1) is True
    assert grade({"kind": "choice", "choices": ["a", "b"], "answer": 1}, 0) is False
    assert grade({"kind": "number", "answer": 0.593, "tolerance": 0.001}, 0.5925) is True
    assert grade({"kind": "number", "answer": 0.593, "tolerance": 0.001}, 0.6) is False
    assert grade({"kind": "number", "answer": None, "tolerance": 0}, 97.1) is None
    assert grade({"kind": "text", "text": ""}, "because") is None


def test_the_lessons_page_walks_a_built_in_lesson_and_grades_an_answer():
    at = open_page("lessons")
    assert at.header[0].value == LESSONS[next(iter(LESSONS))]["title"]
    assert "lab=" in at.get("link_button")[0].proto.url
    at.radio[0].set_value(1).run()                                   # step 1: AND converges → "Yes" is 0
    assert at.error and not at.success
    at.radio[0].set_value(0).run()
    assert at.success


def run_record(acc, loss):
    """A run as lab.live.run_record gives it to the store."""
    return {"data": "MNIST", "settings": {"hidden": [32], "lr": 0.1, "optimizer": "momentum"}, "state": "done",
            "message": "", "elapsed": 3.0, "batches_per_epoch": 20, "loss_steps": [1, 20, 40], "loss": loss,
            "epochs_log": [{"epoch": 1, "val_acc": acc}], "lr_marks": [], "test_acc": acc,
            "confusion": [[5, 1], [2, 7]]}


def a_report(learner, accs):
    store, owner = MemoryRunStore(), new_owner_id()
    for acc in accs:
        store.save_run(owner, run_record(acc, [2.3, 0.9, 0.4]))
    runs = json.loads(store.export_json(owner))["runs"]
    lesson = LESSONS[next(iter(LESSONS))]
    answers = {0: 0, 1: 2, 2: "A straight line </script><b>x</b>"}
    digits = [{"source": "Draw", "prediction": 7, "p": [0.01] * 7 + [0.91] + [0.0] * 2, "image": [[0] * 28] * 28}]
    when = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)
    return reports.build_report(lesson, answers, runs, digits, learner, when), lesson


def test_a_lab_report_embeds_the_runs_answers_digits_and_date():
    text, lesson = a_report("Ada", [0.91, 0.95])
    data = reports.read_report(text)
    assert data["learner"] == "Ada" and data["created"] == "2026-11-30T18:00:00+00:00"
    assert [r["test_acc"] for r in data["runs"]] == [0.91, 0.95]
    assert data["runs"][0]["confusion"] == [[5, 1], [2, 7]] and data["runs"][0]["loss"][-1] == pytest.approx(0.4)
    assert [(a["answer"], a["right"]) for a in data["answers"][:3]] == [
        (lesson["steps"][0]["question"]["choices"][0], True), (lesson["steps"][1]["question"]["choices"][2], False),
        ("A straight line </script><b>x</b>", None)]
    assert data["digits"][0]["prediction"] == 7
    assert "<b>x</b>" not in text.split('id="lab-report-data"')[1]          # escaped in the page, intact in the data
    assert "Test accuracy" not in text and "test accuracy 95.00%" in text
    assert "<script src" not in text and "<link" not in text            # plotly.js inlined (tests/browser: offline)


def test_a_folder_of_reports_is_summarised_in_one_table(tmp_path, capsys):
    for name, accs in (("ada", [0.91, 0.95]), ("bo", [])):
        (tmp_path / f"{name}.html").write_text(a_report(name.title(), accs)[0], encoding="utf-8")
    (tmp_path / "notes.html").write_text("<html>not a report</html>")
    assert reports.main([str(tmp_path), "--csv", str(tmp_path / "out.csv")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == list(reports.COLUMNS)
    assert lines[1].split()[:2] == ["ada.html", "Ada"] and lines[1].split()[-2:] == ["2", "0.95"]
    assert lines[2].split()[:2] == ["bo.html", "Bo"] and lines[2].split()[-1] == "0"
    assert "notes.html: no embedded report data" in err
    assert (tmp_path / "out.csv").read_text().count("\n") == 3
