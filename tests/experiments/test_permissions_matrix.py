"""Who may do what: every page and API endpoint of experiments, courses and comments, and the
recording, analysis and media URLs an experiment exposes, for every persona.

alice owns the experiments; bob attends the same course (nothing was shared with him);
charlie has no relation; ines teaches the course alice submitted to; olga teaches another
course; admin is staff (who manages through the Django admin, not these pages); and anonymous.
Another user's object answers 404; an instructor may read a submission but changing it
answers 403; anonymous is sent to the login page (pages) or refused (API, 401/403).

Each row runs the personas in turn, those who must be refused first, and checks that a
refused request changed nothing.
"""

from dataclasses import dataclass, field

import pytest
from django.test import Client
from rest_framework.test import APIClient

from experiments.models import Comment, Course, Experiment, ReadMark
from experiments.selectors import experiment_analyses
from experiments.services.experiments import comment_create, experiment_create, experiment_submit
from experiments.services.recordings import recording_derive

# Refused first, allowed last (alice last: her writes may delete things).
PERSONAS = ["anonymous", "charlie", "olga", "admin", "bob", "ines", "alice"]
OK = 200
LOGIN = "login"  # a page redirecting anonymous to the login form
DENIED = "denied"  # the API refusing anonymous: 401 or 403


@dataclass
class World:
    """What the matrix runs against: alice's submitted experiment and her draft, and their parts."""

    submitted: Experiment
    draft: Experiment
    course: Course
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(alice, bob, charlie, ines, olga, admin_user, course, other_course, make_clip) -> World:
    original = make_clip(alice)
    reversed_ = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    submitted = experiment_create(owner=alice, recording_a=original, recording_b=reversed_, title="Submitted")
    experiment_submit(experiment=submitted, course=course)
    comment_create(experiment=submitted, author=ines, body="First review comment.")
    other = make_clip(alice, "7_nicolas_5")
    louder = recording_derive(recording=other, operations=[{"op": "gain", "params": {"db": 3}}])
    draft = experiment_create(owner=alice, recording_a=other, recording_b=louder, title="Draft")
    analysis_a, analysis_b = experiment_analyses(submitted)
    draft_a, _ = experiment_analyses(draft)
    submitted.refresh_from_db()
    return World(
        submitted=submitted,
        draft=draft,
        course=course,
        ids={
            "e": submitted.pk,
            "d": draft.pk,
            "c": course.pk,
            "rec_a": original.pk,
            "rec_b": reversed_.pk,
            "draft_rec": other.pk,
            "an_a": analysis_a.pk,
            "an_b": analysis_b.pk,
            "draft_an": draft_a.pk,
        },
    )


def _rule(**codes) -> dict[str, object]:
    """Expected answer per persona: 404 unless given."""
    return {persona: codes.get(persona, 404) for persona in PERSONAS}


def _reader(code: object = OK, anon: object = LOGIN, ines: object = None) -> dict[str, object]:
    """The owner and the reviewing instructor may open it; everyone else gets 404."""
    return _rule(alice=code, ines=code if ines is None else ines, anonymous=anon)


def _owner(code: object = OK, anon: object = LOGIN, ines: object = 404) -> dict[str, object]:
    return _rule(alice=code, ines=ines, anonymous=anon)


def _everyone(code: object = OK, anon: object = LOGIN) -> dict[str, object]:
    return {persona: (anon if persona == "anonymous" else code) for persona in PERSONAS}


HX = {"HTTP_HX_REQUEST": "true"}

