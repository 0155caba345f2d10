"""lab.preprocess (drawing → MNIST-like 28×28) and lab.saliency (what the network computes for it).

The honest test: real MNIST test digits are blown up to canvas size with random shifts, sizes and
thicker strokes (and, separately, turned into "photos": dark ink on unevenly lit, noisy paper),
run through prepare_digit, and the default model must classify them nearly as well as the originals.
"""
from pathlib import Path

import numpy as np
import pytest

from core.network import MLP
from lab.preprocess import (
    BLANK_MESSAGE,
    DIGIT_BOX,
    MNIST_SIZE,
    centre_of_mass,
    ink_box,
    prepare_digit,
    resample_matrix,
    resize,
    to_gray,
)
from lab.saliency import (
    class_score_gradient,
    numerical_class_score_gradient,
    output_terms,
    read_digit,
)
from lab.steps import softmax_steps

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CANVAS = 280


@pytest.fixture(scope="module")
def model():
    return MLP.load(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def digits(mnist_test_set):
    """800 test digits picked at random (fixed seed) across the whole test set."""
    x, y = mnist_test_set
    idx = np.random.default_rng(0).choice(len(y), 800, replace=False)
    return x[idx], y[idx]


def dilate(image, r):
    """Thicker strokes: the max over a disc of radius r (in pixels)."""
    out = image.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= r * r:
                out = np.maximum(out, np.roll(np.roll(image, dy, axis=0), dx, axis=1))
    return out


def on_canvas(digit, rng):
    """A 28×28 uint8 digit drawn on a 280×280 canvas: 120–250 px tall, anywhere, strokes 0–4 px thicker."""
    side = int(rng.integers(120, 251))
    big = dilate(resize(digit / 255.0, (side, side)), int(rng.integers(0, 5)))
    canvas = np.zeros((CANVAS, CANVAS))
    top, left = rng.integers(0, CANVAS - side + 1, size=2)
    canvas[top:top + side, left:left + side] = big
    return np.clip(canvas, 0, 1)


def as_canvas_rgba(canvas):
    """What streamlit-drawable-canvas returns for white ink on a transparent background: ink only in alpha."""
    rgba = np.zeros(canvas.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = np.round(canvas * 255)
    return rgba


def as_photo(canvas, rng):
    """Dark ink (0.15) on paper lit unevenly (0.55–0.95 across the image), with camera noise."""
    h, w = canvas.shape
    light = (0.75 + 0.2 * rng.uniform(-1, 1) * np.linspace(0, 1, w)[None, :]
             + 0.1 * rng.uniform(-1, 1) * np.linspace(0, 1, h)[:, None])
    photo = light * (1 - canvas) + 0.15 * canvas + rng.normal(0, 0.03, canvas.shape)
    return np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8)


def accuracy_after(model, images, labels, make):
    preds = []
    for image in images:
        prepared = prepare_digit(make(image))
        preds.append(-1 if prepared.image is None else model.predict(prepared.x[None, :])[0])
    return float(np.mean(np.array(preds) == labels))


# ---- the round trip ---------------------------------------------------------------------

def test_canvas_round_trip_keeps_accuracy_within_2_points(model, digits):
    x, y = digits
    original = model.accuracy(x.reshape(len(x), -1) / 255.0, y)
    rng = np.random.default_rng(1)
    modes = [as_canvas_rgba, lambda c: np.round(c * 255).astype(np.uint8)]   # alpha-only ink; white on black
    round_trip = accuracy_after(model, x, y, lambda d: modes[rng.integers(2)](on_canvas(d, rng)))
    assert original > 0.90
    assert round_trip >= original - 0.02, (original, round_trip)


def test_photo_of_dark_ink_on_uneven_paper_is_inverted_and_cleaned(model, digits):
    x, y = digits[0][:400], digits[1][:400]
    original = model.accuracy(x.reshape(len(x), -1) / 255.0, y)
    rng = np.random.default_rng(2)
    photos = accuracy_after(model, x, y, lambda d: as_photo(on_canvas(d, rng), rng))
    assert photos >= original - 0.03, (original, photos)
    assert prepare_digit(as_photo(on_canvas(x[0], rng), rng)).inverted


def test_an_mnist_digit_comes_back_almost_unchanged(digits):
    """MNIST digits are already prepared this way, so preparing one again is nearly the identity."""
    x, _ = digits
    diffs = [np.abs(prepare_digit(d).image - d / 255.0).mean() for d in x[:200]]
    assert np.median(diffs) < 0.01
    assert np.mean(diffs) < 0.03


# ---- the steps --------------------------------------------------------------------------

def test_digit_is_scaled_to_20_px_centred_by_mass_with_intensities_0_to_1():
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    canvas[30:250, 200:240] = 255            # a tall bar near the right edge: 220 × 40
    canvas[30:60, 150:240] = 255             # a flag at the top: the mass sits high and right
    prepared = prepare_digit(canvas)
    image = prepared.image
    assert image.shape == (MNIST_SIZE, MNIST_SIZE) and image.dtype == np.float32
    assert image.min() == 0.0 and image.max() == pytest.approx(1.0)
    rows, cols = ink_box(image)
    assert rows.stop - rows.start == DIGIT_BOX                 # longer side 20 px
    assert cols.stop - cols.start == round(90 * DIGIT_BOX / 220)   # aspect ratio kept: 90/220 of 20 ≈ 8
    cy, cx = centre_of_mass(image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_ink_in_alpha_or_dark_ink_on_transparent_gives_the_same_digit():
    canvas = np.zeros((CANVAS, CANVAS))
    canvas[40:240, 120:150] = 1.0
    white_ink = as_canvas_rgba(canvas)
    black_ink = white_ink.copy()
    black_ink[..., :3] = 0                                     # black strokes on a transparent canvas
    white_on_black = np.round(canvas * 255).astype(np.uint8)
    a, b, c = (prepare_digit(p).image for p in (white_ink, black_ink, white_on_black))
    np.testing.assert_allclose(a, c, atol=1e-6)
    np.testing.assert_allclose(b, c, atol=1e-6)
    np.testing.assert_allclose(to_gray(white_ink), canvas, atol=1 / 255)


def test_resample_matrix_area_averages_when_shrinking_and_interpolates_when_enlarging():
    image = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(resize(image, (2, 2)), [[2.5, 4.5], [10.5, 12.5]])   # 2×2 block means
    shrink = resample_matrix(7, 3)
    np.testing.assert_allclose(shrink.sum(axis=1), 1.0)
    np.testing.assert_allclose(shrink[0], [3 / 7, 3 / 7, 1 / 7, 0, 0, 0, 0])        # covers [0, 7/3)
    grow = resample_matrix(2, 4)
    np.testing.assert_allclose(grow @ [0.0, 1.0], [0, 0.25, 0.75, 1])
    assert np.abs(resize(np.ones((3, 5)), (9, 2)) - 1).max() < 1e-12


# ---- nothing to classify, and bad input --------------------------------------------------

def test_blank_or_almost_blank_canvas_gives_draw_a_digit_and_no_image():
    blank = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    prepared = prepare_digit(blank)
    assert prepared.image is None and prepared.message == BLANK_MESSAGE
    speck = blank.copy()
    speck[100:106, 100:106] = 255                              # a 6-px dot
    assert prepare_digit(speck).image is None
    assert prepare_digit(speck).message.startswith("Draw a digit")
    faint = np.random.default_rng(0).integers(0, 12, (CANVAS, CANVAS)).astype(np.uint8)   # sensor noise
    assert prepare_digit(faint).image is None
    paper = np.full((300, 400, 3), 230, dtype=np.uint8)        # a photo of blank paper
    assert prepare_digit(paper).image is None and "No digit" in prepare_digit(paper).message


@pytest.mark.parametrize("pixels, message", [
    (np.zeros((28, 28, 2), np.uint8), "shape"),
    (np.zeros((0, 5), np.uint8), "empty"),
    (np.full((28, 28), np.nan), "NaN"),
    (np.full((28, 28), 3.0), r"\[0, 1\]"),
    (np.array([["a"] * 28] * 28), "dtype"),
    (np.broadcast_to(np.uint8(0), (8000, 8000)), "8000×8000 px; at most 4 megapixels"),
])
def test_garbage_images_raise_a_clear_value_error(pixels, message):
    with pytest.raises(ValueError, match=message):
        prepare_digit(pixels)


def test_huge_photo_is_shrunk_quickly(model):
    photo = np.full((3000, 4000), 220, dtype=np.uint8)
    photo[600:2400, 1800:2100] = 20                            # a dark "1"
    prepared = prepare_digit(decode_image(_encoded(photo, "JPEG")).pixels)   # as the page does it
    assert max(prepared.steps["grayscale"].shape) <= 560
    assert prepared.inverted and model.predict(prepared.x[None, :])[0] == 1


# ---- saliency and the output layer ------------------------------------------------------

def float64_copy(net):
    twin = MLP(net.sizes, **{**net.settings(), "dtype": np.float64})
    twin.set_params(net.weights, net.biases)
    return twin


def test_saliency_matches_central_differences_on_a_deep_tanh_net():
    net = MLP([30, 12, 8, 5], activation="tanh", dtype=np.float64, seed=1)
    x = np.random.default_rng(0).random(30)
    for c in range(5):
        g = class_score_gradient(net, x, c)
        n = numerical_class_score_gradient(net, x, c)
        assert np.linalg.norm(g - n) / (np.linalg.norm(g) + np.linalg.norm(n)) < 1e-8


def test_saliency_of_the_default_model_matches_central_differences(model, digits):
    net = float64_copy(model)
    x = digits[0][0].reshape(-1) / 255.0
    c = read_digit(net, x).prediction
    g = class_score_gradient(net, x, c)
    n = numerical_class_score_gradient(net, x, c)
    assert np.linalg.norm(g - n) / (np.linalg.norm(g) + np.linalg.norm(n)) < 1e-6
    assert np.abs(g).max() > 0


def test_reading_and_output_terms_add_up(model, digits):
    x = digits[0][1].reshape(-1) / 255.0
    reading = read_digit(model, x)
    assert reading.p.sum() == pytest.approx(1.0, abs=1e-6)
    assert reading.prediction == int(np.argmax(reading.p)) == reading.top_classes[0]
    assert [a.shape for a in reading.hidden] == [(256,)]
    np.testing.assert_allclose(softmax_steps(reading.z)["p"], reading.p, atol=1e-6)
    for c in reading.top_classes[:3]:
        t = output_terms(model, reading.hidden[-1], c, n_terms=5)
        assert t.z == pytest.approx(reading.z[c], abs=1e-4)
        assert sum(p for *_, p in t.terms) + t.rest + t.bias == pytest.approx(t.z, abs=1e-9)
        sizes = [abs(p) for *_, p in t.terms]
        assert sizes == sorted(sizes, reverse=True) and len(t.terms) == 5 and t.n_rest == 251
        j, w, a, p = t.terms[0]
        assert w == pytest.approx(float(model.weights[-1][c, j])) and p == pytest.approx(w * a)
    with pytest.raises(ValueError, match="shape"):
        read_digit(model, x[:100])
    with pytest.raises(ValueError, match="class"):
        class_score_gradient(model, x, 10)


# ---- uploaded files: only PNG/JPEG/WebP, bounded size, shrunk right after decoding -------------

import io  # noqa: E402

from childpeak import measure  # noqa: E402
from hostile_images import EPS_AS_PNG, png_file  # noqa: E402
from PIL import Image  # noqa: E402

from lab.preprocess import DECODE_SIDE, decode_image  # noqa: E402


def _encoded(array, fmt):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (png_file(1, 1), "1×1 px; a digit needs at least 8 px each way"),
    (png_file(1, 5000), "1×5000 px; a digit needs at least 8 px each way"),
    (png_file(5000, 1), "5000×1 px; a digit needs at least 8 px each way"),
    (png_file(5000, 100), "5000×100 px, a strip"),
    (png_file(70_000, 7_000, header_only=True), "megapixels; at most 16 megapixels"),
    (png_file(70_000, 1_000, header_only=True), "70000×1000 px, a strip"),
    (EPS_AS_PNG, "not a PNG, JPEG or WebP image"),
    (_encoded(np.zeros((40, 40), np.uint8), "GIF"), "not a PNG, JPEG or WebP image"),
    (_encoded(np.zeros((40, 40), np.uint8), "BMP"), "not a PNG, JPEG or WebP image"),
    (png_file(100, 100)[:-40], "damaged or truncated"),
], ids=["1x1", "1x5000", "5000x1", "5000x100", "70000x7000", "70000x1000", "eps", "gif", "bmp", "truncated"])
def test_a_bad_image_file_gets_a_clear_message(data, message):
    with pytest.raises(ValueError, match=message):
        decode_image(data)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (3, 400)])
