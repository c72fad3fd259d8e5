"""The lab, the upload page and the comparison page at 1440 px and 390 px: nothing sticks out
sideways, the forms are in reach. Full-page screenshots land in test-artifacts/layout-*.png."""

import pytest
from playwright.sync_api import Browser, expect

from experiments.services.analyses import analysis_request
from tests.browser.conftest import ARTIFACTS, sign_in, wait_until_settled, watched_page

expect.set_options(timeout=20_000)
# The outermost elements that reach past the right edge of the window.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'))
  .slice(0, 8)"""
WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", WIDTHS)
def test_the_lab_upload_and_comparison_pages_fit(browser: Browser, live_server, alice, ab_experiment, width):
    for recording in (ab_experiment.recording_a, ab_experiment.recording_b):
        analysis_request(recording=recording, requested_by=alice)
    w, h = WIDTHS[width]
    context = browser.new_context(base_url=live_server.url, viewport={"width": w, "height": h})
    page = watched_page(context, live_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "alice")
    pages = {
        "lab": (f"/recordings/{ab_experiment.recording_b_id}/", "#edit"),
        "upload": ("/recordings/new/", "#upload-form"),
        "comparison": (f"/experiments/{ab_experiment.pk}/", "#results[data-state=done]"),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    for name, (url, ready) in pages.items():
        page.goto(url)
        expect(page.locator(ready)).to_be_visible()
        wait_until_settled(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{w}.png"), full_page=True)
        assert overflow <= 0, f"{name} at {w} px is {overflow} px too wide: {page.evaluate(WIDE)}"
    context.close()
    assert errors == []