# (name, method, url, data, extra headers, expected)
PAGES = [
    ("experiment list", "get", "/experiments/", None, {}, _everyone()),
    ("new experiment form", "get", "/experiments/new/", None, {}, _everyone()),
    ("comparison page", "get", "/experiments/{e}/", None, {}, _reader()),
    ("comparison page swapped", "get", "/experiments/{e}/?swap=1", None, {}, _reader()),
    ("results fragment", "get", "/experiments/{e}/", None, {**HX, "HTTP_HX_TARGET": "results"}, _reader()),
    (
        "layer fragment",
        "get",
        "/experiments/{e}/?layer=conv2",
        None,
        {**HX, "HTTP_HX_TARGET": "layer-panel"},
        _reader(),
    ),
    ("draft comparison page", "get", "/experiments/{d}/", None, {}, _owner()),
    ("filter image A", "get", "/experiments/{e}/layers/conv1/0/a.png", None, {}, _reader()),
    ("filter image B", "get", "/experiments/{e}/layers/conv3/31/b.png", None, {}, _reader()),
    ("difference image", "get", "/experiments/{e}/layers/conv2/5/ab.png", None, {}, _reader()),
    ("draft difference image", "get", "/experiments/{d}/layers/conv2/5/ab.png", None, {}, _owner()),
    ("report", "get", "/experiments/{e}/report.html", None, {}, _reader()),
    ("draft report", "get", "/experiments/{d}/report.html", None, {}, _owner()),
    ("comments fragment", "get", "/experiments/{e}/comments/", None, HX, _reader()),
    ("edit form", "get", "/experiments/{e}/edit/", None, {}, _owner(ines=403)),
    ("delete confirmation", "get", "/experiments/{d}/delete/", None, {}, _owner()),
    ("post a comment", "post", "/experiments/{e}/comments/", {"body": "hi"}, {}, _reader(302)),
    (
        "mark reviewed",
        "post",
        "/experiments/{e}/review/",
        {"action": "reviewed"},
        {},
        _rule(alice=403, ines=302, anonymous=LOGIN),
    ),
    ("retry analyses", "post", "/experiments/{e}/retry/", {}, {}, _reader(302)),
    ("edit", "post", "/experiments/{e}/edit/", {"title": "Changed"}, {}, _owner(302, ines=403)),
    ("duplicate", "post", "/experiments/{e}/duplicate/", {}, {}, _owner(302, ines=403)),
    ("submit the draft", "post", "/experiments/{d}/submit/", {"course": "{c}"}, {}, _owner(302)),
    ("delete the draft", "post", "/experiments/{d}/delete/", {}, {}, _owner(302)),
    ("delete the submission", "post", "/experiments/{e}/delete/", {}, {}, _owner(409, ines=403)),
    ("course list", "get", "/courses/", None, {}, _everyone()),
    ("course page", "get", "/courses/{c}/", None, {}, _rule(alice=OK, bob=OK, ines=OK, anonymous=LOGIN)),
    (
        "course submissions fragment",
        "get",
        "/courses/{c}/?status=all",
        None,
        {**HX, "HTTP_HX_TARGET": "submissions"},
        _rule(alice=OK, bob=OK, ines=OK, anonymous=LOGIN),
    ),
    ("new join code", "post", "/courses/{c}/code/", {}, {}, _rule(alice=403, bob=403, ines=302, anonymous=LOGIN)),
    ("leave the course", "post", "/courses/{c}/leave/", {}, {}, _rule(alice=302, bob=302, ines=403, anonymous=LOGIN)),
    (
        "create a course",
        "post",
        "/courses/new/",
        {"name": "New"},
        {},
        _everyone(403) | {"ines": 302, "olga": 302, "admin": 302},
    ),
    # What the comparison page links to: the two recordings and analyses, and nothing of the draft.
    ("recording A lab page", "get", "/recordings/{rec_a}/", None, {}, _reader()),
    ("recording B audio", "get", "/recordings/{rec_b}/audio.wav", None, {}, _reader()),
    ("recording B spectrogram", "get", "/recordings/{rec_b}/spectrogram.png", None, {}, _reader()),
    ("draft's recording", "get", "/recordings/{draft_rec}/audio.wav", None, {}, _owner()),
    ("layer explorer of A", "get", "/analyses/{an_a}/explorer/", None, {}, _reader()),
    ("filter map of B", "get", "/analyses/{an_b}/layers/conv2/3.png", None, {}, _reader()),
    ("filter sound of A", "get", "/analyses/{an_a}/layers/conv1/2.wav", None, {}, _reader()),
    ("layer maps of B", "get", "/analyses/{an_b}/layers/conv3/maps.png", None, {}, _reader()),
    ("network input of B", "get", "/analyses/{an_b}/input.png", None, {}, _reader()),
    ("draft's analysis", "get", "/analyses/{draft_an}/explorer/", None, {}, _owner()),
    # Deleting a recording: only its owner, and never one a submitted experiment uses.
    ("recording delete confirmation", "get", "/recordings/{rec_a}/delete/", None, {}, _owner(409)),
    ("delete a submitted recording", "post", "/recordings/{rec_b}/delete/", {}, {}, _owner(409)),
    ("delete the draft's recording", "post", "/recordings/{draft_rec}/delete/", {}, {}, _owner(302)),
]

