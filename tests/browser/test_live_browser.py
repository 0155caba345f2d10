"""Live training in a real browser: η changes always land, and nothing is lost on a reload."""
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

STATUS = "[data-testid='blStatus'], [data-testid='stProgress']"   # live: the panel's status line; ended: Streamlit's
ENDED = "[data-testid='stProgress']"     # the page redrawn for the ended run (the panel says "finished" a moment before)
# e.g. "running — epoch 1/10, batch 12/57 · η = 0.1 · 30 batches/s"


def status_eta(page):
    m = re.search(r"η = ([0-9.e+-]+)", page.locator(STATUS).first.inner_text())
    return float(m.group(1)) if m else None


def open_train_page(page, wait_idle, url):
    from playwright.sync_api import expect
    page.goto(url)
    wait_idle()
    page.get_by_role("link", name="Train on MNIST").first.click()
    wait_idle()
    expect(page.get_by_role("heading", name="Train a network on MNIST")).to_be_visible()


def set_epochs_and_speed(page, wait_idle, epochs, *speed_keys):
    """Type the number of epochs, then press these keys on the Speed slider (End: full speed)."""
    box = page.get_by_role("spinbutton", name="Epochs")
    box.fill(str(epochs))
    box.press("Enter")
    wait_idle()
    speed = page.get_by_role("slider", name=re.compile("Speed"))
    speed.focus()
    for key in speed_keys:
        speed.press(key)
    wait_idle()


def lr_slider(page):
    return page.get_by_role("slider", name=re.compile("Learning rate"))


def start_watchable_run(page):
    """The defaults at 2 batches/s: a run that lasts minutes, so it is surely running while we act."""
    from playwright.sync_api import expect
    speed = page.get_by_role("slider", name=re.compile("Speed"))
    speed.focus()
    speed.press("Home")                                  # 1 batch/s
    speed.press("ArrowRight")                            # 2 batches/s
    expect(speed).to_have_attribute("aria-valuetext", "2 batches/s")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator(STATUS).first).to_contain_text("running", timeout=30_000)


def wait_until_run_agrees_with_slider(page, timeout_s=20):
    """Poll until the η in the status line equals the slider's; return (slider, status) as last seen."""
    slider = status = None
    for _ in range(int(timeout_s * 10)):
        slider = float(lr_slider(page).get_attribute("aria-valuetext"))
        status = status_eta(page)
        if status is not None and abs(status - slider) <= 1e-9 * max(slider, 1):
            return slider, status
        page.wait_for_timeout(100)
    return slider, status


def test_a_mouse_drag_of_the_eta_slider_changes_the_eta_the_run_reports(page, app_url, wait_idle):
    open_train_page(page, wait_idle, app_url)
    start_watchable_run(page)
    assert status_eta(page) == 0.1
    lr_slider(page).scroll_into_view_if_needed()
    page.wait_for_timeout(500)                           # let the scroll settle before aiming the mouse
    box = lr_slider(page).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for dx in range(1, 9):                               # a drag, not a click: several moves while held
        page.mouse.move(x - 12 * dx, y, steps=2)
    page.mouse.up()
    slider, status = wait_until_run_agrees_with_slider(page)
    assert slider < 0.1 and status == slider, f"slider at {slider}, run reports {status}"
    page.get_by_role("button", name="Stop", exact=True).click()


def test_ten_quick_key_presses_end_with_the_slider_and_the_run_agreeing(page, app_url, wait_idle):
    open_train_page(page, wait_idle, app_url)
    start_watchable_run(page)
    thumb = lr_slider(page)
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowLeft", delay=20)               # as fast as a learner hammers the key
    slider, status = wait_until_run_agrees_with_slider(page)
    # 0.1 is notch 12 of the log slider 1e-5, 2e-5, 5e-5, 1e-4, …; ten notches left is 5e-5
    assert slider == pytest.approx(5e-5) and status == slider, f"slider at {slider}, run reports {status}"
    page.wait_for_timeout(1500)                          # and it stays so (no late, stale change arrives)
    assert status_eta(page) == float(lr_slider(page).get_attribute("aria-valuetext"))
    page.get_by_role("button", name="Stop", exact=True).click()


