"""The model workshop in the browser, with a real worker: design a variant (live shapes, a refused design
explained), train it, watch the curves arrive, open the trained version against the bundled model;
cancel a long training and train again. Screenshots at 1440 and 390 px land in test-artifacts/."""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, sign_in, wait_until_settled, watched_page
from tests.jobs.workers import start_worker

expect.set_options(timeout=20_000)
WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def _shared_worker(tmp_path_factory) -> Iterator[tuple[subprocess.Popen, Path]]:
    """One real worker for the module's trainings (its start, TensorFlow's import, is most of a test's setup).

    It keeps nothing of a test for the next: its jobs and versions are rows the live server's flush deletes,
    and its media folder is given to each test as the site's.
    """
    folder = tmp_path_factory.mktemp("workshop-worker")
    media = folder / "media"
    process = start_worker(
        folder,
        WORKSHOP_MAX_CLIPS="120",
        JOB_LEASE_SECONDS="120",
        MEDIA_ROOT=str(media),
        FILTER_INSIGHT_ON_VALIDATION="0",
    )
    yield process, media
    # No test waits for what the worker is still doing (the cancel test's second training): a graceful
    # stop would wait for that training and its validation to end, or for the 15 s before a SIGKILL.
    process.kill()
    process.wait()


@pytest.fixture
def worker(_shared_worker, settings) -> subprocess.Popen:
    """The module's real worker on the test database and media, training on a small share of the clips."""
    process, media = _shared_worker
    assert process.poll() is None, "the workshop tests' worker stopped"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.MEDIA_ROOT = media
    return process


def _set(page: Page, field: str, value: str) -> None:
    """Type a value and leave the field, as a person does (the change event asks for the new summary)."""
    page.fill(f"#id_{field}", value)
    page.locator(f"#id_{field}").press("Tab")


def test_a_student_designs_trains_watches_and_debugs_a_variant(page: Page, worker, alice, active_model):
    sign_in(page, "alice")
    page.goto("/")
    page.get_by_role("link", name="Workshop").click()
    page.get_by_role("link", name="Design a variant").click()
    expect(page.locator("[data-parameters]")).to_have_text("472026")

    _set(page, "filters_3", "8")
    expect(page.locator("tr[data-layer=conv3] [data-shape]")).to_have_text("32 × 15 × 8")
    _set(page, "filters_2", "0")
    expect(page.locator('[data-field-errors="filters_2"]')).to_contain_text("at least one filter")
    expect(page.locator("[data-no-summary]")).to_be_visible()
    _set(page, "filters_2", "8")
    expect(page.locator("tr[data-layer=conv2] [data-shape]")).to_have_text("64 × 31 × 8")
    _set(page, "epochs", "2")
    _set(page, "name", "narrow")
    page.get_by_role("button", name="Train it").click()

    page.wait_for_url(re.compile(r"/workshop/\d+/$"))
    expect(page.locator("[data-curve=loss] path").first).to_be_visible(timeout=240_000)
    expect(page.locator("[data-curve=accuracy]")).to_be_visible()
    expect(page.locator("[data-training-status]")).to_have_text("Done", timeout=300_000)
    expect(page.locator("[data-heldout]")).to_be_visible()
    expect(page.locator("#weights input[type=range]")).to_be_visible()  # drawn again when the training ended
    expect(page.locator("#model-card")).to_contain_text("Held-out accuracy")
    page.screenshot(path=str(ARTIFACTS / "workshop-training-1360.png"), full_page=True)

    page.get_by_role("button", name="Debug it against the bundled model").click()
    page.wait_for_url(re.compile(r"/experiments/\d+/$"))
    expect(page.locator("#results[data-state=done]")).to_be_visible(timeout=120_000)
    expect(page.locator("body")).to_contain_text("workshop-alice-")
    expect(page.locator("body")).to_contain_text(active_model.name)


def test_cancel_stops_a_training_and_the_student_trains_again(page: Page, worker, alice, active_model):
    sign_in(page, "alice")
    page.goto("/workshop/new/")
    _set(page, "epochs", "30")
    page.get_by_role("button", name="Train it").click()
    page.wait_for_url(re.compile(r"/workshop/\d+/$"))
    expect(page.locator("[data-curve=loss]")).to_be_visible(timeout=240_000)

    page.get_by_role("button", name="Cancel training").click()
    expect(page.locator("[data-training-status]")).to_have_text("Cancelled", timeout=60_000)
    expect(page.locator("#training-live")).to_contain_text("of 30 epochs")

    page.get_by_role("link", name="design it again").click()
    expect(page.locator("[data-running]")).to_have_count(0)
    _set(page, "epochs", "1")
    page.get_by_role("button", name="Train it").click()
    page.wait_for_url(re.compile(r"/workshop/\d+/$"))
    expect(page.locator("[data-training-status]")).not_to_have_text("Cancelled")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_workshop_pages_fit(browser: Browser, live_server, alice, bundled_model_description, width):
    from tests.workshop.workshop_support import finished_training

    training = finished_training(alice, bundled_model_description)
    w, h = WIDTHS[width]
    context = browser.new_context(base_url=live_server.url, viewport={"width": w, "height": h})
    page = watched_page(context, live_server.url)
    sign_in(page, "alice")
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {"design": "/workshop/new/", "training": f"/workshop/{training.pk}/", "list": "/workshop/"}
    for name, url in (pages | {"voices": "/workshop/voices/"}).items():
        page.goto(url)
        wait_until_settled(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / f"workshop-{name}-{w}.png"), full_page=True)
        assert overflow <= 0, f"{name} at {w} px is {overflow} px too wide"
    context.close()
