"""Bad input gets a clear 4xx and changes nothing already saved; digital silence is flagged, not a crash."""

import io

import numpy as np
import pytest
import soundfile as sf

from experiments.models import Analysis, Recording
from tests.conftest import login
from tests.experiments.lab_support import analysed, encode, sample_bytes, stored_state, upload_file


def _twenty_minutes() -> bytes:
    # A real 20-minute clip at 8 kHz, 16 bit: 19.2 MB.
    return encode(np.zeros(20 * 60 * 8000, dtype=np.int16), 8000, subtype="PCM_16")


def _one_minute_ulaw() -> bytes:
    # Under the size cap (0.5 MB) but twice the 30-second duration cap.
    t = np.arange(60 * 8000) / 8000
    return encode(0.3 * np.sin(2 * np.pi * 220 * t), 8000, subtype="ULAW")


def _four_khz() -> bytes:
    t = np.arange(4000) / 4000
    return encode(0.3 * np.sin(2 * np.pi * 300 * t), 4000)


BAD_UPLOADS = [
    # (case, file name, bytes, page status, API status, what the message says)
    (
        "text renamed .wav",
        "seven.wav",
        lambda: b"This is a shopping list, not a sound.\n" * 20,
        415,
        415,
        "not audio in a supported format",
    ),
    ("truncated header", "seven.wav", lambda: sample_bytes()[:30], 400, 400, "could not be read as WAV audio"),
    ("truncated data", "seven.wav", lambda: sample_bytes()[:2000], 400, 400, "truncated"),
    (
        "truncated FLAC",
        "seven.flac",
        lambda: encode(sf.read(io.BytesIO(sample_bytes()))[0], 8000, fmt="FLAC")[:600],
        400,
        400,
        "could not be read as FLAC audio",
    ),
    ("no samples", "seven.wav", lambda: encode(np.zeros(0), 8000), 400, 400, "no samples"),
    ("20 minutes", "lecture.wav", _twenty_minutes, 413, 413, "10 MB"),
    ("60 s under the size cap", "long.wav", _one_minute_ulaw, 400, 400, "too long (60.0 s); the maximum is 30 s"),
    ("4 kHz", "phone.wav", _four_khz, 400, 400, "sample rate (4000 Hz) is too low"),
    ("not audio at all", "seven.txt", lambda: b"%PDF-1.7\n" + bytes(500), 415, 415, "not audio in a supported format"),
]
IDS = [case[0] for case in BAD_UPLOADS]


@pytest.fixture
def existing(alice, active_model):
    """Alice's work already saved: a clip with its analysis."""
    return analysed(alice)


@pytest.mark.parametrize(("case", "name", "make", "page_status", "api_status", "message"), BAD_UPLOADS, ids=IDS)
def test_the_page_refuses_bad_uploads_and_changes_nothing(
    alice_client, existing, case, name, make, page_status, api_status, message
):
    before = stored_state()

    response = alice_client.post("/recordings/new/", {"file": upload_file(make(), name), "title": "Bad"})

    assert response.status_code == page_status
    assert message in response.content.decode()
    assert b"data-error-message" in response.content
    if page_status == 413:  # refused from Content-Length before the page's view runs: a way back to the form
        assert b'href="/recordings/new/"' in response.content
    else:
        assert b'id="upload"' in response.content  # the form is there to try again
    assert stored_state() == before


@pytest.mark.parametrize(("case", "name", "make", "page_status", "api_status", "message"), BAD_UPLOADS, ids=IDS)
def test_the_api_refuses_bad_uploads_and_changes_nothing(
    alice_client, existing, case, name, make, page_status, api_status, message
):
    before = stored_state()

    response = alice_client.post("/api/recordings/", {"file": upload_file(make(), name)})

    assert response.status_code == api_status
    assert message in response.json()["detail"]
    assert stored_state() == before


def test_it_refuses_an_empty_file(alice_client, existing):
    before = stored_state()

    page = alice_client.post("/recordings/new/", {"file": upload_file(b"", "empty.wav")})
    api = alice_client.post("/api/recordings/", {"file": upload_file(b"", "empty.wav")})

    assert page.status_code == 400
    assert "empty" in page.content.decode()
    assert api.status_code == 400
    assert api.json() == {"file": ["The submitted file is empty."]}
    assert stored_state() == before


