"""Every page runs inside app.py's navigation, even when it is the first thing a fresh server serves."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def run_inside_app():
    """Hand a page over to app.py if Streamlit started it on its own.

    With a pages/ folder beside app.py, a freshly started Streamlit server runs the first deep link
    (say /playground?…) in its legacy "pages folder" mode: the page alone, without app.py's navigation,
    layout and session set-up. Until app.py calls st.navigation that mode stays on. Turning it off and
    rerunning makes Streamlit run app.py, which then runs the page the link asked for.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
