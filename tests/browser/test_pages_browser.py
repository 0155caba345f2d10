"""Every page of the app opens in a real browser without an exception box; a screenshot of each is saved."""
import pytest

pytestmark = pytest.mark.browser

# (URL path, screenshot name): st.navigation names each page's URL after its file (the default page is "/").
PAGES = [("", "home"), ("perceptron", "perceptron"), ("forward_pass", "forward_pass"),
         ("backpropagation", "backpropagation"), ("activation_functions", "activation_functions"),
         ("loss_functions", "loss_functions"), ("optimizers", "optimizers"),
         ("vanishing_gradients", "vanishing_gradients"), ("playground", "playground"),
         ("train_mnist", "train_mnist"), ("draw_digit", "draw_digit"), ("batchnorm", "batchnorm"),
         ("lessons", "lessons")]


@pytest.mark.parametrize("path, name", PAGES, ids=[name for _, name in PAGES])
def test_page_opens_without_exception(page, app_url, wait_idle, screenshot, path, name):
    page.goto(f"{app_url}/{path}")
    wait_idle()
    main = page.locator("[data-testid='stMain']")
    assert main.locator("[data-testid='stHeading']").count() >= 1, f"page {name!r} shows no heading"
    screenshot(page, name)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, f"page {name!r} shows an exception:\n{errors.first.inner_text()[:2000]}"
    assert page.locator("[data-testid='stNavSectionHeader'], [data-testid='stSidebarNav']").count() >= 1, \
        "the navigation is missing"


def test_deep_link_on_a_fresh_server_runs_app_py(page, fresh_app_url, wait_idle):
    """A bookmark to /draw_digit, as the very first visit after the server starts, gets the real app:
    app.py's sectioned navigation."""
    from playwright.sync_api import expect
    page.goto(f"{fresh_app_url}/draw_digit")
    wait_idle()
    # The page hands over to app.py with a rerun, so poll rather than look once.
    expect(page.locator("[data-testid='stNavSectionHeader']", has_text="Train real networks")).to_have_count(
        1, timeout=30_000)
    expect(page.locator("[data-testid='stMain'] h1")).to_contain_text("Draw", timeout=30_000)