def test_a_key_press_on_eta_and_a_click_on_pause_go_to_the_run_from_the_panel_itself(page, app_url, wait_idle):
    """The live panel sends the η slider's new value and a click on Pause straight to the feed (POST), not
    waiting for the page's rerun (which the browser draws by rendering the whole page again); the answer
    already quotes the run's own report."""
    open_train_page(page, wait_idle, app_url)
    start_watchable_run(page)
    steering = lambda r: r.request.method == "POST" and "/train-feed/" in r.url    # noqa: E731
    thumb = lr_slider(page)
    thumb.focus()
    with page.expect_response(steering, timeout=10_000) as sent:
        thumb.press("ArrowLeft")                           # 0.1 → 0.05
    assert "lr=0.05" in sent.value.url and "η = 0.05" in sent.value.json()["status"]
    with page.expect_response(steering, timeout=10_000) as sent:
        page.get_by_role("button", name="Pause", exact=True).click()
    assert "do=pause" in sent.value.url and sent.value.json()["paused"] is True
    with page.expect_response(steering, timeout=10_000) as sent:
        page.get_by_role("button", name="Resume", exact=True).click()
    assert "do=resume" in sent.value.url and "<b>running</b>" in sent.value.json()["status"]
    page.get_by_role("button", name="Stop", exact=True).click()


def test_a_run_whose_eta_differs_from_the_slider_is_set_back_to_the_slider_s(page, app_url, wait_idle):
    """If a change never reached the run (a request lost on its way), the panel sees the run's η differ from
    the slider's and sends it again. Here the run's η is changed behind the page's back, as a lost change
    would leave it."""
    from playwright.sync_api import expect
    open_train_page(page, wait_idle, app_url)
    start_watchable_run(page)
    feed = page.locator(".bl-live").get_attribute("data-feed")
    answer = page.request.post(f"{app_url}{feed}?lr=0.5")
    assert answer.ok and answer.json()["lr"] == 0.5
    expect(page.locator(STATUS).first).to_contain_text("η = 0.5", timeout=5_000)   # the panel sees the run's η…
    slider, status = wait_until_run_agrees_with_slider(page)                       # …and sets it back
    assert slider == status == 0.1, f"slider at {slider}, run reports {status}"
    assert page.request.get(f"{app_url}{feed}").json()["lr"] == 0.1
    page.get_by_role("button", name="Stop", exact=True).click()


def test_pause_shows_paused_and_an_eta_change_while_paused_shows_at_once(page, app_url, wait_idle):
    from playwright.sync_api import expect
    open_train_page(page, wait_idle, app_url)
    start_watchable_run(page)
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator(STATUS).first).to_contain_text("paused", timeout=15_000)
    thumb = lr_slider(page)
    thumb.focus()
    thumb.press("ArrowRight")                            # 0.2
    expect(page.locator(STATUS).first).to_contain_text("η = 0.2", timeout=15_000)
    expect(page.locator(STATUS).first).to_contain_text("paused")
    page.get_by_role("button", name="Stop", exact=True).click()


def test_a_reload_keeps_the_run_history_and_the_model(page, app_url, wait_idle):
    from playwright.sync_api import expect
    open_train_page(page, wait_idle, app_url)
    sizes = page.get_by_role("slider", name=re.compile("Training images"))
    sizes.focus()
    sizes.press("Home")                                  # 500 images
    set_epochs_and_speed(page, wait_idle, 1, "End")      # one epoch at full speed
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator(ENDED)).to_contain_text("finished", timeout=60_000)
    wait_idle()
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=30_000)
    expect(page.get_by_text("Trained here:")).to_be_visible()
    assert "lab=" in page.url                            # the browser's private id for its runs

    page.reload()
    wait_idle()
    expect(page.get_by_role("heading", name="6 · Run history")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=30_000)
    expect(page.get_by_text("Trained here:")).to_be_visible()
    expect(page.get_by_text("run #1 of your run history")).to_be_visible()

    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:                                                 # another browser (no ?lab= id) sees none of it
        stranger = other.new_page()
        open_train_page(stranger, lambda: stranger.wait_for_timeout(1500), app_url)
        expect(stranger.get_by_role("heading", name="6 · Run history")).to_be_visible()
        assert stranger.locator("[data-testid='stDataFrame']").count() == 0
    finally:
        other.close()


