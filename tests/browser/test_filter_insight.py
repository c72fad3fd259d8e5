"""What a filter likes, its labels, muting it, whether an explanation can be trusted, and the network at a glance."""

import re

from playwright.sync_api import Page, expect

from insights.models import FilterLabel
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.experiments.lab_support import analysed
from tests.insights.insight_support import dead_filters, stored_insight


def _shot(page: Page, name: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def test_a_student_hears_what_a_filter_likes_names_it_and_mutes_it(page: Page, alice, ines, course, active_model):
    stored_insight(active_model)
    analysis = analysed(alice)
    sign_in(page, "alice")
    page.goto(f"/analyses/{analysis.pk}/explorer/?tab=conv2")
    dead = dead_filters(active_model)
    expect(page.locator(".filter-grid .tile-dead")).to_have_count(len(dead))
    k = next(f for f in range(16) if f not in dead)  # a filter that lives (which ones die depends on the model)

    page.locator(f".filter-grid .tile[data-filter='{k}'] .tile-map").click()
    zoom = page.locator("#filter-zoom")
    expect(zoom.locator(".filter-insight")).to_contain_text("What it likes across the evaluation set")
    expect(zoom.locator(".like")).not_to_have_count(0)
    page.wait_for_function(
        "[...document.querySelectorAll('#filter-zoom .like img')].every(i => i.complete && i.naturalWidth)"
    )
    listen = zoom.get_by_role("button", name=re.compile(f"Listen to what conv2 filter {k} likes"))
    listen.click()
    expect(listen).to_have_attribute("aria-pressed", "true")
    expect(listen).to_contain_text("Listen to what it likes")  # keeps its words while it plays
    listen.click()
    expect(listen).to_have_attribute("aria-pressed", "false")

    # A refused label explains itself next to the field; a good one waits for review.
    field = zoom.locator("input[name=text]")
    field.fill("x")
    field.evaluate("input => input.removeAttribute('minlength')")
    zoom.get_by_role("button", name="Propose").click()
    expect(zoom.locator("[data-error-message]")).to_contain_text("2 to 80 characters")
    page.console_errors.clear()  # the 400 of the refused label, provoked on purpose
    zoom.locator("input[name=text]").fill("the vowel's low formant")
    zoom.get_by_role("button", name="Propose").click()
    expect(zoom.locator(".label-list")).to_contain_text("waiting for review")
    _shot(page, "filter-zoom-insight", 1440)

    zoom.get_by_role("button", name="Mute this filter").click()
    page.wait_for_url(re.compile(r".*/ablations/\d+/$"))
    expect(page.locator("h1")).to_have_text(f"Filter {k} of conv2 muted")
    expect(page.locator(".ablation-table tbody tr")).to_have_count(10)
    expect(page.locator("#ablation-accuracy")).to_contain_text("clips right")
    _shot(page, "ablation", 1440)
    _shot(page, "ablation", 390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The instructor approves it; it then shows on the filter's tile, with who proposed it.
    page.context.clear_cookies()
    sign_in(page, "ines")
    page.goto("/")
    page.get_by_role("link", name=re.compile("Review 1")).click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#labels-waiting")).to_contain_text("approved")
    assert FilterLabel.objects.get().status == "approved"
    page.context.clear_cookies()
    sign_in(page, "alice")
    page.goto(f"/analyses/{analysis.pk}/explorer/?tab=conv2")
    expect(page.locator(f".filter-grid .tile[data-filter='{k}'] .tile-label")).to_contain_text(
        "the vowel's low formant"
    )


def test_every_explanation_says_whether_it_can_be_trusted(page: Page, alice, active_model):
    analysis = analysed(alice)
    sign_in(page, "alice")
    page.goto(f"/recordings/{analysis.recording.pk}/")
    page.locator("#insights").get_by_role("button", name=re.compile("^Why")).click()
    expect(page.locator("#attribution")).to_have_attribute("data-status", "done")

    expect(page.locator("[data-faithfulness]")).to_have_count(4)
    expect(page.locator("[data-faithfulness-summary]")).to_contain_text("Can these maps be trusted?")
    expect(page.locator(".curve-chart path")).to_have_count(12)
    _shot(page, "attribution-faithfulness", 1440)
    _shot(page, "attribution-faithfulness", 390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_model_page_and_the_network_at_a_glance(page: Page, alice, active_model):
    stored_insight(active_model)
    analysis = analysed(alice)
    sign_in(page, "alice")

    page.goto(f"/models/{active_model.pk}/")
    expect(page.locator("#model-insight .dead-tiles .tile")).to_have_count(3)
    expect(page.locator("[data-best-method]")).to_contain_text("believe")
    _shot(page, "model-insight", 1440)
    _shot(page, "model-insight", 390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/recordings/{analysis.recording.pk}/")
    page.locator("#insights").get_by_role("link", name="The network at a glance").click()
    wide = page.locator("svg.flow-horizontal")
    expect(wide).to_be_visible()
    expect(page.locator("svg.flow-vertical")).to_be_hidden()
    expect(wide.locator("a[data-filter]")).to_have_count(64)
    page.wait_for_function("[...document.querySelectorAll('svg.flow-horizontal image')].length === 65")
    _shot(page, "network", 1440)
    _shot(page, "network", 390)
    expect(page.locator("svg.flow-vertical")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1440, "height": 900})
    wide.locator("a[data-filter='conv3:0']").click()
    page.wait_for_url(re.compile(r".*/layers/conv3/0/$"))
    expect(page.locator("h1")).to_contain_text("conv3 · filter 0")
