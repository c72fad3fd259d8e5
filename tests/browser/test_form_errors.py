"""Every htmx form in a real browser: submit something invalid, the message appears next to that
form's control, and nothing is saved. And the clip's own end: a region dragged to it is saved.

Screenshots land in test-artifacts/ (form-error-*.png).
"""

import io
import re

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Locator, Page, expect

from experiments.models import Comment, Course, Experiment, Recording
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_derive, recording_from_sample, recording_upload
from insights.models import Attack, Sweep
from modelzoo.samples import SAMPLES_DIR
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.experiments.lab_support import SEVEN, analysed

expect.set_options(timeout=20_000)


def _shot(target: Page | Locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / f"form-error-{name}.png"))


def _refusals_seen(page: Page) -> None:
    """The browser logs each 4xx answer as a console error: these were provoked on purpose."""
    page.console_errors[:] = [e for e in page.console_errors if not re.search(r"status of 4\d\d", e)]


def _field_error(form: Locator, field: str) -> Locator:
    return form.locator(f'[data-field-errors="{field}"]')


def _slot(form: Locator) -> Locator:
    return form.locator("[data-form-error]")


def _open_tab(page: Page, operation: str) -> None:
    """Open an operation's tab once htmx has settled what it last swapped in.

    A refused form that comes back opens itself again when it settles (lab.js, on htmx:load): a tab
    clicked between the swap and the settle would be closed again under the test's feet.
    """
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.click(f"[data-op-tab={operation}]")


@pytest.fixture
def lab(page: Page, alice, active_model) -> tuple[Page, Recording]:
    recording = analysed(alice).recording
    sign_in(page, "alice")
    page.goto(f"/recordings/{recording.pk}/")
    return page, recording


def test_the_edit_panel_explains_a_refused_preview_and_save_next_to_the_field(lab):
    page, recording = lab
    count = Recording.objects.count()

    # A value the browser lets through but the operation refuses: a shift as long as the clip.
    _open_tab(page, "time_shift")
    shift = page.locator("#op-time_shift")
    shift.locator("input[name=param_seconds]").fill(f"{recording.duration_s:g}")
    shift.get_by_role("button", name="Preview").click()
    expect(_field_error(page.locator("#op-time_shift"), "param_seconds")).to_contain_text(
        "Shift must be strictly between"
    )
    expect(page.locator("#op-time_shift")).to_be_visible()  # the refused form stays open

    # Start after end, then start equal to end, on Preview and on Save.
    _open_tab(page, "slice")
    for start, end, button in (("0.2", "0.1", "Preview"), ("0.15", "0.15", "Save as new version")):
        form = page.locator("#op-slice")
        form.locator("input[name=param_start]").fill(start)
        form.locator("input[name=param_end]").fill(end)
        form.get_by_role("button", name=button).click()
        message = _field_error(page.locator("#op-slice"), "param_end")
        expect(message).to_contain_text("End must be after start")
        expect(page.locator("#op-slice input[name=param_start]")).to_have_value(start)  # what was typed stays
    _shot(page.locator("#edit"), "edit")

    # A good preview, then a refused one: the old preview goes, the message comes.
    _open_tab(page, "reverse")
    page.locator("#op-reverse").get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Preview of reverse")
    _open_tab(page, "time_shift")
    page.locator("#op-time_shift").get_by_role("button", name="Preview").click()
    expect(_field_error(page.locator("#op-time_shift"), "param_seconds")).to_be_visible()
    expect(page.locator("#preview")).to_be_empty()

    # An empty required field: the browser itself says so, by the field, and nothing is sent.
    _open_tab(page, "gain")
    gain = page.locator("#op-gain input[name=param_db]")
    gain.fill("")
    page.locator("#op-gain").get_by_role("button", name="Preview").click()
    assert gain.evaluate("i => !i.validity.valid && i.validationMessage !== ''")
    assert gain.evaluate("i => document.activeElement === i")  # the browser pointed at it
    assert Recording.objects.count() == count
    _refusals_seen(page)