def test_the_draw_page_warns_about_a_poor_model_trained_in_this_session(page, app_url, wait_idle):
    """The η-too-high pitfall diverges; its network is kept, but the Draw page uses the default and says why."""
    from playwright.sync_api import expect
    open_train_page(page, wait_idle, app_url)
    sizes = page.get_by_role("slider", name=re.compile("Training images"))
    sizes.focus()
    sizes.press("Home")                                  # 500 images: the pitfall ends in seconds
    wait_idle()
    page.get_by_text("Pitfalls — one click each").click()
    page.get_by_role("button", name="η too high", exact=True).click()
    wait_idle()
    page.get_by_role("button", name="Run without predicting").click()      # the pitfall asks first
    expect(page.locator(ENDED)).to_contain_text("diverged", timeout=60_000)
    wait_idle()
    page.get_by_role("link", name="Draw a digit").first.click()
    wait_idle()
    expect(page.get_by_text(re.compile("Trained in this session scores only"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("radiogroup", name="Model").get_by_role("radio", name="Default model")).to_be_checked()


RERUNS = """() => new Promise(done => {                    // page runs that start within 6 s, counted by the app's own flag
  const app = document.querySelector("[data-testid='stApp']"), seen = [];
  const watch = new MutationObserver(() => {
    if (app.getAttribute("data-test-script-state") === "running") seen.push(performance.now());
  });
  watch.observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
  setTimeout(() => { watch.disconnect(); done(seen.length); }, 6000);
})"""


def test_while_a_run_trains_the_page_keeps_itself_current_without_rerunning(page, app_url, wait_idle):
    """The live panels fetch the status, numbers and curves themselves: every rerun, a fragment's too, makes
    the browser render the whole page again, and a key press waits behind it. Only the results rerun,
    once an epoch has ended and at most every 4 s."""
    open_train_page(page, wait_idle, app_url)
    set_epochs_and_speed(page, wait_idle, 100, "End", "ArrowLeft")   # 100 batches/s: an epoch every 0.6 s
    page.get_by_role("button", name="Train", exact=True).click()
    status = page.locator("[data-testid='blStatus']")
    status.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)                          # the first results rerun may come with the first epoch
    first = status.inner_text()
    reruns = page.evaluate(RERUNS)
    assert status.inner_text() != first                 # it moved on by itself meanwhile
    assert page.locator(".bl-live svg[role=img]").count() == 2 and page.locator(".bl-inside svg").count() >= 7
    assert reruns <= 2, f"{reruns} page runs in 6 s while training"


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Fashion-MNIST is Debian's dataset-fashion-mnist (.ci/run installs it)")
def test_switching_to_fashion_mnist_keeps_all_training_images_in_the_slider_and_the_run(page, app_url, wait_idle):
    """The slider sends back the label it shows: "all (4,000)" of the MNIST sample matched no label of
    Fashion-MNIST's, and the slider fell to its first notch, 500 images, while the page said 60,000."""
    from playwright.sync_api import expect
    open_train_page(page, wait_idle, app_url)
    images = page.get_by_role("slider", name=re.compile("Training images"))
    expect(images).to_have_attribute("aria-valuetext", "all")
    page.get_by_role("combobox", name=re.compile("Data set")).click()
    page.get_by_role("option", name="Fashion-MNIST").click()
    wait_idle()
    expect(page.get_by_text("Fashion-MNIST: training on 60,000 of its 60,000 images.")).to_be_visible()
    expect(images).to_have_attribute("aria-valuetext", "all")
    page.get_by_role("button", name="Train", exact=True).click()
    # 60,000 images, 10 % held out for validation: 54,000 in batches of 64 is 844 batches an epoch
    expect(page.locator(STATUS).first).to_contain_text(re.compile(r"batch \d+/844"), timeout=30_000)
    page.get_by_role("button", name="Stop", exact=True).click()
