"""Home: what the lab is, and the learning path as a sequence of cards."""
import streamlit as st

from lab.data import DataUnavailableError, load_mnist
from pages.ui.shell import run_inside_app

run_inside_app()


@st.cache_data(show_spinner=False)
def mnist_here():
    """(training images, is the bundled sample) of the MNIST copy this machine has, or None: lab.data's
    ladder without downloading (a full copy found on disk, else the bundled sample)."""
    try:
        ds = load_mnist(download=False)
    except (DataUnavailableError, OSError, ValueError):     # none at all, or $BACKPROP_LAB_MNIST_DIR unusable
        return None
    return len(ds.y_train), bool(ds.is_sample)


def mnist_card():
    """The Train card's promise, as large as the data on this machine."""
    here = mnist_here()
    if here is None:
        return ("Train a real network on handwritten digits with the same NumPy code, on your CPU (this machine "
                "has no usable MNIST copy yet: the Train page can download it).")
    n, sample = here
    if sample:
        return (f"Train a real network on {n:,} handwritten digits (the bundled sample; the Train page can "
                "download all 60,000) with the same NumPy code, on your CPU.")
    return f"Train a real network on {n:,} handwritten digits with the same NumPy code, on your CPU."


PATH = [   # (page, title, icon, what you will see there)
    ("pages/perceptron.py", "Perceptron", ":material/linear_scale:",
     "One neuron draws a line and learns AND, OR, NAND from its mistakes — and fails on XOR, for a reason you can prove."),
    ("pages/forward_pass.py", "Forward pass", ":material/arrow_forward:",
     "An example flows through a tiny network, z = Wa + b then a = f(z), every number substituted."),
    ("pages/backpropagation.py", "Backpropagation", ":material/arrow_back:",
     "The chain rule runs backwards: each δ, each gradient, the update, checked against numerical derivatives."),
    ("pages/activation_functions.py", "Activation functions", ":material/show_chart:",
     "Sigmoid, tanh, ReLU, GELU and their slopes: why the slope decides what can learn."),
    ("pages/loss_functions.py", "Loss functions", ":material/adjust:",
     "MSE vs cross-entropy: how each one punishes a wrong answer, and the gradient it sends back."),
    ("pages/optimizers.py", "Optimizers", ":material/landscape:",
     "SGD, momentum, RMSProp and Adam race down the same loss landscape."),
    ("pages/vanishing_gradients.py", "Vanishing gradients", ":material/trending_down:",
     "Stack layers deeper and watch the gradient shrink (or explode) layer by layer."),
    ("pages/playground.py", "Playground", ":material/science:",
     "Train a small network on 2-D data live and watch its decision regions form."),
    ("pages/train_mnist.py", "Train on MNIST", ":material/fitness_center:", mnist_card()),
    ("pages/draw_digit.py", "Draw a digit", ":material/draw:",
     "Draw a digit and see what your trained network thinks it is, neuron by neuron."),
]

st.title("Backprop Lab")
st.markdown(
    "Backprop Lab lets you **see how a neural network learns**: every number of the forward pass, the "
    "backward pass and the update is computed by a small NumPy library written from scratch and shown to "
    "you, step by step. Start with a single neuron, end by training a digit recogniser and drawing digits for it.")

st.subheader("The learning path")
for first in range(0, len(PATH), 2):                      # two cards per row, in path order
    for k, card in enumerate(st.columns(2), start=first):
        page, title, icon, what = PATH[k]
        with card.container(border=True, height="stretch"):
            st.page_link(page, label=f"{k + 1}. {title}", icon=icon, help=f"Open the {title} page.")
            st.caption(what)
