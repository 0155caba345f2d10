"""Model files (lab.modelfile): the model card travels with the weights, old files still load, and a
hostile file costs neither memory nor a traceback — every bad file is a ValueError with a plain message.

Every hostile file is made here, by the test, from a real saved model or from scratch.
"""
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from childpeak import measure

from lab.modelfile import MAX_PARAMETERS, ModelCard, load_model, model_bytes, save_model
from core.network import MLP

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CARD = ModelCard(dataset="mnist", normalize=True, test_accuracy=0.9125, test_size=10_000,
                 test_data="MNIST (full, 60,000 train / 10,000 test) from ~/data", origin="page",
                 origin_note="run #3, finished", run_id=3, train_size=54_000,
                 settings={"hidden": [16], "lr": 0.1, "normalize": True},
                 epochs_log=[{"epoch": 1, "loss": 0.3, "test_acc": 0.9125}])


def arrays_of(data):
    with np.load(io.BytesIO(data)) as f:
        return {k: f[k] for k in f.files}


def npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def saved(net=None, card=CARD):
    return arrays_of(model_bytes(net or MLP([784, 16, 10], seed=1), card))


def legacy(meta, net=None):
    """A format-1 file as the app wrote it before the card: meta_json holds a free dict."""
    arrays = saved(net)
    del arrays["card_json"]
    arrays["format_version"] = np.array(1)
    arrays["meta_json"] = np.array(json.dumps(meta))
    return npz(arrays)


# ---- the card ---------------------------------------------------------------------------

def test_a_model_and_its_card_round_trip(tmp_path):
    net = MLP([784, 16, 10], activation="tanh", seed=2)
    save_model(net, tmp_path / "m.npz", CARD)
    loaded, card = load_model(tmp_path / "m.npz")
    assert card == CARD
    X = np.random.default_rng(0).random((3, 784))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    assert card.accuracy_text() == "test accuracy 91.2% on 10,000 MNIST test images"
    assert card.where_from() == "trained on the Train page (run #3, finished)"


def test_a_diverged_runs_nan_loss_is_saved_as_null():
    card = ModelCard(dataset="mnist", epochs_log=[{"epoch": np.int64(1), "loss": float("nan")}])
    _, loaded = load_model(model_bytes(MLP([4, 2], output="softmax", seed=0), card))
    assert loaded.epochs_log == [{"epoch": 1, "loss": None}]


def test_the_bundled_default_model_loads_with_a_sensible_card():
    net, card = load_model(DEFAULT_MODEL)
    assert net.sizes == [784, 256, 10]
    assert card.dataset == "mnist" and card.normalize is True
    assert card.test_accuracy == pytest.approx(0.9413) and card.test_size == 10_000
    assert card.origin == "cli" and "--hidden 256" in card.origin_note and card.train_size == 4000
    assert len(card.epochs_log) == 30


def test_a_format_1_file_from_the_train_page_gets_its_data_set_from_the_source_text():
    meta = {"source": "trained on this page (run #2, finished)", "test_accuracy": 0.5, "test_size": 1000,
            "data_source": "Fashion-MNIST (full, 60,000 train / 10,000 test) from /usr/share/datasets/fashion-mnist",
            "settings": {"normalize": False, "hidden": [16]}, "epochs_log": []}
    net, card = load_model(legacy(meta))
    assert card.dataset == "fashion-mnist" and card.normalize is False and card.test_accuracy == 0.5
    assert card.origin == "page" and card.origin_note == "run #2, finished"


def test_a_format_1_file_that_names_nothing_has_an_unknown_data_set():
    _, card = load_model(legacy({"note": "made by hand, mentions fashion"}))
    assert card.dataset == "unknown" and card.origin == "unknown" and card.test_accuracy is None
    assert card.accuracy_text() == "test accuracy not measured"


def test_mlp_save_and_load_delegate_to_the_model_file():
    net = MLP([784, 16, 10], seed=5)
    loaded, card = load_model(io.BytesIO(model_bytes(net, CARD)))
    assert card == CARD and np.array_equal(loaded.weights[1], net.weights[1])
    assert MLP.load(io.BytesIO(model_bytes(net))).sizes == [784, 16, 10]


# ---- malformed files: a ValueError with a plain message, never a traceback ----------------

def _with(**changes):
    arrays = saved()
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return npz(arrays)


def _legacy_with(meta_json):
    arrays = saved()
    del arrays["card_json"]
    arrays.update(format_version=np.array(1), meta_json=np.array(meta_json))
    return npz(arrays)


