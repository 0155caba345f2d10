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
import streamlit as st
from apptest import assert_fine, open_page
from PIL import Image
from streamlit.testing.v1 import AppTest

from lab.modelfile import ModelCard, load_model
from core.network import MLP
from lab.data import load_mnist
from lab.preprocess import BLANK_MESSAGE, prepare_digit, resize
from lab.saliency import output_terms, read_digit

APP = Path(__file__).resolve().parents[1] / "app.py"
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CANVAS_KEY = "draw_canvas"


@pytest.fixture(scope="module")
def default_model():
    return load_model(DEFAULT_MODEL)


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
    _, card = default_model
    assert at.title[0].value == "Draw a digit"
    caption = texts(at)
    assert "default model" in caption and f"test accuracy {card.test_accuracy:.1%} on 10,000 MNIST" in caption
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


def _card(**fields):
    return ModelCard(**{"dataset": "mnist", "origin": "page", "origin_note": "run #1, finished",
                        "test_accuracy": 0.96, "test_size": 1000, **fields})    # better than the default's 94.1 %


def test_a_model_trained_in_this_session_is_offered_and_used():
    at = open_page("draw_digit")
    mine = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model"], at.session_state["trained_model_card"] = mine, _card()
    at.run()
    assert_fine(at)
    assert at.radio(key="draw_model").value == "trained"
    assert at.radio(key="draw_model").options == ["Trained in this session", "Default model"]
    assert "784 → 16 → 10" in texts(at) and "test accuracy 96.0% on 1,000 MNIST test images" in texts(at)
    at.radio(key="draw_model").set_value("default").run()
    assert "the default model shipped with the app" in texts(at)


def test_a_broken_session_model_is_not_picked_by_itself_and_says_why():
    at = open_page("draw_digit")
    at.session_state["trained_model"] = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model_card"] = _card(test_accuracy=0.082, origin_note="run #2, diverged")
    at.run()
    assert_fine(at)
    assert at.radio(key="draw_model").value == "default"            # the better of the two
    warning = " ".join(w.value for w in at.warning)
    assert "scores only 8.2%" in warning and "pick it below to see it fail" in warning
    at.radio(key="draw_model").set_value("trained").run()              # the learner's pick wins, still warned
    assert_fine(at)
    assert at.radio(key="draw_model").value == "trained" and "784 → 16 → 10" in texts(at)
    assert "scores only 8.2%" in " ".join(w.value for w in at.warning)
    assert at.query_params["model"] == "trained"                       # kept in the URL: survives a reload
    again = open_page("draw_digit", query={"model": "trained"})        # a reload: a new session, same URL
    again.session_state["trained_model"] = MLP([784, 16, 10], seed=3)
    again.session_state["trained_model_card"] = _card(test_accuracy=0.082)
    again.run()
    assert again.radio(key="draw_model").value == "trained"


def test_a_fashion_model_is_not_offered_for_digits_because_its_card_says_so():
    at = open_page("draw_digit")
    at.session_state["trained_model"] = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model_card"] = _card(dataset="fashion-mnist")
    at.run()
    assert_fine(at)
    assert not [r for r in at.radio if r.label == "Model"]
    assert "default model" in texts(at)
    assert "Not offered: Trained in this session (it learned Fashion-MNIST, not handwritten digits)" in texts(at)


def test_a_digits_model_whose_card_mentions_fashion_elsewhere_is_still_offered():
    at = open_page("draw_digit")
    at.session_state["trained_model"] = MLP([784, 16, 10], seed=3)
    at.session_state["trained_model_card"] = _card(test_data="my fashion-week scans", origin_note="fashion.npz")
    at.run()
    assert_fine(at)
    assert at.radio(key="draw_model").value == "trained"


def test_an_upload_and_a_trained_model_are_both_kept_and_the_learner_chooses():
    at = open_page("draw_digit")
    trained, uploaded = MLP([784, 16, 10], seed=3), MLP([784, 32, 10], seed=4)
    at.session_state["trained_model"], at.session_state["trained_model_card"] = trained, _card()
    at.session_state["uploaded_model"] = uploaded
    at.session_state["uploaded_model_card"] = _card(origin="upload", origin_note="mine.npz")
    at.run()
    assert_fine(at)
    assert at.radio(key="draw_model").options == ["Trained in this session", "Uploaded", "Default model"]
    assert "784 → 16 → 10" in texts(at)
    at.radio(key="draw_model").set_value("uploaded").run()
    assert_fine(at)
    assert "784 → 32 → 10" in texts(at) and "uploaded from mine.npz" in texts(at)
    assert at.session_state["trained_model"] is trained


