"""The lab in a real browser: upload and see a prediction, edit with a history, zoom a filter and hear it."""

import re

from playwright.sync_api import Page, expect

from modelzoo.samples import SAMPLES_DIR
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.experiments.lab_support import SEVEN, analysed

LAB_URL = re.compile(r".*/recordings/\d+/$")


def _shot(target, name: str) -> None:
    """A named screenshot in test-artifacts/ (the page fixture takes one more at the end)."""
    ARTIFACTS.mkdir(exist_ok=True)
    kwargs = {"full_page": True} if isinstance(target, Page) else {}
    target.screenshot(path=str(ARTIFACTS / f"{name}.png"), **kwargs)


def _open_lab(page: Page, alice) -> int:
    analysis = analysed(alice)
    sign_in(page, "alice")
    page.goto(f"/recordings/{analysis.recording.pk}/")
    return analysis.recording.pk


def test_it_uploads_a_sample_clip_through_the_drop_zone_and_shows_the_prediction(page: Page, alice, active_model):
    sign_in(page, "alice")
    page.goto("/recordings/new/")
    expect(page.locator("#upload .dropzone")).to_contain_text("Drop a sound file")

    page.set_input_files("#upload input[type=file]", str(SAMPLES_DIR / f"{SEVEN}.wav"))
    expect(page.locator("#upload-file")).to_have_value(re.compile(rf"{SEVEN}\.wav$"))
    page.fill("#upload-title", "My first seven")
    _shot(page, "lab-add-a-clip")
    page.get_by_role("button", name="Upload and analyse").click()

    page.wait_for_url(LAB_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("My first seven")
    expect(page.locator(".messages")).to_contain_text("“My first seven” is ready")
    panel = page.locator("#analysis-panel")
    expect(panel).to_have_attribute("data-status", "done")
    expect(panel.locator(".probs li")).to_have_count(10)
    expect(panel.locator(".verdict-digit")).to_have_text(re.compile(r"^[0-9]$"))
    expect(panel.locator(".probs li.top")).to_have_count(1)
    # The waveform player and the layer explorer come up by themselves.
    expect(page.locator("#wf-main [data-waveform-ready], #wf-main[data-waveform-ready]")).to_have_count(1)
    expect(page.locator(".filter-grid .tile")).to_have_count(16)


def test_it_slices_a_dragged_region_then_reverses_it_and_shows_the_history(page: Page, alice, active_model):
    _open_lab(page, alice)
    page.wait_for_function("document.querySelector('#wf-main').ddWaveform !== undefined")
    page.wait_for_function("document.querySelector('#wf-main').ddWaveform.wavesurfer.getDuration() > 0")

    # Drag across the middle of the waveform to select a region.
    box = page.locator("#wf-main .wf-wave").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=8)
    page.mouse.up()

    slice_form = page.locator("form[data-op-form=slice]")
    expect(slice_form).to_be_visible()
    start = slice_form.locator("input[name=param_start]")
    end = slice_form.locator("input[name=param_end]")
    expect(start).not_to_have_value("0")
    start_s, end_s = float(start.input_value()), float(end.input_value())
    assert 0 < start_s < end_s

    slice_form.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Preview of slice")
    expect(page.locator("#preview audio")).to_have_count(1)
    slice_form.get_by_role("button", name="Save as new version").click()

    page.wait_for_url(LAB_URL)
    expect(page.locator(".messages")).to_contain_text("Saved a new version")
    expect(page.locator("#history .history li")).to_have_count(2)
    page.locator("[data-op-tab=reverse]").click()
    page.locator("form[data-op-form=reverse]").get_by_role("button", name="Save as new version").click()

    page.wait_for_url(LAB_URL)
    history = page.locator("#history .history li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Original")
    expect(history.nth(1)).to_contain_text("v1")
    expect(history.nth(2)).to_contain_text("v2")
    expect(history.nth(2)).to_have_class(re.compile("current"))
    expect(history.nth(2).locator(".op-tag")).to_have_text(["slice", "reverse"])
    expect(page.locator(".steps li")).to_have_count(2)
    page.get_by_role("button", name="Replay from the original and compare").click()
    expect(page.locator("#replay [data-replay=match]")).to_contain_text("identical audio")
    _shot(page.locator("#history"), "lab-history")
    # Each version is a click away.
    history.nth(1).locator("a").click()
    page.wait_for_url(LAB_URL)
    expect(page.locator("#history li.current")).to_contain_text("v1")


