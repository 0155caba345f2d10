"""The Train-on-MNIST page (AppTest): configure a small run, train, watch the views, stop, upload models."""
import base64
import io
import json
import time
from dataclasses import replace

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lab.modelfile import ModelCard, model_bytes
from core.network import MLP
from lab import data as data_module
from lab.data import load_mnist
from lab.runstore import RunStore
from pages.ui.live_feed import panel_state

K = "keep_train_"


def fresh_train_page():
    app = AppTest.from_file("../app.py", default_timeout=60)
    app.run()
    app.switch_page("pages/train_mnist.py")
    app.run()
    assert not app.exception
    return app


@pytest.fixture
def at():
    app = fresh_train_page()
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


def panels(app):
    """The bodies of the live panels on the page (pages/ui/live_feed.py: status line, numbers, curves)."""
    return [e.proto.body for e in app.get("html") if 'class="bl-live"' in e.proto.body]


def status_lines(app):
    """The status line as a learner reads it: the live panel's while the run is live, Streamlit's after."""
    return [p.proto.text for p in app.get("progress")] + [panel_state(body)[0] for body in panels(app)]


def metrics(app):
    values = {m.label: m.value for m in app.metric}
    for body in panels(app):
        values.update(panel_state(body)[1])
    return values


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
    assert button(at, "Pause").disabled and button(at, "Resume").disabled and button(at, "Stop").disabled
    assert not button(at, "Train").disabled
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
    assert any("finished" in p for p in status_lines(at))
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
    assert rerun_until(at, lambda a: stored(a) and not a.selectbox(key=K + "act").disabled)   # ended and kept
    run = stored(at)[-1]
    assert run.state == "stopped" and 0 < len(run.loss_steps) == len(run.loss)
    assert not at.selectbox(key=K + "act").disabled
    assert button(at, "Stop").disabled


def test_step_one_batch_then_change_the_learning_rate(at):
    configure_small(at, epochs=3)
    button(at, "Step one batch").click()
    at.run()
    assert not at.exception
    assert any("paused" in p and "batch 1/" in p for p in status_lines(at))
    assert not button(at, "Resume").disabled and button(at, "Pause").disabled         # paused: Resume is the one
    at.select_slider(key=K + "lr").set_value(0.01)                      # a live setting: reaches the trainer
    at.run()
    button(at, "Step one batch").click()
    at.run()
    assert any("batch 2/" in p and "η = 0.01" in p for p in status_lines(at))
    button(at, "Reset").click()
    at.run()
    assert any("Press **Train**" in i.value for i in at.info)


def test_the_too_high_learning_rate_pitfall_asks_first_then_explains_the_divergence_and_the_prediction(at):
    at.select_slider(key=K + "size").set_value(500)
    at.run()
    button(at, "η too high").click()
    at.run()
    assert at.select_slider(key=K + "lr").value == 10.0 and at.selectbox(key=K + "opt").value == "sgd"
    assert any("Press **Train**" in i.value for i in at.info)                   # no run has started
    assert any("Predict, then run" in m.value for m in at.markdown)          # it asks before it trains
    assert button(at, "Commit and run").disabled                              # nothing picked yet
    at.radio(key="train_predict_choice").set_value(3)                          # "Jump around or blow up"
    at.run()
    button(at, "Commit and run").click()
    at.run()
    assert rerun_until(at, lambda a: any("diverged" in e.value.lower() for e in a.error))
    message = next(e.value for e in at.error if "diverged" in e.value.lower())
    assert "learning rate η = 10" in message and "last good weights were restored" in message
    assert any("what to look for" in i.value for i in at.info)
    assert rerun_until(at, lambda a: stored(a) and stored(a)[-1].state == "diverged")
    assert stored(at)[-1].settings["preset"] == "lr_high"
    assert rerun_until(at, lambda a: any("Right" in m.value and "Jump around or blow up" in m.value for m in a.success))
    verdict = next(m.value for m in at.success if "Right" in m.value)
    assert "a random guess scores 2.3" in verdict                      # the run's own numbers: ln 10 ≈ 2.303


