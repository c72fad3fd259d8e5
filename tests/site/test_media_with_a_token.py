"""Every URL the API hands out opens with the same token: images, sounds, maps, the report, the audio."""

import re

import pytest

from accounts.services import api_token_create
from core.media import IMMUTABLE
from tests.experiments.lab_support import sample_bytes, upload_file

KINDS = {".png": "image/png", ".wav": "audio/wav", "/audio/": "audio/wav", "report.html": "text/html; charset=utf-8"}


def _token(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {api_token_create(user=user, name='test')[1]}"}


@pytest.fixture
def handed_out(client, alice, active_model) -> tuple[dict, dict[str, str]]:
    """Alice's token, and one URL of each kind her API answers hand out (name -> URL)."""
    auth = _token(alice)
    recording = client.post("/api/recordings/", {"file": upload_file(sample_bytes())}, **auth).json()
    derived = client.post(
        f"/api/recordings/{recording['id']}/derive/",
        {"operations": [{"op": "reverse", "params": {}}]},
        content_type="application/json",
        **auth,
    ).json()
    analysis_id = client.post(f"/api/recordings/{recording['id']}/analyses/", **auth).json()["id"]
    analysis = client.get(f"/api/analyses/{analysis_id}/", **auth).json()
    attribution_id = client.post(f"/api/analyses/{analysis_id}/attribution/", **auth).json()["id"]
    attribution = client.get(f"/api/attributions/{attribution_id}/", **auth).json()
    experiment = client.post(
        "/api/experiments/", {"recording_a": recording["id"], "recording_b": derived["id"]}, **auth
    ).json()
    comparison = client.get(f"/api/experiments/{experiment['id']}/comparison/", **auth).json()
    conv = next(stage for stage in comparison["stages"] if stage["filters"] and stage["filters"][0]["images"])
    urls = {
        "recording audio (API)": recording["audio_url"],
        "recording audio (page)": f"/recordings/{recording['id']}/audio.wav",
        "filter image": analysis["layers"][0]["images"][3],
        "filter sound": analysis["layers"][2]["audio"][5],
        "input image": analysis["input_image"],
        "input sound": analysis["input_audio"],
        "attribution map": attribution["maps"][0]["image"],
        "attribution evidence": attribution["maps"][1]["evidence"],
        "attribution rest": attribution["maps"][1]["rest"],
        "comparison map A": conv["filters"][0]["images"]["a"],
        "comparison map B": conv["filters"][0]["images"]["b"],
        "comparison difference": conv["filters"][0]["images"]["difference"],
        "report download": experiment["report_url"],
    }
    return auth, urls


def _without_csrf(page: bytes) -> bytes:
    """A page without its (masked, so each time different) CSRF token and CSP nonce."""
    return re.sub(rb'[A-Za-z0-9]{64}|nonce="[^"]*"', b"", page)


def _kind(url: str) -> str:
    return next(content_type for ending, content_type in KINDS.items() if ending in url)


def test_each_url_opens_with_the_token_with_its_content_type(client, handed_out):
    auth, urls = handed_out

    for name, url in urls.items():
        response = client.get(url, **auth)

        assert response.status_code == 200, name
        assert response["Content-Type"] == _kind(url), name
        assert response.content, name
        if "report" not in url:
            assert response["Cache-Control"] == IMMUTABLE, name
            assert re.fullmatch(r'"[^"]+"', response["ETag"]), name


def test_a_held_etag_answers_304_through_djangos_conditional_get(client, handed_out):
    auth, urls = handed_out

    for name, url in urls.items():
        if "report" in url:
            continue
        etag = client.get(url, **auth)["ETag"]
        for held in (etag, f'"other", W/{etag}', "*"):
            response = client.get(url, HTTP_IF_NONE_MATCH=held, **auth)
            assert response.status_code == 304, (name, held)
            assert response["ETag"] == etag and response["Cache-Control"] == IMMUTABLE, name
            assert response.content == b""
        # Only the same ETag: one that merely contains it is another resource.
        assert client.get(url, HTTP_IF_NONE_MATCH=f'"x{etag[1:]}', **auth).status_code == 200, name


def test_another_users_token_gets_the_404_of_a_missing_id(client, handed_out, charlie):
    _, urls = handed_out
    charlie_auth = _token(charlie)

    for name, url in urls.items():
        response = client.get(url, **charlie_auth)
        missing = client.get(re.sub(r"/(\d+)/", "/987654/", url, count=1), **charlie_auth)

        assert response.status_code == missing.status_code == 404, name
        assert _without_csrf(response.content) == _without_csrf(missing.content), name
        assert "Cache-Control" not in response and "ETag" not in response, name


def test_a_wrong_token_is_refused_and_no_credentials_go_to_sign_in(client, handed_out):
    _, urls = handed_out

    wrong = client.get(urls["filter image"], HTTP_AUTHORIZATION="Token not-a-token")
    anonymous = client.get(urls["filter image"])

    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid token."}
    assert wrong["WWW-Authenticate"] == "Token"
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_a_token_does_not_stand_in_for_a_session_on_a_form_post(client, handed_out, alice):
    auth, urls = handed_out
    recording_id = re.search(r"/recordings/(\d+)/", urls["recording audio (page)"])[1]

    response = client.post(f"/recordings/{recording_id}/derive/", {"op": "reverse"}, **auth)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert alice.recordings.count() == 2  # nothing new saved
