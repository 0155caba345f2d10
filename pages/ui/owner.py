"""Which browser is this? An unguessable id in the URL (?lab=…) names the owner of the runs kept on disk.

Why the URL and not a cookie: Streamlit can read cookies but not set them, and the URL is something a
learner can see, bookmark and take to another browser. The id is 128 random bits (lab.runstore), so
nobody finds another learner's runs by trying ids; whoever has the link sees those runs, as with any
"anyone with the link" document.

Streamlit clears query parameters when the learner switches pages, so app.py calls browser_owner()
on every run: it puts the id back, and a reload of any page finds it.
"""
import streamlit as st

from lab.runstore import new_owner_id, valid_owner_id

PARAM = "lab"


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
    return owner