def test_the_tutor_finds_the_exploding_loss_and_its_fix_lowers_eta_and_the_next_run_learns(at):
    at.select_slider(key=K + "size").set_value(1000)
    at.run()
    button(at, "η too high").click()
    at.run()
    button(at, "Run without predicting").click()
    at.run()
    assert rerun_until(at, lambda a: any(b.label.startswith("Set η") for b in a.button))
    fix = next(b for b in at.button if b.label.startswith("Set η"))
    new_lr = float(fix.label.split("=")[1])
    assert new_lr < 10
    fix.click()
    at.run()
    assert at.select_slider(key=K + "lr").value == pytest.approx(new_lr)      # the fix is in the widget
    assert rerun_until(at, lambda a: stored(a) and len(stored(a)) == 2 and stored(a)[-1].state == "finished", 90)
    learned = stored(at)[-1]
    assert learned.settings["lr"] == pytest.approx(new_lr) and learned.test_acc > 0.5   # chance is 0.1


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _changed(**changes):
    arrays = dict(np.load(io.BytesIO(model_bytes(MLP([784, 8, 10], seed=0)))))
    arrays.update(changes)
    return _npz(arrays)


BAD_UPLOADS = {
    "not a zip": (b"this is not a zip file", "not a Backprop Lab model file"),
    "random bytes": (bytes(range(256)) * 20, "not a Backprop Lab model file"),
    "3 outputs": (model_bytes(MLP([784, 8, 3])), "gives 3 outputs"),
    "100 inputs": (model_bytes(MLP([100, 8, 10])), "takes 100 inputs"),
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
    model = model_bytes(net, ModelCard(dataset="mnist"))
    at.file_uploader(key="train_upload").upload("[mine](http://x.example).npz", model)
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
    at.file_uploader(key="train_upload").upload("digits.npz", model_bytes(net, ModelCard(dataset="mnist")))
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
    at.file_uploader(key="train_upload").upload("mine.npz", model_bytes(MLP([784, 16, 10], seed=4)))
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


# ---- the lessons' network: BatchNorm, dropout, skips, clipping, the plateau schedule -------------------

def values(x):
    """A figure's array as plotly's JSON holds it (a list, or {"dtype", "bdata", "shape"} base64) → NumPy."""
    if isinstance(x, dict):
        a = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
        return a.reshape([int(n) for n in str(x["shape"]).split(",")]) if "shape" in x else a
    return np.array(x, dtype=float)


def chart_titles(app):
    return [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in app.get("plotly_chart")]


def chart(app, title_start):
    return next(json.loads(c.proto.spec) for c in app.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "").startswith(title_start))


def test_the_lessons_preset_sets_every_setting_of_the_lessons_network(at):
    at.select_slider(key=K + "lr").set_value(0.5)                 # something to be undone by the preset
    at.toggle(key=K + "shuffle").set_value(False)
    at.run()
    button(at, "The lessons' network").click()
    at.run()
    assert not at.exception
    # the lesson's network, written out from its text: 784→256→256→10, Linear → BN → ReLU → Dropout(0.3),
    # AdamW η = 1e-3 with weight decay, cosine annealing, clip_grad_norm_(…, 1.0), 20 epochs of batches of 64
    shown = {"layers": at.segmented_control(key=K + "layers").value, "width1": at.select_slider(key=K + "width1").value,
             "width2": at.select_slider(key=K + "width2").value, "act": at.selectbox(key=K + "act").value,
             "init": at.selectbox(key=K + "init").value, "opt": at.selectbox(key=K + "opt").value,
             "lr": at.select_slider(key=K + "lr").value, "sched": at.selectbox(key=K + "sched").value,
             "l2": at.select_slider(key=K + "l2").value, "batch": at.select_slider(key=K + "batch").value,
             "epochs": at.number_input(key=K + "epochs").value, "bn": at.toggle(key=K + "bn").value,
             "dropout": at.select_slider(key=K + "dropout").value, "residual": at.toggle(key=K + "residual").value,
             "clip": at.select_slider(key=K + "clip").value, "normalize": at.toggle(key=K + "normalize").value,
             "shuffle": at.toggle(key=K + "shuffle").value}
    assert shown == {"layers": 2, "width1": 256, "width2": 256, "act": "relu", "init": "he", "opt": "adamw",
                     "lr": 0.001, "sched": "cosine", "l2": 1e-4, "batch": 64, "epochs": 20, "bn": True,
                     "dropout": 0.3, "residual": False, "clip": 1.0, "normalize": True, "shuffle": True}
    assert any("98.12 % test accuracy on full MNIST after 20 epochs" in c.value for c in at.caption)
    assert not any(b.label == "Cancel download" for b in at.button)


