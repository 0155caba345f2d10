"""Links in a real browser: a link copied from a page opens the same page on a fresh server in a new
browser context; a teacher link hides and locks; a lab report opens with the network off."""
import json
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SIDEBAR = "[data-testid='stSidebar']"


def copied_link(page, wait_idle):
    """The "Copy link" text of the sidebar's share panel (what the copy button puts on the clipboard)."""
    code = page.locator("[data-testid='stPopoverBody'] [data-testid='stCode'] code").first
    for _ in range(3):                    # a rerun that lands just after the click can redraw the panel closed
        wait_idle()
        if not code.is_visible():
            page.locator(SIDEBAR).get_by_text("Share or teach this page").click()
        try:
            expect(code).to_contain_text("http", timeout=10_000)
            break
        except AssertionError:
            continue
    expect(code).to_contain_text("http")
    return re.sub(r"\s+", "", code.inner_text())


def on_server(url, server):
    parts = urlsplit(url)
    return f"{server}{parts.path}?{parts.query}"


def equations(page):
    """The TeX of every equation on the page: the numbers a learner reads on Forward pass."""
    return page.locator("[data-testid='stMain'] .katex-mathml annotation").evaluate_all(
        "nodes => nodes.map(n => n.textContent)")


def controls(page, prefix, timeout=60):
    """Label and shown value of every control whose key starts with prefix, once the page has drawn them
    (every control has text and two reads half a second apart agree)."""
    locator = page.locator(f"[data-testid='stMain'] [class*='st-key-{prefix}']")
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        now = locator.all_inner_texts()
        if now and all(t.strip() for t in now) and now == last:
            return now
        last = now
        page.wait_for_timeout(500)
    return last


def shows_the_same(page, prefix, before, timeout=60):
    """Poll until the controls show what `before` recorded (a page draws its widgets over several frames)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and controls(page, prefix) != before:
        page.wait_for_timeout(500)
    return controls(page, prefix) == before


def test_links_copied_from_three_pages_open_the_same_numbers_on_a_fresh_server(
        browser, page, app_url, fresh_app_url, wait_idle):
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})       # another browser: nothing shared
    other = fresh.new_page()
    try:
        # Forward pass: a typed cell and the last step
        page.goto(f"{app_url}/forward_pass")
        wait_idle()
        cell = page.locator(".st-key-keep_forward_net_W1_0_1 input")
        expect(cell).to_be_visible(timeout=90_000)          # a first visit: the server imports the app first
        cell.fill("−2.5")
        cell.press("Enter")
        wait_idle()
        page.get_by_role("button", name="Show all").click()
        wait_idle()
        before = equations(page)
        assert any("2.500" in tex for tex in before)
        link = copied_link(page, wait_idle)
        assert "lab=" not in link and "W1=0.3,-2.5" in link
        other.goto(on_server(link, fresh_app_url))
        wait_idle(other)
        expect(other.locator("[data-testid='stMain'] .katex-mathml annotation")).to_have_count(len(before),
                                                                                               timeout=90_000)
        assert equations(other) == before

        # Train page: a configuration from a link, changed by a click, copied
        page.goto(f"{app_url}/train_mnist?layers=2&width1=64&opt=adam&lr=0.002&epochs=3")
        wait_idle()
        expect(page.locator(".st-key-keep_train_shuffle label")).to_be_visible(timeout=90_000)
        page.locator(".st-key-keep_train_shuffle label").click()
        wait_idle()
        before = controls(page, "keep_train_")
        link = copied_link(page, wait_idle)
        assert "shuffle=0" in link and "opt=adam" in link
        other.goto(on_server(link, fresh_app_url))
        wait_idle(other)
        assert shows_the_same(other, "keep_train_", before), (controls(other, "keep_train_"), before)

        # Playground: its own URL state, copied from the share panel
        page.goto(f"{app_url}/playground?data=circle&hidden=3,3&lr=0.3&noise=20")
        wait_idle()
        before = controls(page, "keep_playground_")
        link = copied_link(page, wait_idle)
        other.goto(on_server(link, fresh_app_url))
        wait_idle(other)
        assert shows_the_same(other, "keep_playground_", before), (controls(other, "keep_playground_"), before)
        assert any("0.3" in text for text in before) and any("20" in text for text in before)
    finally:
        fresh.close()


def test_a_teacher_link_hides_the_other_pages_and_controls_and_locks_one(page, app_url, wait_idle):
    page.goto(f"{app_url}/train_mnist?lr=0.5&hide=nav,architecture&lock=lr")
    wait_idle()
    expect(page.locator("[data-testid='stMain'] h1")).to_contain_text("Train")
    assert page.locator("[data-testid='stSidebarNav'], [data-testid='stNavSectionHeader']").count() == 0
    expect(page.locator(".st-key-keep_train_width1")).to_be_hidden()
    expect(page.locator(".st-key-keep_train_act")).to_be_hidden()
    expect(page.locator(".st-key-keep_train_batch")).to_be_visible()            # not hidden: still the learner's
    locked = page.locator(".st-key-keep_train_lr")
    expect(locked).to_be_visible()
    expect(locked).to_contain_text("0.5")
    assert locked.evaluate("e => getComputedStyle(e).pointerEvents") == "none"
    assert page.locator(".st-key-keep_train_batch").evaluate("e => getComputedStyle(e).pointerEvents") != "none"


def test_a_lab_report_opens_in_chromium_with_the_network_off(browser, tmp_path):
    from tests.test_lessons_reports import a_report
    text, _ = a_report("Ada", [0.91, 0.95])
    path = tmp_path / "report.html"
    path.write_text(text, encoding="utf-8")
    context = browser.new_context(offline=True)
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    try:
        offline = context.new_page()
        offline.goto(path.as_uri())
        expect(offline.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=30_000)
        assert offline.locator(".js-plotly-plot").count() == 4            # 2 runs × (loss curve + confusion matrix)
        assert offline.locator("img[alt='digit']").evaluate("i => i.naturalWidth") == 112
        data = json.loads(offline.locator("#lab-report-data").inner_text())
        assert [r["test_acc"] for r in data["runs"]] == [0.91, 0.95]
        expect(offline.locator("body")).to_contain_text("test accuracy 95.00%")
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    finally:
        context.close()
