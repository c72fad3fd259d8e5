"""Adding a clip through the page: uploads in every format, sample clips, unusual but valid audio."""

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.conf import settings
from django.template.defaultfilters import floatformat

from experiments.models import Analysis, Recording
from tests.experiments.lab_support import SEVEN, encode, sample_as, sample_bytes, stored_state, upload_file


def _upload(client, data: bytes, name: str = "clip.wav", **fields):
    return client.post("/recordings/new/", {"file": upload_file(data, name), **fields})


@pytest.mark.parametrize(
    ("fmt", "name", "format_shown"),
    [
        ("WAV", "seven.wav", "WAV PCM_16"),
        ("FLAC", "seven.flac", "FLAC PCM_16"),
        ("OGG", "seven.ogg", "OGG VORBIS"),
        ("MP3", "seven.mp3", "MP3 MPEG_LAYER_III"),
    ],
)
def test_it_keeps_the_original_and_a_canonical_wav_for_every_format(
    alice_client, active_model, fmt, name, format_shown
):
    data = sample_as(fmt)

    response = _upload(alice_client, data, name, title="My seven")

    recording = Recording.objects.get()
    assert response.status_code == 302
    assert response.url == f"/recordings/{recording.pk}/"
    assert recording.title == "My seven"
    assert recording.source == Recording.Source.UPLOAD
    assert recording.original_name == name
    assert recording.original_format.startswith(format_shown)
    with recording.original_file.open("rb") as f:
        assert f.read() == data
    assert recording.original_sha256 == hashlib.sha256(data).hexdigest()
    with recording.audio.open("rb") as f:
        wav = f.read()
    assert recording.sha256 == hashlib.sha256(wav).hexdigest()
    info = sf.info(io.BytesIO(wav))
    assert (info.format, info.subtype, info.channels) == ("WAV", "FLOAT", 1)
    assert info.samplerate == recording.sample_rate == 8000
    assert recording.duration_s == pytest.approx(info.duration, abs=1e-3)
    assert recording.duration_s == pytest.approx(sf.info(io.BytesIO(sample_bytes())).duration, abs=0.06)


def test_it_shows_the_sha256_duration_and_sample_rate(alice_client, active_model):
    _upload(alice_client, sample_bytes(), "seven.wav")
    recording = Recording.objects.get()

    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()

    assert recording.sha256 in page
    assert recording.original_sha256 in page
    assert f"{floatformat(recording.duration_s, 3)} s" in page
    assert "8000 Hz" in page
    assert "WAV PCM_16, 8000 Hz, mono" in page


def test_it_analyses_an_upload_and_shows_a_bar_for_every_digit(alice_client, active_model):
    response = _upload(alice_client, sample_bytes(SEVEN), "seven.wav")

    analysis = Analysis.objects.get()
    assert analysis.is_done
    assert set(analysis.probabilities) == {str(d) for d in range(10)}
    assert sum(analysis.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert analysis.predicted_label == max(analysis.probabilities, key=analysis.probabilities.get)
    page = alice_client.get(response.url).content.decode()
    assert page.count('<span class="digit">') == 10
    for digit, p in analysis.probabilities.items():
        assert f'<span class="digit">{digit}</span>' in page
        assert f'style="width: {floatformat(p * 100, 1)}%"' in page
    top = analysis.predicted_label
    assert f'data-predicted="{top}"' in page
    assert f"The network hears “{top}”" in page


def test_it_adds_a_sample_clip_in_one_click(alice_client, active_model):
    page = alice_client.get("/recordings/new/").content.decode()
    assert page.count('name="sample"') == 20
    assert 'value="3_theo_5"' in page

    response = alice_client.post("/recordings/new/", {"sample": "3_theo_5"})

    recording = Recording.objects.get()
    assert response.url == f"/recordings/{recording.pk}/"
    assert recording.source == Recording.Source.SAMPLE
    assert recording.title == "Sample: “3” by theo (take 5)"
    with recording.original_file.open("rb") as f:
        assert f.read() == sample_bytes("3_theo_5")
    assert Analysis.objects.get(recording=recording).is_done
    lab = alice_client.get(response.url).content.decode()
    assert "Sample clip" in lab


def test_it_converts_96_khz_stereo_24_bit_to_canonical_mono(alice_client, active_model):
    sr = 96000
    t = np.arange(int(0.5 * sr)) / sr
    left, right = 0.4 * np.sin(2 * np.pi * 300 * t), 0.2 * np.sin(2 * np.pi * 900 * t)
    data = encode(np.stack([left, right], axis=1), sr, subtype="PCM_24")

    response = _upload(alice_client, data, "studio.wav")

    recording = Recording.objects.get()
    assert response.status_code == 302
    assert recording.original_format == "WAV PCM_24, 96000 Hz, 2 channels"
    assert recording.sample_rate == 16000
    assert recording.duration_s == pytest.approx(0.5, abs=1e-3)
    with recording.audio.open("rb") as f:
        y, rate = sf.read(f)
    assert rate == 16000 and y.ndim == 1 and len(y) == 8000
    assert Analysis.objects.get(recording=recording).is_done
    page = alice_client.get(response.url).content.decode()
    assert "WAV PCM_24, 96000 Hz, 2 channels" in page
    assert "16000 Hz" in page


def test_it_accepts_a_clip_of_50_ms(alice_client, active_model):
    data = encode(0.5 * np.sin(np.arange(400) / 3), 8000)

    response = _upload(alice_client, data, "blip.wav")

    recording = Recording.objects.get()
    assert response.status_code == 302
    assert recording.duration_s == pytest.approx(0.05)
    analysis = Analysis.objects.get(recording=recording)
    assert analysis.is_done, analysis.job.error
    assert alice_client.get(response.url).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["<img src=x onerror=alert(1)>.wav", "../../etc/passwd.wav", "..\\..\\windows\\win.ini.wav", "naïve “seven”.wav"],
)
def test_it_stores_files_under_its_own_names_and_escapes_the_users(alice_client, active_model, name):
    response = _upload(alice_client, sample_bytes(), name)

    recording = Recording.objects.get()
    assert response.status_code == 302
    root = (Path(settings.MEDIA_ROOT) / "recordings").resolve()
    for field in (recording.original_file, recording.audio):
        stored = Path(field.path).resolve()
        assert stored.is_relative_to(root)
        assert stored.is_file()
        assert ".." not in field.name and "<" not in field.name and "passwd" not in field.name
    # Django keeps only the last component of a multipart file name; we keep that, as text.
    assert recording.original_name == name.replace("\\", "/").rsplit("/", 1)[-1]
    assert not (Path(settings.MEDIA_ROOT).parent / "etc").exists()
    page = alice_client.get(response.url).content.decode()
    assert "<img src=x" not in page
    if "<" in name:
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    listing = alice_client.get("/recordings/").content.decode()
    assert "<img src=x" not in listing