def test_a_lessons_run_shows_the_lessons_result_beside_its_own_and_the_batchnorm_and_clipping_views(at):
    button(at, "The lessons' network").click()
    at.run()
    configure_small(at, epochs=1, size=1000)
    at.select_slider(key=K + "width1").set_value(256)             # configure_small narrowed it; the preset's width
    at.run()
    button(at, "Train").click()
    at.run()
    assert rerun_until(at, lambda a: stored(a) and a.dataframe)
    at.run()
    run = stored(at)[-1]
    assert run.settings["batchnorm"] and run.settings["clip"] == 1.0 and run.settings["preset"] == "lessons"
    line = next(i.value for i in at.info if "The lessons' network" in i.value)
    assert "The lesson reports a best test accuracy of 98.12 % on full MNIST after 20 epochs." in line
    best = max(e["test_acc"] for e in run.epochs_log)
    assert f"This run: best test accuracy {100 * best:.2f} % after 1 epoch, trained on 900 images of" in line
    ds = load_mnist(download=False)
    assert ("the bundled 4,000-image MNIST sample" if ds.is_sample else "full MNIST") in line
    # the accuracy, confusion matrix and mistakes come from evaluation mode (dropout off, BN's running averages),
    # and so does the model handed to the Draw page: in training mode its predictions would differ
    model = at.session_state["trained_model"]
    X, y = ds.x_test.reshape(-1, 784).astype(np.float32) / 255, ds.y_test
    assert np.mean(np.argmax(model.run(X, train=False).output, axis=1) == y) == pytest.approx(run.test_acc)
    assert not np.array_equal(model.run(X, train=True).output, model.run(X, train=False).output)
    assert np.trace(np.array(run.confusion)) / len(y) == pytest.approx(run.test_acc)
    titles = chart_titles(at)
    assert "BatchNorm's γ and β: mean over neurons ± spread" in titles
    norms = chart(at, "Gradient norm before and after clipping to 1")
    names = [t["name"] for t in norms["data"]]
    assert names[0] == "before clipping" and names[1].startswith("after (what the step used; ")
    after = values(norms["data"][1]["y"])
    assert after.max() <= 1.0 + 1e-6                             # clipped to the chosen max norm
    bn = chart(at, "BatchNorm's γ and β")
    assert sum(t.get("showlegend", True) for t in bn["data"]) == 2          # one legend entry per BN layer
    assert any("Dropout p = 0.3 acts only while training" in c.value and "dropout is off" in c.value
               for c in at.caption)
    # one neuron of the weight grid, large, on a scale centred on 0
    assert at.selectbox(key="train_enlarge").value == 1
    at.selectbox(key="train_enlarge").set_value(5)
    at.run()
    big = chart(at, "Neuron 5, enlarged")
    assert big["data"][0]["zmin"] == -big["data"][0]["zmax"] and values(big["data"][0]["z"]).shape == (28, 28)


def test_skip_connections_with_unequal_widths_get_a_clear_message(at):
    assert at.toggle(key=K + "residual").disabled                  # one hidden layer: nothing to skip around
    at.segmented_control(key=K + "layers").set_value(2)
    at.run()
    at.select_slider(key=K + "width2").set_value(256)
    at.run()
    assert not at.toggle(key=K + "residual").disabled
    at.toggle(key=K + "residual").set_value(True)
    at.run()
    assert any("hidden layer 2 computes a + F(a)" in c.value for c in at.caption)
    at.select_slider(key=K + "width2").set_value(128)
    at.run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "Skip connections need two consecutive hidden layers of equal width" in warning and "256 → 128" in warning
    button(at, "Train").click()
    at.run()
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "Cannot start: residual connections need two consecutive hidden layers of equal width" in errors
    assert at.session_state.get("train_run") is None


