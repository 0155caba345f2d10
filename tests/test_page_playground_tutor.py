"""The Playground teaches back (AppTest): predict, then run; the tutor's findings with Why? and Apply; help with
the current value in it."""
from apptest import assert_fine, open_page

from lab.predict import CHOICES

K = "keep_playground_"


def metrics(at):
    return {m.label: m.value for m in at.metric}


def open_lesson(name):
    at = open_page("playground")
    at.button_group(key="pg_lesson").set_value(name).run()
    assert_fine(at)
    return at


def commit(at, choice=None):
    if choice is not None:
        at.radio(key="pg_predict_choice").set_value(choice).run()
    at.button(key="pg_predict_commit").click().run()
    assert_fine(at)


def test_a_right_prediction_is_confirmed_with_the_runs_numbers():
    at = open_lesson("lr_diverges")
    commit(at, CHOICES[3])                                    # "Jump around or blow up"
    assert metrics(at)["Epoch"] == "100"                      # the lesson really ran
    text = next(s.value for s in at.success if "the loss did" in s.value)
    assert text.startswith("Right") and "in 100 epochs" in text and "a random guess scores 0.693" in text


def test_a_wrong_prediction_is_corrected_and_no_choice_is_asked_for():
    at = open_lesson("xor_perceptron")
    commit(at)
    assert any("Pick one answer first" in w.value for w in at.warning)
    commit(at, CHOICES[0])
    text = next(w.value for w in at.warning if "the loss did" in w.value)
    assert "you said “Fall to near zero”" in text and f"the loss did “{CHOICES[2]}”" in text


def test_the_tutor_explains_and_apply_lowers_eta_and_restarts():
    at = open_lesson("lr_diverges")
    commit(at, CHOICES[0])
    panel = [m.value for m in at.markdown if "The loss oscillates" in m.value]
    assert panel and "η = 10" in panel[0]
    assert any(e.label == "Why?" for e in at.expander)
    at.button(key="pg_tutor_apply_oscillating").click().run()
    assert_fine(at)
    assert at.select_slider(key=K + "lr").value == 1.0 and metrics(at)["Epoch"] == "0"
    for _ in range(3):
        next(b for b in at.button if b.label == "Step").click().run()
    assert float(metrics(at)["Training loss"]) < 0.6           # with η = 1 it learns: below ln 2 = 0.693


def test_a_healthy_start_has_no_tutor_warning():
    at = open_page("playground")
    next(b for b in at.button if b.label == "Step").click().run()
    assert_fine(at)
    assert not [m for m in at.markdown if m.value.startswith("⚠️")]


def test_help_texts_carry_the_current_values():
    at = open_page("playground")
    assert "Now: 0.03." in at.select_slider(key=K + "lr").help
    assert "Now: 10." in at.slider(key=K + "batch").help
    pictures = next(e for e in at.expander if e.label == "Explain these pictures")
    text = pictures.markdown[0].value
    assert "hidden layers of 4, 2 neurons" in text and "Test accuracy now" in text and "epoch 0" in text


def test_a_one_dimensional_lesson_is_predicted_and_run_too():
    at = open_lesson("ua_relu")
    commit(at, CHOICES[0])
    assert int(metrics(at)["Steps"].replace(",", "")) >= 1000
    text = next(s.value for s in at.success if "the loss did" in s.value)
    assert text.startswith("Right") and "Twelve hinges" in text
