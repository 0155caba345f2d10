"""Every page's widgets with hostile values: no exception may reach the page.

A learner (or someone probing a class server) can type anything a widget accepts: empty text, NaN,
±inf, ±1e308, integers of hundreds of digits, very long or odd Unicode. Each page is opened through
app.py; in round r every number box and text box gets the r-th hostile value and every choice its
r-th option (sliders their ends), all at once; then each number and text box alone gets the worst
values; then every button is pressed once. After every run the page must show no exception.
"""
import math

import pytest
from apptest import assert_fine, open_page

PAGES = ["home", "perceptron", "forward_pass", "backpropagation", "activation_functions", "loss_functions",
         "optimizers", "vanishing_gradients", "playground", "train_mnist", "draw_digit"]
HUGE_INT = 10**400
NUMBERS = [math.nan, math.inf, -1e308, 1e308, -math.inf, float(10**30)]
# Whole-number boxes: the browser sends only integers (JavaScript's, up to 2⁵³), so: the extremes of int64.
INTEGERS = [2**63 - 1, -(2**63), 2**53, -1, 0, 2**63 - 1]
TEXTS = ["", "nan, inf, -inf", "1e308, -1e308", str(HUGE_INT), "x" * 20_000 + "1," * 5_000,
         "\u202e٣٫٥\u0000 🧠 ,,;; −"]
ROUNDS = len(NUMBERS)
ALONE = 8                # number and text boxes per page that also get a hostile value on their own
CHOICES = ("selectbox", "radio", "select_slider", "segmented_control")


def _widgets(at, kind):
    try:
            return [w for w in at.get(kind) if getattr(w, "key", None)]
    except (KeyError, AttributeError):
        return []


def _set_everything(at, r):
    """Round r: hostile number/text values, the r-th option of every choice, slider ends, toggles flipped."""
    for w in _widgets(at, "number_input"):
        if not w.disabled:
            values = INTEGERS if isinstance(w.value, int) else NUMBERS
            w.set_value(values[r % len(values)])
    for kind in ("text_input", "text_area"):
        for w in _widgets(at, kind):
            if not w.disabled:
                w.set_value(TEXTS[r % len(TEXTS)])
    for kind in CHOICES:
        for w in _widgets(at, kind):
            if w.disabled or not w.options:
                continue
            label = w.options[(-1 if r % 2 else 0) if kind == "select_slider" else r % len(w.options)]
            value = _underlying(w, label)
            if value is not _UNKNOWN:
                w.set_value(value)
    for w in _widgets(at, "slider"):
        if not w.disabled and not isinstance(w.value, tuple):
            w.set_value(w.max if r % 2 else w.min)
    for kind in ("checkbox", "toggle"):
        for w in _widgets(at, kind):
            if not w.disabled:
                w.set_value(bool(r % 2))


_UNKNOWN = object()


def _underlying(w, label):
    """The option value shown as `label` (AppTest sets values, the page shows labels), or _UNKNOWN.

    Candidates: the label itself, the keys of a dict whose .get formats the options, the label as a number.
    """
    fmt = w.format_func or str
    candidates = [label, *getattr(getattr(fmt, "__self__", None), "keys", lambda: [])()]
    for convert in (int, float):
        try:
            candidates.append(convert(label))
        except (TypeError, ValueError):
            pass
    for value in candidates:
        try:
            if fmt(value) == label:
                return value
        except Exception:               # a format_func that does not take this candidate
            continue
    return _UNKNOWN



def _tidy(at):
    """Stop a training run a pressed button may have started."""
    for b in at.button:
        if b.label == "Reset" and not b.disabled:
            b.click()
            at.run()


@pytest.mark.parametrize("page", PAGES)
def test_no_hostile_value_makes_a_page_raise(page):
    at = open_page(page)
    for r in range(ROUNDS):
        _set_everything(at, r)
        at.run()
        assert not at.exception, (page, r, [e.value for e in at.exception])
    boxes = [(kind, w.key) for kind in ("number_input", "text_input", "text_area") for w in _widgets(at, kind)]
    for i, (kind, key) in enumerate(boxes[::max(1, -(-len(boxes) // ALONE))]):   # spread over the page
        widgets = [w for w in _widgets(at, kind) if w.key == key and not w.disabled]
        if not widgets:
            continue
        _set_everything(at, 3)                                   # the others back to one value, this one alone
        values = INTEGERS if isinstance(widgets[0].value, int) else NUMBERS if kind == "number_input" else TEXTS
        widgets[0].set_value(values[i % len(values)])
        at.run()
        assert not at.exception, (page, key, [e.value for e in at.exception])
    try:
        labels = [(b.key, b.label) for b in at.button if not b.disabled]
        for key, label in labels:
            matches = [b for b in at.button if (b.key, b.label) == (key, label) and not b.disabled]
            if matches:
                matches[0].click()
                at.run()
                assert not at.exception, (page, label, [e.value for e in at.exception])
    finally:
        _tidy(at)


def test_equation_numbers_show_an_overflow_instead_of_failing():
    from pages.ui.tiny_net import num
    assert [num(math.inf), num(-math.inf), num(math.nan)] == [r"\infty", r"-\infty", r"\text{NaN}"]
    assert num(1e308) == r"1.00\times 10^{308}"



def test_the_computational_graph_refuses_a_huge_target_with_a_message():
    at = open_page("backpropagation")
    at.number_input(key="keep_backprop_graph_y").set_value(1e308).run()
    assert_fine(at)
    assert any("This neuron can't be evaluated: y must be between −1,000,000 and 1,000,000; got 1e+308" in e.value
               for e in at.error), [e.value for e in at.error]
