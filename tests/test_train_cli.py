"""The command-line trainer `python -m lab.train`: log format, saved model, clear errors."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab.modelfile import load_model
from lab.train import format_epoch, main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "assets" / "mnist_sample_5k.npz"          # a Keras-style .npz: usable as --data-dir
EPOCH_LINE = re.compile(r"^Epoch (\d+) \| loss (\d+\.\d{4}) \| train acc (\d+\.\d{2})% \| "
                        r"(?:val acc (\d+\.\d{2})% \| )?test acc (\d+\.\d{2})% \| time (\d+\.\d)s$")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lab.train", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=240, env={"PATH": "/usr/bin:/bin", "BACKPROP_LAB_OFFLINE": "1"})


def test_cli_trains_prints_the_epoch_log_and_saves_a_loadable_model(tmp_path):
    out = tmp_path / "digits.npz"
    result = run_cli("--data-dir", str(SAMPLE), "--train-size", "600", "--hidden", "32", "--epochs", "2",
                     "--batch-size", "32", "--lr", "0.05", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    epochs = [EPOCH_LINE.match(line) for line in lines if line.startswith("Epoch")]
    assert len(epochs) == 2 and all(epochs), result.stdout
    assert [int(m.group(1)) for m in epochs] == [1, 2]
    assert epochs[0].group(4) is None                       # no validation split by default
    assert float(epochs[1].group(2)) < float(epochs[0].group(2))          # the loss went down
    net, card = load_model(out)
    assert net.sizes == [784, 32, 10] and net.activation == "relu"
    assert card.settings["hidden"] == [32] and card.settings["lr"] == 0.05 and card.settings["seed"] == 3
    assert card.train_size == 600 and card.test_size == 1000 and card.dataset == "mnist" and card.normalize
    assert "mnist_sample_5k.npz" in card.test_data and card.origin == "cli"
    assert card.origin_note.startswith("python -m lab.train --data-dir") and "--seed 3" in card.origin_note
    assert f"{100 * card.test_accuracy:.2f}" == epochs[-1].group(5)      # the saved accuracy is the printed one
    assert len(card.epochs_log) == 2 and f"Saved {out}" in result.stdout
    assert all(np.isfinite(W).all() for W in net.weights)


def test_cli_in_process_with_validation_split_and_no_extension(tmp_path, capsys):
    code = main(["--data-dir", str(SAMPLE), "--train-size", "400", "--val-fraction", "0.25", "--hidden", "16", "8",
                 "--activation", "tanh", "--init", "xavier", "--optimizer", "adam", "--lr", "0.003", "--epochs", "1",
                 "--out", str(tmp_path / "model")])
    assert code == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if line.startswith("Epoch 1"))
    assert EPOCH_LINE.match(line).group(4) is not None                  # "val acc …" when a split is held out
    net, card = load_model(tmp_path / "model.npz")
    assert net.sizes == [784, 16, 8, 10] and net.activation == "tanh" and card.train_size == 300   # 100 held out


@pytest.mark.parametrize("args, message", [
    (["--hidden", "0"], "hidden must be 1–3 layer widths"),
    (["--hidden", "8", "8", "8", "8"], "hidden must be 1–3 layer widths"),
    (["--lr", "-0.1"], "lr must be a finite number"),
    (["--epochs", "0"], "epochs must be"),
    (["--activation", "softplus"], "invalid choice"),
    (["--train-size", "999999"], "train_size must be between"),
    (["--data-dir", "/nonexistent/mnist"], "does not exist"),
])
def test_cli_rejects_bad_options_with_a_message(args, message):
    result = run_cli("--data-dir", str(SAMPLE), "--epochs", "1", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_divergence_exits_1_with_the_explanation(tmp_path):
    result = run_cli("--data-dir", str(SAMPLE), "--train-size", "500", "--optimizer", "sgd", "--lr", "10",
                     "--out", str(tmp_path / "bad.npz"))
    assert result.returncode == 1 and "diverged" in result.stderr and "try η = 1" in result.stderr
    assert not (tmp_path / "bad.npz").exists()


def test_help_documents_every_option():
    text = run_cli("--help").stdout
    for option in ("--hidden", "--activation", "--init", "--optimizer", "--lr", "--schedule", "--l2", "--batch-size",
                   "--epochs", "--data", "--train-size", "--val-fraction", "--seed", "--out", "--test-dir"):
        assert option in text


def test_format_epoch():
    log = {"epoch": 5, "loss": 0.07123, "train_acc": 0.97854, "val_acc": None, "test_acc": 0.9741, "time": 12.34}
    assert format_epoch(log) == "Epoch 5 | loss 0.0712 | train acc 97.85% | test acc 97.41% | time 12.3s"
