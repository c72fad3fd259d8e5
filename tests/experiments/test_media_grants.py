"""Granted filter links in API answers: quick for the token they were made for, the ordinary view for anyone else."""

import re
import time

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import api_token_create, api_token_revoke
from experiments import filter_media
from experiments.filter_media import media_grant
from tests.experiments.lab_support import analysed


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


@pytest.fixture
def alice_token(alice) -> tuple:
    return api_token_create(user=alice, name="test")


@pytest.fixture
def auth(alice_token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {alice_token[1]}"}


@pytest.fixture
def handed_out(auth, analysis) -> dict:
    """The analysis as alice's token reads it from the API."""
    return Client().get(f"/api/analyses/{analysis.pk}/", **auth).json()


def _plain(url: str) -> str:
    return url.split("?", 1)[0]


def _grant_for(analysis, user) -> str:
    return media_grant(user_id=user.pk, analysis_id=analysis.pk, file_name=analysis.activations.name.rsplit("/", 1)[-1])


def test_the_api_hands_out_granted_links_that_match_the_ordinary_view(alice_client, auth, handed_out):
    image, sound = handed_out["layers"][1]["images"][4], handed_out["layers"][2]["audio"][7]
    assert "grant=" in image and "grant=" in sound

    for url, content_type in ((image, "image/png"), (sound, "audio/wav")):
        response = Client().get(url, **auth)

        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Cache-Control"] == "private, max-age=31536000, immutable"
        assert response["X-Content-Type-Options"] == "nosniff"
        signed_in = alice_client.get(_plain(url))
        assert response.content == signed_in.content
        assert response["ETag"] == signed_in["ETag"]


def test_a_layers_granted_maps_match_the_ordinary_view_and_refuse_others(alice_client, auth, handed_out, charlie):
    url = handed_out["layers"][2]["maps"]
    assert "/layers/conv3/maps.png?grant=" in url

    response = Client().get(url, **auth)

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    signed_in = alice_client.get(_plain(url))
    assert response.content == signed_in.content and response["ETag"] == signed_in["ETag"]
    charlie_auth = {"HTTP_AUTHORIZATION": f"Token {api_token_create(user=charlie, name='test')[1]}"}
    assert Client().get(url, **charlie_auth).status_code == 404


def test_a_granted_link_costs_one_query(auth, handed_out, django_assert_num_queries):
    urls = handed_out["layers"][0]["images"][:3] + handed_out["layers"][0]["audio"][:3]
    Client().get(urls[0], **auth)

    for url in urls:
        with django_assert_num_queries(1):  # the token; the analysis and its arrays are known
            assert Client().get(url, **auth).status_code == 200


def test_a_granted_image_keeps_its_scale_and_colour_map(alice_client, auth, handed_out):
    url = handed_out["layers"][1]["images"][3] + "&scale=layer&cmap=viridis"

    response = Client().get(url, **auth)

    assert response.status_code == 200
    assert response.content == alice_client.get(_plain(url) + "?scale=layer&cmap=viridis").content


def test_a_held_etag_answers_304(auth, handed_out):
    url = handed_out["layers"][0]["images"][2]
    etag = Client().get(url, **auth)["ETag"]

    for held in (etag, f'"other", W/{etag}', "*"):
        again = Client().get(url, HTTP_IF_NONE_MATCH=held, **auth)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
    assert Client().get(url, HTTP_IF_NONE_MATCH=f'"x{etag[1:]}', **auth).status_code == 200


def test_it_rejects_other_users_holding_the_link(handed_out, charlie):
    url = handed_out["layers"][0]["images"][0]
    charlie_auth = {"HTTP_AUTHORIZATION": f"Token {api_token_create(user=charlie, name='test')[1]}"}
    charlie_session = Client()
    charlie_session.force_login(charlie)

    assert Client().get(url, **charlie_auth).status_code == 404
    assert charlie_session.get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert Client().get(url, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_it_rejects_a_revoked_token(alice_token, auth, handed_out):
    url = handed_out["layers"][0]["images"][0]
    assert Client().get(url, **auth).status_code == 200

    api_token_revoke(token=alice_token[0])

    assert Client().get(url, **auth).status_code == 401


def test_it_rejects_a_forged_grant(auth, handed_out):
    url = handed_out["layers"][0]["images"][0]
    forged = url[:-1] + ("A" if url[-1] != "A" else "B")
    Client().get(url, **auth)

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(forged, **auth).status_code == 200
    assert len(queries) > 1  # the ordinary view answered (alice may see her analysis), not the grant


def test_a_grant_for_one_analysis_opens_no_other(alice, charlie, auth, analysis):
    theirs = analysed(charlie)
    url = f"/analyses/{theirs.pk}/layers/{theirs.layers[0]['name']}/0.png?grant={_grant_for(analysis, alice)}"
    charlie_grant = f"{_plain(url)}?grant={_grant_for(theirs, charlie)}"

    assert Client().get(url, **auth).status_code == 404
    assert Client().get(charlie_grant, **auth).status_code == 404  # made for charlie, presented by alice


def test_it_rejects_an_expired_grant(monkeypatch, settings, alice, auth, analysis):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - settings.MEDIA_GRANT_SECONDS - 3600)
    old = _grant_for(analysis, alice)
    monkeypatch.setattr(time, "time", real_time)
    url = f"/analyses/{analysis.pk}/layers/{analysis.layers[0]['name']}/0.png?grant={old}"
    Client().get(url, **auth)

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url, **auth).status_code == 200
    assert len(queries) > 1  # through the ordinary view


