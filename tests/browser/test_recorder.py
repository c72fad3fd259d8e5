"""Recording in the browser with Chromium's fake microphone, then saving: the lab opens with the take."""

import re

from playwright.sync_api import Page, expect

from experiments.models import Recording
from tests.browser.conftest import ARTIFACTS, sign_in


def test_it_records_with_the_microphone_plays_the_take_back_and_saves_it(page: Page, alice, active_model):
    sign_in(page, "alice")
    page.goto("/recordings/new/")
    recorder = page.locator("#record [data-recorder]")
    expect(recorder).to_have_attribute("data-state", "idle")

    recorder.get_by_role("button", name="Turn on the microphone").click()
    expect(recorder).to_have_attribute("data-state", "ready")
    expect(recorder.get_by_role("img", name="Live microphone level")).to_be_visible()
    recorder.get_by_role("button", name="Record").click()
    expect(recorder).to_have_attribute("data-state", "countdown")
    expect(recorder.locator(".rec-count-num")).to_have_text(re.compile("^[321]$"))
    expect(recorder).to_have_attribute("data-state", "recording", timeout=5_000)
    expect(recorder).to_have_attribute("data-state", "review", timeout=10_000)

    # Playback before saving: the take is a 2-second, 16 kHz WAV the browser encoded.
    expect(recorder.locator(".rec-facts")).to_contain_text("2.00 s · 16 kHz · mono · 16-bit")
    audio = recorder.locator("audio.rec-audio")
    page.wait_for_function("document.querySelector('audio.rec-audio').readyState >= 1")
    assert abs(audio.evaluate("a => a.duration") - 2.0) < 0.05
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#record").screenshot(path=str(ARTIFACTS / "lab-recorder-review.png"))

    recorder.get_by_label("Title (optional)").fill("Fake microphone")
    recorder.get_by_role("button", name="Save recording").click()

    page.wait_for_url(re.compile(r".*/recordings/\d+/$"))
    recording = Recording.objects.get(owner=alice)
    assert page.url.endswith(f"/recordings/{recording.pk}/")
    assert recording.source == Recording.Source.RECORD
    assert recording.sample_rate == 16000
    assert abs(recording.duration_s - 2.0) < 0.01
    expect(page.get_by_role("heading", level=1)).to_have_text("Fake microphone")
    expect(page.locator(".page-head")).to_contain_text("Recorded in the browser")
    expect(page.locator("#analysis-panel")).to_have_attribute("data-status", "done")
    expect(page.locator("#analysis-panel .probs li")).to_have_count(10)
    expect(page.locator("#details")).to_contain_text("WAV PCM_16, 16000 Hz, mono")
