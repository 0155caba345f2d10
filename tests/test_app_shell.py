"""app.py: the page list, and the one setting it makes for the whole server."""
import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]

# Runs app.py once in a fresh interpreter whose environment does not cap BLAS threads, then reports
# how many threads each loaded BLAS library may use.
PROBE = """
from streamlit.testing.v1 import AppTest
import threadpoolctl
at = AppTest.from_file("app.py", default_timeout=60)
at.run()
assert not at.exception, at.exception
print([lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"])
"""


def test_app_runs_numpy_blas_on_one_thread():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[1]"


def test_every_page_of_the_navigation_renders():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    for page in sorted((REPO / "pages").glob("*.py")):
        at.switch_page(f"pages/{page.name}")
        at.run()
        assert not at.exception, f"{page.name}: {at.exception}"
        assert at.title or at.header, f"{page.name} shows no title"
