"""Live mode in Chromium, its fake microphone playing real digit clips: the bars move, Space freezes into the lab."""

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from experiments.models import Recording
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, assert_page_was_clean, sign_in, watched_page
from tests.live.engine_support import SAMPLES, engine, live_engine, live_model  # noqa: F401 (fixtures)

CLIPS = ["3_theo_5.wav", "0_george_5.wav"]


@pytest.fixture(scope="module")
def digits_wav(tmp_path_factory) -> Path:
    """A 16-bit WAV at 48 kHz: "three", 1.5 s of quiet, "zero", 1.5 s of quiet (Chromium loops it)."""
    import soundfile as sf

    from dsp.decode import decode_audio, resample, to_mono

    rate = 48000
    rng = np.random.default_rng(0)
    parts = []
    for name in CLIPS:
        y, sr = decode_audio(SAMPLES / name)
        parts += [resample(to_mono(y), sr, rate), 1e-3 * rng.standard_normal(int(1.5 * rate)).astype(np.float32)]
    path = tmp_path_factory.mktemp("mic") / "digits.wav"
    sf.write(path, np.concatenate(parts), rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def mic_browser(browser, digits_wav):
    """A Chromium whose fake microphone plays `digits_wav` (from the same Playwright as the suite's browser)."""
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={digits_wav}"]
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def live_page(mic_browser, live_server, live_model, request):  # noqa: F811 (the imported fixture)
    context = mic_browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 1000})
    context.grant_permissions(["microphone"], origin=live_server.url)
    page = watched_page(context, live_server.url)
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert_page_was_clean(page)


def _shot(page: Page, name: str, width: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def _probabilities(page: Page) -> dict[str, float]:
    return page.eval_on_selector_all(
        "[data-live-bars] .live-bar",
        "bars => Object.fromEntries(bars.map(b => [b.dataset.label, +b.dataset.probability]))",
    )


def test_the_bars_follow_the_digits_the_microphone_hears_and_space_freezes_into_the_lab(live_page, alice):
    page = live_page
    sign_in(page, "alice")
    page.goto("/live/")
    page.click("[data-live-start]")
    expect(page.locator("[data-live-status]")).to_contain_text("Listening")

    seen: list[dict[str, float]] = []
    predicted: set[str] = set()
    for _ in range(60):  # up to 12 s: the clip loops every ~4 s
        page.wait_for_timeout(200)
        seen.append(_probabilities(page))
        if label := page.get_attribute("[data-live]", "data-predicted"):
            predicted.add(label)
        if {"3", "0"} <= predicted:
            break

    assert {"3", "0"} <= predicted, f"heard only {predicted}"
    moved = max(abs(a[k] - b[k]) for a, b in itertools.pairwise(seen) for k in a)
    assert moved > 0.5  # the bars move as the words come and go
    assert abs(sum(seen[-1].values()) - 1) < 1e-2
    stats = page.text_content("[data-live-stats]")
    assert re.search(r"[1-9]\.\d updates a second", stats), stats
    assert "0 errors" in stats
    strip = page.locator("canvas.live-strip").first
    assert strip.evaluate("c => c.getContext('2d').getImageData(c.width - 4, 0, 4, c.height).data.some(v => v > 60)")
    _shot(page, "live", 1440)
    _shot(page, "live", 390)
    page.set_viewport_size({"width": 1440, "height": 1000})
    assert not Recording.objects.filter(owner=alice).exists()  # nothing is kept until a freeze

    page.keyboard.press("Space")

    page.wait_for_url(re.compile(r"/recordings/\d+/$"))
    recording = Recording.objects.get(owner=alice)
    assert recording.source == Recording.Source.RECORD and recording.title.startswith("Live take")
    assert 2.5 <= recording.duration_s <= 3.0
    expect(page.locator("h1")).to_contain_text("Live take")


def test_classroom_mode_shows_one_filter_large_and_a_freeze_plays_its_solo_sound(live_page, ines):
    page = live_page
    sign_in(page, "ines")
    page.goto("/live/")
    page.click("[data-live-classroom-link]")
    expect(page.locator(".live-classroom")).to_be_visible()
    expect(page.locator(".live-strips")).to_be_hidden()
    page.select_option("[data-live-layer]", "conv2")
    page.fill("[data-live-filter]", "5")
    page.click("[data-live-start]")
    page.wait_for_function("() => +document.querySelector('[data-live-map]').dataset.peak >= 0", timeout=30_000)
    page.wait_for_timeout(1500)
    _shot(page, "live-classroom", 1440)

    page.click("[data-live-freeze]")

    page.wait_for_url(re.compile(r"/live/frozen/\d+/\?model_version=\d+&layer=conv2&filter=5$"))
    expect(page.locator("[data-live-solo]")).to_contain_text("Filter 5 of conv2, alone")
    audio = page.locator("[data-live-solo-audio]")
    expect(audio).to_have_attribute("src", re.compile(r"/analyses/\d+/layers/conv2/5\.wav$"))
    page.wait_for_function("() => document.querySelector('[data-live-solo-audio]').readyState >= 1")
    _shot(page, "live-frozen", 1440)


def test_an_engine_that_is_down_is_said_in_a_sentence_and_the_page_waits(live_page, alice, settings, tmp_path):
    page = live_page
    settings.LIVE_ENGINE_ADDRESS = str(tmp_path / "nobody.sock")
    sign_in(page, "alice")
    page.goto("/live/")
    windows = []
    page.on("requestfinished", lambda request: "/api/live/" in request.url and windows.append(request))
    page.click("[data-live-start]")

    expect(page.locator("[data-live-error]")).to_contain_text("The live engine is not running")
    expect(page.locator("[data-live-stats]")).to_contain_text("1 error")
    page.wait_for_timeout(2500)
    # It waits before asking again: 2 s from the refusal to the next window, in the browser's own clock
    # (the test's clock would count how late a busy machine let it look).
    if len(windows) > 1:
        first, second = windows[0].timing, windows[1].timing
        assert second["startTime"] - (first["startTime"] + first["responseEnd"]) >= 1900
    page.goto("about:blank")  # it would ask again: on a busy machine, after the errors are cleared
    page.console_errors.clear()  # the 503s, on purpose


# A browser that, like Firefox, connects a microphone only to a context at the device's rate.
DEVICE_RATE_ONLY = """
const Native = window.AudioContext;
window.AudioContext = class extends Native {
  constructor(options = {}) {
    super(options);
    this.askedRate = options.sampleRate;
  }
  createMediaStreamSource(stream) {
    if (this.askedRate) throw new DOMException("different sample-rate", "NotSupportedError");
    return super.createMediaStreamSource(stream);
  }
};
// The sample rate in the header of every window the page sends.
window.liveRates = [];
const nativeFetch = window.fetch;
window.fetch = async (url, options = {}) => {
  if (options.body instanceof Blob) {
    window.liveRates.push(new DataView(await options.body.slice(0, 44).arrayBuffer()).getUint32(24, true));
  }
  return nativeFetch(url, options);
};
"""


def test_a_browser_that_keeps_the_devices_rate_sends_its_windows_at_that_rate(live_page, alice):
    page = live_page
    page.add_init_script(DEVICE_RATE_ONLY)
    sign_in(page, "alice")
    page.goto("/live/")
    page.click("[data-live-start]")

    page.wait_for_function("() => document.querySelector('[data-live]').dataset.predicted", timeout=30_000)
    rates = set(page.evaluate("window.liveRates"))
    assert len(rates) == 1 and rates.pop() >= 44100  # the device's rate, not the 16 kHz asked for
    assert page.locator("[data-live-error]").is_hidden()
