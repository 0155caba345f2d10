"""Train on MNIST in a real browser: start training, see the live views update, change η, stop."""
import re

import pytest

pytestmark = pytest.mark.browser

STATUS = "[data-testid='blStatus'], [data-testid='stProgress']"   # live: the panel's status line; ended: Streamlit's
ENDED = "[data-testid='stProgress']"     # the page redrawn for the ended run (the panel says "finished" a moment before)
# e.g. "running — epoch 1/100, batch 12/57 · η = 0.1"


def status_text(page):
    return page.locator(STATUS).first.inner_text()


def batches_done(page):
    """Total batches from the status line: (epoch − 1) · per_epoch + batch."""
    m = re.search(r"epoch (\d+)/\d+, batch (\d+)/(\d+)", status_text(page))
    return (int(m.group(1)) - 1) * int(m.group(3)) + int(m.group(2))


def test_train_watch_change_lr_and_stop(page, app_url, wait_idle):
    from playwright.sync_api import expect

    page.goto(app_url)                       # the app first (see test_pages_browser: deep links on a fresh server)
    wait_idle()
    page.get_by_role("link", name="Train on MNIST").first.click()
    wait_idle()
    expect(page.get_by_role("heading", name="Train a network on MNIST")).to_be_visible()

    # A run long enough to watch and interact with even on a fast machine: 3 hidden layers, batches of 8,
    # 100 epochs (about 45,000 steps).
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("100")
    epochs.press("Enter")
    wait_idle()
    page.get_by_role("radiogroup", name="Hidden layers").get_by_role("radio", name="3").click()
    wait_idle()
    batch = page.get_by_role("slider", name=re.compile("Batch size"))
    batch.focus()
    batch.press("Home")
    wait_idle()
    expect(batch).to_have_attribute("aria-valuetext", "8")
    page.get_by_role("button", name="Train", exact=True).click()

    # The live views appear and keep changing (no wait_idle: the fragments inside keep rerunning).
    expect(page.locator(STATUS).first).to_contain_text("running", timeout=30_000)
    # while it trains the views are inline SVG (cheap for the browser), not plotly charts: the live panel's
    # loss and accuracy, and the views inside the network
    page.wait_for_function("() => document.querySelectorAll('.bl-live svg[role=img]').length == 2 && "
                           "document.querySelectorAll('.bl-inside svg[role=img]').length >= 7", timeout=30_000)
    page.wait_for_function("() => /batch [1-9]/.test(document.querySelector(\"[data-testid='blStatus']\")?.innerText || '')",
                           timeout=30_000)
    first = batches_done(page)
    for _ in range(150):                          # the status line moves on its own (no click, no rerun asked)
        page.wait_for_timeout(100)
        if batches_done(page) > first:
            break
    assert batches_done(page) > first, "the status line did not move: the live views are not updating"
    assert page.locator("[data-testid='stException']").count() == 0

    # Change the learning rate while it trains: one notch left on the log slider is 0.05.
    expect(page.locator(STATUS).first).to_contain_text("η = 0.1")
    thumb = page.get_by_role("slider", name=re.compile("Learning rate"))
    thumb.focus()
    thumb.press("ArrowLeft")
    expect(page.locator(STATUS).first).to_contain_text("η = 0.05", timeout=30_000)
    expect(page.locator(STATUS).first).to_contain_text("running")

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator(ENDED)).to_contain_text("stopped", timeout=30_000)
    wait_idle()
    stopped_at = batches_done(page)
    page.wait_for_timeout(1000)
    assert batches_done(page) == stopped_at
    expect(page.locator("[data-testid='stPlotlyChart']:visible").first).to_be_visible()    # stopped: plotly again, zoomable
    assert page.locator("[data-testid='stMarkdown'] svg[role='img'], .bl-live, .bl-inside").count() == 0
    expect(page.get_by_role("heading", name="6 · Run history")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1)
    assert page.locator("[data-testid='stException']").count() == 0