HUGE = np.array([3e38], np.float32)
MALFORMED = {
    "random bytes": (bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "not a readable zip"),
    "empty file": (b"", "not a readable zip"),
    "meta_json a list": (_legacy_with("[1, 2, 3]"), "meta_json must be a JSON object; got list"),
    "settings a string": (_legacy_with('{"settings": "fast"}'), "settings must be a JSON object; got str"),
    "meta_json not JSON": (_legacy_with("{nope"), "meta_json is not valid JSON"),
    "meta_json nested too deep": (_legacy_with("[" * 100_000), "meta_json is nested too deeply"),
    "card with a wrong type": (_with(card_json=np.array('{"test_accuracy": "high"}')),
                               "test_accuracy must be a fraction between 0 and 1"),
    "card normalize not a bool": (_with(card_json=np.array('{"normalize": "yes"}')), "normalize must be true or false"),
    "dtype garbage": (_with(dtype=np.array("garbage")), "dtype must be one of"),
    "format_version an array": (_with(format_version=np.array([1, 2])), "'format_version'.*expected shape ()"),
    "format_version text": (_with(format_version=np.array("2")), "'format_version'.*unexpected dtype"),
    "format 99": (_with(format_version=np.array(99)), "format 99 is not supported"),
    "sizes as floats": (_with(sizes=np.array([784.0, 16.0, 10.0])), "'sizes'.*unexpected dtype"),
    "sizes with a zero": (_with(sizes=np.array([784, 0, 10])), "at least 1 neuron"),
    "a pickled object array": (_with(sizes=np.array([object()], dtype=object)), "'sizes'.*unexpected dtype"),
    "weights as ints": (_with(W0=np.ones((16, 784), np.int64)), "'W0'.*unexpected dtype"),
    "weights of the wrong shape": (_with(W1=np.ones((10, 17), np.float32)), r"'W1'.*expected shape \(10, 16\)"),
    "missing bias": (_with(b1=None), "missing 'b1'"),
    "activation a number": (_with(activation=np.array(3)), "'activation'.*unexpected dtype"),
    "unknown activation": (_with(activation=np.array("swish")), "unknown activation"),
    "alpha infinite": (_with(alpha=np.array(np.inf)), "alpha must be a finite number"),
    "NaN weights": (_with(b0=np.full(16, np.nan, np.float32)), "NaN or infinite"),
    "3e38 weights": (_with(W0=np.full((16, 784), HUGE[0]), b0=np.full(16, HUGE[0])), "output is not a finite number"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_model_file_is_a_value_error_with_a_plain_message(name):
    data, message = MALFORMED[name]
    with pytest.raises(ValueError, match=message) as error:
        load_model(data)
    assert "allow_pickle" not in str(error.value) and "Traceback" not in str(error.value)


def test_numpy_s_unsafe_loading_advice_is_never_passed_on():
    data = _with(sizes=np.array([object()], dtype=object))
    with pytest.raises(ValueError) as error:
        load_model(data)
    assert "pickle" not in str(error.value).lower()


# ---- memory: a small file must not pin gigabytes (measured in a child process) ------------

def _declaring(sizes, weights=False):
    """A few-KB file that declares sizes; with weights=False it has none at all."""
    arrays = saved(MLP([4, 3, 2], seed=0), ModelCard())
    arrays["sizes"] = np.array(sizes)
    for key in [k for k in arrays if k[0] in "Wb" and k[1:].isdigit()]:
        del arrays[key]
    return npz(arrays)


def _zip_bomb(path, member, header_descr="<f4", shape=(1 << 27,), mib=512):
    """A real model plus one member of `mib` MiB of zeros, DEFLATE-compressed to a few MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for key, value in saved().items():
            if key != member:
                with z.open(key + ".npy", "w") as f:
                    np.lib.format.write_array(f, value, allow_pickle=False)
        with z.open(member + ".npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_2_0(f, {"descr": header_descr, "fortran_order": False, "shape": shape})
            chunk = bytes(1 << 24)
            for _ in range(mib // 16):
                f.write(chunk)
    return path


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = {
        "an extra 512 MiB member": (_zip_bomb(folder / "extra.npz", "junk"), None),
        "a 512 MiB card": (_zip_bomb(folder / "card.npz", "card_json", "<U134217728", ()), "'card_json' is too long"),
        "a 512 MiB weight matrix": (_zip_bomb(folder / "w.npz", "W0", "<f4", (1 << 27,)), "'W0'.*expected shape"),
    }
    for name, sizes in {"sizes [784, 200000, 10]": [784, 200_000, 10],
                        "100 layers of 2,000": [784] + [2000] * 100 + [10],
                        "60 layers of 2,000": [784] + [2000] * 60 + [10],
                        "sizes [784, 10**9, 10]": [784, 10**9, 10],
                        "sizes [2**62, 2**62]": [2**62, 2**62]}.items():
        path = folder / f"{len(files)}.npz"
        path.write_bytes(_declaring(sizes))
        message = "'sizes'.*at most 65 values" if len(sizes) > 65 else "parameters; this app loads at most"
        files[name] = (path, message)
    return files


@pytest.mark.parametrize("name", ["an extra 512 MiB member", "a 512 MiB card", "a 512 MiB weight matrix",
                                  "sizes [784, 200000, 10]", "100 layers of 2,000", "60 layers of 2,000",
                                  "sizes [784, 10**9, 10]", "sizes [2**62, 2**62]"])
def test_a_hostile_model_file_is_handled_in_bounded_memory_and_time(hostile_files, name):
    path, message = hostile_files[name]
    assert path.stat().st_size < 6_000_000                       # small on disk ...
    cost = measure("from lab.modelfile import load_model", f"load_model({str(path)!r})")
    assert cost["extra_mb"] < 300 and cost["seconds"] < 5, cost  # ... and small in memory
    if message is None:                                          # the extra member is ignored: the model loads
        assert cost["error"] is None, cost
    else:
        assert cost["error"].startswith("ValueError") and re.search(message, cost["error"]), cost


def test_the_parameter_budget_admits_every_network_the_train_page_builds():
    largest = [784, 512, 512, 512, 10]
    n = sum(a * b + b for a, b in zip(largest[:-1], largest[1:]))
    assert n < MAX_PARAMETERS
    net = MLP(largest, seed=0)
    loaded, _ = load_model(model_bytes(net))
    assert loaded.sizes == largest
