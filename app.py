"""Backprop Lab: `streamlit run app.py`.

The app is a list of pages (one file each under pages/); the learning path runs top to bottom.

`app` is what `streamlit run app.py` serves (Streamlit looks for an st.App in the file it is given): the
pages, plus one route of our own, the Train page's live feed (pages/ui/live_feed.py), which the browser
polls for a training network's status and curves instead of rerunning the page. main() is the script
every page run executes (the file runs as __main__ then; importing it only builds `app`).
"""
import streamlit as st
from threadpoolctl import threadpool_limits

from pages.ui import links, live_feed
from pages.ui.owner import browser_owner

app = st.App(__file__, routes=[live_feed.route()])


@st.cache_resource
def one_blas_thread():
    """Run NumPy's matrix products on one thread in this server.

    The server's threads draw pages and train the Playground's small networks; OpenBLAS's own worker
    threads then fight them for the cores and a step gets about 10× slower (measured when MNIST still
    trained in a server thread: 2,700 vs 33,000 samples/s). MNIST runs train in worker processes
    (lab/live.py), each with one BLAS thread: the slot pool hands out the cores.
    """
    import numpy  # noqa: F401  (load OpenBLAS first: threadpoolctl limits only libraries already loaded)
    return threadpool_limits(limits=1, user_api="blas")


def main():
    """One run of the app: the page the URL names, inside the navigation."""
    one_blas_thread()
    st.set_page_config(page_title="Backprop Lab", page_icon=":material/neurology:", layout="wide")
    browser_owner()            # ?lab=<id>: this browser's runs on disk (Streamlit clears it on page switches)

    PAGES = {   # Material icons ship with Streamlit; emoji need an emoji font and show as empty boxes without one
        "Start": [
            st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
            st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
        ],
        "Step through the math": [
            st.Page("pages/perceptron.py", title="Perceptron", icon=":material/linear_scale:"),
            st.Page("pages/forward_pass.py", title="Forward pass", icon=":material/arrow_forward:"),
            st.Page("pages/backpropagation.py", title="Backpropagation", icon=":material/arrow_back:"),
            st.Page("pages/batchnorm.py", title="BatchNorm, step by step", icon=":material/equalizer:"),
        ],
        "Explore the ideas": [
            st.Page("pages/activation_functions.py", title="Activation functions", icon=":material/show_chart:"),
            st.Page("pages/loss_functions.py", title="Loss functions", icon=":material/adjust:"),
            st.Page("pages/optimizers.py", title="Optimizers", icon=":material/landscape:"),
            st.Page("pages/vanishing_gradients.py", title="Vanishing gradients", icon=":material/trending_down:"),
        ],
        "Train real networks": [
            st.Page("pages/playground.py", title="Playground", icon=":material/science:"),
            st.Page("pages/train_mnist.py", title="Train on MNIST", icon=":material/fitness_center:"),
            st.Page("pages/draw_digit.py", title="Draw a digit", icon=":material/draw:"),
        ],
    }

    page = st.navigation(PAGES, position="hidden" if links.focused() else "sidebar",   # hide=nav: one focused page
                         expanded=True)   # every page listed: with 13 the sidebar would fold the last ones under "View more"
    teacher = links.open_link(page.url_path)      # a link's settings into session_state before the widgets exist
    page.run()
    links.close_link(page.url_path, teacher)      # the page's settings back into the URL; the share panel


if __name__ == "__main__":
    main()
