"""The Train page teaches back: the tutor's findings on the run with one-click fixes, and "predict, then run"
before each pitfall (lab.tutor and lab.predict decide; this module only shows and applies).

- `apply_to_widgets(changes, options)`: a settings change in TrainConfig's names (a finding's Apply) written
  into the page's widgets, each value snapped to a choice its widget offers.
- `tutor_view(snap, options)`: the findings on this run, each with Why? and Apply (which restarts the run).
- `ask_pitfall(name)` / `prediction_view(snap)`: a pitfall's settings are set, its question is asked, and
  the run starts only when the learner has committed to an answer; when it has ended, the answer is
  explained with the run's own numbers.
"""
import math

import streamlit as st

from lab.predict import CHOICES, TRAIN_PITFALL_QUESTIONS, curve_of_snapshot, explain
from lab.tutor import findings_for_snapshot
from pages.ui.train_session import K, PITFALLS, restore_defaults, start_run
from pages.ui.tutor_panel import findings_panel

# TrainConfig field → the widget key that holds it on the page ("hidden" is spread over several widgets).
WIDGETS = {"lr": "lr", "activation": "act", "init": "init", "batch_size": "batch", "l2": "l2", "normalize": "normalize",
           "shuffle": "shuffle", "schedule": "sched", "optimizer": "opt", "epochs": "epochs", "clip": "clip",
           "batchnorm": "bn", "dropout": "dropout", "residual": "residual"}


def _nearest(value, choices):
    """The widget choice nearest to `value` (on a log scale for positive numbers: η, λ, widths, batches)."""
    numbers = [c for c in choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
    if not numbers or isinstance(value, (bool, str)):
        return value
    if value > 0 and all(c > 0 for c in numbers):
        return min(numbers, key=lambda c: abs(math.log(c) - math.log(value)))
    return min(numbers, key=lambda c: abs(c - value))


def apply_to_widgets(changes, options):
    """Write `changes` ({TrainConfig field: value}) into the page's widgets. `options` maps a widget key
    suffix ("lr", "width", "batch", …) to the choices that widget offers; values are snapped to them.
    Raises ValueError for a field the page has no widget for (nothing is changed then)."""
    unknown = [f for f in changes if f not in WIDGETS and f != "hidden"]
    if unknown:
        raise ValueError(f"the Train page has no control for {', '.join(unknown)}; it has "
                         f"{', '.join(sorted([*WIDGETS, 'hidden']))}")
    for field, value in changes.items():
        if field == "hidden":
            widths = [_nearest(int(n), options.get("width", [int(n)])) for n in value]
            st.session_state[K + "layers"] = len(widths)
            for i, n in enumerate(widths, start=1):
                st.session_state[f"{K}width{i}"] = n
            continue
        suffix = WIDGETS[field]
        st.session_state[K + suffix] = _nearest(value, options[suffix]) if suffix in options else value


def tutor_view(snap, options):
    """The tutor's findings on this run (lab.tutor): evidence in numbers, Why? with a formula, Apply."""
    def on_apply(finding):
        try:
            apply_to_widgets(finding.apply, options)
        except ValueError as e:
            st.session_state["train_error"] = f"The tutor's fix could not be applied: {e}"
            return
        st.session_state["train_notice"] = f"Applied the tutor's fix: {finding.apply_label}. A new run started."
        start_run()

    findings_panel(findings_for_snapshot(snap), on_apply, key="train_tutor")


# ---- predict, then run ---------------------------------------------------------------------------

def ask_pitfall(name):
    """A pitfall's button: set its settings and ask its question; the run waits for the answer."""
    if name not in PITFALLS:
        raise ValueError(f"unknown pitfall {name!r}; expected one of {', '.join(PITFALLS)}")
    restore_defaults(keep_data=True)
    st.session_state.update(PITFALLS[name][1])
    st.session_state["train_predict"] = {"preset": name, "pick": None}


def _commit(pick):
    ask = st.session_state.get("train_predict")
    if not ask:
        return
    ask["pick"] = pick
    start_run(preset=ask["preset"])


def _skip():
    ask = st.session_state.pop("train_predict", None)
    if ask:
        start_run(preset=ask["preset"])


def prediction_view(snap, info):
    """The question before a pitfall runs; after it ended, whether the prediction was right and why."""
    ask = st.session_state.get("train_predict")
    if not ask:
        return
    name, pick = ask["preset"], ask["pick"]
    question = TRAIN_PITFALL_QUESTIONS[name]
    title = PITFALLS[name][0]
    if pick is None:
        with st.container(border=True):
            st.markdown(f"**Predict, then run — {title}.** {question.text}")
            choice = st.radio("Your prediction", range(len(CHOICES)), format_func=CHOICES.__getitem__, index=None,
                              key="train_predict_choice", horizontal=True)
            c1, c2 = st.columns([1, 3])
            c1.button("Commit and run", type="primary", disabled=choice is None, on_click=_commit, args=(choice,),
                      icon=":material/play_arrow:", key="train_predict_commit")
            c2.button("Run without predicting", on_click=_skip, key="train_predict_skip")
        return
    if snap is None or info is None or info.preset != name or not snap.done:
        st.caption(f"Your prediction for **{title}**: {CHOICES[pick]}. The answer comes when the run ends.")
        return
    try:
        right, text = explain(question, pick, curve_of_snapshot(snap))
    except ValueError as e:                   # the run ended before its first step
        st.info(f"No answer for **{title}**: {e}.")
        return
    (st.success if right else st.warning)(f"**{title}** — you predicted “{CHOICES[pick]}”. {text}",
                                          icon=":material/check_circle:" if right else ":material/lightbulb:")