def test_it_refuses_a_form_without_a_file(alice_client, existing):
    before = stored_state()

    response = alice_client.post("/recordings/new/", {"title": "Nothing"})

    assert response.status_code == 400
    assert "Choose an audio file to upload." in response.content.decode()
    assert stored_state() == before


def test_the_size_cap_follows_the_setting(alice_client, existing, settings):
    settings.MAX_UPLOAD_MB = 0.01
    settings.MAX_UPLOAD_BYTES = 10 * 1024
    data = encode(np.zeros(8000, dtype=np.int16), 8000)  # 16 KB
    before = stored_state()

    page = alice_client.post("/recordings/new/", {"file": upload_file(data)})
    api = alice_client.post("/api/recordings/", {"file": upload_file(data)})

    assert page.status_code == api.status_code == 413
    assert "the limit is 0.01 MB" in page.content.decode()
    assert "0.01 MB" in api.json()["detail"]
    assert stored_state() == before


def test_it_flags_digital_silence_instead_of_failing(alice_client, active_model):
    silence = encode(np.zeros(8000, dtype=np.int16), 8000)

    response = alice_client.post("/recordings/new/", {"file": upload_file(silence, "silence.wav")})

    recording = Recording.objects.get()
    analysis = Analysis.objects.get(recording=recording)
    assert analysis.is_done, analysis.job.error
    assert analysis.is_silent
    assert set(analysis.probabilities) == {str(d) for d in range(10)}
    page = alice_client.get(response.url).content.decode()
    assert "This clip is silent (or far too quiet): the prediction means nothing." in page
    api = alice_client.get(f"/api/analyses/{analysis.pk}/").json()
    assert api["is_silent"] is True
    assert api["status"] == "done"


def test_a_clip_with_sound_is_not_flagged_silent(alice, active_model):
    assert analysed(alice).is_silent is False


OUT_OF_RANGE = [
    # (op, params, what the reason says in the API, and on the page next to the field it names)
    ("gain", {"db": "100"}, "db must be between -60 and 30 (got 100)", ("param_db", "Gain must be between -60 and 30")),
    ("slice", {"start": "0.2", "end": "0.1"}, "end must be after start", ("param_end", "End must be after start")),
    ("slice", {"start": "0", "end": "5"}, "end must be between 0 and", ("param_end", "End must be between 0 and")),
    ("repeat", {"times": "50"}, "times must be between 2 and 8 (got 50)", ("param_times", "Times must be between 2")),
    ("time_stretch", {"rate": "0"}, "rate must be between 0.5 and 2 (got 0)", ("param_rate", "Speed must be between")),
    ("pitch_shift", {"semitones": "twelve"}, "semitones must be a number", ("param_semitones", "Pitch must be")),
    ("explode", {}, '"op" must name one of the operations', (None, "Choose one of the operations.")),
]


