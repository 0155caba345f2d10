"""A full round of backprop by hand in a real browser: every step of the default 2-2-2 network typed, one wrong
δ₁ answered with the hint naming the missing f′(z₁), and the count reaching "All 12 steps right!"."""
import numpy as np
import pytest

from lab.exercises import network_exercise

pytestmark = pytest.mark.browser

W_EXAMPLE = [[[0.3, 0.7], [-0.2, 0.4]], [[0.5, -0.3], [0.2, 0.6]]]


def typed(values):
    return ", ".join(f"{v:.3f}".replace("-", "−") for v in np.ravel(values))


def test_a_full_round_of_backprop_by_hand(page, app_url, wait_idle, screenshot):
    from playwright.sync_api import expect

    steps = network_exercise([2, 2, 2], "sigmoid", [1.0, 0.5], W_EXAMPLE, [[0, 0], [0, 0]], 0, 0.5)
    page.goto(f"{app_url}/backpropagation")
    wait_idle()
    page.get_by_role("tab", name="Backprop by hand").click()
    main = page.locator("[data-testid='stMain']")

    def submit(label, text):
        box = main.get_by_role("textbox", name=f"{label} =", exact=True)
        box.fill(text)
        box.press("Enter")
        wait_idle()
        main.get_by_role("button", name="Check").click()
        wait_idle()

    by_key = {s.key: s for s in steps}
    for step in steps:
        if step.key == "delta1":
            submit(step.label, typed(by_key["back1"].expected))          # forgot ⊙ f′(z₁)
            expect(main.get_by_text("missing ⊙ f′(z₁)")).to_be_visible()
        submit(step.label, typed(step.expected))
        expect(main.locator("[data-testid='stAlertContentSuccess']", has_text=f"{step.label} =")).to_have_count(1)
    expect(main.get_by_text("All 12 steps right!").first).to_be_visible()
    screenshot(page, "backprop_by_hand_done")
    assert page.locator("[data-testid='stException']").count() == 0
