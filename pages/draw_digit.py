"""Draw a digit: draw, upload or pick a digit and watch a trained MLP classify it, layer by layer."""
import base64
import binascii
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lab.modelfile import load_model, with_origin
from lab.data import DataUnavailableError, load_mnist
from lab.models import Candidate, by_preference, choose_digit_model, poor_model_warning
from lab.preprocess import DECODE_SIDE, MNIST_SIZE, decode_image, prepare_digit
from lab.saliency import class_score_gradient, output_terms, read_digit
from lab.steps import softmax_steps
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app
from pages.ui.text import plain
from pages.ui.train_session import session_model

run_inside_app()

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CANVAS_SIDE = 280
CANVAS_KEY = "draw_canvas"
# The canvas sends its picture as a PNG data URL: 280×280 RGBA is at most 314 KB raw, ≈ 420 KB in base64
# (a browser with a device pixel ratio of 3 at most 9× that in pixels). Anything longer is not our canvas.
MAX_CANVAS_URL_CHARS = 4_000_000
MAX_CANVAS_PIXELS = 9 * CANVAS_SIDE * CANVAS_SIDE
SOURCES = ["Draw", "Upload a photo", "Random test digit"]
WAITING = {"Draw": "Draw a digit on the canvas.", "Upload a photo": "Upload a PNG, JPEG or WebP of one digit.",
           "Random test digit": "No test digits to show."}
MODEL_LABELS = {"trained": "Trained in this session", "uploaded": "Uploaded", "default": "Default model"}
TOP_CLASSES = 3
STEPS_PER_ROW = 3    # preprocessing pictures per row: narrower columns broke captions mid-word ("grayscal/e")


# ---- the model ---------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def load_default_model():
    """The model shipped in assets/ and its card (shared by all sessions: forward is read-only)."""
    net, card = load_model(DEFAULT_MODEL)
    return net, with_origin(card, "default", "see assets/default_model.md")


def session_models():
    """{key: (net, card)} for the models this session has: trained on the Train page, uploaded there, the default.

    After a reload the trained model comes back from this browser's run history (session_model)."""
    session_model()
    models = {}
    for key in ("trained", "uploaded"):
        net, card = st.session_state.get(f"{key}_model"), st.session_state.get(f"{key}_model_card")
        if net is not None and card is not None:
            models[key] = (net, card)
    models["default"] = load_default_model()
    return models


def choose_model():
    """(the network, its card, a one-line description) for the model in use.

    With more than one usable model the learner picks (a radio); lab.models.choose_digit_model decides
    what a stale or unusable pick falls back to, and why.
    """
    models = session_models()
    candidates = by_preference([Candidate(key, MODEL_LABELS[key], card, tuple(net.sizes))
                                for key, (net, card) in models.items()])
    choice = choose_digit_model(candidates, st.session_state.get("draw_model_choice"))
    for c in candidates:
        warning = poor_model_warning(c) if c.key != "default" and c.key not in choice.refused else None
        if warning:
            st.warning(plain(warning + ("" if c.key == choice.key else " So the page uses the "
                                        f"{MODEL_LABELS[choice.key].lower()}; pick it below to see it fail.")),
                       icon=":material/warning:")
    usable = [c.key for c in candidates if c.key not in choice.refused]
    if len(usable) > 1:
        st.session_state["draw_model"] = choice.key          # the radio shows the model in use
        st.radio("Model", [k for k in MODEL_LABELS if k in usable], format_func=MODEL_LABELS.get, horizontal=True,
                 key="draw_model",
                 on_change=lambda: st.session_state.update(draw_model_choice=st.session_state["draw_model"]),
                 help="The network you trained on the “Train on MNIST” page, one you uploaded there, or the "
                      "model shipped with the app.")
    if choice.reason not in ("your choice",) and st.session_state.get("draw_model_choice"):
        st.caption(plain(f"Using {MODEL_LABELS[choice.key]}: {choice.reason}."))
    net, card = models[choice.key]
    text = f"{_layers(net)}; {card.where_from()}; {card.accuracy_text()}"
    if card.train_size:
        text += f"; trained on {card.train_size:,} images"
    for key, why in choice.refused.items():
        text += f". Not offered: {MODEL_LABELS[key]} ({why})"
    return net, card, text                                   # shared: forward and saliency only read it


