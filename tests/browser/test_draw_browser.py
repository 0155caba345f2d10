"""The Draw page in a real browser: strokes drawn with the mouse on the canvas are classified.

The canvas (streamlit-drawable-canvas, a Streamlit v2 component) renders in the page itself, inside a
shadow root that playwright's CSS selectors pierce: no iframe. Fabric.js listens on its upper canvas.
"""
import math

import pytest

pytestmark = pytest.mark.browser

CANVAS = "[data-testid=stBidiComponentIsolated] canvas.upper-canvas"
PREDICTION = "[data-testid='stMetricValue']"
SIDE = 280          # the canvas is 280×280 CSS pixels


def draw(page, points):
    """One pen stroke through points given in canvas pixels (0..SIDE), mouse down → moves → up."""
    box = page.locator(CANVAS).bounding_box()
    assert round(box["width"]) == SIDE and round(box["height"]) == SIDE, box
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=3)
    page.mouse.up()


def line(start, end, n=20):
    (x1, y1), (x2, y2) = start, end
    return [(x1 + (x2 - x1) * t / n, y1 + (y2 - y1) * t / n) for t in range(n + 1)]


ONE = line((140, 45), (140, 235))
ZERO = [(140 + 62 * math.sin(2 * math.pi * t / 48), 140 - 95 * math.cos(2 * math.pi * t / 48)) for t in range(51)]
SEVEN = line((75, 55), (205, 55), 12) + line((205, 55), (120, 235), 18)[1:]


def clear_canvas(page):
    """The canvas toolbar (shown on hover) has "Reset canvas & history"."""
    page.hover(CANVAS)
    page.get_by_role("button", name="Reset canvas & history").click()


@pytest.fixture
def draw_page(page, app_url, wait_idle):
    """The Draw page, reached as a learner does: the home page, then its link in the navigation."""
    page.goto(app_url)
    wait_idle()
    page.locator("[data-testid='stSidebarNavLink']", has_text="Draw a digit").click()
    page.locator(CANVAS).wait_for(state="visible")
    wait_idle()
    return page


def test_drawn_digits_are_classified_and_clearing_removes_the_prediction(draw_page, wait_idle, screenshot):
    from playwright.sync_api import expect
    page = draw_page
    prediction = page.locator(PREDICTION)
    expect(prediction).to_have_count(0)
    expect(page.get_by_text("Draw a digit on the canvas")).to_be_visible()

    draw(page, ONE)
    expect(prediction).to_have_text("1", timeout=30_000)
    expect(page.get_by_text("What the network sees (28×28)")).to_be_visible()

    clear_canvas(page)
    expect(prediction).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("the canvas is empty")).to_be_visible()

    draw(page, ZERO)
    expect(prediction).to_have_text("0", timeout=30_000)
    wait_idle()
    screenshot(page, "draw_digit_zero")

    clear_canvas(page)
    expect(prediction).to_have_count(0, timeout=30_000)
    draw(page, SEVEN)
    expect(prediction).to_have_text("7", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_undo_takes_back_the_last_stroke(draw_page):
    """Draw a 1, undo it: the canvas is empty again and the prediction goes away."""
    from playwright.sync_api import expect
    page = draw_page
    prediction = page.locator(PREDICTION)
    draw(page, ONE)
    expect(prediction).to_have_text("1", timeout=30_000)
    page.hover(CANVAS)
    page.get_by_role("button", name="Undo").click()
    expect(prediction).to_have_count(0, timeout=30_000)


def test_switching_to_upload_and_back_keeps_the_drawing(draw_page, wait_idle):
    """The canvas is unmounted while the upload box shows; coming back it must show the same drawing."""
    from playwright.sync_api import expect
    page = draw_page
    prediction = page.locator(PREDICTION)
    draw(page, SEVEN)
    expect(prediction).to_have_text("7", timeout=30_000)
    page.get_by_text("Upload a photo", exact=True).click()
    expect(prediction).to_have_count(0, timeout=30_000)
    page.get_by_text("Draw", exact=True).click()
    page.locator(CANVAS).wait_for(state="visible")
    expect(prediction).to_have_text("7", timeout=30_000)
    wait_idle()
    lower = page.locator("[data-testid=stBidiComponentIsolated] canvas.dc-canvas.lower-canvas")
    ink = lower.evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                                   let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 128; return n; }""")
    assert ink > 500                                  # the strokes are on the canvas again, not just remembered
    page.get_by_role("button", name="Clear the canvas").click()        # the toolbar's reset goes back to the 7
    expect(prediction).to_have_count(0, timeout=30_000)
    draw(page, ONE)
    expect(prediction).to_have_text("1", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