API = [
    ("list experiments", "get", "/api/experiments/", None, _everyone(anon=DENIED)),
    ("read an experiment", "get", "/api/experiments/{e}/", None, _reader(anon=DENIED)),
    ("read the draft", "get", "/api/experiments/{d}/", None, _owner(anon=DENIED)),
    ("patch", "patch", "/api/experiments/{e}/", {"title": "API"}, _owner(anon=DENIED, ines=403)),
    ("submit the draft", "post", "/api/experiments/{d}/submit/", {"course": "{c}"}, _owner(anon=DENIED)),
    ("delete the draft", "delete", "/api/experiments/{d}/", None, _owner(204, anon=DENIED)),
    ("delete the submission", "delete", "/api/experiments/{e}/", None, _owner(409, anon=DENIED, ines=403)),
    ("duplicate", "post", "/api/experiments/{e}/duplicate/", None, _owner(201, anon=DENIED, ines=403)),
    ("list comments", "get", "/api/experiments/{e}/comments/", None, _reader(anon=DENIED)),
    ("post a comment", "post", "/api/experiments/{e}/comments/", {"body": "api"}, _reader(201, anon=DENIED)),
    ("comparison numbers", "get", "/api/experiments/{e}/comparison/", None, _reader(anon=DENIED)),
    (
        "review",
        "post",
        "/api/experiments/{e}/review/",
        {"status": "reviewed"},
        _rule(alice=403, ines=OK, anonymous=DENIED),
    ),
    ("list courses", "get", "/api/courses/", None, _everyone(anon=DENIED)),
    ("read the course", "get", "/api/courses/{c}/", None, _rule(alice=OK, bob=OK, ines=OK, anonymous=DENIED)),
    (
        "course submissions",
        "get",
        "/api/courses/{c}/submissions/",
        None,
        _rule(alice=403, bob=403, ines=OK, anonymous=DENIED),
    ),
    ("recording A", "get", "/api/recordings/{rec_a}/", None, _reader(anon=DENIED)),
    ("recording B audio", "get", "/api/recordings/{rec_b}/audio/", None, _reader(anon=DENIED)),
    ("analysis A", "get", "/api/analyses/{an_a}/", None, _reader(anon=DENIED)),
    ("draft's analysis", "get", "/api/analyses/{draft_an}/", None, _owner(anon=DENIED)),
    ("delete a submitted recording", "delete", "/api/recordings/{rec_a}/", None, _owner(409, anon=DENIED)),
    ("delete the draft's recording", "delete", "/api/recordings/{draft_rec}/", None, _owner(204, anon=DENIED)),
]


def _snapshot(world: World) -> tuple:
    """Everything a refused request must leave as it was."""
    experiments = tuple(
        Experiment.objects.order_by("pk").values_list("pk", "title", "notes", "status", "course_id", "recording_b_id")
    )
    course = Course.objects.get(pk=world.course.pk)
    return (
        experiments,
        Comment.objects.count(),
        course.join_code,
        tuple(course.students.order_by("pk").values_list("pk", flat=True)),
        Course.objects.count(),
    )


