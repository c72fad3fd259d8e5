"""From the lab: why the network decided, an attack whose result offers a comparison, a sweep whose points open."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.experiments.lab_support import analysed


def test_a_student_explains_attacks_and_sweeps_a_clip_from_the_lab(page: Page, alice, active_model):
    recording = analysed(alice).recording
    sign_in(page, "alice")
    page.goto(f"/recordings/{recording.pk}/")

    page.locator("#insights").get_by_role("button", name=re.compile("^Why")).click()
    expect(page.locator("#attribution")).to_have_attribute("data-status", "done")
    expect(page.locator("#attribution figure.attr")).to_have_count(4)
    page.wait_for_function(
        "[...document.querySelectorAll('#attribution img')].every(i => i.complete && i.naturalWidth)"
    )
    page.locator("#attribution button[data-play]").first.click()
    page.locator(".target-picker").get_by_role("button", name="3", exact=False).first.click()
    expect(page.locator("h1")).to_contain_text("“3”")
    expect(page.locator("#attribution")).to_have_attribute("data-status", "done")

    page.goto(f"/recordings/{recording.pk}/")
    page.locator("#insights").get_by_role("link", name="Robustness sweep").click()
    page.get_by_role("tab", name="Pitch shift").click()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#sweep")).to_have_attribute("data-status", "done")
    expect(page.locator("#sweep polyline")).to_have_count(10)
    page.locator("circle[data-point='12']").first.dispatch_event("click")
    page.wait_for_url(re.compile(r".*/recordings/\d+/$"))
    expect(page.locator("#history")).to_contain_text("pitch_shift")

    page.goto(f"/recordings/{recording.pk}/")
    page.locator("#insights").get_by_role("link", name="Fool the network").click()
    page.fill("#id_steps", "10")
    page.locator("main form button[type=submit]").click()
    # Tests run jobs inline, so the attack is over when its page opens; its result shows first.
    expect(page.locator("#attack")).to_have_attribute("data-status", "done")
    expect(page.locator("#attack")).to_contain_text("Probabilities before and after")
    page.get_by_role("link", name="Compare with the original, layer by layer").click()
    page.wait_for_url(re.compile(r".*/experiments/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Attack on")