def test_the_plateau_schedule_and_dropout_reach_the_run(at):
    configure_small(at, epochs=2)
    at.selectbox(key=K + "sched").set_value("plateau")
    at.select_slider(key=K + "dropout").set_value(0.5)
    at.toggle(key=K + "bn").set_value(True)
    at.run()
    button(at, "Step one batch").click()
    at.run()
    assert not at.exception
    cfg = at.session_state["train_run"].snapshot().config
    assert (cfg.schedule, cfg.dropout, cfg.batchnorm, cfg.clip, cfg.residual) == ("plateau", 0.5, True, None, False)
    assert "plateau" in at.selectbox(key=K + "sched").format_func("plateau")


def test_the_gradient_norm_view_without_clipping_shows_the_norm_alone(at):
    configure_small(at, epochs=1)
    button(at, "Train").click()
    at.run()
    assert rerun_until(at, lambda a: any(t.startswith("Gradient norm") for t in chart_titles(a))
                       and chart(a, "Gradient norm")["data"])
    norms = chart(at, "Gradient norm")
    assert [t["name"] for t in norms["data"]] == ["‖g‖"]
    assert any("BatchNorm is off" in c.value for c in at.caption)



@pytest.mark.parametrize("offline", [False, True])
def test_the_sample_notice_says_what_happened_not_that_downloads_are_off(monkeypatch, offline):
    if not load_mnist(download=False).is_sample:
        pytest.skip("full MNIST is on this computer: the page shows no sample notice")
    if not offline:
        monkeypatch.delenv("BACKPROP_LAB_OFFLINE")
    app = fresh_train_page()
    infos = " ".join(i.value for i in app.info).replace("\\", "")
    assert "4,000 training and 1,000 test images" in infos
    if offline:                     # switched off on purpose: then it says by what, and the button says so too
        assert "Downloads are turned off on this server ($BACKPROP_LAB_OFFLINE)" in infos
        assert button(app, "Download full MNIST (≈ 11.6 MB)").disabled
    else:
        assert "downloads are off" not in infos.lower() and "Full MNIST is not on this computer yet" in infos


def test_a_failed_download_says_so_and_leaves_no_progress_bar(monkeypatch):
    if not load_mnist(download=False).is_sample:
        pytest.skip("full MNIST is on this computer: there is no download button")
    monkeypatch.delenv("BACKPROP_LAB_OFFLINE")
    monkeypatch.setattr(data_module, "MNIST", replace(data_module.MNIST, mirrors=("http://127.0.0.1:9/",)))
    app = fresh_train_page()
    button(app, "Download full MNIST (≈ 11.6 MB)").click()
    app.run()
    assert not app.exception
    assert not app.get("progress") and not any(b.label == "Cancel download" for b in app.button)
    infos = " ".join(i.value for i in app.info).replace("\\", "")
    assert "The download failed — Offline: could not download MNIST" in infos
    assert "goes on with the bundled sample" in infos and "downloads are off" not in infos.lower()


def test_the_per_neuron_gradient_map_draws_each_layer_as_square_tiles_and_marks_zero_gradients():
    from pages.ui import train_charts as charts
    hidden = np.full(256, 1e-3)
    hidden[[5, 37]] = 0.0                                   # two dead ReLUs: exactly no gradient
    output = np.logspace(-4, -2, 10)
    fig = charts.neuron_heatmap({"step": 7, "neuron_grad": [hidden, output]}, [784, 256, 10])
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert [np.shape(m.z) for m in maps] == [(16, 16), (3, 4)]            # near-square blocks, not a sliver
    assert maps[1].z[0][0] == pytest.approx(-4) and np.isnan(maps[1].z[2][3])   # log10; the pad is blank
    assert maps[0].zmin == maps[1].zmin == pytest.approx(-4) and maps[0].zmax == maps[1].zmax == pytest.approx(-2)
    crosses, = [t for t in fig.data if t.type == "scatter"]
    assert sorted(zip(crosses.y, crosses.x)) == [(0, 5), (2, 5)]            # neuron 5 and 37 = row 2, column 5
    assert any("2 at 0" in a.text for a in fig.layout.annotations)
