"""Which browser is this? An unguessable id in the URL (?lab=…) names the owner of the runs kept on disk.

Why the URL and not a cookie: Streamlit can read cookies but not set them, and the URL is something a
learner can see, bookmark and take to another browser. The id is 128 random bits (lab.runstore), so
nobody finds another learner's runs by trying ids; whoever has the link sees those runs, as with any
"anyone with the link" document.

Streamlit clears query parameters when the learner switches pages, so app.py calls browser_owner()
on every run: it puts the id back, and a reload of any page finds it. The Draw page's choice of model
travels the same way (?model=trained), so it too survives page switches and reloads.
"""
import streamlit as st

from lab.runstore import new_owner_id, valid_owner_id

PARAM = "lab"
KEPT = {"model": ("draw_model_choice", ("trained", "uploaded", "default"))}   # param: (session key, allowed)


def browser_owner():
    """This browser's owner id: from the URL, else this session's, else a new one; kept in both."""
    in_url = st.query_params.get(PARAM)
    if valid_owner_id(in_url):
        owner = in_url
    else:
        owner = st.session_state.get("lab_owner")
        if not valid_owner_id(owner):
            owner = new_owner_id()
    st.session_state["lab_owner"] = owner
    if in_url != owner:
        st.query_params[PARAM] = owner
    for param, (key, allowed) in KEPT.items():
        if st.session_state.get(key) not in allowed and st.query_params.get(param) in allowed:
            st.session_state[key] = st.query_params[param]        # a reload: the URL remembers
        if st.session_state.get(key) in allowed and st.query_params.get(param) != st.session_state[key]:
            st.query_params[param] = st.session_state[key]
    return owner
