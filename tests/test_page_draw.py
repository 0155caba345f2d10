"""AppTest for the Draw a digit page, reached through app.py's navigation.

AppTest cannot run the canvas's JavaScript, so a drawing is put where the component would put it: its
session_state value {"drawing": {"raw": <fabric JSON>, "data": <PNG data URL>}} under the canvas's key.
Every number the page shows is compared with lab.preprocess / lab.saliency on the same pixels.
"""
import base64
import io
from pathlib import Path

import numpy as np
import pytest
from apptest import assert_fine, open_page
from PIL import Image

from core.network import MLP
from lab.data import load_mnist
from lab.preprocess import BLANK_MESSAGE, prepare_digit, resize
from lab.saliency import output_terms, read_digit

APP = Path(__file__).resolve().parents[1] / "app.py"
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CANVAS_KEY = "draw_canvas"


@pytest.fixture(scope="module")
def default_model():
    return MLP.load_with_meta(DEFAULT_MODEL)


def texts(at):
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.error, *at.warning])


def png_bytes(pixels, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_png(canvas):
    """The canvas as the component sends it: RGBA, white strokes on its black background, as a data URL."""
    u8 = np.round(canvas * 255).astype(np.uint8)
    rgba = np.dstack([u8, u8, u8, np.full_like(u8, 255)])
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode()


def draw(at, canvas):
    at.session_state[CANVAS_KEY] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": canvas_png(canvas)}}
    at.run()
    assert_fine(at)


def digit_on_canvas(digit):
    """A real test digit, 200 px tall, off-centre on the 280×280 canvas."""
    canvas = np.zeros((280, 280))
    canvas[20:220, 60:260] = resize(digit / 255.0, (200, 200))
    return np.clip(canvas, 0, 1)


@pytest.fixture(scope="module")
def drawn_digit(mnist_test_set, default_model):
    """The first test digit (of a 7, to have a definite answer) that the default model gets right after drawing."""
    net, _ = default_model
    x, y = mnist_test_set
    for digit, label in zip(x, y):
        canvas = digit_on_canvas(digit)
        prepared = prepare_digit(np.round(canvas * 255).astype(np.uint8))
        if label == 7 and net.predict(prepared.x[None, :])[0] == 7:
            return canvas, prepared
    pytest.fail("no 7 survives the round trip")


def test_page_opens_with_the_default_model_and_asks_for_a_digit(default_model):
    at = open_page("draw_digit")
    _, meta = default_model
    assert at.title[0].value == "Draw a digit"
    caption = texts(at)
    assert "default model" in caption and f"{meta['test_accuracy']:.1%}" in caption
    assert "Draw a digit on the canvas" in caption
    assert len(at.metric) == 0
    assert at.slider(key="keep_draw_stroke").value == 22
    assert at.expander[-1].label == "Check yourself"


def test_drawing_a_seven_shows_prediction_probabilities_and_the_arithmetic(drawn_digit, default_model):
    net, _ = default_model
    canvas, prepared = drawn_digit
    at = open_page("draw_digit")
    draw(at, canvas)
    reading = read_digit(net, prepared.x)
    assert at.metric[0].label == "Prediction" and at.metric[0].value == "7"
    assert f"confidence **{reading.confidence:.1%}**" in texts(at)
    latex = "\n".join(e.value for e in at.latex)
    t = output_terms(net, reading.hidden[-1], 7, n_terms=4)
    assert "z_7 = " in latex and f"= {t.z:.3f}" in latex
    j, w, a, _ = t.terms[0]
    assert f"({w:.3f})({a:.3f})" in latex and f"j={j}" in latex
    softmax_table = at.dataframe[0].value
    assert list(softmax_table["ŷ = e / Σe"])[7] == f"{reading.p[7]:.4g}"
    assert "Saliency" in " ".join(h.value for h in at.subheader)

    draw(at, np.zeros((280, 280)))                               # cleared canvas: black PNG
    assert len(at.metric) == 0 and BLANK_MESSAGE in texts(at)


def test_random_test_digit_is_classified(default_model):
    net, _ = default_model
    data = load_mnist(download=False)                            # the same source the page uses (offline here)
    at = open_page("draw_digit")
    at.segmented_control(key="keep_draw_source").set_value("Random test digit").run()
    assert_fine(at)
    at.button[0].click().run()
    assert_fine(at)
    i = at.session_state["draw_test_index"]
    assert f"Test image #{i:,}, labelled {data.y_test[i]}" in texts(at)
    expected = read_digit(net, prepare_digit(data.x_test[i]).x).prediction
    assert at.metric[0].value == str(expected)


def upload(at, name, data, mime="image/png"):
    at.segmented_control(key="keep_draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value((name, data, mime)).run()
    assert_fine(at)


def test_upload_of_a_dark_on_light_photo_is_inverted_and_classified(drawn_digit):
    canvas, _ = drawn_digit
    paper = np.round((0.9 - 0.75 * canvas) * 255).astype(np.uint8)  # dark ink on light paper
    at = open_page("draw_digit")
    upload(at, "seven.png", png_bytes(paper))
    assert at.metric[0].value == "7"
    assert "inverted" in texts(at)


@pytest.mark.parametrize("data, message", [
    (b"this is not an image at all", "not a PNG, JPEG or WebP"),
    (png_bytes(np.zeros((100, 100), np.uint8))[:60], "damaged"),
    (png_bytes(np.zeros((6000, 7000), np.uint8)), "megapixels"),
])
def test_bad_upload_gives_a_clear_message(data, message):
    at = open_page("draw_digit")
    upload(at, "digit.png", data)
    assert message in " ".join(e.value for e in at.error)
    assert len(at.metric) == 0


def test_a_model_trained_in_this_session_is_offered_and_used():
    at = open_page("draw_digit")
    mine = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model"] = mine
    at.session_state["trained_model_info"] = {"source": "trained on this page (run #1, finished)",
                                              "test_accuracy": 0.5, "settings": {"normalize": True}}
    at.run()
    assert_fine(at)
    assert at.radio(key="keep_draw_model").value == "Trained in this session"
    assert "784 → 16 → 10" in texts(at) and "test accuracy 50.0%" in texts(at)
    at.radio(key="keep_draw_model").set_value("Default model").run()
    assert "default model" in texts(at)


def test_a_fashion_model_is_not_used_for_digits():
    at = open_page("draw_digit")
    at.session_state["trained_model"] = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model_info"] = {"source": "trained on this page", "test_accuracy": 0.8,
                                              "data_source": "Fashion-MNIST (full) from /usr/share/datasets"}
    at.run()
    assert_fine(at)
    assert not [r for r in at.radio if r.label == "Model"]
    assert "default model" in texts(at) and "Fashion-MNIST, not digits" in texts(at)
