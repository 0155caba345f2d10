"""The lessons' network in a real browser: pick the preset, train it live for one epoch on the bundled sample,
then see BatchNorm's γ/β view, the clipping view and an accuracy beside the lesson's reported 98.12 %."""
import re

import pytest

pytestmark = pytest.mark.browser

STATUS = "[data-testid='blStatus'], [data-testid='stProgress']"   # live: the panel's status line; ended: Streamlit's
ENDED = "[data-testid='stProgress']"     # the page redrawn for the ended run (the panel says "finished" a moment before)


def test_the_lessons_preset_trains_live_and_shows_batchnorm_and_an_accuracy(page, app_url, wait_idle, screenshot):
    from playwright.sync_api import expect

    page.goto(app_url)                       # the app first (see test_pages_browser: deep links on a fresh server)
    wait_idle()
    page.get_by_role("link", name="Train on MNIST").first.click()
    wait_idle()
    expect(page.get_by_role("heading", name="Train a network on MNIST")).to_be_visible()
    expect(page.get_by_text("the page uses the bundled sample")).to_be_visible()      # the tests run offline

    page.get_by_role("button", name="The lessons' network").click()
    wait_idle()
    expect(page.get_by_role("spinbutton", name="Epochs")).to_have_value("20")
    expect(page.get_by_role("switch", name="BatchNorm")).to_be_checked()
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("1")
    epochs.press("Enter")
    wait_idle()
    page.get_by_role("button", name="Train", exact=True).click()

    # 57 batches at the sample's 30 batches/s: about 2 s of "running", which a busy machine's refresh may miss
    expect(page.locator(ENDED)).to_contain_text("finished", timeout=120_000)
    wait_idle()
    line = page.locator("[data-testid='stAlert']").filter(has_text="The lessons' network")
    expect(line).to_contain_text("98.12 % on full MNIST after 20 epochs")
    expect(line).to_contain_text(re.compile(r"This run: best test accuracy \d+\.\d\d % after 1 epoch, trained on "
                                            r"3,600 images of the bundled 4,000-image MNIST sample"))
    accuracy = float(re.search(r"best test accuracy (\d+\.\d\d) %", line.inner_text()).group(1))
    assert 50 < accuracy <= 100                   # one epoch of the lessons' network: far above chance (10 %)
    for title in ("BatchNorm's γ and β", "Gradient norm before and after clipping to 1"):
        expect(page.locator("[data-testid='stPlotlyChart'] .gtitle").filter(has_text=title)).to_have_count(1)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "train-lessons")
