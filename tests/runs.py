"""What the tests of training runs share: a small slice of the bundled sample, a quick network, a poll."""
import time

from lab.data import load_sample
from lab.trainer import TrainConfig, make_train_data


def sample_slice():
    """1,500 training images of the bundled sample (10 % held out) and its 1,000 test images."""
    s = load_sample()
    return make_train_data(s["x_train"], s["y_train"], s["x_test"], s["y_test"], train_size=1500,
                           val_fraction=0.1, seed=0)


def small(**changes):
    """A quick network: 784-32-10, batches of 64 (22 per epoch)."""
    return TrainConfig(**{"hidden": (32,), "epochs": 2, **changes})


def wait_for(condition, timeout=30.0):
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False
