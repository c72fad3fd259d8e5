"""The experiments API (docs/api.md): create, list, read, change, delete, submit, comments, comparison."""

import pytest
from rest_framework.test import APIClient

from experiments.models import Experiment
from experiments.services.recordings import recording_derive


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _as(api: APIClient, user) -> APIClient:
    api.force_authenticate(user)
    return api


def test_create_an_experiment_and_read_it_back(api, alice, make_clip):
    original = make_clip(alice)
    edited = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    _as(api, alice)
    response = api.post(
        "/api/experiments/", {"recording_a": original.pk, "recording_b": edited.pk, "notes": "hm"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    expected = {"id", "title", "notes", "recording_a", "recording_b", "model_version", "status", "course"}
    assert expected <= set(body)
    assert body["status"] == "draft" and body["course"] is None and body["model_version_b"] is None
    assert body["analyses"]["a"] and body["analyses"]["b"] and body["page_url"] == f"/experiments/{body['id']}/"
    assert api.get(f"/api/experiments/{body['id']}/").json()["title"] == body["title"]
    assert [e["id"] for e in api.get("/api/experiments/").json()["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "recording_a"),
        ({"recording_a": "mine"}, "detail"),  # nothing to compare
        ({"recording_a": "mine", "recording_b": "mine"}, "detail"),  # the same twice
        ({"recording_a": "mine", "recording_b": "theirs"}, "recording_b"),  # bob's recording: "does not exist"
        ({"recording_a": "mine", "recording_b": 999999}, "recording_b"),
        ({"recording_a": "mine", "model_version_b": 999999}, "model_version_b"),
    ],
)
def test_bad_experiments_get_a_clear_400(api, alice, bob, make_clip, payload, field):
    mine, theirs = make_clip(alice), make_clip(bob, "1_theo_6")
    ids = {"mine": mine.pk, "theirs": theirs.pk}
    _as(api, alice)
    response = api.post("/api/experiments/", {k: ids.get(v, v) for k, v in payload.items()}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Experiment.objects.exists()


def test_compare_two_model_versions(api, alice, make_clip, active_model, second_model):
    clip = make_clip(alice)
    _as(api, alice)
    response = api.post(
        "/api/experiments/", {"recording_a": clip.pk, "model_version_b": second_model.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["model_version"], body["model_version_b"], body["recording_b"]) == (
        active_model.pk,
        second_model.pk,
        None,
    )
    comparison = api.get(f"/api/experiments/{body['id']}/comparison/").json()
    assert comparison["status"] == "done" and comparison["stages"][0]["name"] == "input"


def test_patch_changes_title_and_notes_and_delete_removes_a_draft(api, alice, ab_experiment):
    _as(api, alice)
    url = f"/api/experiments/{ab_experiment.pk}/"
    response = api.patch(url, {"title": "Reversal", "notes": "n"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Reversal"
    assert api.patch(url, {"title": ""}, format="json").status_code == 400
    assert api.patch(url, {"status": "reviewed"}, format="json").json()["status"] == "draft"  # read-only field
    assert api.delete(url).status_code == 204
    assert not Experiment.objects.exists()


def test_submit_then_what_it_compares_is_fixed(api, alice, ab_experiment, course, other_course):
    _as(api, alice)
    url = f"/api/experiments/{ab_experiment.pk}/"
    refused = api.post(url + "submit/", {"course": other_course.pk}, format="json")
    assert refused.status_code == 400 and "course" in refused.json()
    assert api.post(url + "submit/", {}, format="json").status_code == 400
    submitted = api.post(url + "submit/", {"course": course.pk}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["course"] == course.pk
    again = api.post(url + "submit/", {"course": course.pk}, format="json")
    assert again.status_code == 409 and "already submitted" in again.json()["detail"]
    locked = api.patch(url, {"recording_b": ab_experiment.recording_a_id}, format="json")
    assert locked.status_code == 409 and "Duplicate it" in locked.json()["detail"]
    assert api.delete(url).status_code == 409
    copy = api.post(url + "duplicate/")
    assert copy.status_code == 201 and copy.json()["status"] == "draft"


def test_comments_through_the_api(api, alice, ines, bob, submitted_experiment):
    url = f"/api/experiments/{submitted_experiment.pk}/comments/"
    _as(api, ines)
    posted = api.post(url, {"body": "Good start."}, format="json")
    assert posted.status_code == 201 and posted.json()["author"] == "ines"
    assert posted.json()["author_role"] == "instructor"
    assert api.post(url, {"body": ""}, format="json").status_code == 400
    _as(api, alice)
    listed = api.get(url).json()
    assert [c["body"] for c in listed] == ["Look at conv3: where does it change?", "Good start."]
    assert api.post(url, {"body": "Thanks"}, format="json").json()["author_role"] == "student"
    _as(api, bob)
    assert api.get(url).status_code == 404 and api.post(url, {"body": "x"}, format="json").status_code == 404


def test_the_instructor_reviews_through_the_api(api, ines, olga, submitted_experiment):
    url = f"/api/experiments/{submitted_experiment.pk}/review/"
    _as(api, olga)
    assert api.post(url, {"status": "reviewed"}, format="json").status_code == 404
    _as(api, ines)
    assert api.post(url, {"status": "reviewed"}, format="json").json()["status"] == "reviewed"
    assert api.post(url, {"status": "nope"}, format="json").status_code == 400
    listed = api.get("/api/experiments/", {"status": "reviewed"}).json()["results"]
    assert [e["id"] for e in listed] == [submitted_experiment.pk]  # instructors list what they review
    assert api.patch(f"/api/experiments/{submitted_experiment.pk}/", {"title": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/experiments/{submitted_experiment.pk}/").status_code == 403


def test_the_comparison_endpoint_gives_every_stage_and_filter(api, alice, ab_experiment):
    _as(api, alice)
    body = api.get(f"/api/experiments/{ab_experiment.pk}/comparison/").json()
    assert body["status"] == "done"
    assert [s["name"] for s in body["stages"]] == ["input", "conv1", "conv2", "conv3", "output"]
    conv3 = body["stages"][3]
    assert len(conv3["filters"]) == 32 and 0 <= conv3["similarity"] <= 1
    changes = [f["change"] for f in conv3["filters"]]
    assert changes == sorted(changes, reverse=True)
    assert len(body["probabilities"]) == 10 and set(body["predicted"]) == {"a", "b"}
    # conv2's filters that fire for neither clip have no similarity (null), not 1.
    undefined = [f for f in body["stages"][2]["filters"] if f["cosine"] is None]
    assert undefined and all(f["change"] == 0 for f in undefined)


def test_errors_are_json_and_anonymous_is_refused(api, ab_experiment):
    response = api.get(f"/api/experiments/{ab_experiment.pk}/")
    assert response.status_code in (401, 403) and "detail" in response.json()
    assert api.get("/api/courses/").status_code in (401, 403)


def test_the_schema_documents_experiments_and_courses(api, alice):
    _as(api, alice)
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"] if response["Content-Type"].endswith("json") else response.content.decode()
    for path in (
        "/api/experiments/",
        "/api/experiments/{id}/submit/",
        "/api/experiments/{id}/comments/",
        "/api/courses/",
        "/api/courses/join/",
    ):
        assert path in paths


# ----------------------------------------------------------------------------- courses


def test_courses_list_what_the_caller_teaches_or_attends(api, alice, ines, charlie, course, other_course):
    _as(api, alice)
    listed = api.get("/api/courses/").json()["results"]
    assert [(c["id"], c["role"], c["join_code"]) for c in listed] == [(course.pk, "student", None)]
    _as(api, ines)
    listed = api.get("/api/courses/").json()["results"]
    assert [(c["id"], c["role"], c["join_code"]) for c in listed] == [(course.pk, "instructor", course.join_code)]
    _as(api, charlie)
    assert api.get(f"/api/courses/{course.pk}/").status_code == 404


def test_instructors_create_courses_and_students_join_them(api, olga, charlie, bob):
    _as(api, bob)
    refused = api.post("/api/courses/", {"name": "Mine"}, format="json")
    assert refused.status_code == 403 and "Only instructors" in refused.json()["detail"]
    _as(api, olga)
    created = api.post("/api/courses/", {"name": "Speech 301"}, format="json")
    assert created.status_code == 201 and created.json()["role"] == "instructor"
    code = created.json()["join_code"]
    _as(api, charlie)
    bad = api.post("/api/courses/join/", {"join_code": "WRONG234"}, format="json")
    assert bad.status_code == 400 and "No course has the join code" in bad.json()["detail"]
    assert api.post("/api/courses/join/", {}, format="json").status_code == 400
    joined = api.post("/api/courses/join/", {"join_code": code.lower()}, format="json")
    assert joined.status_code == 201 and joined.json()["role"] == "student" and joined.json()["join_code"] is None
    assert api.post("/api/courses/join/", {"join_code": code}, format="json").status_code == 200


def test_course_submissions_are_for_its_instructors(api, alice, ines, submitted_experiment, course):
    url = f"/api/courses/{course.pk}/submissions/"
    _as(api, alice)
    assert api.get(url).status_code == 403
    _as(api, ines)
    assert [e["id"] for e in api.get(url).json()["results"]] == [submitted_experiment.pk]
    assert api.get(url, {"status": "reviewed"}).json()["results"] == []