def test_a_rerun_analysis_ends_the_old_grants(analysis, auth, handed_out):
    url = handed_out["layers"][0]["images"][0]
    # A retried run stores its maps under a new name: grants for the old file no longer apply.
    with analysis.activations.open("rb") as stored:
        analysis.activations.save("again.npz", ContentFile(stored.read()))
    filter_media._analysis_facts.cache_clear()

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url, **auth).status_code == 200
    assert len(queries) > 1  # through the ordinary view


def test_a_granted_link_with_an_unknown_colour_map_is_the_ordinary_404(auth, handed_out):
    url = handed_out["layers"][0]["images"][0] + "&cmap=jet"

    assert Client().get(url, **auth).status_code == 404


def _grid_image(page: str) -> str:
    return re.search(r'<img src="(/analyses/\d+/layers/conv1/maps\.png\?[^"]+)"', page)[1].replace("&amp;", "&")


def test_the_lab_grid_links_its_images_and_sounds_for_the_signed_in_viewer(alice_client, analysis):
    page = alice_client.get(f"/recordings/{analysis.recording.pk}/").content.decode()

    assert page.count("grant=") >= 2 * analysis.layers[0]["filters"] - 2  # silent filters offer no sound
    response = alice_client.get(_grid_image(page))
    assert response.status_code == 200
    assert response.content == alice_client.get(_plain(_grid_image(page))).content


def test_a_granted_link_in_a_session_skips_the_access_query(alice_client, analysis, django_assert_max_num_queries):
    url = _grid_image(alice_client.get(f"/recordings/{analysis.recording.pk}/").content.decode())
    alice_client.get(url)

    with django_assert_max_num_queries(2):  # the session and its user; no access query, no analysis row
        assert alice_client.get(url).status_code == 200


def test_a_session_from_before_a_password_change_gets_the_ordinary_view(alice, alice_client, analysis):
    url = _grid_image(alice_client.get(f"/recordings/{analysis.recording.pk}/").content.decode())
    alice.set_password("a new one, set elsewhere")
    alice.save()

    response = alice_client.get(url)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_session_grant_opens_nothing_to_a_course_mate_holding_the_link(alice_client, bob, analysis):
    url = _grid_image(alice_client.get(f"/recordings/{analysis.recording.pk}/").content.decode())
    bob_client = Client()
    bob_client.force_login(bob)

    assert bob_client.get(url).status_code == 404  # alice's recording is not shared with bob's course