def test_prepare_digit_refuses_shapes_that_cannot_hold_a_digit(shape):
    with pytest.raises(ValueError, match="a digit needs at least 8 px|a strip"):
        prepare_digit(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_big_photo_is_shrunk_right_after_decoding_and_says_from_what(fmt):
    pixels = np.zeros((1500, 2400), np.uint8)
    pixels[500:1000, 1100:1300] = 255
    decoded = decode_image(_encoded(pixels, fmt))
    assert decoded.original_size == (2400, 1500) and decoded.downscaled
    assert max(decoded.pixels.shape[:2]) <= DECODE_SIDE
    small = decode_image(_encoded(pixels[::10, ::10].copy(), fmt))
    assert not small.downscaled and small.pixels.shape == (150, 240)


@pytest.mark.parametrize("width, height, accepted", [(6300, 6300, False), (4000, 4000, True)])
def test_a_huge_png_costs_bounded_memory_and_time(tmp_path, width, height, accepted):
    path = tmp_path / "big.png"
    path.write_bytes(png_file(width, height))
    assert path.stat().st_size < 1_000_000                      # a few hundred KB on disk
    cost = measure("from pathlib import Path\nfrom lab.preprocess import decode_image, prepare_digit",
                   f"prepare_digit(decode_image(Path({str(path)!r}).read_bytes()).pixels)")
    assert cost["extra_mb"] < 300 and cost["seconds"] < 5, cost
    if accepted:
        assert cost["error"] is None, cost
    else:
        assert "6300×6300 px; at most 16 megapixels" in cost["error"], cost
