"""GET /api/models/{id}/filters/{layer}/{index}/ and the concept labels' API: shapes, scoping, reviews, bad input."""

import pytest
from rest_framework.test import APIClient

from insights.models import FilterLabel
from tests.insights.insight_support import dead_filters, stored_insight


def _api(user) -> APIClient:
    """A signed-in caller: the session reaches the API and the image and sound URLs it hands out."""
    client = APIClient()
    client.force_login(user)
    return client


def _url(version, layer="conv1", index=3) -> str:
    return f"/api/models/{version.pk}/filters/{layer}/{index}/"


@pytest.fixture
def insight(active_model):
    return stored_insight(active_model)


def test_it_lists_the_clips_a_filter_likes_with_fetchable_images_and_sounds(alice, insight, active_model):
    client = _api(alice)

    data = client.get(_url(active_model)).json()

    assert data["layer"] == "conv1" and data["index"] == 3 and data["status"] == "done"
    assert data["dead"] is False
    assert set(data["mean_by_label"]) == {str(d) for d in range(10)}
    assert 1 <= len(data["examples"]) <= 9
    scores = [e["score"] for e in data["examples"]]
    assert scores == sorted(scores, reverse=True)
    first = data["examples"][0]
    assert set(first) == {"clip", "label", "score", "image", "audio"}
    assert client.get(first["image"]).headers["Content-Type"] == "image/png"
    assert client.get(first["audio"]).headers["Content-Type"] == "audio/wav"
    assert client.get(data["likes_audio"]).status_code == 200
    assert data["labels"] == []


def test_a_dead_filter_says_so_and_likes_nothing(alice, insight, active_model):
    data = _api(alice).get(_url(active_model, "conv2", dead_filters(active_model)[0])).json()

    assert data["dead"] is True and data["examples"] == [] and data["likes_audio"] is None


def test_before_it_is_computed_the_filter_answers_with_its_state(alice, active_model):
    data = _api(alice).get(_url(active_model)).json()

    assert data["status"] == "missing" and data["dead"] is None and data["examples"] == []


@pytest.mark.parametrize(("layer", "index"), [("dense", 0), ("conv1", 16), ("conv9", 0), ("conv1", 99999)])
def test_a_filter_that_does_not_exist_is_a_404(alice, active_model, layer, index):
    response = _api(alice).get(_url(active_model, layer, index))

    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_version_the_user_cannot_see_is_the_same_404_as_a_missing_one(alice, active_model):
    from modelzoo.models import ModelVersion

    hidden = ModelVersion.objects.create(
        name="pending-one", status=ModelVersion.Status.PENDING, layers=active_model.layers
    )

    assert (
        _api(alice).get(_url(hidden)).json()
        == _api(alice).get(f"/api/models/{hidden.pk + 100}/filters/conv1/3/").json()
    )
    assert _api(alice).get(_url(hidden)).status_code == 404


# --------------------------------------------------------------------------- concept labels


def _propose(user, version, text="onset of /s/", layer="conv1", index=3):
    return _api(user).post(f"{_url(version, layer, index)}labels/", {"text": text}, format="json")


def test_a_student_proposes_and_an_instructor_of_her_course_approves(alice, bob, ines, course, active_model):
    response = _propose(alice, active_model)

    assert response.status_code == 201
    label = response.json()
    assert label["status"] == "proposed" and label["text"] == "onset of /s/" and label["proposed_by"] == "alice"
    assert [row["id"] for row in _api(alice).get(_url(active_model)).json()["labels"]] == [label["id"]]
    assert _api(bob).get(_url(active_model)).json()["labels"] == []  # not approved yet: not his to see

    approved = _api(ines).post(f"/api/filter-labels/{label['id']}/approve/")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["reviewed_by"] == "ines"
    assert [row["text"] for row in _api(bob).get(_url(active_model)).json()["labels"]] == ["onset of /s/"]


def test_an_instructor_rejects_and_the_label_stays_with_its_proposer(alice, bob, ines, course, active_model):
    label_id = _propose(alice, active_model).json()["id"]

    response = _api(ines).post(f"/api/filter-labels/{label_id}/reject/")

    assert response.json()["status"] == "rejected"
    assert _api(bob).get(_url(active_model)).json()["labels"] == []
    assert _api(alice).get(_url(active_model)).json()["labels"][0]["status"] == "rejected"


@pytest.mark.parametrize("persona", ["olga", "bob", "charlie"])
def test_nobody_else_can_see_or_review_a_proposal(request, alice, course, other_course, active_model, persona):
    label_id = _propose(alice, active_model).json()["id"]
    missing = _api(request.getfixturevalue(persona)).post(f"/api/filter-labels/{label_id + 1000}/approve/")

    response = _api(request.getfixturevalue(persona)).post(f"/api/filter-labels/{label_id}/approve/")

    assert response.status_code == 404 and response.json() == missing.json()
    assert FilterLabel.objects.get(pk=label_id).status == "proposed"


def test_a_student_cannot_approve_her_own_label(alice, course, active_model):
    label_id = _propose(alice, active_model).json()["id"]

    response = _api(alice).post(f"/api/filter-labels/{label_id}/approve/")

    assert response.status_code == 403
    assert "instructor" in response.json()["detail"]
    assert FilterLabel.objects.get(pk=label_id).status == "proposed"


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("x", 400, "2 to 80 characters"),
        ("a" * 81, 400, "2 to 80 characters"),
        ("   ", 400, ""),
        ("bell\x07", 400, "control characters"),
    ],
)
def test_a_bad_label_is_refused_with_the_reason(alice, active_model, text, status, message):
    response = _propose(alice, active_model, text)

    assert response.status_code == status
    assert message in str(response.json())
    assert not FilterLabel.objects.exists()


def test_the_same_label_twice_and_too_many_waiting_are_refused(alice, active_model):
    assert _propose(alice, active_model, "low vowel energy").status_code == 201

    again = _propose(alice, active_model, "Low  vowel energy")

    assert again.status_code == 409 and "already" in again.json()["detail"]
    for k in range(4):
        assert _propose(alice, active_model, f"idea {k}").status_code == 201
    assert _propose(alice, active_model, "one more").status_code == 409
    assert FilterLabel.objects.count() == 5


def test_a_label_for_a_filter_that_does_not_exist_is_a_404(alice, active_model):
    assert _propose(alice, active_model, layer="conv1", index=16).status_code == 404
    assert _propose(alice, active_model, layer="pool1", index=0).status_code == 404
    assert not FilterLabel.objects.exists()


def test_the_schema_documents_the_filter_endpoints(alice):
    schema = _api(alice).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    for path in (
        "/api/models/{version_id}/filters/{layer}/{index}/",
        "/api/models/{version_id}/filters/{layer}/{index}/labels/",
        "/api/filter-labels/{label_id}/approve/",
        "/api/analyses/{analysis_id}/ablations/",
        "/api/ablations/{ablation_id}/",
    ):
        assert path in schema