def test_it_names_an_untitled_upload_after_its_file(alice_client, active_model):
    _upload(alice_client, sample_bytes(), "my   seven.wav", title="   ")

    assert Recording.objects.get().title == "my seven"


@pytest.mark.parametrize("name", ["../../etc/passwd.wav", "/etc/passwd.wav", "a/../../../b.wav.", "x.w<a>v"])
def test_it_never_lets_a_raw_file_name_choose_where_files_go(alice, name):
    from experiments.services.recordings import recording_upload

    # The content (a WAV) decides the format, whatever the name says; the name is only a label.
    recording = recording_upload(owner=alice, data=sample_bytes(), filename=name)

    root = (Path(settings.MEDIA_ROOT) / "recordings" / str(alice.pk)).resolve()
    assert Path(recording.original_file.path).resolve().is_relative_to(root)
    assert recording.original_file.path.endswith(".wav")
    assert Path(recording.audio.path).resolve().is_relative_to(root)
    assert recording.original_name == name
    if "passwd" in name:
        assert recording.title == "passwd"


def test_an_htmx_upload_is_sent_to_the_lab_which_keeps_the_message(alice_client, active_model):
    # htmx follows HX-Redirect itself; a plain redirect would be followed by the XHR and eat the message.
    response = alice_client.post(
        "/recordings/new/", {"file": upload_file(sample_bytes(), "seven.wav")}, HTTP_HX_REQUEST="true"
    )

    recording = Recording.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/recordings/{recording.pk}/"
    assert recording.analyses.get().is_done  # saving it started its analysis
    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()
    assert "“seven” is ready." in page
    assert "listening" not in page  # the prediction has come: nothing says it is still coming


def test_the_listening_notice_gives_way_to_the_prediction(alice_client, active_model, settings):
    from jobs.models import Job
    from jobs.runner import job_execute

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    alice_client.post("/recordings/new/", {"file": upload_file(sample_bytes(), "seven.wav")}, HTTP_HX_REQUEST="true")
    recording = Recording.objects.get()

    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()
    panel = page[page.index('id="analysis-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert "“seven” is ready." in page
    assert page.count("The network is listening to it now") == 1 and "data-listening" in panel

    job_execute(job_id=str(Job.objects.get(kind="analysis_run").pk))
    fragment = alice_client.get(f"/recordings/{recording.pk}/analysis/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in fragment and "listening" not in fragment


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "Choose an audio file to upload."),
        ({"file": ("notes.txt", b"hello")}, 415, "is not audio in a supported format"),
        ({"file": ("empty.wav", b"RIFF")}, 415, "which is not supported"),
    ],
)
def test_a_refused_htmx_upload_answers_only_its_message_for_the_forms_slot(alice_client, data, status, message):
    before = stored_state()
    payload = {k: upload_file(v[1], v[0]) for k, v in data.items()}

    response = alice_client.post("/recordings/new/", payload, HTTP_HX_REQUEST="true")

    assert response.status_code == status
    assert response["HX-Retarget"] == "#upload-error" and response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert body.lstrip().startswith('<p class="msg msg-error form-error" data-form-error id="upload-error"')
    assert message in body and "hidden" not in body
    assert stored_state() == before
