"""AppTest for the four explorer pages: activation functions, loss functions, optimizers, vanishing gradients.

Each page: the defaults show the worked numbers of issue 4, moving a widget changes the output, and bad input
(empty, NaN, infinity, huge) gives an inline message instead of a traceback.
"""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from apptest import open_page

ROOT = Path(__file__).resolve().parents[1]


def rounded(column, digits=3):
    return [round(float(v), digits) for v in column]


def errors(at):
    return " ".join(e.value for e in at.error)


def chart(at, key):
    """The figure JSON of the plotly chart with this key."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no plotly chart with key {key!r}")


def trace_x(trace):
    x = trace["x"]
    if isinstance(x, dict):                                          # plotly's base64 typed arrays
        return np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
    return np.asarray(x)


# ---- activation functions ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def activation_page():
    return open_page("activation_functions")


def test_activation_defaults_show_the_sigmoid_table(activation_page):
    at = activation_page
    table = at.dataframe[1].value
    assert rounded(table["x"], 2) == [-2.0, 0.0, 0.75, 3.0]
    assert rounded(table["σ(x)"]) == [0.119, 0.5, 0.679, 0.953]
    assert rounded(table["σ′(x)"]) == [0.105, 0.25, 0.218, 0.045]
    probe = at.dataframe[0].value.set_index("function")
    assert round(probe.loc["sigmoid", "f(x)"], 3) == 0.679 and round(probe.loc["ReLU", "f′(x)"], 3) == 1.0
    softmax = at.dataframe[2].value
    assert rounded(softmax.loc["3. p = exp / Σ"]) == [0.659, 0.242, 0.099]
    assert rounded(softmax.loc["1. z/T − max"]) == [0.0, -1.0, -1.9]
    assert not at.error


def test_activation_probe_and_temperature_change_the_numbers():
    at = open_page("activation_functions")
    at.slider(key="keep_act_x").set_value(-1.0).run()
    probe = at.dataframe[0].value.set_index("function")
    assert round(probe.loc["ReLU", "f′(x)"], 3) == 0.0
    assert round(probe.loc["leaky ReLU", "f(x)"], 3) == -0.1            # α = 0.1
    assert round(probe.loc["tanh", "f(x)"], 3) == -0.762
    at.slider(key="keep_act_alpha").set_value(0.2).run()
    assert round(at.dataframe[0].value.set_index("function").loc["leaky ReLU", "f′(x)"], 3) == 0.2
    at.slider(key="keep_act_temperature").set_value(0.5).run()
    p = at.dataframe[2].value.loc["3. p = exp / Σ"]
    assert round(float(p.iloc[0]), 3) == 0.864                          # e^0 / (1 + e^-2 + e^-3.8)
    at.text_input(key="keep_act_points").input("4").run()
    assert rounded(at.dataframe[1].value["σ′(x)"]) == [0.018]


@pytest.mark.parametrize("key, text, message", [
    ("keep_act_logits", "", "empty"), ("keep_act_logits", "1, nan", "NaN"), ("keep_act_logits", "1, inf", "infinity"),
    ("keep_act_logits", "1e9, 1", "between"), ("keep_act_logits", "3", "2 to 10"), ("keep_act_logits", "1, two", "'two'"),
    ("keep_act_points", "", "empty"), ("keep_act_points", "1e400", "infinity")])
def test_activation_bad_input_gets_an_inline_message(key, text, message):
    at = open_page("activation_functions")
    at.text_input(key=key).input(text).run()
    assert not at.exception
    assert message in errors(at)


# ---- loss functions ---------------------------------------------------------------------------

def test_loss_defaults_show_the_worked_numbers():
    at = open_page("loss_functions")
    table = at.dataframe[0].value
    assert round(table.loc["MSE", "prediction A"], 4) == 0.0467
    assert round(table.loc["cross-entropy", "prediction A"], 3) == 0.357
    assert round(table.loc["MSE", "prediction B"], 3) == 0.487
    assert round(table.loc["cross-entropy", "prediction B"], 3) == 2.303
    assert any("= 0.04667" in l.value and "= 0.3567" in l.value for l in at.latex)
    assert not at.error and not at.warning


def test_loss_slider_and_edits_change_the_output():
    at = open_page("loss_functions")
    grads = at.dataframe[1].value
    assert round(grads.loc["MSE", "∂L/∂z"], 3) == -0.162 and round(grads.loc["cross-entropy", "∂L/∂z"], 3) == -0.9
    at.slider(key="keep_loss_p").set_value(0.5).run()
    grads = at.dataframe[1].value
    assert round(grads.loc["MSE", "∂L/∂z"], 3) == -0.25 and round(grads.loc["cross-entropy", "∂L/∂z"], 3) == -0.5
    at.text_input(key="keep_loss_a").input("0.2, 0.6, 0.2").run()
    assert round(at.dataframe[0].value.loc["cross-entropy", "prediction A"], 3) == 0.511     # −log 0.6


@pytest.mark.parametrize("key, text, message", [
    ("keep_loss_a", "", "empty"), ("keep_loss_a", "0.1, nan, 0.2", "NaN"), ("keep_loss_b", "0.1, 0.9", "has 2 numbers"),
    ("keep_loss_a", "2, 0, 0", "between 0 and 1"), ("keep_loss_y", "0, inf, 0", "infinity"),
    ("keep_loss_y", "0, 1e300, 0", "between")])
def test_loss_bad_input_gets_an_inline_message(key, text, message):
    at = open_page("loss_functions")
    at.text_input(key=key).input(text).run()
    assert not at.exception
    assert message in errors(at)
    assert at.dataframe                                              # the curves part still works


def test_loss_warns_when_prediction_does_not_sum_to_one():
    at = open_page("loss_functions")
    at.text_input(key="keep_loss_a").input("0.5, 0.7, 0.2").run()
    assert "sums to 1.4" in " ".join(w.value for w in at.warning)


# ---- optimizers -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def optimizer_page():
    return open_page("optimizers")


def test_optimizers_default_adam_worked_example(optimizer_page):
    table = optimizer_page.dataframe[1].value
    assert rounded(table["θ"]) == [4.9, 4.802, 4.704]
    assert rounded(table["m"], 4) == [0.2, 0.33, 0.597]
    assert rounded(table["v"], 6) == [0.004, 0.006246, 0.01524]
    assert rounded(table["m̂"]) == [2.0, 1.737, 2.203]
    assert rounded(table["v̂"]) == [4.0, 3.125, 5.085]


def test_optimizers_default_race(optimizer_page):
    at = optimizer_page
    race = at.dataframe[0].value.set_index("optimizer")
    assert race.loc["Adam", "result"] == "reached the minimum"
    assert race.loc["Momentum", "result"] == "reached the minimum"
    assert race.loc["SGD", "result"] == "still on its way"
    assert not at.error
    sweep = " ".join(m.value for m in at.markdown)
    assert "Good band" in sweep and "Diverging from" in sweep


def test_sgd_with_too_large_lr_diverges_and_the_page_says_so():
    at = open_page("optimizers")
    at.select_slider(key="keep_opt_lr_sgd").set_value(1.5).run()
    assert "SGD diverged" in errors(at)
    race = at.dataframe[0].value.set_index("optimizer")
    assert race.loc["SGD", "result"].startswith("diverged at step")
    assert race.loc["Adam", "result"] == "reached the minimum"


def test_stepping_and_surface_change_update_the_race():
    at = open_page("optimizers")
    sgd = [t for t in chart(at, "race_contour")["data"] if t.get("name") == "SGD"][0]
    assert len(trace_x(sgd)) == 151                                   # θ_0..θ_150
    at.slider(key="keep_opt_frame").set_value(10).run()
    sgd = [t for t in chart(at, "race_contour")["data"] if t.get("name") == "SGD"][0]
    assert len(trace_x(sgd)) == 11
    at.selectbox(key="keep_opt_surface").set_value("local_min").run()
    assert at.select_slider(key="keep_opt_lr_sgd").value == 0.02      # the surface's own learning rates
    race = at.dataframe[0].value.set_index("optimizer")
    assert race.loc["SGD", "result"] == "stuck in the local minimum"
    assert race.loc["Momentum", "result"] == "reached the minimum"


def test_every_surface_runs_with_its_own_settings_and_reset_restores_the_example():
    at = open_page("optimizers")
    for name in ("rosenbrock", "saddle", "local_min", "ravine"):
        at.selectbox(key="keep_opt_surface").set_value(name).run()
        assert not at.exception and not at.error, name
    at.select_slider(key="keep_opt_lr_sgd").set_value(1.5).run()
    at.text_input(key="keep_opt_adam_grads").input("1, 1").run()
    [b for b in at.button if b.label == "Reset to example"][0].click().run()
    assert "SGD diverged" not in errors(at)
    assert rounded(at.dataframe[1].value["θ"]) == [4.9, 4.802, 4.704]


def test_optimizer_sliders_change_the_output():
    at = open_page("optimizers")
    before = at.dataframe[0].value.set_index("optimizer").loc["Momentum", "f(θ)"]
    at.slider(key="keep_opt_beta").set_value(0.5).run()
    after = at.dataframe[0].value.set_index("optimizer").loc["Momentum", "f(θ)"]
    assert after != before
    at.segmented_control(key="keep_opt_sweep_opt").set_value("adam").run()
    assert not at.exception
    at.slider(key="keep_opt_sched_gamma").set_value(0.2).run()
    step = [t for t in chart(at, "schedules")["data"] if t.get("name") == "step"][0]
    assert not at.exception and step


@pytest.mark.parametrize("widget, key, value, message", [
    ("number_input", "keep_opt_x0", 1e9, "start must lie within"),
    ("number_input", "keep_opt_adam_theta", 1e9, "θ₀ must be between"),
    ("text_input", "keep_opt_adam_grads", "", "empty"),
    ("text_input", "keep_opt_adam_grads", "2, nan", "NaN"),
    ("text_input", "keep_opt_adam_grads", "2, 1e999", "infinity")])
def test_optimizers_bad_input_gets_an_inline_message(widget, key, value, message):
    at = open_page("optimizers")
    element = getattr(at, widget)(key=key)
    (element.input(value) if widget == "text_input" else element.set_value(value)).run()
    assert not at.exception
    assert message in errors(at)


# ---- vanishing gradients ----------------------------------------------------------------------

def test_vanishing_defaults_show_sigmoid_shrinking():
    at = open_page("vanishing_gradients")
    factor = float(at.metric[0].value.rstrip("×"))
    assert 0.15 < factor < 0.35
    assert "Vanishing" in errors(at)
    norms = chart(at, "grad_norms")["data"][0]
    assert len(norms["x"]) == 11                                     # W1..W11
    assert chart(at, "grad_heatmap")


def test_vanishing_presets_and_sliders_change_the_output():
    at = open_page("vanishing_gradients")
    at.button[1].click().run()                                       # ReLU + He
    assert "Steady" in " ".join(s.value for s in at.success)
    at.button[2].click().run()                                       # zero init
    assert "Symmetry" in " ".join(w.value for w in at.warning)
    at.button[3].click().run()                                       # tanh + N(0, 1)
    assert "Saturation" in " ".join(w.value for w in at.warning)
    at.button[0].click().run()
    at.slider(key="keep_vg_depth").set_value(4).run()
    assert len(chart(at, "grad_norms")["data"][0]["x"]) == 5
    assert not at.exception


@pytest.mark.parametrize("std, message", [(1e9, "σ of the normal init"), (0.0, "σ of the normal init")])
def test_vanishing_bad_sigma_gets_an_inline_message(std, message):
    at = open_page("vanishing_gradients")
    at.selectbox(key="keep_vg_init").set_value("normal").run()
    at.number_input(key="keep_vg_std").set_value(std).run()
    assert not at.exception
    assert message in errors(at)
    at.selectbox(key="keep_vg_init").set_value("he").run()          # σ no longer matters
    assert "σ" not in errors(at)
