"""Every page at 1024 and 1400 px wide: no button label is cut, nothing in the main area overlaps, and the
steppers' Back / Next work from the keyboard with a visible focus.

"Cut" is measured the way the eye sees it: an element inside a button whose content is wider than its box
(scrollWidth > clientWidth), which is what an ellipsis ("Reg…") or a clipped label is. "Overlap" is two
controls or charts of the main area whose bounding boxes intersect by more than OVERLAP_PX in both
directions, where neither contains the other (a button inside a segmented control is not an overlap).
The 1400 px screenshots are saved as test-artifacts/screenshots/layout-<page>.png.
"""
import pytest

pytestmark = pytest.mark.browser

PAGES = ["", "perceptron", "forward_pass", "backpropagation", "activation_functions", "loss_functions",
         "optimizers", "vanishing_gradients", "playground", "train_mnist", "draw_digit", "batchnorm", "lessons"]
WIDTHS = [1024, 1400]
OVERLAP_PX = 2          # boxes may touch (sub-pixel rounding), not cover each other
BOXED = ", ".join([      # what must not overlap: the things a learner reads or clicks in the main area
    "[data-testid='stMain'] button", "[data-testid='stMain'] textarea",
    "[data-testid='stMain'] input:not([type='range'])",     # a slider's range input is invisible, thumb-sized
    "[data-testid='stMain'] [data-baseweb='select']", "[data-testid='stMain'] [data-testid='stSlider']",
    "[data-testid='stMain'] [data-testid='stPlotlyChart']", "[data-testid='stMain'] [data-testid='stImage']",
    "[data-testid='stMain'] [data-testid='stDataFrame']", "[data-testid='stMain'] [data-testid='stMetric']",
])

SHOWN = """const shown = el => el.offsetParent && el.checkVisibility({contentVisibilityAuto: true,
    visibilityProperty: true}) && !el.closest("details:not([open])");      // not in a closed expander
"""
CUT_LABELS = """() => {""" + SHOWN + """
    const cut = [];
    for (const button of document.querySelectorAll("[data-testid='stMain'] button")) {
        if (!shown(button)) continue;
        for (const el of [button, ...button.querySelectorAll("*")]) {
            // clientWidth ≤ 2: a label for screen readers only (1 px wide by design), not shown text
            if (el.clientWidth > 2 && el.scrollWidth > el.clientWidth + 1 && el.textContent.trim())
                cut.push(button.innerText.trim() || button.getAttribute("aria-label") || button.outerHTML.slice(0, 80));
        }
    }
    return [...new Set(cut)];
}"""

OVERLAPS = """([selector, slack]) => {""" + SHOWN + """
    const els = [...document.querySelectorAll(selector)].filter(el => {
        const r = el.getBoundingClientRect();
        return shown(el) && r.width > 0 && r.height > 0;
    });
    const name = el => (el.innerText || el.getAttribute("aria-label") || el.getAttribute("data-testid")
                        || el.tagName).trim().slice(0, 40);
    const hits = [];
    for (let i = 0; i < els.length; i++) {
        for (let j = i + 1; j < els.length; j++) {
            const a = els[i], b = els[j];
            if (a.contains(b) || b.contains(a)) continue;
            const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
            const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
            const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
            if (w > slack && h > slack) hits.push(`${name(a)} × ${name(b)} (${Math.round(w)}×${Math.round(h)} px)`);
        }
    }
    return hits;
}"""

SETTLED = """() => document.fonts.status === "loaded"      // before the icon font loads, "restart_alt" is wide text
    && document.querySelectorAll("[data-testid='stMain'] [data-testid='stSkeleton']").length === 0
    && [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stPlotlyChart']")]
        .every(c => c.querySelector(".main-svg"))"""


def open_settled(page, url, wait_idle):
    """Open a page and wait until its script is done, no skeleton is left and every chart has drawn."""
    page.goto(url)
    wait_idle()
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_timeout(700)                                   # charts and columns settle their widths


@pytest.fixture
def sized_page(browser):
    """sized_page(width): a fresh page of that width in its own browser context."""
    contexts = []

    def make(width):
        context = browser.new_context(viewport={"width": width, "height": 1000})
        contexts.append(context)
        new_page = context.new_page()
        new_page.set_default_timeout(30_000)
        return new_page
    yield make
    for context in contexts:
        context.close()


CASES = [pytest.param(path, width, id=f"{path or 'home'}-{width}") for path in PAGES for width in WIDTHS]


