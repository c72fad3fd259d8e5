"""Every htmx form of the lab answers a refused request with a 4xx made for it: the form again with the
message next to its field (or only the message, for its error slot), named by HX-Retarget; nothing is saved.
A valid one is sent on with HX-Redirect. (tests/browser/test_form_errors.py shows the messages in a page.)"""

import pytest
from django.urls import reverse

from experiments.models import Comment, Course, Experiment
from insights.models import Attack, Sweep
from tests.experiments.lab_support import stored_state

HTMX = {"HTTP_HX_REQUEST": "true"}


def _refused(response, *, status: int, target: str, message: str, field: str | None = None) -> str:
    """The fragment of a refusal, checked: status, target, and the message where it belongs."""
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    assert response["HX-Retarget"] == target and response["HX-Reswap"] == "outerHTML"
    assert "<html" not in body
    assert f'id="{target[1:]}"' in body  # the fragment is what it replaces
    if field:
        assert message in body.split(f'data-field-errors="{field}"')[1].split("</ul>")[0]
    else:
        slot = body.split("data-form-error")[1].split("</p>")[0]
        assert message in slot and "hidden" not in slot.split(">")[0]
    return body


def _everything() -> dict:
    return {
        "stored": stored_state(),
        "experiments": list(Experiment.objects.values()),
        "comments": list(Comment.objects.values()),
        "courses": list(Course.objects.values("pk", "students")),
        "attacks": Attack.objects.count(),
        "sweeps": Sweep.objects.count(),
    }


def test_a_refused_edit_comes_back_as_its_form_with_the_message_by_the_field(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)
    before = _everything()

    for view in ("preview", "derive"):
        response = client.post(
            f"/recordings/{clip.pk}/{view}/", {"op": "slice", "param_start": "0.2", "param_end": "0.2"}, **HTMX
        )
        body = _refused(response, status=400, target="#op-slice", message="End must be after start", field="param_end")
        assert 'name="param_start"' in body and 'value="0.2"' in body  # what was typed stays
        assert '<div id="preview" hx-swap-oob="true"' in body  # an earlier preview is cleared

    assert _everything() == before


def test_a_refused_comment_keeps_the_draft_and_says_why_by_the_box(client, ines, submitted_experiment):
    client.force_login(ines)
    before = _everything()

    response = client.post(reverse("experiment_comments", args=[submitted_experiment.pk]), {"body": "   "}, **HTMX)

    _refused(response, status=400, target="#comments", message="Write something before sending.")
    assert _everything() == before


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [("NOPE-NOPE", 400, "No course has the join code “NOPENOPE”"), ("", 400, "Type the join code")],
)
def test_a_refused_join_code_is_explained_next_to_the_field(client, charlie, course, code, status, message):
    client.force_login(charlie)
    before = _everything()

    response = client.post(reverse("course_join"), {"join_code": code}, **HTMX)

    _refused(response, status=status, target="#join-form", message=message, field="join_code")
    assert _everything() == before


def test_a_course_without_a_name_is_refused_next_to_the_field(client, ines):
    client.force_login(ines)
    before = _everything()

    response = client.post(reverse("course_new"), {"name": "  "}, **HTMX)

    _refused(response, status=400, target="#course-form", message="This field is required.", field="name")
    assert _everything() == before


def test_joining_a_course_sends_htmx_to_the_course(client, charlie, course):
    client.force_login(charlie)

    response = client.post(reverse("course_join"), {"join_code": course.join_code}, **HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == reverse("course_detail", args=[course.pk])


def test_a_refused_experiment_is_explained_in_its_form(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)
    before = _everything()

    same = {"mode": "recordings", "recording_a": clip.pk, "recording_b": clip.pk}
    response = client.post(reverse("experiment_new"), same, **HTMX)

    _refused(response, status=400, target="#experiment-form", message="Recording B is the same as recording A")
    missing = client.post(reverse("experiment_new"), {"mode": "recordings"}, **HTMX)
    _refused(missing, status=400, target="#experiment-form", message="required", field="recording_a")
    assert _everything() == before


def test_an_experiment_edit_without_a_title_is_refused_next_to_the_title(client, alice, ab_experiment):
    client.force_login(alice)
    before = _everything()

    response = client.post(reverse("experiment_edit", args=[ab_experiment.pk]), {"title": "  ", "notes": "x"}, **HTMX)

    _refused(response, status=400, target="#edit-form", message="The title cannot be empty.", field="title")
    assert _everything() == before


def test_a_refused_attack_is_explained_next_to_the_bound(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)
    before = _everything()

    response = client.post(
        f"/recordings/{clip.pk}/attack/", {"target": "", "snr_db": "500", "steps": "20", "seed": "0"}, **HTMX
    )

    _refused(response, status=400, target="#attack-form", message="The SNR bound must be between", field="snr_db")
    assert _everything() == before


def test_a_refused_sweep_is_explained_next_to_its_points(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)
    before = _everything()

    response = client.post(
        f"/recordings/{clip.pk}/sweep/", {"op": "gain", "start": "-6", "stop": "6", "num": "1"}, **HTMX
    )

    _refused(response, status=400, target="#sweep-form", message="A sweep has between 2 and", field="num")
    assert _everything() == before


def test_a_valid_attack_and_sweep_send_htmx_to_their_pages(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)

    attack = client.post(
        f"/recordings/{clip.pk}/attack/", {"target": "", "snr_db": "30", "steps": "2", "seed": "0"}, **HTMX
    )
    sweep = client.post(f"/recordings/{clip.pk}/sweep/", {"op": "gain", "start": "-6", "stop": "6", "num": "2"}, **HTMX)

    assert attack.status_code == 200 and attack["HX-Redirect"] == Attack.objects.get().get_absolute_url()
    assert sweep.status_code == 200 and sweep["HX-Redirect"] == Sweep.objects.get().get_absolute_url()


def test_a_refused_analyse_on_the_comparison_page_says_why_by_the_button(client, alice, ab_experiment):
    from modelzoo.models import ModelVersion

    ab_experiment.recording_b.analyses.all().delete()  # side B was never analysed
    ModelVersion.objects.filter(pk=ab_experiment.model_version_id).update(status=ModelVersion.Status.INVALID)
    client.force_login(alice)
    before = _everything()

    response = client.post(reverse("experiment_retry", args=[ab_experiment.pk]), **HTMX)

    body = _refused(response, status=409, target="#results", message="is not valid and cannot analyse clips")
    assert ">Analyse</button>" in body
    assert _everything() == before
