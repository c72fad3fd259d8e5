"""The main pages on a 390 px phone and a 1440 px desktop: nothing scrolls sideways, the menu
collapses into a button on the phone, the comparison's probability table fits, and the lab shows
its prediction near the top. Full-page screenshots land in test-artifacts/phone-*.png."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from experiments.services.analyses import analysis_request
from insights.services import attribution_request
from tests.browser.conftest import ARTIFACTS, sign_in, wait_until_settled, watched_page

expect.set_options(timeout=20_000)
WIDTHS = {"phone": (390, 844), "desktop": (1440, 900)}
# The outermost elements that reach past the right edge of the window, to name in a failure.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'))
  .slice(0, 8)"""


def _page(browser: Browser, live_server, width: str) -> Page:
    w, h = WIDTHS[width]
    context = browser.new_context(base_url=live_server.url, viewport={"width": w, "height": h})
    page = watched_page(context, live_server.url)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    sign_in(page, "alice")
    return page


def _fits(page: Page, name: str, width: str) -> None:
    w = WIDTHS[width][0]
    wait_until_settled(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}-{w}.png"), full_page=True)
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= w, f"{name} at {w} px scrolls sideways to {scroll_width} px: {page.evaluate(WIDE)}"


@pytest.fixture
def analysed_experiment(alice, ab_experiment):
    analyses = [
        analysis_request(recording=r, requested_by=alice)[0]
        for r in (ab_experiment.recording_a, ab_experiment.recording_b)
    ]
    # Ready when its maps are drawn (whether one carries the padding caveat depends on the model).
    attribution_request(analysis=analyses[0], target=analyses[0].predicted_label, requested_by=alice)
    return ab_experiment, analyses


@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_pages_never_scroll_sideways(browser: Browser, live_server, analysed_experiment, course, width):
    experiment, analyses = analysed_experiment
    page = _page(browser, live_server, width)
    pages = {
        "dashboard": ("/", "main h1"),
        "recordings": (reverse("recording_list"), "[data-recording-group]"),
        "lab": (experiment.recording_b.get_absolute_url(), "#analysis-panel[data-status=done]"),
        "upload": (reverse("recording_new"), "#upload-form"),
        "experiments": (reverse("experiment_list"), "main h1"),
        "comparison": (reverse("experiment_detail", args=[experiment.pk]), "#results[data-state=done]"),
        "courses": (reverse("course_list"), "main h1"),
        "models": (reverse("model_list"), "main h1"),
        "attribution": (f"/analyses/{analyses[0].pk}/attribution/", "#attribution[data-status=done]"),
        "delete": (reverse("recording_delete", args=[experiment.recording_b_id]), "[data-confirm-delete]"),
    }
    for name, (url, ready) in pages.items():
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
        _fits(page, name, width)
    assert page.errors == []
    page.context.close()


def test_the_phone_menu_is_a_button_that_opens_and_closes_by_keyboard(browser: Browser, live_server, alice):
    page = _page(browser, live_server, "phone")
    page.goto("/")
    toggle = page.locator("[data-nav-toggle]")
    nav = page.locator("nav.nav")
    lab = nav.get_by_role("link", name="Lab")

    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(lab).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(lab).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-menu-open-390.png"))
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(lab).to_be_hidden()
    expect(toggle).to_be_focused()
    page.keyboard.press("Space")
    lab.click()
    page.wait_for_url("**/recordings/")
    assert page.errors == []
    page.context.close()


def test_the_desktop_shows_the_links_without_a_menu_button(browser: Browser, live_server, alice):
    page = _page(browser, live_server, "desktop")
    page.goto("/")

    expect(page.locator("[data-nav-toggle]")).to_be_hidden()
    expect(page.locator("nav.nav").get_by_role("link", name="Lab")).to_be_visible()
    page.context.close()


def test_on_a_phone_the_comparison_table_fits_and_the_lab_shows_the_prediction_first(
    browser: Browser, live_server, analysed_experiment
):
    experiment, _ = analysed_experiment
    page = _page(browser, live_server, "phone")

    page.goto(reverse("experiment_detail", args=[experiment.pk]))
    table = page.locator("table.prob-compare")
    expect(table).to_be_visible()
    box = table.bounding_box()
    change = page.get_by_role("columnheader", name="Change A→B").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert change["x"] + change["width"] <= 390

    page.goto(experiment.recording_b.get_absolute_url())
    prediction = page.locator("#analysis-panel[data-status=done]")
    expect(prediction).to_be_visible()
    assert prediction.bounding_box()["y"] < page.locator("#edit").bounding_box()["y"]
    assert prediction.bounding_box()["y"] < 844  # on the first screen, not below the edit panel
    page.context.close()