def _layers(net):
    return " → ".join(str(n) for n in net.sizes) + f", {net.activation}"


# ---- the three sources of a digit ------------------------------------------------------

def from_canvas():
    """The canvas's RGBA pixels (H, W, 4), or None before anything is drawn.

    The canvas is unmounted while another source is shown, and comes back empty: so the last drawing
    (its strokes and its picture) is kept in session_state and handed back as the initial drawing.
    """
    stroke = st.slider("Stroke width", 8, 40, 22, persist_state="session", key="keep_draw_stroke",
                       help="Pen thickness in canvas pixels. MNIST strokes are about 1/8 of the digit's height.")
    kept = st.session_state.get("draw_kept_drawing") or {}
    st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
              height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
              initial_drawing=kept.get("raw"), return_image_data=True, key=CANVAS_KEY)
    if kept:
        st.button("Clear the canvas", icon=":material/ink_eraser:", on_click=forget_drawing,
                  help="Your drawing was kept while you looked at another source; the toolbar's reset goes back "
                       "to it, this empties the canvas.")
    st.caption("Draw one digit, big, in the middle. Undo, redo and clear are in the canvas's toolbar.")
    state = st.session_state.get(CANVAS_KEY)
    drawing = state.get("drawing") if hasattr(state, "get") else None
    drawing = drawing if isinstance(drawing, dict) else {}
    if drawing.get("data") is None and kept.get("data"):
        drawing = kept                                   # just remounted with the kept drawing
    st.session_state["draw_last_drawing"] = {"raw": drawing.get("raw"), "data": drawing.get("data")}
    if drawing.get("data") is None:
        return None
    try:
        return canvas_pixels(drawing["data"])
    except ValueError as e:
        st.error(f"Could not read the canvas: {e}")
        return None


def forget_drawing():
    """Drop the kept drawing: the canvas gets an empty initial drawing, which clears it."""
    st.session_state.pop("draw_kept_drawing", None)
    st.session_state.pop("draw_last_drawing", None)