def test_a_region_dragged_to_the_end_of_the_clip_is_saved(page: Page, alice, active_model):
    # 6446 samples at 16 kHz: 0.402875 s, which the page rounds up to 0.403.
    y = 0.5 * np.sin(2 * np.pi * 300 * np.arange(6446) / 16000) * np.hanning(6446)
    buffer = io.BytesIO()
    sf.write(buffer, y, 16000, format="WAV", subtype="FLOAT")
    recording = recording_upload(owner=alice, data=buffer.getvalue(), filename="odd.wav", title="Odd length")
    analysis_request(recording=recording, requested_by=alice)
    sign_in(page, "alice")
    page.goto(f"/recordings/{recording.pk}/")
    page.wait_for_function("document.querySelector('#wf-main').ddWaveform?.wavesurfer.getDuration() > 0")

    box = page.locator("#wf-main .wf-wave").bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.4, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, middle, steps=6)
    page.mouse.move(box["x"] + box["width"] + 40, middle, steps=6)  # past the right edge
    page.mouse.up()

    form = page.locator("#op-slice")
    expect(form.locator("input[name=param_end]")).to_have_value("0.403")
    assert form.locator("input[name=param_end]").evaluate("i => i.validity.valid")
    form.get_by_role("button", name="Save as new version").click()

    page.wait_for_url(re.compile(rf".*/recordings/(?!{recording.pk}/)\d+/$"))
    derived = Recording.objects.get(parent=recording)
    assert derived.operations[0]["params"]["end"] == 6446 / 16000  # the clip's own end
    expect(page.locator(".messages")).to_contain_text("Saved a new version")


def test_the_attack_form_explains_a_bound_out_of_range(lab):
    page, recording = lab
    page.goto(f"/recordings/{recording.pk}/attack/")

    page.fill("input[name=snr_db]", "500")
    page.get_by_role("button", name="Run the attack").click()

    expect(_field_error(page.locator("#attack-form"), "snr_db")).to_contain_text("The SNR bound must be between")
    _shot(page.locator("#attack-form"), "attack")
    assert not Attack.objects.exists()
    _refusals_seen(page)


def test_the_sweep_form_explains_a_wrong_number_of_points(lab):
    page, recording = lab
    page.goto(f"/recordings/{recording.pk}/sweep/?op=gain")

    page.fill("input[name=num]", "1")
    page.get_by_role("button", name="Run the sweep").click()

    expect(_field_error(page.locator("#sweep-form"), "num")).to_contain_text("A sweep has between 2 and")
    assert not Sweep.objects.exists()
    _refusals_seen(page)


def test_a_whitespace_comment_is_refused_next_to_the_box(page: Page, ines, submitted_experiment):
    comments = Comment.objects.count()
    sign_in(page, "ines")
    page.goto(f"/experiments/{submitted_experiment.pk}/#comments")

    page.fill("#comment-body", "    ")
    page.get_by_role("button", name="Send comment").click()

    form = page.locator("#comments form.comment-form")
    expect(_slot(form)).to_have_text("Write something before sending.")
    expect(form.locator("#comment-body")).to_have_value("    ")
    _shot(page.locator("#comments"), "comment")
    assert Comment.objects.count() == comments
    _refusals_seen(page)


def test_a_wrong_join_code_is_explained_next_to_the_field(page: Page, charlie, course):
    sign_in(page, "charlie")
    page.goto("/courses/")

    page.fill("#join-form input[name=join_code]", "WRONG-CODE")
    page.locator("#join-form").get_by_role("button", name="Join").click()

    expect(_field_error(page.locator("#join-form"), "join_code")).to_contain_text("No course has the join code")
    _shot(page.locator("#join-form"), "join")
    assert not Course.objects.filter(students=charlie, pk=course.pk).exists()
    _refusals_seen(page)


