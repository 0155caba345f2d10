"""Draw a digit: draw, upload or pick a digit and watch a trained MLP classify it, layer by layer."""
import io
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image, ImageOps, UnidentifiedImageError
from streamlit_drawable_canvas import st_canvas

from core.network import MLP
from core.trace import softmax_steps
from lab.data import load_mnist
from lab.preprocess import MNIST_SIZE, prepare_digit
from lab.saliency import class_score_gradient, output_terms, read_digit
from pages.ui import palette
from pages.ui.quiz import Question, check_yourself
from pages.ui.shell import run_inside_app

run_inside_app()

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default_model.npz"
CANVAS_SIDE = 280
MAX_UPLOAD_PIXELS = 40_000_000      # a 40-megapixel photo is plenty; bigger is refused before decoding
SOURCES = ["Draw", "Upload a photo", "Random test digit"]
WAITING = {"Draw": "Draw a digit on the canvas.", "Upload a photo": "Upload a PNG or JPEG of one digit."}
TOP_CLASSES = 3
STEPS_PER_ROW = 3    # preprocessing pictures per row: narrower columns broke captions mid-word ("grayscal/e")


# ---- the model ---------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def load_default_model():
    """The model shipped in assets/ and its provenance (meta dict); shared, so callers copy it."""
    return MLP.load_with_meta(DEFAULT_MODEL)


def trained_model():
    """(net, info, None) for the digit classifier trained in this session, else (None, None, why not or None)."""
    net = st.session_state.get("trained_model")
    info = st.session_state.get("trained_model_info") or {}
    if net is None:
        return None, None, None
    if not isinstance(net, MLP) or net.sizes[0] != 28 * 28 or net.sizes[-1] != 10:
        return None, None, "it is not a 784 → 10 classifier"
    if "fashion" in " ".join(str(v) for v in info.values()).lower():
        return None, None, "it learned Fashion-MNIST, not digits"
    return net, info, None


def choose_model():
    """(a private copy of the network, a one-line description, the input scale) for the model in use.

    The input scale is 1 for networks trained on x/255 ∈ [0, 1] (the default) and 255 for one trained
    on raw 0–255 pixels (the training page's "no normalization" pitfall).
    """
    net, info, why_not = trained_model()
    use_trained = net is not None and st.radio(
        "Model", ["Trained in this session", "Default model"], horizontal=True, persist_state="session", key="keep_draw_model",
        help="The network you trained on the “Train on MNIST” page, or the model shipped with the app.",
    ) == "Trained in this session"
    if use_trained:
        acc, n_test = info.get("test_accuracy"), info.get("test_size")
        acc_text = (f"test accuracy {acc:.1%}" + (f" on {n_test:,} test images" if n_test else "")
                    if isinstance(acc, (int, float)) else "test accuracy not measured")
        where = info.get("source", "from the Train on MNIST page")
        raw = (info.get("settings") or {}).get("normalize", True) is False
        return net.copy(), f"your network ({_layers(net)}, {where}; {acc_text})", 255.0 if raw else 1.0
    default, meta = load_default_model()
    text = (f"the default model shipped with the app ({_layers(default)}; test accuracy "
            f"{meta['test_accuracy']:.1%} on the {meta['test_size']:,} MNIST test images; trained on "
            f"{meta['train_size']:,} images of the bundled sample, see assets/default_model.md)")
    if why_not:
        text += f". Not your own network: {why_not}"
    return default.copy(), text, 1.0


def _layers(net):
    return " → ".join(str(n) for n in net.sizes) + f", {net.activation}"


# ---- the three sources of a digit ------------------------------------------------------

def from_canvas():
    """The canvas's RGBA pixels (H, W, 4), or None before anything is drawn."""
    stroke = st.slider("Stroke width", 8, 40, 22, persist_state="session", key="keep_draw_stroke",
                       help="Pen thickness in canvas pixels. MNIST strokes are about 1/8 of the digit's height.")
    result = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                       height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
                       return_image_data=True, key="draw_canvas")
    st.caption("Draw one digit, big, in the middle. Undo, redo and clear are in the canvas's toolbar.")
    return result.image_data


def from_upload():
    """The uploaded image's pixels, or None (with a message) if there is none or it cannot be read."""
    upload = st.file_uploader(
        "Photo or scan of one handwritten digit", type=["png", "jpg", "jpeg"], key="draw_upload",
        help="Dark ink on light paper works (it is inverted automatically). Crop it to one digit.")
    if upload is None:
        return None
    try:
        pixels = decode_image(upload.getvalue())
    except ValueError as e:
        st.error(f"Could not use “{upload.name}”: {e}")
        return None
    st.image(pixels, caption=f"{upload.name} ({pixels.shape[1]}×{pixels.shape[0]})", width=CANVAS_SIDE)
    return pixels


def decode_image(data):
    """PNG/JPEG bytes → uint8 array (H, W) or (H, W, 4); ValueError with a clear reason otherwise."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise ValueError(f"the image is {image.width}×{image.height} px; at most "
                             f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels, please shrink it")
        image.draft("L", (1024, 1024))                 # JPEG: decode at reduced size (fast)
        image = ImageOps.exif_transpose(image)         # phone photos: apply the camera's rotation
        mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "L"
        return np.asarray(image.convert(mode))
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ValueError("this is not a PNG or JPEG image (or it is damaged)") from None
    except (OSError, SyntaxError) as e:
        raise ValueError(f"the image file is damaged or truncated ({e})") from None


@st.cache_resource(show_spinner=False)
def load_test_digits():
    """MNIST test images from the best local source (no download)."""
    return load_mnist(download=False)


def from_test_set():
    """A random MNIST test digit (kept in session_state so it stays put across reruns)."""
    data = load_test_digits()
    if st.button("Pick a random test digit", icon=":material/casino:", help="A digit the model never saw in training."):
        st.session_state["draw_test_index"] = int(np.random.default_rng().integers(len(data.y_test)))
    i = st.session_state.setdefault("draw_test_index", 0)
    st.image(_pixels(data.x_test[i] / 255.0, CANVAS_SIDE), width=CANVAS_SIDE)
    st.caption(f"Test image #{i:,}, labelled {data.y_test[i]} ({data.source})")
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

net, model_text, input_scale = choose_model()
st.caption(f"Model in use: {model_text}.")
if trained_model()[0] is None:
    st.page_link("pages/train_mnist.py", label="Train your own network on MNIST, then come back",
                 icon=":material/model_training:")

source = st.segmented_control("Digit from", SOURCES, default=SOURCES[0], persist_state="session", key="keep_draw_source",
                              help="Draw on the canvas, upload a photo of a handwritten digit, "
                                   "or take a digit from the MNIST test set.") or SOURCES[0]
left, right = st.columns([1, 1], gap="large")
with left:
    if source == "Draw":
        pixels = from_canvas()
    elif source == "Upload a photo":
        pixels = from_upload()
    else:
        pixels = from_test_set()

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
