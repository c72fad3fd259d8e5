"""POST /api/live/: a window through the real engine process and the bundled model, answered in the same request."""

import hashlib
import socket

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.test import Client

from modelzoo.models import ModelVersion
from tests.conftest import login
from tests.live.engine_support import digit_window, wav_bytes

# The engine is another process: it sees only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)
# The module's engine listens on 127.0.0.1:<port> (tests/live/engine_support.py).
ENGINE_ON_HOST_AND_PORT = True


def _post(client: Client, body: bytes, query: str = "", content_type: str = "audio/wav"):
    return client.post(f"/api/live/{query}", data=body, content_type=content_type)


def test_a_digit_window_answers_probabilities_that_sum_to_one_and_an_energy_per_filter(alice_client, live_model):
    response = _post(alice_client, digit_window("3_theo_5.wav"))

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["model_version"] == live_model.pk
    assert set(answer["probabilities"]) == set(live_model.labels)
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert answer["predicted_label"] == max(answer["probabilities"], key=answer["probabilities"].get)
    assert answer["predicted_label"] == "3"
    conv = live_model.conv_layers
    assert [layer["name"] for layer in answer["layers"]] == [layer["name"] for layer in conv]
    for layer, described in zip(answer["layers"], conv, strict=True):
        assert len(layer["energy"]) == layer["filters"] == described["filters"]
        assert all(isinstance(e, float) and e >= 0 for e in layer["energy"])
    assert any(e > 0 for layer in answer["layers"] for e in layer["energy"])
    assert {"features_ms", "forward_ms", "engine_ms", "decode_ms", "total_ms"} <= set(answer["timings"])


def test_different_digits_give_different_answers_and_silence_is_said(alice_client, live_model):
    three = _post(alice_client, digit_window("3_theo_5.wav")).json()
    zero = _post(alice_client, digit_window("0_george_5.wav")).json()
    silence = _post(alice_client, wav_bytes(np.zeros(16000, dtype=np.float32), 16000)).json()

    assert zero["predicted_label"] == "0"
    assert zero["probabilities"] != three["probabilities"]
    assert zero["layers"][0]["energy"] != three["layers"][0]["energy"]
    assert silence["silent"] is True and three["silent"] is False


def test_a_multipart_file_works_and_a_chosen_filter_comes_back_with_its_map(alice_client, live_model):
    response = alice_client.post(
        "/api/live/?layer=conv2&filter=3", {"file": ContentFile(digit_window(), name="window.wav")}
    )

    assert response.status_code == 200, response.content
    chosen = response.json()["filter"]
    assert (chosen["layer"], chosen["index"]) == ("conv2", 3)
    height, width = chosen["shape"]
    assert len(chosen["map"]) == height and all(len(row) == width for row in chosen["map"])
    assert max(max(row) for row in chosen["map"]) == (255 if chosen["peak"] > 0 else 0)


def test_an_unknown_layer_or_filter_is_a_400_naming_it(alice_client, live_model):
    assert "not a convolution layer" in _post(alice_client, digit_window(), "?layer=dense&filter=0").json()["detail"]
    assert "0 to 15" in _post(alice_client, digit_window(), "?layer=conv1&filter=16").json()["detail"]


def test_a_window_longer_than_one_and_a_half_seconds_is_refused_from_its_header(alice_client, live_model):
    too_long = _post(alice_client, digit_window(seconds=1.6))
    at_the_cap = _post(alice_client, digit_window(seconds=1.5))

    assert too_long.status_code == 413
    assert too_long.json()["detail"] == "The window is 1.60 s long; a live window is at most 1.5 s."
    assert at_the_cap.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"hello, this is not audio at all" * 10, "audio/wav"),
        (b"", "audio/wav"),
        (b"fLaC" + b"\0" * 200, "audio/wav"),  # audio, but not the WAV window the contract asks for
    ],
    ids=["text", "empty", "flac-header"],
)
def test_what_is_not_a_wav_window_is_a_400(alice_client, live_model, body, content_type):
    response = _post(alice_client, body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_multipart_text_file_is_a_400(alice_client, live_model):
    response = alice_client.post("/api/live/", {"file": ContentFile(b"just words", name="notes.txt")})

    assert response.status_code == 400
    assert "WAV" in response.json()["detail"]


def test_it_refuses_anonymous_callers(client, live_model):
    response = _post(client, digit_window())

    assert response.status_code in (401, 403)
    assert response.json()["detail"]


def test_it_rejects_a_version_the_user_may_not_see_with_a_404_and_takes_one_they_may(
    alice_client, live_model, bob, admin_user
):
    hidden = ModelVersion.objects.create(
        name="bob-pending", sha256=live_model.sha256, feature_params=live_model.feature_params,
        labels=live_model.labels, layers=live_model.layers, status=ModelVersion.Status.PENDING, uploaded_by=bob,
    )  # fmt: skip
    hidden.file.save("bob.keras", ContentFile(b"never loaded"), save=True)
    other = ModelVersion(
        name="second-valid", sha256=live_model.sha256, feature_params=live_model.feature_params,
        labels=live_model.labels, layers=live_model.layers, status=ModelVersion.Status.VALID,
    )  # fmt: skip
    other.file.save("second.keras", ContentFile(live_model.file.open("rb").read()), save=True)
    assert hashlib.sha256(other.file.open("rb").read()).hexdigest() == other.sha256

    refused = _post(alice_client, digit_window(), f"?model_version={hidden.pk}")
    chosen = _post(alice_client, digit_window(), f"?model_version={other.pk}")
    admin = login(Client(), admin_user)
    admin_sees_it_but_it_cannot_listen = _post(admin, digit_window(), f"?model_version={hidden.pk}")

    assert refused.status_code == 404
    assert chosen.status_code == 200 and chosen.json()["model_version"] == other.pk
    assert admin_sees_it_but_it_cannot_listen.status_code == 409


def test_an_engine_that_is_down_is_a_503_with_a_sentence(alice_client, active_model, settings, tmp_path):
    settings.LIVE_ENGINE_ADDRESS = str(tmp_path / "nobody-listens.sock")

    response = _post(alice_client, digit_window())

    assert response.status_code == 503
    assert response.json()["detail"].startswith("The live engine is not running, so the network cannot listen")


def test_an_engine_that_does_not_answer_in_time_is_a_503(alice_client, active_model, settings, tmp_path):
    import socket

    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(tmp_path / "silent.sock"))
    silent.listen(1)  # accepts, never answers
    settings.LIVE_ENGINE_ADDRESS = str(tmp_path / "silent.sock")
    settings.LIVE_ENGINE_TIMEOUT_S = 0.3
    try:
        response = _post(alice_client, digit_window())
    finally:
        silent.close()

    assert response.status_code == 503
    assert "did not answer in time" in response.json()["detail"]


