"""AppTest for the four explorer pages: activation functions, loss functions, optimizers, vanishing gradients.

Each page: the defaults show the worked numbers of issue 4, moving a widget changes the output, and bad input
(empty, NaN, infinity, huge) gives an inline message instead of a traceback.
"""
import base64
import json
import re
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


def trace_x(trace, field="x"):
    x = trace[field]
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


def test_activation_page_starts_with_two_functions_and_their_slopes():
    at = open_page("activation_functions")
    names = [t["name"] for t in chart(at, "curves")["data"] if t.get("name")]
    assert names == ["sigmoid", "sigmoid′", "ReLU", "ReLU′"]


def test_activation_probe_and_temperature_change_the_numbers():
    at = open_page("activation_functions")
    at.pills(key="keep_act_show").set_value(["sigmoid", "tanh", "relu", "leaky_relu", "gelu"]).run()
    assert len([t for t in chart(at, "curves")["data"] if t.get("name")]) == 10
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


def schedule(at, name):
    trace = [t for t in chart(at, "schedules")["data"] if t.get("name") == name][0]
    return trace_x(trace, "x"), trace_x(trace, "y")


def test_the_gamma_slider_sets_each_drop_of_the_step_schedule():
    """η_t = η γ^⌊t/k⌋ with the defaults η = 0.1, k = 250, T = 1000, read at t = 0, 249, 250, 500, 1000."""
    at = open_page("optimizers")
    for gamma in (0.5, 0.2):
        at.slider(key="keep_opt_sched_gamma").set_value(gamma).run()
        t, lr = schedule(at, "step")
        at_t = dict(zip(t.astype(int), lr))
        assert [at_t[k] for k in (0, 249, 250, 500, 1000)] == pytest.approx(
            [0.1, 0.1, 0.1 * gamma, 0.1 * gamma ** 2, 0.1 * gamma ** 4])
    _, constant = schedule(at, "constant")
    assert np.all(constant == 0.1)                                    # γ touches the step schedule only


def sweep_points(at):
    """{verdict: η values} of the learning-rate sweep chart."""
    return {t["name"]: trace_x(t) for t in chart(at, "sweep")["data"] if t.get("mode") == "markers"}


def test_the_sweep_optimizer_switch_runs_the_other_sweep_and_says_where_adam_diverges():
    at = open_page("optimizers")
    sgd = sweep_points(at)
    assert sgd["diverging"].min() > 1.0                               # SGD tolerates η up to ~2 here
    at.segmented_control(key="keep_opt_sweep_opt").set_value("adam").run()
    adam = sweep_points(at)
    assert adam["diverging"].min() < 1.0 and adam["too low"].min() == pytest.approx(1e-4)
    text = " ".join(m.value for m in at.markdown)
    best = float(re.search(r"did not diverge\) at η ≈ ([0-9]+\.[0-9]+)", text).group(1))
    assert best < adam["diverging"].min()                             # issue 14: it used to recommend η ≈ 1.69
    assert any(abs(best - g) / g < 5e-3 for g in adam["good"])        # shown to 3 digits


def test_the_local_minimum_and_the_global_minimum_are_marked_differently():
    at = open_page("optimizers")
    at.selectbox(key="keep_opt_surface").set_value("local_min").run()
    marks = {t["name"]: t for t in chart(at, "race_contour")["data"] if "minimum" in (t.get("name") or "")}
    assert set(marks) == {"global minimum", "local minimum"}
    assert marks["global minimum"]["marker"]["symbol"] != marks["local minimum"]["marker"]["symbol"]
    assert trace_x(marks["global minimum"])[0] < 0 < trace_x(marks["local minimum"])[0]   # x ≈ −1.04 and 0.96
    at.selectbox(key="keep_opt_surface").set_value("saddle").run()       # two equally deep valleys: both global
    names = [t.get("name") for t in chart(at, "race_contour")["data"]]
    assert "global minimum" in names and "local minimum" not in names


def test_the_adam_worked_example_computes_one_minus_beta():
    at = open_page("optimizers")
    line = [l.value for l in at.latex if "t = 1:" in l.value][0]
    assert r"m_1 = 0.1 \cdot 2 = 0.2" in line and r"v_1 = 0.001 \cdot 2^2 = 0.004" in line


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

def verdict_boxes(at):
    """The coloured boxes of the page: {"warning": [...], "success": [...], "info": [...], "error": [...]}."""
    return {kind: [e.value for e in getattr(at, kind)] for kind in ("warning", "success", "info", "error")}


def test_vanishing_defaults_show_sigmoid_shrinking():
    at = open_page("vanishing_gradients")
    factor = float(at.metric[0].value.rstrip("×"))
    assert 0.15 < factor < 0.35
    boxes = verdict_boxes(at)
    assert any(w.startswith("**Vanishing.**") for w in boxes["warning"])
    assert not boxes["error"]                                        # a lesson's verdict is not an error
    norms = chart(at, "grad_norms")["data"][0]
    assert len(norms["x"]) == 11                                     # W1..W11
    assert chart(at, "grad_heatmap")


PRESETS = [("Sigmoid + Xavier: vanishing", "warning", "**Vanishing.**"),
           ("ReLU + He: steady", "success", "**Steady.**"),
           ("Zero init: symmetry", "warning", "**Symmetry.**"),
           ("tanh + N(0, 1): saturation", "warning", "**Saturation.**")]


@pytest.mark.parametrize("label, box, headline", PRESETS)
def test_each_preset_headlines_the_story_its_name_tells(label, box, headline):
    at = open_page("vanishing_gradients")
    [b for b in at.button if b.label == label][0].click().run()
    boxes = verdict_boxes(at)
    headlines = [text.split()[0] for kind in ("warning", "success") for text in boxes[kind]]
    assert [t for t in boxes[box] if t.startswith(headline)], boxes
    assert headlines == [headline.split()[0]], boxes                  # one story: no second verdict beside it
    assert not boxes["error"]


def test_tanh_with_unit_normal_weights_says_saturation_and_explains_the_growing_gradient():
    at = open_page("vanishing_gradients")
    [b for b in at.button if b.label == "tanh + N(0, 1): saturation"][0].click().run()
    text = verdict_boxes(at)["warning"][0]
    assert "Exploding" not in text and "too large" in text and "Xavier" in text
    factor = float(at.metric[0].value.rstrip("×"))
    assert factor > 1 and f"{factor:.2f}×" in text                  # the growth is named, as a symptom


def test_the_steady_chart_axis_starts_decades_below_its_bars():
    """Issue 14: a log axis fitted to 1.1 … 3.4 made W1 look like zero under a 'Steady' verdict."""
    at = open_page("vanishing_gradients")
    [b for b in at.button if b.label == "ReLU + He: steady"][0].click().run()
    figure = chart(at, "grad_norms")
    norms = trace_x(figure["data"][0], "customdata").astype(float)
    low, high = figure["layout"]["yaxis"]["range"]
    assert high - low >= 3
    assert (np.log10(norms.min()) - low) / (high - low) > 0.75      # every bar reaches the top quarter


def test_vanishing_sliders_change_the_output():
    at = open_page("vanishing_gradients")
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