@pytest.mark.parametrize(("op", "params", "reason", "on_page"), OUT_OF_RANGE)
@pytest.mark.parametrize("where", ["derive page", "derive htmx", "preview page", "preview htmx", "api"])
def test_operation_parameters_out_of_range_answer_400_with_the_reason(
    alice_client, existing, where, op, params, reason, on_page
):
    recording = existing.recording
    before = stored_state()
    form = {"op": op, **{f"param_{k}": v for k, v in params.items()}}
    htmx = {"HTTP_HX_REQUEST": "true"} if "htmx" in where else {}

    if where == "api":
        numbers = {k: float(v) if v.replace(".", "").isdigit() else v for k, v in params.items()}
        response = alice_client.post(
            f"/api/recordings/{recording.pk}/derive/",
            {"operations": [{"op": op, "params": numbers}]},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert reason in response.json()["detail"]
    else:
        view = "derive" if "derive" in where else "preview"
        response = alice_client.post(f"/recordings/{recording.pk}/{view}/", form, **htmx)
        assert response.status_code == 400
        body = response.content.decode()
        field, message = on_page
        if field:  # in the error list of the field it is about
            assert message in body.split(f'data-field-errors="{field}"')[1].split("</ul>")[0]
        else:  # in the edit panel's error slot
            assert message in body.split('id="edit-error"')[1].split("</p>")[0]
        if not htmx:
            assert "<html" in body
        else:
            assert "<html" not in body
            assert response["HX-Retarget"] == (f"#op-{op}" if field else "#edit-error")
            assert response["HX-Reswap"] == "outerHTML"
    assert stored_state() == before


def test_a_failed_derive_without_javascript_keeps_the_form_filled(alice_client, existing):
    recording = existing.recording

    response = alice_client.post(f"/recordings/{recording.pk}/derive/", {"op": "gain", "param_db": "100"})

    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-selected-op="gain"' in body
    assert 'name="param_db"' in body
    assert 'value="100"' in body
    assert "Gain must be between -60 and 30" in body


# Every page, media URL and API endpoint that takes a recording or analysis id.
def _urls(analysis: Analysis) -> list[tuple[str, str, dict]]:
    r, a = analysis.recording.pk, analysis.pk
    layer = analysis.layers[0]["name"]
    derive = {"op": "reverse"}
    return [
        ("get", f"/recordings/{r}/", {}),
        ("get", f"/recordings/{r}/audio.wav", {}),
        ("get", f"/recordings/{r}/original/", {}),
        ("get", f"/recordings/{r}/spectrogram.png", {}),
        ("post", f"/recordings/{r}/derive/", derive),
        ("post", f"/recordings/{r}/preview/", derive),
        ("post", f"/recordings/{r}/replay/", {}),
        ("get", f"/recordings/{r}/analysis/", {}),
        ("post", f"/recordings/{r}/analysis/", {}),
        ("get", f"/analyses/{a}/explorer/", {}),
        ("get", f"/analyses/{a}/explorer/?tab=weights", {}),
        ("get", f"/analyses/{a}/input.png", {}),
        ("get", f"/analyses/{a}/input.wav", {}),
        ("get", f"/analyses/{a}/layers/{layer}/0/", {}),
        ("get", f"/analyses/{a}/layers/{layer}/0.png", {}),
        ("get", f"/analyses/{a}/layers/{layer}/0/zoom.png", {}),
        ("get", f"/analyses/{a}/layers/{layer}/0.wav", {}),
        ("get", f"/analyses/{a}/layers/{layer}/0.wav?method=griffinlim", {}),
        ("get", f"/api/recordings/{r}/", {}),
        ("get", f"/api/recordings/{r}/audio/", {}),
        ("post", f"/api/recordings/{r}/derive/", {"operations": [{"op": "reverse"}]}),
        ("post", f"/api/recordings/{r}/analyses/", {}),
        ("get", f"/api/analyses/{a}/", {}),
        ("post", f"/api/analyses/{a}/retry/", {}),
    ]


@pytest.mark.parametrize("intruder", ["bob", "charlie", "ines"])
def test_another_users_ids_answer_404_everywhere(client, request, existing, course, intruder):
    login(client, request.getfixturevalue(intruder))
    before = stored_state()

    for method, url, data in _urls(existing):
        if url.startswith("/api/"):
            response = getattr(client, method)(url, data, content_type="application/json")
        else:
            response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        if url.startswith("/api/"):
            assert "detail" in response.json()
    assert stored_state() == before


def test_the_owner_can_open_every_one_of_those_urls(alice_client, existing):
    for method, url, data in _urls(existing):
        if url.endswith("/retry/"):
            continue  # only a failed analysis can be retried (409); test_api_analyses covers it
        if url.startswith("/api/"):
            response = getattr(alice_client, method)(url, data, content_type="application/json")
        else:
            response = getattr(alice_client, method)(url, data)
        assert response.status_code in (200, 201, 302), (method, url, response.status_code)


def test_another_users_recordings_are_not_listed(client, charlie, existing):
    login(client, charlie)

    assert existing.recording.title.encode() not in client.get("/recordings/").content
    assert client.get("/api/recordings/").json()["results"] == []
