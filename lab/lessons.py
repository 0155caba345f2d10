"""Lessons: a short ordered list of steps, each a link to a page set up for one exercise, a prompt, and
optionally a question. A lesson is a small JSON file a teacher can read and write by hand:

    {"title": "From one neuron to MNIST",
     "about": "One sentence on what the class will see.",
     "steps": [
       {"title": "A perceptron learns AND",
        "link": "perceptron?gate=AND&hide=nav",
        "prompt": "Press Run until it converges. How many epochs did it take?",
        "question": {"kind": "number", "answer": 3, "tolerance": 0}},
       {"title": "…", "link": "…", "prompt": "…",
        "question": {"kind": "choice", "text": "…", "choices": ["…", "…"], "answer": 1}},
       {"title": "…", "link": "…", "prompt": "…", "question": {"kind": "text"}}]}

`link` is a page's address inside the app (its path and query string, as the page's "Copy link" gives
it, with or without the server part). `check_lesson` says exactly what is wrong with a file, so a teacher
can fix it; the built-in lessons sit in lessons/ beside this module's package.
"""
import json
import math
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from core.checks import parse_number

LESSON_DIR = Path(__file__).resolve().parents[1] / "lessons"
MAX_FILE_BYTES = 200_000          # a lesson of 30 long steps is ~20 kB; anything bigger is not a lesson
MAX_STEPS = 40
MAX_TEXT = 2_000                  # characters of one prompt or question
KINDS = ("choice", "number", "text")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message says where and what is expected."""


def _text(value, where, required=True, limit=MAX_TEXT):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise LessonError(f"{where} must be {'a non-empty ' if required else ''}text")
    if len(value) > limit:
        raise LessonError(f"{where} is longer than {limit} characters")
    return value.strip()


def parse_link(link, pages, where="link"):
    """(page, {param: value}) of a step's link; the page must be one of `pages` (the app's page paths)."""
    link = _text(link, where, limit=3_000)
    parts = urlsplit(link)
    page = parts.path.strip("/").split("/")[-1] if parts.path.strip("/") else ""
    if page not in pages:
        raise LessonError(f"{where}: {page or '(the home page)'!r} is not a page of the app; "
                          f"expected one of {', '.join(p for p in pages if p)}")
    return page, dict(parse_qsl(parts.query, keep_blank_values=True))


def _question(q, where):
    if q is None:
        return None
    if not isinstance(q, dict):
        raise LessonError(f"{where} must be an object with a kind: {', '.join(KINDS)}")
    unknown = set(q) - {"kind", "text", "choices", "answer", "tolerance"}
    if unknown:
        raise LessonError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    kind = q.get("kind")
    if kind not in KINDS:
        raise LessonError(f"{where}.kind must be one of {', '.join(KINDS)}; got {kind!r}")
    out = {"kind": kind, "text": _text(q.get("text"), f"{where}.text", required=False)}
    if kind == "choice":
        choices = q.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= 8:
            raise LessonError(f"{where}.choices must be a list of 2 … 8 texts")
        out["choices"] = [_text(c, f"{where}.choices[{i}]", limit=300) for i, c in enumerate(choices)]
        answer = q.get("answer")
        if answer is not None and (not isinstance(answer, int) or isinstance(answer, bool)
                                   or not 0 <= answer < len(choices)):
            raise LessonError(f"{where}.answer must be the index (0 … {len(choices) - 1}) of the right choice")
        out["answer"] = answer
    elif kind == "number":
        answer, tolerance = q.get("answer"), q.get("tolerance", 0)
        for name, value in (("answer", answer), ("tolerance", tolerance)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value)):
                raise LessonError(f"{where}.{name} must be a finite number")
        if tolerance is None or tolerance < 0:
            raise LessonError(f"{where}.tolerance must be 0 or more")
        out.update(answer=answer, tolerance=tolerance)
    return out


def check_lesson(doc, pages):
    """The lesson as a clean dict, or LessonError naming the first problem (pages: the app's page paths)."""
    if not isinstance(doc, dict):
        raise LessonError("a lesson file must hold one JSON object with a title and steps")
    unknown = set(doc) - {"title", "about", "steps"}
    if unknown:
        raise LessonError(f"the lesson has unknown fields: {', '.join(sorted(unknown))} (expected title, about, steps)")
    title = _text(doc.get("title"), "title", limit=200)
    steps = doc.get("steps")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise LessonError(f"steps must be a list of 1 … {MAX_STEPS} steps")
    clean = []
    for i, step in enumerate(steps, start=1):
        where = f"step {i}"
        if not isinstance(step, dict):
            raise LessonError(f"{where} must be an object with title, link and prompt")
        unknown = set(step) - {"title", "link", "prompt", "question"}
        if unknown:
            raise LessonError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
        parse_link(step.get("link"), pages, f"{where} link")
        clean.append({"title": _text(step.get("title"), f"{where} title", limit=200),
                      "link": step["link"].strip(),
                      "prompt": _text(step.get("prompt"), f"{where} prompt"),
                      "question": _question(step.get("question"), f"{where} question")})
    return {"title": title, "about": _text(doc.get("about"), "about", required=False), "steps": clean}


def read_lesson(data, pages, name="the file"):
    """A lesson from the bytes (or text) of a JSON file; LessonError with the file's name and the problem."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise LessonError(f"{name} is {len(data):,} bytes; a lesson file is at most {MAX_FILE_BYTES:,}")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LessonError(f"{name} is not UTF-8 text: a lesson is a .json text file") from None
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as e:
        raise LessonError(f"{name} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    try:
        return check_lesson(doc, pages)
    except LessonError as e:
        raise LessonError(f"{name}: {e}") from None


def builtin_lessons(pages, folder=LESSON_DIR):
    """{file stem: lesson} of the lessons shipped in the repository, in file-name order."""
    return {path.stem: read_lesson(path.read_bytes(), pages, path.name) for path in sorted(folder.glob("*.json"))}


def lesson_json(lesson):
    """The lesson as a readable JSON file (what the download button gives)."""
    return json.dumps(lesson, ensure_ascii=False, indent=2) + "\n"


EDITOR_COLUMNS = ("title", "link", "prompt", "kind", "question", "choices", "answer")
NUMBER_TOLERANCE = 0.01          # a number answer written in the table is right within 1 % of it


def lesson_from_rows(title, rows, pages):
    """A lesson from the Lessons page's table, one row per step with EDITOR_COLUMNS; empty rows are skipped.

    choices are separated by "|"; answer is the right choice's number counted from 1, or the number expected.
    """
    steps = []
    for i, row in enumerate(rows, start=1):
        cell = {c: str(row.get(c) or "").strip() for c in EDITOR_COLUMNS}
        if not any(cell.values()):
            continue                                       # the empty row the editor offers
        step = {"title": cell["title"], "link": cell["link"], "prompt": cell["prompt"]}
        if cell["kind"]:
            q = {"kind": cell["kind"], "text": cell["question"]}
            answer = cell["answer"]
            if cell["kind"] == "choice":
                q["choices"] = [c.strip() for c in cell["choices"].split("|") if c.strip()]
                if answer and not answer.isdigit():
                    raise LessonError(f"step {i} answer must be the number of the right choice (1, 2, …)")
                q["answer"] = int(answer) - 1 if answer else None
            elif cell["kind"] == "number" and answer:
                try:
                    value = parse_number(answer, f"step {i} answer")
                except ValueError as e:
                    raise LessonError(str(e)) from None
                q["answer"], q["tolerance"] = value, NUMBER_TOLERANCE * abs(value)
            step["question"] = q
        steps.append(step)
    return check_lesson({"title": title, "steps": steps}, pages)


def grade(question, answer):
    """True/False for a choice or number question with a known answer, None when there is nothing to grade."""
    if question is None or answer is None or question.get("answer") is None:
        return None
    if question["kind"] == "choice":
        return answer == question["answer"]
    if question["kind"] == "number":
        return abs(float(answer) - question["answer"]) <= question["tolerance"]
    return None
