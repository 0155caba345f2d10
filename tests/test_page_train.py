"""The Train-on-MNIST page (AppTest): configure a small run, train, watch the views, stop, upload models."""
import io
import time

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lab.modelfile import ModelCard
from core.network import MLP
from lab.data import load_mnist
from lab.runstore import RunStore

K = "keep_train_"


@pytest.fixture
def at():
    app = AppTest.from_file("../app.py", default_timeout=60)
    app.run()
    app.switch_page("pages/train_mnist.py")
    app.run()
    assert not app.exception
    yield app
    reset = [b for b in app.button if b.label == "Reset"]
    if reset and not reset[0].disabled:              # stop this session's trainer thread
        reset[0].click()
        app.run()


def button(app, label):
    return next(b for b in app.button if b.label == label)


def configure_small(app, epochs=1, size=500):
    app.select_slider(key=K + "size").set_value(size)
    app.number_input(key=K + "epochs").set_value(epochs)
    app.select_slider(key=K + "width1").set_value(32)
    app.run()


def rerun_until(app, condition, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.run()
        assert not app.exception, app.exception
        if condition(app):
            return True
        time.sleep(0.2)
    return False


def metrics(app):
    return {m.label: m.value for m in app.metric}


def stored(app):
    """The runs this session's browser has in the run store (the same database file the page uses)."""
    return RunStore().list_runs(app.session_state["lab_owner"])


def test_defaults_show_before_training(at):
    assert at.title[0].value == "Train a network on MNIST"
    assert at.select_slider(key=K + "lr").value == 0.1
    assert at.select_slider(key=K + "width1").value == 256
    assert at.selectbox(key=K + "act").value == "relu" and at.selectbox(key=K + "opt").value == "momentum"
    assert at.select_slider(key=K + "batch").value == 64 and at.number_input(key=K + "epochs").value == 10
    assert any("Press **Train**" in i.value for i in at.info)
    assert button(at, "Pause").disabled and button(at, "Stop").disabled and not button(at, "Train").disabled
    assert any("Source:" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 1                       # the class counts in the data glance


def test_train_a_small_run_to_the_end(at):
    configure_small(at, epochs=2, size=1000)
    button(at, "Train").click()
    at.run()
    assert not at.exception
    assert rerun_until(at, lambda a: stored(a) and a.dataframe)
    at.run()              # the run was stored while that page run drew its status: draw it once more
    run = stored(at)[-1]
    assert run.state == "finished" and len(run.epochs_log) == 2 and run.settings["hidden"] == [32]
    assert 0.4 < run.test_acc <= 1                    # 30 steps of a 784-32-10 net: far above chance (0.1)
    charts = at.get("plotly_chart")
    assert len(charts) >= 10                  # live views + confusion/per-class + run history + data glance
    shown = metrics(at)
    assert shown["Test acc."] == f"{100 * run.test_acc:.1f}%"
    assert any("finished" in p.proto.text for p in at.get("progress"))
    # the model is kept for the Draw page, with its card, and stored with the run
    model, card = at.session_state["trained_model"], at.session_state["trained_model_card"]
    assert isinstance(model, MLP) and model.sizes == [784, 32, 10]
    assert card.test_accuracy == pytest.approx(run.test_acc) and card.origin == "page"
    assert card.dataset == "mnist" and card.normalize
    assert [e["test_acc"] for e in card.epochs_log] == pytest.approx([e["test_acc"] for e in run.epochs_log])
    saved = MLP.load(io.BytesIO(RunStore().model_bytes(at.session_state["lab_owner"], run.id)))
    assert np.array_equal(saved.weights[0], model.weights[0])
    table = at.dataframe[0].value                 # the settings that differ from the defaults are columns
    assert len(table) == 1 and table["train_size"].tolist() == [1000] and table["epochs"].tolist() == [2]
    assert "activation" not in table.columns      # the default ReLU is not a difference
    assert any(b.label == "Download model (.npz)" for b in at.get("download_button"))


def test_stop_keeps_the_run_and_unlocks_the_settings(at):
    configure_small(at, epochs=100, size=2000)
    button(at, "Train").click()
    at.run()
    assert at.selectbox(key=K + "act").disabled                        # locked while training
    assert rerun_until(at, lambda a: metrics(a)["Loss (smoothed)"] != "—")
    button(at, "Stop").click()
    at.run()
    assert not at.exception
    run = stored(at)[-1]
    assert run.state == "stopped" and 0 < len(run.loss_steps) == len(run.loss)
    assert not at.selectbox(key=K + "act").disabled
    assert button(at, "Stop").disabled


def test_step_one_batch_then_change_the_learning_rate(at):
    configure_small(at, epochs=3)
    button(at, "Step one batch").click()
    at.run()
    assert not at.exception
    assert any("paused" in p.proto.text and "batch 1/" in p.proto.text for p in at.get("progress"))
    assert button(at, "Resume").label == "Resume"
    at.select_slider(key=K + "lr").set_value(0.01)                      # a live setting: reaches the trainer
    at.run()
    button(at, "Step one batch").click()
    at.run()
    assert any("batch 2/" in p.proto.text and "η = 0.01" in p.proto.text for p in at.get("progress"))
    button(at, "Reset").click()
    at.run()
    assert any("Press **Train**" in i.value for i in at.info)


def test_the_too_high_learning_rate_pitfall_explains_the_divergence(at):
    at.select_slider(key=K + "size").set_value(500)
    at.run()
    button(at, "η too high").click()
    at.run()
    assert at.select_slider(key=K + "lr").value == 10.0 and at.selectbox(key=K + "opt").value == "sgd"
    assert rerun_until(at, lambda a: any("diverged" in e.value.lower() for e in a.error))
    message = next(e.value for e in at.error if "diverged" in e.value.lower())
    assert "learning rate η = 10" in message and "last good weights were restored" in message
    assert any("what to look for" in i.value for i in at.info)
    assert rerun_until(at, lambda a: stored(a) and stored(a)[-1].state == "diverged")
    assert stored(at)[-1].settings["preset"] == "lr_high"


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _changed(**changes):
    arrays = dict(np.load(io.BytesIO(MLP([784, 8, 10], seed=0).to_bytes())))
    arrays.update(changes)
    return _npz(arrays)


BAD_UPLOADS = {
    "not a zip": (b"this is not a zip file", "not a Backprop Lab model file"),
    "random bytes": (bytes(range(256)) * 20, "not a Backprop Lab model file"),
    "3 outputs": (MLP([784, 8, 3]).to_bytes(), "gives 3 outputs"),
    "100 inputs": (MLP([100, 8, 10]).to_bytes(), "takes 100 inputs"),
    "meta_json a list": (_changed(format_version=np.array(1), meta_json=np.array("[1]")),
                         "meta_json must be a JSON object"),
    "settings a string": (_changed(format_version=np.array(1), meta_json=np.array('{"settings": "x"}')),
                          "settings must be a JSON object"),
    "dtype garbage": (_changed(dtype=np.array("garbage")), "dtype must be one of"),
    "format_version an array": (_changed(format_version=np.array([1, 1])), "format_version"),
    "absurd layer": (_changed(sizes=np.array([784, 10**9, 10])), "this app loads at most"),
    "pickled object": (_changed(sizes=np.array([object()], dtype=object)), "unexpected dtype"),
    "NaN weights": (_changed(b0=np.full(8, np.nan, np.float32)), "NaN or infinite"),
    "3e38 weights": (_changed(W0=np.full((8, 784), 3e38, np.float32)), "output is not a finite number"),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_uploading_a_bad_model_shows_a_clear_message(at, name):
    content, message = BAD_UPLOADS[name]
    at.file_uploader(key="train_upload").upload("model.npz", content)
    at.run()
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]       # as shown: Markdown escapes removed
    assert any(message in e for e in errors), errors
    assert not any("allow_pickle" in e or "Traceback" in e for e in errors)
    assert "uploaded_model" not in at.session_state


def test_an_upload_is_kept_beside_the_trained_model_and_its_name_is_plain_text(at):
    trained = MLP([784, 32, 10], seed=1)
    at.session_state["trained_model"] = trained
    at.session_state["trained_model_card"] = ModelCard(dataset="mnist", origin="page", origin_note="run #1, finished")
    net = MLP([784, 16, 10], seed=4)
    at.file_uploader(key="train_upload").upload("[mine](http://x.example).npz", net.to_bytes(ModelCard(dataset="mnist")))
    at.run()
    assert not at.exception
    assert any("Loaded \\[mine\\](http:\\/\\/x.example).npz" in s.value for s in at.success), [s.value for s in at.success]
    assert at.session_state["trained_model"] is trained                      # not replaced
    uploaded, card = at.session_state["uploaded_model"], at.session_state["uploaded_model_card"]
    assert np.array_equal(uploaded.weights[0], net.weights[0])
    assert card.origin == "upload" and card.origin_note == "[mine](http://x.example).npz"
    shown = " ".join(m.value for m in at.markdown)
    assert "Trained here:" in shown and "Uploaded:" in shown


def test_an_mnist_model_uploaded_while_fashion_is_selected_is_measured_on_mnist(at):
    at.selectbox(key=K + "data").set_value("Fashion-MNIST")
    at.run()
    net = MLP([784, 16, 10], seed=4)
    at.file_uploader(key="train_upload").upload("digits.npz", net.to_bytes(ModelCard(dataset="mnist")))
    at.run()
    assert not at.exception
    mnist = load_mnist(download=False)                    # what the page has as MNIST (offline: the sample)
    expected = float(np.mean(net.predict(mnist.x_test.reshape(-1, 784) / 255.0) == mnist.y_test))
    card = at.session_state["uploaded_model_card"]
    assert card.dataset == "mnist" and card.test_accuracy == pytest.approx(expected)
    assert card.test_size == len(mnist.y_test) and card.test_data == mnist.source
    message = next(s.value for s in at.success)
    assert f"test accuracy {expected:.1%} on {len(mnist.y_test):,} MNIST test images" in message.replace("\\", "")


def test_a_model_whose_card_names_no_data_set_is_not_measured_and_says_so(at):
    at.file_uploader(key="train_upload").upload("mine.npz", MLP([784, 16, 10], seed=4).to_bytes())
    at.run()
    assert not at.exception
    assert any("not measured here: its file does not say which data set it learned" in s.value for s in at.success)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_pressing_train_without_the_data_folder_says_why(tmp_path, monkeypatch, make):
    folder = tmp_path / "mnist"
    if make == "empty":
        folder.mkdir()
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(folder))
    st.cache_resource.clear()                             # the page caches data sets per server: a fresh server
    app = AppTest.from_file("../app.py", default_timeout=60)
    app.run()
    app.switch_page("pages/train_mnist.py")
    app.run()
    assert not app.exception
    button(app, "Train").click()
    app.run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error).replace("\\", "")
    assert "Cannot start:" in errors and "$BACKPROP_LAB_MNIST_DIR" in errors
    st.cache_resource.clear()
