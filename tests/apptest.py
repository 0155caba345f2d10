"""Open a page the way a learner reaches it: through app.py's navigation, in Streamlit's AppTest."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def open_page(name, query=None):
    """Run app.py on pages/<name>.py (optionally opened from a link's query string); no exception allowed."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(f"pages/{name}.py")
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert_fine(at)
    return at


def assert_fine(at):
    assert not at.exception, [e.value for e in at.exception]
