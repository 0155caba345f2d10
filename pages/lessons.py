"""Lessons: walk a teacher's sequence of exercises, answer its questions, hand in a lab report.

A lesson is a JSON file (lab/lessons.py says what it holds): the built-in ones in lessons/, one a teacher
uploads, or one written here and downloaded. Each step links to a page set up for the exercise (and
usually locked down with hide=/lock=, pages/ui/links.py); it opens in a new tab with this browser's
lab= id, so the runs made there land in this learner's history and in the report.
"""
import json
from pathlib import Path

import streamlit as st

from lab.lessons import EDITOR_COLUMNS, LessonError, builtin_lessons, grade, lesson_from_rows, lesson_json, read_lesson
from lab.reports import build_report
from pages.ui.shell import run_inside_app
from pages.ui.text import plain
from pages.ui.train_session import get_store

run_inside_app()

PAGES = tuple([""] + sorted(p.stem for p in (Path(__file__).parent).glob("*.py")))   # what a link may open
SOURCES = ["Built-in lessons", "Open a lesson file", "Write a lesson"]
ss = st.session_state

st.title("Lessons")
st.markdown("A lesson is a short list of exercises. Each step opens a page set up for it (in a new tab), asks "
            "you something, and keeps your answer. At the end, download your **lab report**: one HTML file with "
            "your answers, your training runs and your digits, that opens in any browser without internet.")


@st.cache_data(show_spinner=False)
def shipped():
    return builtin_lessons(PAGES)


def pick_lesson():
    source = st.segmented_control("Lesson from", SOURCES, default=SOURCES[0], key="lesson_source", required=True)
    if source == SOURCES[0]:
        lessons = shipped()
        name = st.selectbox("Lesson", list(lessons), format_func=lambda n: lessons[n]["title"], key="lesson_builtin")
        return lessons[name]
    if source == SOURCES[1]:
        upload = st.file_uploader("A lesson file (.json)", type=["json"], key="lesson_upload",
                                  help="Written by hand (see lessons/ in the repository) or downloaded from "
                                       "“Write a lesson”.")
        if upload is None:
            st.info("Choose a lesson file your teacher gave you.")
            return None
        try:
            return read_lesson(upload.getvalue(), PAGES, upload.name)
        except LessonError as e:
            st.error(plain(f"This lesson file cannot be used: {e}"), icon=":material/error:")
            return None
    return write_lesson()


def write_lesson():
    st.markdown("One row per step. **link**: set a page up, open *Share or teach this page* in its sidebar, tick "
                "what to hide or lock, and paste the teacher link here. **kind**: choice, number, text or empty; "
                "**choices** separated by `|`; **answer**: the number of the right choice (1, 2, …) or the number "
                "expected.")
    title = st.text_input("Lesson title", "My lesson", key="lesson_new_title")
    start = [{c: "" for c in EDITOR_COLUMNS}]
    rows = st.data_editor(start, num_rows="dynamic", key="lesson_new_steps", width="stretch",
                          column_config={"kind": st.column_config.SelectboxColumn(options=["", "choice", "number",
                                                                                           "text"])})
    try:
        lesson = lesson_from_rows(title, rows, PAGES)
    except LessonError as e:
        st.warning(plain(f"Not a lesson yet: {e}"), icon=":material/edit_note:")
        return None
    st.download_button("Download the lesson file", lesson_json(lesson), file_name="lesson.json",
                       mime="application/json", icon=":material/download:")
    return lesson


def step_link(step):
    """The step's link for this server, with this learner's own lab= id (so runs land in their history)."""
    base = (st.context.url or "http://localhost:8501/lessons").rsplit("/", 1)[0]
    link = step["link"].split("://", 1)[-1].split("/", 1)[-1] if "://" in step["link"] else step["link"].lstrip("/")
    owner = ss.get("lab_owner")
    return f"{base}/{link}" + (("&" if "?" in link else "?") + f"lab={owner}" if owner else "")


def ask(question, key, answers, i):
    """The question's widget; stores the answer in answers[i] (an index, a number or text)."""
    label = question["text"] or "Your answer"
    if question["kind"] == "choice":
        choice = st.radio(label, range(len(question["choices"])), format_func=question["choices"].__getitem__,
                          index=None, key=key)
        answers[i] = choice
    elif question["kind"] == "number":
        answers[i] = st.number_input(label, value=None, format="%.4f", key=key)
    else:
        text = st.text_area(label, key=key, max_chars=2000)
        answers[i] = text.strip() or None
    right = grade(question, answers[i])
    if right is True:
        st.success("Right.")
    elif right is False:
        st.error("Not quite — look again, then try another answer.")


lesson = pick_lesson()
if lesson is not None:
    st.header(lesson["title"])
    if lesson["about"]:
        st.markdown(lesson["about"])
    key = "lesson_" + str(abs(hash(json.dumps(lesson, sort_keys=True))) % 10**8)
    answers = ss.setdefault("lesson_answers", {}).setdefault(lesson["title"], {})
    steps = lesson["steps"]
    i = st.select_slider("Step", list(range(len(steps))), key=key + "_step",
                         format_func=lambda k: f"{k + 1}. {steps[k]['title']}")
    step = steps[i]
    st.subheader(f"Step {i + 1} of {len(steps)}: {step['title']}")
    st.markdown(step["prompt"])
    st.link_button("Open the exercise", step_link(step), icon=":material/open_in_new:", type="primary")
    if step["question"]:
        ask(step["question"], f"{key}_answer_{i}", answers, i)
    ss["lesson_answers"][lesson["title"]] = answers

st.subheader("Your lab report")
learner = st.text_input("Your name (written in the report)", key="lesson_learner", max_chars=100)
store, _ = get_store()
owner = ss.get("lab_owner")
answered = dict(ss.get("lesson_answers", {}).get(lesson["title"], {})) if lesson else {}
digits = list(ss.get("report_digits", []))


def report():
    runs = json.loads(store.export_json(owner))["runs"] if owner else []
    return build_report(lesson, answered, runs, digits, learner)


st.download_button("Download my lab report", report, file_name="lab-report.html", mime="text/html",
                   icon=":material/download:", key="lesson_report",
                   help="Your answers, your runs on the Train page (settings, curves, accuracy, confusion matrix) "
                        "and the digits the Draw page read, with today's date.")