@pytest.mark.parametrize("path, width", CASES)
def test_no_label_is_cut_and_nothing_overlaps(sized_page, app_url, wait_idle, screenshot, path, width):
    page = sized_page(width)
    open_settled(page, f"{app_url}/{path}", lambda: wait_idle(page))
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
    cut = page.evaluate(CUT_LABELS)
    overlaps = page.evaluate(OVERLAPS, [BOXED, OVERLAP_PX])
    if width == 1400:
        screenshot(page, f"layout-{path or 'home'}")
    assert not cut, f"{path or 'home'} at {width} px: cut button labels {cut}"
    assert not overlaps, f"{path or 'home'} at {width} px: overlapping elements {overlaps}"


FOCUS_RING = """(other) => {         // the focused button is outlined, and an unfocused one (`other`) is not
    const ring = el => { const s = getComputedStyle(el);
        return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none"); };
    return ring(document.activeElement) && !ring(document.querySelector(`.st-key-${other} button`));
}"""


FOCUSED_KEY = """(key) => !!(document.activeElement && document.activeElement.tagName === "BUTTON"
                              && document.activeElement.closest(`.st-key-${key}`))"""


def tab_to(page, key, limit=80):
    """Press Tab until the focused element is the button with this widget key; fail if it never is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_KEY, key):
            return
    pytest.fail(f"Tab never reached the button {key!r}")


def step_label(page):
    return page.locator("[data-testid='stMain'] [data-testid='stSlider'] [data-testid='stSliderThumbValue']").first


@pytest.mark.parametrize("path", ["forward_pass", "backpropagation"])
def test_back_and_next_work_from_the_keyboard_with_a_visible_focus(sized_page, app_url, wait_idle, path):
    from playwright.sync_api import expect
    page, stepper = sized_page(1024), "forward" if path == "forward_pass" else "backprop"
    open_settled(page, f"{app_url}/{path}", lambda: wait_idle(page))
    expect(step_label(page)).to_have_text("1. " + ("Input" if path == "forward_pass" else "Forward pass"))
    tab_to(page, f"{stepper}_next")
    assert page.evaluate(FOCUS_RING, f"{stepper}_all"), "the focused Next button has no visible outline"
    page.keyboard.press("Enter")
    expect(step_label(page)).to_contain_text("2. ", timeout=30_000)
    wait_idle(page)
    page.keyboard.press("Space")                                  # still focused after the rerun
    expect(step_label(page)).to_contain_text("3. ", timeout=30_000)
    wait_idle(page)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED_KEY, f"{stepper}_back")
    assert page.evaluate(FOCUS_RING, f"{stepper}_all"), "the focused Back button has no visible outline"
    page.keyboard.press("Enter")
    expect(step_label(page)).to_contain_text("2. ", timeout=30_000)


def test_the_perceptron_stepper_works_from_the_keyboard(sized_page, app_url, wait_idle):
    from playwright.sync_api import expect
    page = sized_page(1024)
    open_settled(page, f"{app_url}/perceptron", lambda: wait_idle(page))
    tab_to(page, "perceptron_next")
    assert page.evaluate(FOCUS_RING, "perceptron_epoch"), "the focused Next sample button has no visible outline"
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid='stMain']")).to_contain_text("Last sample:", timeout=30_000)


CUT_CELLS = """() => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stTextInput'] input")]
    .filter(el => el.offsetParent && el.scrollWidth > el.clientWidth + 1).map(el => el.value)"""


def test_trained_weights_fit_their_cells_at_1024_px(sized_page, app_url, wait_idle):
    """Issue 14: after training, cells showed "0.376929" cut off; they now hold 4 significant digits."""
    from playwright.sync_api import expect
    page = sized_page(1024)
    open_settled(page, f"{app_url}/backpropagation", lambda: wait_idle(page))
    page.get_by_role("tab", name="Train").click()
    page.locator(".st-key-backprop_train_10 button").click()
    expect(page.locator("[data-testid='stMain']")).to_contain_text("since step 0", timeout=30_000)
    wait_idle(page)
    values = page.evaluate("""() => [...document.querySelectorAll(
        "[data-testid='stMain'] [data-testid='stTextInput'] input")].map(el => el.value)""")
    assert any(len(v) >= 5 for v in values), values                   # trained: more digits than the example's
    assert page.evaluate(CUT_CELLS) == []