def test_it_opens_a_layer_zooms_a_filter_and_its_audio_loads_a_wav(page: Page, alice, active_model):
    _open_lab(page, alice)
    explorer = page.locator("#explorer")
    expect(explorer.locator(".filter-grid .tile")).to_have_count(16)

    explorer.locator("nav.tabs a").nth(2).click()  # the third convolution layer
    expect(explorer.locator(".filter-grid .tile")).to_have_count(32)
    images = explorer.locator(".filter-grid img")
    page.wait_for_function(
        "[...document.querySelectorAll('.filter-grid img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert images.count() == 32

    explorer.locator(".tile[data-filter='5'] .tile-map").click()
    zoom = page.locator("#filter-zoom.zoom")
    expect(zoom).to_be_visible()
    expect(zoom).to_contain_text("filter 5")
    expect(zoom).to_contain_text("Mean activation")
    audio = zoom.locator("audio[data-filter-audio]")
    page.wait_for_function("document.querySelector('audio[data-filter-audio]').readyState >= 1")
    page.wait_for_function("document.querySelector('#filter-zoom img.figure').naturalWidth > 0")
    _shot(page, "lab-explorer-zoom")
    duration = audio.evaluate("a => a.duration")
    assert abs(duration - 1.0) < 0.01
    response = page.request.get(audio.get_attribute("src"))
    assert response.ok and response.headers["content-type"] == "audio/wav"
    assert response.body()[:4] == b"RIFF"

    # ▶ on a tile plays that filter; Escape closes the zoom.
    explorer.locator(".tile[data-filter='7'] button.play").click()
    expect(explorer.locator(".tile[data-filter='7'] button.play")).to_have_class(re.compile("is-playing"))
    page.keyboard.press("Escape")
    expect(page.locator("#filter-zoom.zoom")).to_have_count(0)


def test_the_other_explorer_tabs_render(page: Page, alice, active_model):
    _open_lab(page, alice)
    explorer = page.locator("#explorer")
    expect(explorer.locator(".filter-grid .tile")).to_have_count(16)

    explorer.get_by_role("link", name="Overview").click()
    expect(explorer.locator(".overview-layer")).to_have_count(3)
    _shot(explorer, "lab-overview")
    explorer.get_by_role("link", name="Input").click()
    expect(explorer.locator("img.figure")).to_be_visible()
    explorer.get_by_role("link", name="Weights").click()
    expect(explorer.locator("figure.hist").first).to_be_visible()
    page.wait_for_function("document.querySelector('img.kernels').naturalWidth > 0")
    _shot(explorer, "lab-weights")
    explorer.get_by_role("link", name="Model").click()
    expect(explorer.locator("tr.conv-row")).to_have_count(3)


def test_the_lab_polls_a_queued_analysis_and_swaps_the_results_in(page: Page, alice, active_model, settings):
    from io import StringIO

    from django.core.management import call_command

    from experiments.services.recordings import recording_from_sample

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    recording = recording_from_sample(owner=alice, name=SEVEN)
    sign_in(page, "alice")
    page.goto(f"/recordings/{recording.pk}/")
    panel = page.locator("#analysis-panel")
    expect(panel).to_have_attribute("data-status", "none")  # opening the page started nothing
    panel.get_by_role("button", name="Analyse").click()
    expect(panel).to_have_attribute("data-status", "pending")
    expect(panel).to_contain_text("Waiting for a worker")
    _shot(page, "lab-analysis-pending")  # the panel itself is replaced at every poll
    expect(page.locator("#explorer-card")).to_contain_text("once the network has listened to the clip")
    page.wait_for_timeout(600)  # a few polls while nothing happens
    expect(panel).to_have_attribute("data-status", "pending")

    call_command("run_worker", "--batch", "--no-startup-delay", stdout=StringIO())

    expect(panel).to_have_attribute("data-status", "done")
    expect(panel.locator(".probs li")).to_have_count(10)
    expect(page.locator("#explorer-card .filter-grid .tile")).to_have_count(16)
    page.wait_for_function(
        "[...document.querySelectorAll('.filter-grid img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    # The swapped-in explorer works like the one rendered with the page.
    page.locator("#explorer nav.tabs a").nth(1).click()
    expect(page.locator("#explorer .filter-grid .tile")).to_have_count(16)
    expect(page.locator("#explorer nav.tabs a").nth(1)).to_have_attribute("aria-selected", "true")


def test_the_explorers_layer_scale_and_order_survive_a_reload(page: Page, alice, active_model):
    recording = _open_lab(page, alice)
    explorer = page.locator("#explorer")

    explorer.locator("nav.tabs a", has_text="conv2").click()
    expect(explorer.locator("nav.tabs a[aria-selected=true]")).to_contain_text("conv2")
    explorer.get_by_role("link", name="shared across the layer").click()
    expect(explorer.get_by_role("link", name="shared across the layer")).to_have_class(re.compile("btn-selected"))
    explorer.get_by_role("link", name="strongest first").click()
    expect(explorer.get_by_role("link", name="strongest first")).to_have_class(re.compile("btn-selected"))
    expect(page).to_have_url(re.compile(rf"/recordings/{recording}/\?layer=conv2&scale=layer&sort=strength$"))

    page.reload()
    expect(explorer.locator("nav.tabs a[aria-selected=true]")).to_contain_text("conv2")
    expect(explorer.get_by_role("link", name="shared across the layer")).to_have_class(re.compile("btn-selected"))
    expect(explorer.get_by_role("link", name="strongest first")).to_have_class(re.compile("btn-selected"))


def test_it_deletes_a_version_and_its_own_versions_after_asking(page: Page, alice, active_model):
    from experiments.models import Recording
    from experiments.services.recordings import recording_derive

    original = analysed(alice).recording
    sliced = recording_derive(recording=original, operations=[{"op": "slice", "params": {"start": 0.0, "end": 0.2}}])
    recording_derive(recording=sliced, operations=[{"op": "reverse", "params": {}}])
    sign_in(page, "alice")
    page.goto(f"/recordings/{sliced.pk}/")

    page.locator("[data-delete-recording]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete this recording?")
    expect(page.locator("[data-delete-versions]")).to_contain_text("slice + reverse")
    _shot(page, "lab-delete-confirm")
    page.locator("[data-confirm-delete]").click()

    page.wait_for_url(f"**/recordings/{original.pk}/")
    expect(page.locator(".messages")).to_contain_text(f"Deleted “{sliced.title}” and 1 version made from it.")
    expect(page.locator("#history .history li")).to_have_count(1)
    assert list(Recording.objects.values_list("pk", flat=True)) == [original.pk]


def test_the_other_layers_maps_come_after_the_open_ones_and_their_tabs_open_from_the_cache(
    page: Page, alice, active_model
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _open_lab(page, alice)
    grid = page.locator("#explorer .filter-grid img")
    expect(grid).to_have_count(16)
    page.wait_for_function("document.head.querySelectorAll('link[rel=prefetch]').length === 2")
    page.wait_for_function(
        "performance.getEntriesByType('resource').filter(e => /layers\\/conv3\\/maps\\.png/.test(e.name)).length === 1"
    )

    maps = [url for url in requested if "/layers/" in url and url.split("?")[0].endswith(".png")]
    assert [url.split("?")[0].rsplit("/layers/", 1)[1] for url in maps] == [
        "conv1/maps.png",  # the open layer's grid: one image for its 16 tiles, first
        "conv2/maps.png",
        "conv3/maps.png",
    ]

    page.locator("#explorer nav.tabs a", has_text="conv2").click()
    expect(page.locator('#explorer .filter-grid[data-layer="conv2"] img')).to_have_count(16)
    fetched = page.evaluate(
        "performance.getEntriesByType('resource')"
        ".filter(e => /layers\\/conv2\\//.test(e.name) && e.name.includes('.png') && e.transferSize > 0).length"
    )
    assert fetched == 1  # conv2's maps crossed the network once, when they were prefetched: not again for the tab
