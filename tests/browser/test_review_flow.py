"""The review flow in a real browser: alice compares a clip with its reversed version and submits
it; ines opens it from her dashboard and comments; alice sees the comment and replies.

Screenshots of each page land in test-artifacts/ (review-*.png) to be looked at.
"""

import re

from playwright.sync_api import Browser, Page, expect

from experiments.models import Experiment
from tests.browser.conftest import ARTIFACTS, assert_page_was_clean, sign_in, watched_page

# The machine may be busy (analyses run inline in the live server): wait like the page fixture does.
expect.set_options(timeout=20_000)

# Lazy images load only near the viewport: walk down the page so each one is asked for.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += 600) {
    window.scrollTo(0, y);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}"""


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-{name}.png"), full_page=True)


def _wait_for_images(page: Page) -> None:
    """Every <img> loaded (lazy ones scrolled into view first) and none broken."""
    page.evaluate(SCROLL_THROUGH)
    page.wait_for_function(
        "Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)", timeout=30_000
    )
    page.evaluate("window.scrollTo(0, 0)")


def _new_page(browser: Browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    return watched_page(context, live_server.url)


def test_alice_submits_an_ab_experiment_and_ines_reviews_it(page: Page, browser, live_server, course, active_model):
    # alice: a sample clip, its reversed version, "compare with original".
    sign_in(page, "alice")
    page.goto("/recordings/new/")
    page.click("button[aria-label='Use the sample clip 3 spoken by theo']")
    page.wait_for_url(re.compile(r"/recordings/\d+/$"))
    expect(page.locator("#analysis-panel .verdict-digit")).to_be_visible()
    page.click("[data-op-tab=reverse]")
    page.locator("#op-reverse button.btn-primary").click()
    page.wait_for_url(re.compile(r"/recordings/\d+/$"))
    expect(page.locator("h1")).to_contain_text("reverse")
    page.click("[data-compare-original]")
    page.wait_for_url(re.compile(r"/experiments/\d+/$"))
    expect(page.locator("#results[data-state=done]")).to_be_visible(timeout=30_000)
    expect(page.locator(".cmp-filter").first).to_be_visible()
    _wait_for_images(page)
    _shot(page, "1-comparison")

    # The layer tabs swap in place; swapping A and B keeps the page whole.
    page.locator("#layer-panel .tabs a", has_text="conv1").click()
    expect(page.locator("#layer-panel .cmp-grid[data-layer=conv1]")).to_be_visible()
    page.click("[data-swap]")
    expect(page.locator(".side").first).to_have_attribute("data-side", "A")
    page.click("[data-swap]")

    # Submit to the course.
    page.select_option("#submit-course", str(course.pk))
    page.click("[data-submit]")
    expect(page.locator("[data-status=submitted]")).to_be_visible()
    experiment = Experiment.objects.select_related("course").get(owner__username="alice")
    assert experiment.status == "submitted" and experiment.course == course

    page.goto("/experiments/")
    expect(page.locator(f".exp-row[data-experiment='{experiment.pk}']")).to_be_visible()
    _shot(page, "2-experiment-list")

    # ines: the badge, the dashboard, the read-only comparison, a comment.
    reviewer = _new_page(browser, live_server)
    sign_in(reviewer, "ines")
    reviewer.goto("/")
    expect(reviewer.locator("[data-badge=courses]")).to_have_text("1")
    reviewer.locator(f"tr[data-experiment='{experiment.pk}'] a.btn").click()
    reviewer.wait_for_url(f"**/experiments/{experiment.pk}/")
    expect(reviewer.locator("[data-review-bar]")).to_be_visible()
    expect(reviewer.locator("#results[data-state=done]")).to_be_visible()
    assert reviewer.locator("[data-submit]").count() == 0  # read-only: no owner actions
    reviewer.fill("#comment-body", "Nice! Which conv3 filters change most, and why would reversal matter there?")
    reviewer.click("[data-send-comment]")
    expect(reviewer.locator(".comment")).to_contain_text("Which conv3 filters")
    _wait_for_images(reviewer)
    _shot(reviewer, "3-instructor-review")
    reviewer.click("[data-mark-reviewed]")
    expect(reviewer.locator("[data-status=reviewed]")).to_be_visible()
    reviewer.goto(f"/courses/{course.pk}/?status=all")
    expect(reviewer.locator(f"tr[data-experiment='{experiment.pk}']")).to_contain_text("Reviewed")
    _shot(reviewer, "4-course-page")
    reviewer.context.close()
    assert_page_was_clean(reviewer)

    # alice: the unread badge, the comment, a reply; the badge clears.
    page.goto("/")
    expect(page.locator("[data-badge=experiments]")).to_have_text("1")
    page.goto(f"/experiments/{experiment.pk}/")
    expect(page.locator(".comment.is-new")).to_contain_text("Which conv3 filters")
    page.fill("#comment-body", "conv3 #12 changes most: it seems to track the vowel onset.")
    page.click("[data-send-comment]")
    expect(page.locator(".comment")).to_have_count(2)
    page.goto("/")
    expect(page.locator("[data-badge=experiments]")).to_have_count(0)
