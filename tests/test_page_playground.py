"""AppTest for the Playground page: defaults render, Step and Play train, settings live in the URL and come
back from it, garbage in the URL gives a notice (not a traceback), lessons, regression and the 1-D mode."""
from pathlib import Path

import pytest
from apptest import open_page

from lab.playground import Config, config_to_query, lesson_config

ROOT = Path(__file__).resolve().parents[1]
K = "keep_playground_"


def metrics(at):
    return {m.label: m.value for m in at.metric}


def svgs(at):
    """The SVG pictures on the page (network, output surface, loss curve, or the 1-D fit)."""
    return [m.value for m in at.markdown if m.value.startswith("<svg")]


def svg_about(at, words):
    return next(s for s in svgs(at) if words in s)


def click(at, label):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_defaults_render_with_every_setting_in_the_url():
    at = open_page("playground")
    assert metrics(at)["Epoch"] == "0"
    assert set(metrics(at)) == {"Epoch", "Training loss", "Test loss", "Test accuracy"}
    assert float(metrics(at)["Training loss"]) == pytest.approx(0.708, abs=0.002)     # ≈ log 2 at the start
    network = svg_about(at, "every neuron")
    assert network.count("<image") == 2 + 4 + 2 + 1                  # x₁, x₂, layers of 4 and 2, output
    assert network.count("<line") == 2 * 4 + 4 * 2 + 2 * 1           # one line per weight
    surface = svg_about(at, "input plane")
    assert surface.count("<circle") == 200 and 'stroke="black"' not in surface   # 200 train points, no test
    assert {k: at.query_params[k] for k in config_to_query(Config())} == config_to_query(Config())
    assert not at.warning
    assert at.expander[-1].label == "Check yourself"


def test_step_trains_one_epoch_and_changes_the_loss():
    at = open_page("playground")
    before = metrics(at)
    click(at, "Step")
    after = metrics(at)
    assert after["Epoch"] == "1"
    assert after["Training loss"] != before["Training loss"] and after["Test loss"] != before["Test loss"]
    click(at, "Reset")
    assert metrics(at) == before                                       # same seed: back to the same start


def test_play_trains_a_frame_per_run_until_paused():
    at = open_page("playground")
    click(at, "Play")
    assert metrics(at)["Epoch"] == "5"                                 # 5 epochs per frame by default
    at.run()
    assert metrics(at)["Epoch"] == "10"
    click(at, "Pause")
    at.run()
    assert metrics(at)["Epoch"] == "10"


def test_a_link_restores_the_configuration():
    query = {"data": "spiral", "features": "x1,x2,sinx1", "hidden": "8,6,3", "act": "relu", "lr": "0.1",
             "batch": "20", "reg": "l2", "rate": "0.003", "noise": "20", "train": "70", "n": "300",
             "show_test": "1", "seed": "3"}
    at = open_page("playground", query)
    assert not at.warning
    state = at.session_state
    assert state[K + "data_classification"] == "spiral" and state[K + "features"] == ["x1", "x2", "sinx1"]
    assert state[K + "hidden"] == [8, 6, 3] and state[K + "act"] == "relu" and state[K + "lr"] == 0.1
    assert (state[K + "batch"], state[K + "reg"], state[K + "rate"]) == (20, "l2", 0.003)
    assert at.select_slider(key=K + "lr").value == 0.1 and at.toggle(key=K + "show_test").value is True
    assert svg_about(at, "every neuron").count("<image") == 3 + 8 + 6 + 3 + 1
    surface = svg_about(at, "input plane")
    assert surface.count('stroke="white"') == 210 and surface.count('stroke="black"') == 90   # 70 % of 300
    assert {k: at.query_params[k] for k in query} == query             # and the URL still says so


def test_garbage_in_the_link_gives_a_notice_and_defaults():
    at = open_page("playground", {"data": "'; DROP TABLE", "lr": "zzz", "hidden": "99,-3", "noise": "NaN", "junk": "1"})
    notice = at.warning[0].value
    assert "could not be used" in notice and "lr=" in notice and "hidden=" in notice and "data=" in notice
    assert at.session_state[K + "hidden"] == [8, 1] and at.session_state[K + "lr"] == 0.03
    assert (at.query_params["lr"], at.query_params["hidden"], at.query_params["data"]) == ("0.03", "8,1", "xor")
    click(at, "Step")                                                  # and it trains normally
    assert metrics(at)["Epoch"] == "1"


def test_text_from_the_link_is_shown_literally():
    at = open_page("playground", {"act": "[click me](http://evil.example) $x$"})
    notice = at.warning[0].value
    assert r"\[click me\]\(http://evil.example\)" in notice and r"\$x\$" in notice


def test_changing_settings_updates_the_url_and_the_network():
    at = open_page("playground")
    at.select_slider(key=K + "lr").set_value(0.3).run()
    assert at.query_params["lr"] == "0.3"
    next(b for b in at.button if b.key == "pg_more_layers").click().run()
    assert at.session_state[K + "hidden"] == [4, 2, 2] and at.query_params["hidden"] == "4,2,2"
    next(b for b in at.button if b.key == "pg_more_1").click().run()
    assert at.query_params["hidden"] == "4,3,2"
    assert svg_about(at, "every neuron").count("<image") == 2 + 4 + 3 + 2 + 1
    at.button_group(key=K + "features").set_value(["x1", "x2", "x1x2"]).run()
    assert at.query_params["features"] == "x1,x2,x1x2"
    at.button_group(key=K + "features").set_value([]).run()
    assert not at.exception and "at least one input feature" in at.warning[0].value


def test_a_lesson_sets_everything_up_in_one_click():
    at = open_page("playground", {"lr": "3"})
    at.button_group(key="pg_lesson").set_value("xor_perceptron").run()
    cfg = lesson_config("xor_perceptron")
    assert at.query_params["hidden"] == "none" and at.query_params["lr"] == str(cfg.lr)
    assert "defeats a perceptron" in at.info[0].value
    assert svg_about(at, "every neuron").count("<image") == 2 + 1     # no hidden layer at all
    for _ in range(3):
        click(at, "Step")
    assert metrics(at)["Epoch"] == "3"


def test_regression_renders_without_accuracy():
    at = open_page("playground", {"data": "multigauss", "features": "x1,x2,x1sq,x2sq"})
    assert at.button_group(key=K + "problem").value == "regression"
    assert "Test accuracy" not in metrics(at)
    click(at, "Step")
    assert metrics(at)["Epoch"] == "1"


def test_settings_survive_a_visit_to_another_page():
    at = open_page("playground", {"hidden": "5", "lr": "0.1"})
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/playground.py").run()
    assert not at.exception
    assert at.session_state[K + "hidden"] == [5] and at.select_slider(key=K + "lr").value == 0.1
    assert at.query_params["hidden"] == "5"


def test_universal_approximation_mode():
    at = open_page("playground", {"mode": "1d", "fn": "abs", "units": "6"})
    assert set(metrics(at)) == {"Steps", "MSE"}
    fit = svg_about(at, "universal approximation")
    assert fit.count("<polyline") == 2 + 6 + 1                        # target, fit, 6 pieces, bias
    mse = float(metrics(at)["MSE"])
    click(at, "Step")
    assert metrics(at)["Steps"] == "50" and float(metrics(at)["MSE"]) < mse
    at.slider(key=K + "units").set_value(10).run()
    assert svg_about(at, "universal approximation").count("<polyline") == 2 + 10 + 1
    assert at.query_params["units"] == "10" and metrics(at)["Steps"] == "0"