def canvas_pixels(data_url):
    """The pixels of the canvas's PNG data URL, checked for size before anything is decoded."""
    if not isinstance(data_url, str) or not data_url.startswith("data:image/png;base64,"):
        raise ValueError("the canvas did not send a PNG picture")
    if len(data_url) > MAX_CANVAS_URL_CHARS:
        raise ValueError(f"the canvas sent {len(data_url):,} characters; a {CANVAS_SIDE}×{CANVAS_SIDE} drawing "
                         f"needs far fewer (at most {MAX_CANVAS_URL_CHARS:,})")
    try:
        data = base64.b64decode(data_url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the canvas's picture is not valid base64") from None
    return decode_image(data, max_pixels=MAX_CANVAS_PIXELS).pixels


def from_upload():
    """The uploaded image's pixels, or None (with a message) if there is none or it cannot be read."""
    upload = st.file_uploader(
        "Photo or scan of one handwritten digit", type=["png", "jpg", "jpeg", "webp"], key="draw_upload",
        help="Dark ink on light paper works (it is inverted automatically). Crop it to one digit.")
    if upload is None:
        return None
    try:
        decoded = decode_image(upload.getvalue())
    except ValueError as e:
        st.error(plain(f"Could not use “{upload.name}”: {e}"))
        return None
    pixels = decoded.pixels
    st.image(pixels, width=CANVAS_SIDE)
    w, h = decoded.original_size
    note = (f", shrunk to {pixels.shape[1]}×{pixels.shape[0]} right after decoding (a digit is read at 20 px; "
            f"more than {DECODE_SIDE} px is never needed)" if decoded.downscaled else "")
    st.caption(plain(f"{upload.name} ({w}×{h} px{note})"))
    return pixels


@st.cache_resource(show_spinner=False)
def load_test_digits():
    """MNIST test images from the best local source (no download)."""
    return load_mnist(download=False)


def from_test_set():
    """A random MNIST test digit (kept in session_state so it stays put across reruns), or None with a message."""
    try:
        data = load_test_digits()
    except (DataUnavailableError, OSError, ValueError) as e:
        st.error(plain(f"The MNIST test digits are not available: {e}"))
        return None
    if st.button("Pick a random test digit", icon=":material/casino:", help="A digit the model never saw in training."):
        st.session_state["draw_test_index"] = int(np.random.default_rng().integers(len(data.y_test)))
    i = st.session_state.setdefault("draw_test_index", 0)
    i = st.session_state["draw_test_index"] = min(int(i), len(data.y_test) - 1)
    st.image(_pixels(data.x_test[i] / 255.0, CANVAS_SIDE), width=CANVAS_SIDE)
    st.caption(plain(f"Test image #{i:,}, labelled {data.y_test[i]} ({data.source})"))
    return data.x_test[i]


# ---- figures ---------------------------------------------------------------------------

def _pixels(image, side):
    """A small grayscale image enlarged with crisp square pixels (nearest neighbour)."""
    k = max(1, side // image.shape[0])
    return np.kron(np.clip(image, 0, 1), np.ones((k, k)))


def probability_bars(reading):
    colors = ["#e4572e" if c == reading.prediction else "#9aa5b1" for c in range(len(reading.p))]
    fig = go.Figure(go.Bar(x=[str(c) for c in range(len(reading.p))], y=reading.p, marker_color=colors,
                           text=[f"{p:.1%}" for p in reading.p], textposition="outside",
                           hovertemplate="class %{x}: ŷ = %{y:.4f}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), title="ŷ = softmax(z): one probability per class",
                      yaxis=dict(range=[0, 1.15], tickformat=".0%"), xaxis=dict(title="class", type="category"))
    return fig


def activation_strip(a, layer, activation):
    """One hidden layer's activations a_l as a grid of cells, 32 neurons per row."""
    cols = 32
    rows = -(-a.size // cols)
    grid = np.full(rows * cols, np.nan)
    grid[:a.size] = a
    grid = grid.reshape(rows, cols)                          # (rows, 32)
    index = np.arange(rows * cols).reshape(rows, cols)
    active = f", {np.mean(a > 0):.0%} active" if activation == "relu" else ""   # a ReLU is active where z > 0
    fig = go.Figure(go.Heatmap(z=grid, customdata=index, colorscale="Viridis", zmin=min(0.0, float(a.min())),
                               colorbar=dict(title="a", thickness=12),
                               hovertemplate="neuron %{customdata}: a = %{z:.3f}<extra></extra>"))
    fig.update_layout(height=60 + 22 * rows, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"hidden layer {layer}: a<sub>{layer}</sub> ({a.size} neurons{active})",
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed"))
    return fig


def pixel_map(values, title, hover, colors, diverging):
    """A 28×28 map of one number per input pixel; diverging maps put 0 at white (blue +, orange −)."""
    limit = float(np.abs(values).max()) or 1.0
    zmin = -limit if diverging else 0.0
    fig = go.Figure(go.Heatmap(z=values.reshape(MNIST_SIZE, MNIST_SIZE), colorscale=colors, zmin=zmin,
                               zmax=limit, showscale=diverging, colorbar=dict(thickness=10, len=0.9),
                               hovertemplate=f"row %{{y}}, col %{{x}}: {hover} = %{{z:.4f}}<extra></extra>"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), title=dict(text=title, font_size=14),
                      xaxis=dict(visible=False, constrain="domain"),
                      yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return fig


# ---- the page sections ------------------------------------------------------------------

def show_prediction(reading):
    st.metric("Prediction", str(reading.prediction), help="argmax of the network's output ŷ")
    st.markdown(f"confidence **{reading.confidence:.1%}**, runner-up **{reading.top_classes[1]}** "
                f"({reading.p[reading.top_classes[1]]:.1%})")


def show_steps(prepared):
    with st.expander("How the picture becomes the network's 28×28 input"):
        st.markdown("Grayscale → light background inverted → background to 0 and ink to 1 → crop to the ink → "
                    "longer side to 20 px (area-averaged) → centre of mass at pixel (14, 14)."
                    + (" This image was **inverted**: dark ink on a light background." if prepared.inverted else ""))
        steps = list(prepared.steps.items())
        for first in range(0, len(steps), STEPS_PER_ROW):                  # columns wide enough for a caption
            for col, (name, image) in zip(st.columns(STEPS_PER_ROW), steps[first:first + STEPS_PER_ROW]):
                big = image if max(image.shape) > 60 else _pixels(image, 140)
                col.image(np.clip(big, 0, 1), caption=f"{name} ({image.shape[1]}×{image.shape[0]})",
                          width="stretch")


def show_output_computation(net, reading):
    st.subheader("Inside the output layer")
    a = reading.hidden[-1] if reading.hidden else reading.x
    a_j = f"a_{{{len(reading.hidden)},j}}" if reading.hidden else "x_j"
    st.markdown(f"Each class's score is a weighted sum of the last layer's {a.size} outputs, "
                f"$z_c = \\sum_j W_{{cj}}\\,{a_j} + b_c$. The biggest terms, for the top {TOP_CLASSES} classes:")
    for c in reading.top_classes[:TOP_CLASSES]:
        t = output_terms(net, a, c, n_terms=4)
        terms = " + ".join(f"\\underbrace{{({w:.3f})({x:.3f})}}_{{j={j}}}" for j, w, x, _ in t.terms)
        st.latex(f"z_{c} = {terms} {_signed(t.rest)}_{{\\text{{{t.n_rest} others}}}} "
                 f"{_signed(t.bias)}_{{b_{c}}} = {t.z:.3f}")
    if net.output != "softmax":
        st.markdown(f"This network's output is **{net.output}**(z) applied to each score separately.")
        return
    s = softmax_steps(reading.z)
    st.markdown("Softmax turns the 10 scores into probabilities: subtract the largest score (so no $e^z$ "
                "overflows; it cancels in the ratio), exponentiate, divide by the sum:")
    st.latex(r"\hat y_c = \frac{e^{z_c - \max z}}{\sum_k e^{z_k - \max z}}"
             f"\\qquad \\sum_k e^{{z_k - \\max z}} = {s['sum']:.4f}")
    st.dataframe({"class": [str(c) for c in range(len(s["z"]))],
                  "z": [f"{v:.3f}" for v in s["z"]],
                  "z − max z": [f"{v:.3f}" for v in s["shifted"]],
                  "e^(z − max z)": [f"{v:.4g}" for v in s["exp"]],
                  "ŷ = e / Σe": [f"{v:.4g}" for v in s["p"]]}, hide_index=True, width="stretch")


def _signed(v):
    """'+ \\underbrace{1.234}' or '- \\underbrace{1.234}': a term written with its sign in front."""
    return f"{'+' if v >= 0 else '-'} \\underbrace{{{abs(v):.3f}}}"


def show_saliency(net, reading):
    c = reading.prediction
    grad = class_score_gradient(net, reading.x, c)           # (784,)
    st.subheader(f"Saliency: which pixels push “{c}” up or down")
    st.markdown(f"The gradient $\\partial z_{{{c}}} / \\partial x_i$ is backprop run down to the input: start "
                f"from the output with $\\delta = e_{{{c}}}$ (1 for class {c}, 0 elsewhere) and apply "
                "$\\delta \\leftarrow (W^\\top \\delta) \\odot f'(z)$ layer by layer. Middle: where *adding* ink "
                "would raise (blue) or lower (orange) the score. Right: the ink that is there times its "
                "gradient, $x_i\\,\\partial z_c/\\partial x_i$ — what each drawn pixel contributed, to first order.")
    panels = [(reading.x, "x: what the network sees", "x", "Greys_r", False),
              (grad, f"∂z<sub>{c}</sub>/∂x: where ink would help", "∂z/∂x", palette.DIVERGING, True),
              (grad * reading.x, f"x ⊙ ∂z<sub>{c}</sub>/∂x: what the ink did", "x·∂z/∂x", palette.DIVERGING, True)]
    for col, (values, title, hover, colors, diverging) in zip(st.columns(3), panels):
        col.plotly_chart(pixel_map(values, title, hover, colors, diverging), width="stretch",
                         config={"displayModeBar": False})


def show_inside(net, reading):
    """Below the verdict: the hidden layers, the output layer's arithmetic, the saliency maps."""
    if reading.hidden:
        st.subheader("Hidden-layer activations")
        dark = "0 (a ReLU neuron with $z \\le 0$)" if net.activation == "relu" else "the smallest values"
        st.markdown(f"Every cell is one neuron's $a = f(z)$ for this digit; dark cells are {dark}. "
                    "Hover for values.")
        for l, a in enumerate(reading.hidden, start=1):
            st.plotly_chart(activation_strip(a, l, net.activation), width="stretch",
                            config={"displayModeBar": False})
    show_output_computation(net, reading)
    show_saliency(net, reading)


# ---- the page ---------------------------------------------------------------------------

st.title("Draw a digit")
st.markdown(
    "Draw a digit and a trained network classifies it. The network was trained on MNIST, where every "
    "digit is white on black, scaled so its longer side is 20 px and centred by its centre of mass in "
    "a 28×28 image; an MLP has one weight per pixel and no idea that a shifted 7 is still a 7, so your "
    "drawing goes through the same steps first. Then it is flattened into $x \\in [0,1]^{784}$ and "
    "sent through $z_l = W_l a_{l-1} + b_l$, $a_l = f(z_l)$, $\\hat y = \\mathrm{softmax}(z_L)$.")

net, card, model_text = choose_model()
input_scale = 1.0 if card.normalize else 255.0     # a model trained on raw 0–255 pixels gets them raw
st.caption(plain(f"Model in use: {model_text}."))
if card.origin == "default":
    st.page_link("pages/train_mnist.py", label="Train your own network on MNIST, then come back",
                 icon=":material/model_training:")

st.session_state.setdefault("keep_draw_source", SOURCES[0])   # not default=: a link may set it first (pages/ui/links)
source = st.segmented_control("Digit from", SOURCES, persist_state="session", key="keep_draw_source",
                              help="Draw on the canvas, upload a photo of a handwritten digit, "
                                   "or take a digit from the MNIST test set.") or SOURCES[0]
if source != "Draw" and st.session_state.get("draw_last_drawing"):
    st.session_state["draw_kept_drawing"] = st.session_state["draw_last_drawing"]   # restored when back on Draw
left, right = st.columns([1, 1], gap="large")
with left:
    if source == "Draw":
        pixels = from_canvas()
    elif source == "Upload a photo":
        pixels = from_upload()
    else:
        pixels = from_test_set()

REPORT_DIGITS = 12          # the lab report keeps the last dozen digits read (pages/lessons.py)


def remember_for_report(source, image, reading):
    """Keep what the network saw and said for the learner's lab report (once per distinct image)."""
    kept = st.session_state.setdefault("report_digits", [])
    pixels = np.round(np.asarray(image) * 255).astype(int).tolist()          # (28, 28) 0 … 255
    if kept and kept[-1]["image"] == pixels:
        return
    kept.append({"source": source, "prediction": int(reading.prediction), "image": pixels,
                 "p": [round(float(v), 4) for v in reading.p]})
    del kept[:-REPORT_DIGITS]


prepared = reading = None
with right:
    if pixels is None:
        st.info(WAITING[source])
    else:
        try:
            prepared = prepare_digit(pixels)
        except ValueError as e:
            st.error(f"Could not use this image: {e}")
    if prepared is not None and prepared.image is None:
        st.info(prepared.message)
    elif prepared is not None:
        reading = read_digit(net, prepared.x * input_scale)
        remember_for_report(source, prepared.image, reading)
        see, verdict = st.columns([1, 1])
        see.image(_pixels(prepared.image, 224), caption="What the network sees (28×28)", width="stretch")
        with verdict:
            show_prediction(reading)
        st.plotly_chart(probability_bars(reading), width="stretch", config={"displayModeBar": False})
        show_steps(prepared)

if reading is not None:
    show_inside(net, reading)

check_yourself([
    Question("Why is your drawing cropped, scaled to 20 px and centred by its centre of mass before the "
             "network sees it?",
             ["To make the network faster", "Because the network only learned digits prepared exactly that way",
              "Because softmax needs inputs in [0, 1]"], 1,
             "An MLP has a separate weight for every pixel, so the same 7 drawn smaller or off-centre lights up "
             "different weights; it only knows the MNIST way of presenting digits."),
    Question("A pixel of the saliency map ∂z₇/∂x is strongly red. What does that say?",
             ["Adding ink at that pixel would raise the score of class 7",
              "That pixel has the most ink", "The network is 100 % sure it is a 7"], 0,
             "The gradient is the rate of change of z₇ per unit of ink added at that pixel, wherever the ink is now."),
    Question("You scribble random lines and the network says “8” with 97 % confidence. Why?",
             ["The scribble really is an 8", "Softmax must share 100 % among the 10 digits; there is no "
              "'not a digit' answer", "The model is broken"], 1,
             "The probabilities always sum to 1 over the 10 classes, so confidence is not a measure of "
             "how digit-like the input is."),
], key="draw_digit")
