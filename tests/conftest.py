"""Test-wide settings: no test reaches the internet, and none reads or writes the user's data cache or run history."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Set at import, so AppTest (in-process) and `streamlit run` subprocesses of the browser tests inherit them.
os.environ["BACKPROP_LAB_OFFLINE"] = "1"
# Tests run pytest, a Streamlit server and Chromium on 2 cores at once; OpenBLAS's spinning worker
# threads then slow small matrix products down several times. One BLAS thread per process avoids that
# (it only takes effect where NumPy is not yet imported, hence also in .ci/run).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["BACKPROP_LAB_CACHE"] = tempfile.mkdtemp(prefix="backprop-lab-test-cache-")
# ... and none reads or writes the user's run history (lab/runstore.py).
os.environ["BACKPROP_LAB_DATA"] = tempfile.mkdtemp(prefix="backprop-lab-test-data-")
for _folder in (os.environ["BACKPROP_LAB_CACHE"], os.environ["BACKPROP_LAB_DATA"]):     # gone when pytest ends
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_test_set():
    """The real MNIST test set from ../shared: (x (10000, 28, 28) uint8, y (10000,) int64)."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST test set is not at {SHARED_MNIST}")
    from lab.data import load_mnist_test
    return load_mnist_test(SHARED_MNIST)