def test_switching_to_upload_and_back_keeps_the_drawing(drawn_digit):
    canvas, _ = drawn_digit
    at = open_page("draw_digit")
    draw(at, canvas)
    assert at.metric[0].value == "7"
    at.segmented_control(key="keep_draw_source").set_value("Upload a photo").run()
    assert_fine(at)
    assert len(at.metric) == 0
    at.segmented_control(key="keep_draw_source").set_value("Draw").run()
    assert_fine(at)
    assert at.metric and at.metric[0].value == "7"
    next(b for b in at.button if b.label == "Clear the canvas").click().run()
    assert_fine(at)
    assert len(at.metric) == 0 and "Draw a digit on the canvas" in texts(at)


@pytest.mark.parametrize("data_url, message", [
    ("data:image/png;base64," + "A" * 5_000_000, "the canvas sent 5,000,022 characters"),
    ("data:image/png;base64,@@@@", "not valid base64"),
    ("data:text/html;base64,PGI+", "did not send a PNG picture"),
    ("data:image/png;base64," + base64.b64encode(b"GIF89a" + bytes(100)).decode(), "not a PNG, JPEG or WebP"),
], ids=["huge", "bad-base64", "html", "gif"])
def test_a_hostile_canvas_payload_gets_a_message(data_url, message):
    at = open_page("draw_digit")
    at.session_state[CANVAS_KEY] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": data_url}}
    at.run()
    assert_fine(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_a_canvas_picture_of_too_many_pixels_is_refused():
    at = open_page("draw_digit")
    big = np.zeros((2000, 2000), np.uint8)
    at.session_state[CANVAS_KEY] = {"drawing": {"raw": {"objects": []}, "data": "data:image/png;base64,"
                                                + base64.b64encode(png_bytes(big)).decode()}}
    at.run()
    assert_fine(at)
    assert any("2000×2000 px; at most 0.7056 megapixels" in e.value for e in at.error), [e.value for e in at.error]


def test_a_file_name_is_shown_as_text_never_as_markdown():
    at = open_page("draw_digit")
    upload(at, "![x](http://evil.example/track.png).png", b"not an image")
    shown = " ".join(e.value for e in at.error)
    assert "![x](http" not in shown and "!\\[x\\](http:\\/\\/evil.example/track.png).png" in shown
    good = png_bytes(np.zeros((100, 100), np.uint8))
    upload(at, "**bold** _x_.png", good)
    assert "\\*\\*bold\\*\\* \\_x\\_.png (100×100 px)" in texts(at)


def test_a_big_photo_is_shrunk_and_the_page_says_so(drawn_digit):
    canvas, _ = drawn_digit
    photo = np.kron(np.round((0.9 - 0.75 * canvas) * 255).astype(np.uint8), np.ones((8, 8), np.uint8))  # 2240²
    at = open_page("draw_digit")
    upload(at, "seven.png", png_bytes(photo))
    assert "2240×2240 px, shrunk to 1024×1024 right after decoding" in texts(at)
    assert at.metric[0].value == "7"


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1)])
def test_tiny_and_strip_images_get_a_message(shape):
    at = open_page("draw_digit")
    upload(at, "strip.png", png_bytes(np.full(shape, 255, np.uint8)))
    assert any("a digit needs at least 8 px each way" in e.value for e in at.error)
    assert len(at.metric) == 0


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_random_test_digit_without_the_data_says_why(tmp_path, monkeypatch, make):
    folder = tmp_path / "nowhere"
    if make == "empty":
        folder.mkdir()
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(folder))
    st.cache_resource.clear()              # the page caches the test digits per server: start as a fresh server
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("pages/draw_digit.py")
    at.session_state["keep_draw_source"] = "Random test digit"
    at.run()
    assert_fine(at)
    errors = " ".join(e.value for e in at.error)
    assert "The MNIST test digits are not available" in errors and "BACKPROP\\_LAB\\_MNIST\\_DIR" in errors
