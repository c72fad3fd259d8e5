"""Any JSON body, any query string: the API answers 2xx or a 4xx with a JSON message, never a 5xx.

Hypothesis draws bodies of every JSON shape (objects nested in lists, numbers out of every range, strings
where numbers belong, nulls) for each endpoint that takes one, as alice, who owns what the ids name.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.services.experiments import experiment_create
from experiments.services.recordings import recording_derive

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["conv1", "conv2", "gain", "reverse", "slice", "fgsm", "pgd", "ig", "0", "-1", "1e309", ""]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Bodies shaped like the real ones (known keys), with any values.
KEYS = [
    "op", "params", "operations", "title", "notes", "recording_a", "recording_b", "course", "body", "status",
    "code", "name", "method", "layer", "index", "target", "epsilon", "snr_db", "steps", "points", "operation",
    "parameter", "values", "filters", "model_version", "model", "label", "design", "epochs", "kernels", "filter",
    "username", "password", "file",
]  # fmt: skip
BODIES = st.one_of(JSON, st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5))


@pytest.fixture
def ids(alice, course, make_clip, active_model) -> dict[str, int]:
    original = make_clip(alice)
    louder = recording_derive(recording=original, operations=[{"op": "gain", "params": {"db": 3}}])
    experiment = experiment_create(owner=alice, recording_a=original, recording_b=louder, title="Fuzzed")
    return {
        "r": original.pk,
        "a": original.analyses.get().pk,
        "e": experiment.pk,
        "c": course.pk,
        "v": active_model.pk,
    }


WRITES = [
    ("post", "/api/auth/token/"),
    ("post", "/api/recordings/"),
    ("post", "/api/recordings/{r}/derive/"),
    ("post", "/api/recordings/{r}/analyses/"),
    ("post", "/api/recordings/{r}/attack/"),
    ("post", "/api/recordings/{r}/sweeps/"),
    ("post", "/api/analyses/{a}/attribution/"),
    ("post", "/api/analyses/{a}/ablations/"),
    ("post", "/api/experiments/"),
    ("patch", "/api/experiments/{e}/"),
    ("post", "/api/experiments/{e}/comments/"),
    ("post", "/api/experiments/{e}/submit/"),
    ("post", "/api/experiments/{e}/review/"),
    ("post", "/api/experiments/{e}/duplicate/"),
    ("post", "/api/courses/"),
    ("post", "/api/courses/join/"),
    ("post", "/api/trainings/"),
    ("post", "/api/models/{v}/filters/conv1/0/labels/"),
    ("post", "/api/live/"),
]


def _check(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        assert json.loads(response.content), response.content


@pytest.mark.parametrize(("method", "url"), WRITES, ids=[f"{m} {u}" for m, u in WRITES])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=30)
@given(body=BODIES)
def test_any_json_body_gets_an_answer_not_an_error(alice_client, ids, method, url, body):
    response = getattr(alice_client, method)(url.format(**ids), json.dumps(body), content_type="application/json")
    _check(response)


READS = [
    "/api/recordings/", "/api/experiments/", "/api/courses/", "/api/models/", "/api/trainings/",
    "/api/models/{v}/dataset/", "/api/models/{v}/filters/conv1/0/", "/api/analyses/{a}/", "/api/recordings/{r}/",
    "/api/experiments/{e}/comparison/", "/api/experiments/{e}/comments/", "/api/courses/{c}/",
]  # fmt: skip
QUERIES = st.dictionaries(
    st.sampled_from(
        ["page", "page_size", "limit", "offset", "ordering", "search", "status", "layer", "format", "model", "cursor"]
    ),
    st.one_of(st.text(max_size=10), st.integers(min_value=-(2**40), max_value=2**70).map(str)),
    max_size=3,
)


@pytest.mark.parametrize("url", READS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=15)
@given(query=QUERIES)
def test_any_query_string_gets_an_answer_not_an_error(alice_client, ids, url, query):
    _check(alice_client.get(url.format(**ids), query))


FORM_FIELDS = [
    "op", "db", "start", "end", "fade_in", "fade_out", "snr_db", "seed", "rate", "semitones", "title", "notes",
    "recording_a", "recording_b", "course", "body", "action", "code", "name", "method", "layer", "index", "target",
    "epsilon", "steps", "parameter", "points", "values", "filters", "kernels", "epochs", "label", "model",
    "model_version", "operations", "scale", "sort", "tab", "text", "position", "length", "freq", "from", "to",
    "filter", "step",
]  # fmt: skip
FORMS = st.dictionaries(
    st.sampled_from(FORM_FIELDS),
    st.one_of(
        st.text(max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.lists(st.text(max_size=5), max_size=3),
    ),
    max_size=6,
)
PAGE_POSTS = [
    "/recordings/{r}/derive/", "/recordings/{r}/preview/", "/recordings/{r}/analysis/", "/recordings/{r}/replay/",
    "/recordings/{r}/attack/", "/recordings/{r}/sweep/", "/analyses/{a}/attribution/", "/analyses/{a}/ablations/",
    "/experiments/new/", "/experiments/{e}/edit/", "/experiments/{e}/submit/", "/experiments/{e}/comments/",
    "/experiments/{e}/review/", "/courses/new/", "/courses/join/", "/workshop/new/",
    "/models/{v}/filters/conv1/0/labels/", "/live/freeze/", "/accounts/", "/accounts/password/",
]  # fmt: skip


@pytest.mark.parametrize("url", PAGE_POSTS)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=12)
@given(form=FORMS)
def test_any_form_gets_a_page_or_a_message_not_an_error(alice_client, ids, url, htmx, form):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = alice_client.post(url.format(**ids), form, **headers)
    assert response.status_code < 500, response.content[:500]
    if htmx and 400 <= response.status_code < 500:
        assert response.content.strip(), "an htmx refusal with nothing to show next to the control"
