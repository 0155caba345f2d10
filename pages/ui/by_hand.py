"""Backprop by hand on a page: the steps of lab/exercises.py one at a time — type, check, hint, show me.

Progress lives in session_state under `prefix` and belongs to one exercise: `exercise_id` (the numbers it
was made from) changes when the learner edits the network, and then the count starts again.
Keys: f"{prefix}_answer_{step.key}" (the answer box), f"{prefix}_check", f"{prefix}_show", f"{prefix}_restart".
"""
import streamlit as st

from lab.exercises import check, progress_text, show


def _state(prefix, exercise_id):
    ss = st.session_state
    state = ss.get(prefix)
    if state is None or state["id"] != exercise_id:
        state = ss[prefix] = {"id": exercise_id, "done": {}, "message": None}
    return state


def _check(prefix, step):
    """Callback of Check: judge the typed answer; a right one marks the step."""
    state = st.session_state[prefix]
    verdict = check(step, st.session_state.get(f"{prefix}_answer_{step.key}", ""))
    state["message"] = (step.key, verdict.right, verdict.message)
    if verdict.right:
        state["done"][step.key] = "right"


def _show(prefix, step):
    """Callback of Show me: reveal the value with its computation; the step counts as shown, not right."""
    state = st.session_state[prefix]
    state["done"][step.key] = "shown"
    state["message"] = (step.key, None, f"Shown: {step.how}")


def _restart(prefix):
    state = st.session_state[prefix]
    state["done"], state["message"] = {}, None
    for key in [k for k in st.session_state if str(k).startswith(f"{prefix}_answer_")]:
        del st.session_state[key]


def by_hand(prefix, steps, exercise_id):
    """Draw the steps done so far (green when right, blue when shown) and the box for the next one."""
    state = _state(prefix, exercise_id)
    done = state["done"]
    n_right = sum(1 for s in steps if done.get(s.key) == "right")
    n_shown = sum(1 for s in steps if done.get(s.key) == "shown")
    finished = n_right + n_shown == len(steps)
    st.progress((n_right + n_shown) / len(steps), text=progress_text(n_right, n_shown, len(steps)))
    for i, step in enumerate(steps):
        mark = done.get(step.key)
        if mark == "right":
            st.success(f"**{i + 1}. {step.label}** = {show(step.expected)}", icon=":material/check_circle:")
        elif mark == "shown":
            st.info(f"**{i + 1}. {step.label}** = {show(step.expected)} (shown: {step.how})", icon=":material/visibility:")
        else:
            st.markdown(f"**{i + 1}. {step.label}** — {step.formula}. Type {step.shape_text}, separated by commas"
                        + (" (row by row)" if "matrix" in step.shape_text else "") + ".")
            st.text_input(f"{step.label} =", key=f"{prefix}_answer_{step.key}", placeholder="e.g. 0.123, −0.456",
                          help="Numbers to 3 decimals are enough (±0.0015). The minus sign may be - or −.")
            with st.container(horizontal=True):
                st.button("Check", key=f"{prefix}_check", on_click=_check, args=(prefix, step), type="primary",
                          icon=":material/done:")
                st.button("Show me", key=f"{prefix}_show", on_click=_show, args=(prefix, step),
                          icon=":material/visibility:", help="Reveal this value and how it is computed; the step "
                                                             "is marked as shown, not right.")
            message = state["message"]
            if message and message[0] == step.key and message[1] is False:
                st.error(message[2], icon=":material/lightbulb:")
            break
    if finished:
        st.markdown(f"**{progress_text(n_right, n_shown, len(steps))}**")
    st.button("Start over", key=f"{prefix}_restart", on_click=_restart, args=(prefix,), type="tertiary",
              icon=":material/restart_alt:", help="Hide every answer again and start from step 1.")