def test_more_than_ten_windows_a_second_are_throttled_per_user(alice_client, alice, bob, live_model, monkeypatch):
    from django.conf import settings
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["live"] == "10/s"
    # The same ten windows, counted over a minute: on a busy machine eleven requests may not fit in one
    # second, and the first would leave the count before the eleventh arrives.
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "live", "10/min")
    answers = [_post(alice_client, b"not audio").status_code for _ in range(11)]
    # The count is kept in the cache every web process shares (the database's, or Redis): read before
    # bob's window.
    counted = cache.get(f"throttle_live_{alice.pk}")
    bobs = _post(login(Client(), bob), digit_window())

    assert answers[:10] == [400] * 10
    assert answers[10] == 429
    assert bobs.status_code == 200  # another user has a budget of their own
    assert len(counted) == 10


def test_the_schema_documents_the_live_endpoint(alice_client):
    schema = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/live/"]["post"]
    assert {"audio/wav", "multipart/form-data"} <= set(operation["requestBody"]["content"])
    assert {p["name"] for p in operation["parameters"]} == {"model_version", "layer", "filter"}


def test_windows_of_many_users_arriving_together_are_all_answered(live_model):
    from concurrent.futures import ThreadPoolExecutor

    from live.client import ask_engine

    samples = np.asarray(np.random.default_rng(1).standard_normal(16000) * 0.05, dtype=np.float32)
    header = {"model_version": live_model.pk, "sha256": live_model.sha256, "sample_rate": 16000}

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda _: ask_engine(header, samples)[0], range(48)))

    assert len(answers) == 48
    assert all(sum(a["probabilities"].values()) == pytest.approx(1.0, abs=1e-4) for a in answers)
    assert len({a["predicted_label"] for a in answers}) == 1  # the same window, the same answer


def test_a_version_validated_after_the_engine_started_is_loaded_before_its_first_window(live_model, live_engine):
    import time

    log = live_engine[2]
    version = ModelVersion(
        name="validated-later", sha256=live_model.sha256, feature_params=live_model.feature_params,
        labels=live_model.labels, layers=live_model.layers, status=ModelVersion.Status.VALID,
    )  # fmt: skip
    version.file.save("later.keras", ContentFile(live_model.file.open("rb").read()), save=True)

    deadline = time.monotonic() + 20
    while "Live engine: loaded validated-later" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


def test_the_benchmark_sends_windows_at_the_pages_pace_and_counts_what_went_wrong(live_server, live_model, alice):
    from urllib.parse import urlsplit

    from accounts.services import api_token_create
    from live.benchmark import phase, window_wav
    from tests.live.engine_support import SAMPLES

    token = api_token_create(user=alice, name="benchmark")[1]
    where = urlsplit(live_server.url)
    windows = [window_wav(SAMPLES / "3_theo_5.wav")]

    row = phase(where.hostname, where.port, [token], windows, seconds=2)
    refused = phase(where.hostname, where.port, ["not-a-token"], windows, seconds=0.5)

    assert row["errors"] == 0 and row["windows"] >= 5
    assert row["updates_per_s_per_user"] <= 5.5  # one window per 200 ms tick, never more
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]
    assert refused["windows"] == 0 and refused["errors"] >= 1 and set(refused["errors_by_kind"]) == {"401"}


def test_an_engine_on_a_host_and_port_answers_too(engine, live_model, alice_client):
    """The module's engine listens on TCP, as one on another machine would (the browser tests and `serve`
    use the Unix socket): every window of this module went that way."""
    from live.protocol import parse_address

    assert parse_address(engine)[0] == socket.AF_INET

    response = _post(alice_client, digit_window())

    assert response.status_code == 200, response.content
    assert response.json()["predicted_label"] == "3"