def _user(persona: str, request: pytest.FixtureRequest):
    return None if persona == "anonymous" else request.getfixturevalue("admin_user" if persona == "admin" else persona)


def _fill(template: object, ids: dict[str, int]) -> object:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: _fill(value, ids) for key, value in template.items()}
    return template


def _matches(expected: object, response, *, api: bool) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    if expected == DENIED:
        return response.status_code in (401, 403)
    return response.status_code == expected


@pytest.mark.parametrize(("name", "method", "url", "data", "headers", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_pages(request, world, name, method, url, data, headers, expected):
    url, data = _fill(url, world.ids), _fill(data, world.ids)
    wrong = []
    for persona in PERSONAS:
        client = Client()
        if (user := _user(persona, request)) is not None:
            client.force_login(user)
        before = _snapshot(world)
        response = getattr(client, method)(url, data or {}, **headers)
        if not _matches(expected[persona], response, api=False):
            wrong.append(f"{persona}: expected {expected[persona]}, got {response.status_code}")
        if response.status_code >= 400 or expected[persona] == LOGIN:
            assert _snapshot(world) == before, f"{name}: a refused request by {persona} changed something"
    assert not wrong, f"{method.upper()} {url} ({name}): " + "; ".join(wrong)


@pytest.mark.parametrize(("name", "method", "url", "data", "expected"), API, ids=[a[0] for a in API])
def test_api(request, world, name, method, url, data, expected):
    url, data = _fill(url, world.ids), _fill(data, world.ids)
    wrong = []
    for persona in PERSONAS:
        client = APIClient()
        if (user := _user(persona, request)) is not None:
            client.force_authenticate(user)
        before = _snapshot(world)
        response = getattr(client, method)(url, data, format="json")
        if not _matches(expected[persona], response, api=True):
            wrong.append(f"{persona}: expected {expected[persona]}, got {response.status_code}")
        if response.status_code >= 400:
            assert _snapshot(world) == before, f"{name}: a refused request by {persona} changed something"
            if response["Content-Type"].startswith("application/json"):
                assert "detail" in response.json() or response.status_code == 400
            else:
                pytest.fail(f"{name}: {persona} got a non-JSON {response.status_code}")
    assert not wrong, f"{method.upper()} {url} ({name}): " + "; ".join(wrong)


def test_lists_only_show_what_the_caller_may_see(world, request):
    """Lists answer 200 to everyone, but hold only what each persona may open."""
    visible = {"alice": {world.submitted.pk, world.draft.pk}, "ines": {world.submitted.pk}}
    courses = {"alice": {world.course.pk}, "bob": {world.course.pk}, "ines": {world.course.pk}}
    for persona in PERSONAS[1:]:
        api = APIClient()
        api.force_authenticate(_user(persona, request))
        experiments = {e["id"] for e in api.get("/api/experiments/").json()["results"]}
        assert experiments == visible.get(persona, set()), persona
        listed_courses = {c["id"] for c in api.get("/api/courses/").json()["results"]}
        assert world.course.pk in listed_courses if persona in courses else world.course.pk not in listed_courses
        page = Client()
        page.force_login(_user(persona, request))
        html = page.get("/experiments/").content.decode()
        assert (f'data-experiment="{world.submitted.pk}"' in html) == (persona == "alice"), persona


def test_reading_marks_only_the_readers_comments_as_read(world, request):
    """A reviewer opening the page must not clear the owner's unread badge (and vice versa)."""
    client = Client()
    client.force_login(request.getfixturevalue("ines"))
    client.get(f"/experiments/{world.submitted.pk}/")
    assert not ReadMark.objects.filter(user__username="alice").exists()