def test_the_experiment_forms_explain_what_is_wrong(page: Page, alice, make_clip):
    clip = make_clip(alice)
    reversed_ = recording_derive(recording=clip, operations=[{"op": "reverse"}])
    sign_in(page, "alice")

    page.goto("/experiments/new/")
    page.select_option("#id_recording_a", str(clip.pk))
    page.select_option("#id_recording_b", str(clip.pk))
    page.get_by_role("button", name="Create experiment").click()
    expect(_slot(page.locator("#experiment-form"))).to_contain_text("Recording B is the same as recording A")
    _shot(page.locator("#experiment-form"), "experiment-new")
    assert not Experiment.objects.exists()

    page.select_option("#id_recording_b", str(reversed_.pk))
    page.get_by_role("button", name="Create experiment").click()
    page.wait_for_url(re.compile(r".*/experiments/\d+/$"))
    experiment = Experiment.objects.get()

    page.goto(f"/experiments/{experiment.pk}/edit/")
    page.fill("input[name=title]", "   ")
    page.get_by_role("button", name="Save").click()
    expect(_field_error(page.locator("#edit-form"), "title")).to_contain_text("The title cannot be empty.")
    experiment.refresh_from_db()
    assert experiment.title.strip()
    _refusals_seen(page)


def test_an_upload_that_is_not_audio_is_refused_next_to_the_file(page: Page, alice, active_model):
    sign_in(page, "alice")
    page.goto("/recordings/new/")

    page.set_input_files("#upload-file", files=[{"name": "notes.wav", "mimeType": "audio/wav", "buffer": b"hello"}])
    page.get_by_role("button", name="Upload and analyse").click()

    slot = page.locator("#upload-error")
    expect(slot).to_be_visible()
    expect(slot).not_to_be_empty()
    expect(page.locator("#upload-file")).to_have_value(re.compile(r"notes\.wav$"))  # the choice stays
    _shot(page.locator("#upload"), "upload")
    assert not Recording.objects.exists()
    _refusals_seen(page)


def test_a_refusal_the_view_did_not_prepare_still_lands_in_the_forms_slot(page: Page, alice, active_model):
    sign_in(page, "alice")
    page.goto("/recordings/new/")
    page.context.clear_cookies(name="csrftoken")  # the next POST fails Django's CSRF check: a 403 page

    page.set_input_files("#upload-file", str(SAMPLES_DIR / f"{SEVEN}.wav"))
    page.get_by_role("button", name="Upload and analyse").click()

    expect(page.locator("#upload-error")).to_contain_text("The server refused this")
    assert not Recording.objects.exists()
    _refusals_seen(page)


def test_analyse_in_the_lab_says_why_it_cannot_run(page: Page, alice):
    recording = recording_from_sample(owner=alice, name=SEVEN)  # no model is active
    sign_in(page, "alice")
    page.goto(f"/recordings/{recording.pk}/")

    page.locator("#analysis-panel").get_by_role("button", name="Analyse").click()

    form = page.locator("#analysis-panel form")
    expect(_slot(form)).to_have_text("No model version is active yet; an admin must activate one.")
    _shot(page.locator("#analysis-panel"), "analyse")
    assert not recording.analyses.exists()
    _refusals_seen(page)


def test_retry_on_the_comparison_page_says_why_it_cannot_run(page: Page, alice, ab_experiment):
    from modelzoo.models import ModelVersion

    ab_experiment.recording_b.analyses.all().delete()
    ModelVersion.objects.filter(pk=ab_experiment.model_version_id).update(status=ModelVersion.Status.INVALID)
    sign_in(page, "alice")
    page.goto(f"/experiments/{ab_experiment.pk}/")

    page.locator("#results").get_by_role("button", name="Analyse").click()

    expect(_slot(page.locator("#results form"))).to_contain_text("is not valid and cannot analyse clips")
    assert not ab_experiment.recording_b.analyses.exists()
    _refusals_seen(page)
