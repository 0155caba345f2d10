"""The "Check yourself" expander that ends every teaching page."""
from typing import NamedTuple

import streamlit as st


class Question(NamedTuple):
    text: str
    options: list
    answer: int          # index of the right option
    why: str             # one line: why that answer is right


def check_yourself(questions, key):
    """An expander with 2–3 multiple-choice questions and instant feedback."""
    with st.expander("Check yourself", icon=":material/quiz:"):
        for i, q in enumerate(questions):
            choice = st.radio(q.text, q.options, index=None, key=f"{key}_q{i}")
            if choice is None:
                continue
            if q.options.index(choice) == q.answer:
                st.success(f"Right. {q.why}")
            else:
                st.error(f"Not quite: the answer is “{q.options[q.answer]}”. {q.why}")
