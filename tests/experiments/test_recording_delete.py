"""Deleting a recording from the lab: a confirm page, its versions and the owner's drafts go with it, a
submitted experiment keeps it, and its files leave the media storage."""

from django.urls import reverse

from experiments.models import Analysis, Experiment, Recording
from experiments.services.experiments import experiment_create, experiment_submit
from experiments.services.recordings import recording_derive
from jobs.models import Job
from tests.conftest import login
from tests.experiments.lab_support import analysed, media_files


def _family(owner):
    """An analysed original, a slice of it and a reverse of the slice, and a gain of the original."""
    original = analysed(owner).recording
    sliced = recording_derive(recording=original, operations=[{"op": "slice", "params": {"start": 0.0, "end": 0.2}}])
    reversed_ = recording_derive(recording=sliced, operations=[{"op": "reverse", "params": {}}])
    louder = recording_derive(recording=original, operations=[{"op": "gain", "params": {"db": 3}}])
    return original, sliced, reversed_, louder


def test_the_lab_links_the_owner_to_the_confirm_page(alice_client, alice, active_model):
    original, *_ = _family(alice)

    lab = alice_client.get(original.get_absolute_url()).content.decode()

    assert reverse("recording_delete", args=[original.pk]) in lab


def test_the_confirm_page_lists_the_versions_and_drafts_that_go_with_it(alice_client, alice, active_model):
    original, sliced, reversed_, louder = _family(alice)
    draft = experiment_create(owner=alice, recording_a=original, recording_b=reversed_, title="Slice then reverse")

    page = alice_client.get(reverse("recording_delete", args=[sliced.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert reversed_.title in text and louder.title not in text
    assert draft.title in text and "deleted too" in text
    assert Recording.objects.count() == 4  # asking deletes nothing


def test_deleting_an_original_deletes_its_versions_analyses_drafts_and_files(
    alice_client, alice, active_model, django_capture_on_commit_callbacks
):
    original, _sliced, _reversed, louder = _family(alice)
    draft = experiment_create(owner=alice, recording_a=original, recording_b=louder)
    assert media_files()

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("recording_delete", args=[original.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("recording_list")
    assert not Recording.objects.exists() and not Analysis.objects.exists()
    assert not Experiment.objects.filter(pk=draft.pk).exists()
    assert not Job.objects.filter(kind="analysis_run").exists()  # their finished jobs went with them
    assert not [name for name in media_files() if name.startswith(("recordings/", "analyses/"))]


def test_deleting_a_version_keeps_its_parent_and_the_other_branches(
    alice_client, alice, active_model, django_capture_on_commit_callbacks
):
    original, sliced, reversed_, louder = _family(alice)
    kept_files = {original.audio.name, louder.audio.name, original.original_file.name}

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("recording_delete", args=[sliced.pk]))

    assert response["Location"] == original.get_absolute_url()
    assert set(Recording.objects.values_list("pk", flat=True)) == {original.pk, louder.pk}
    assert kept_files <= media_files()
    assert sliced.audio.name not in media_files() and reversed_.audio.name not in media_files()


def test_a_submitted_experiment_keeps_the_recording_and_the_page_names_it(
    alice_client, alice, course, active_model, django_capture_on_commit_callbacks
):
    original, _sliced, reversed_, louder = _family(alice)
    submitted = experiment_create(owner=alice, recording_a=original, recording_b=reversed_, title="For the class")
    experiment_submit(experiment=submitted, course=course)
    draft = experiment_create(owner=alice, recording_a=original, recording_b=louder)
    before = media_files()

    page = alice_client.get(reverse("recording_delete", args=[original.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        refused = alice_client.post(reverse("recording_delete", args=[original.pk]))

    assert page.status_code == 409 and "For the class" in page.content.decode()
    assert refused.status_code == 409
    assert "“For the class”" in refused.content.decode() and "submitted" in refused.content.decode()
    assert Recording.objects.count() == 4 and Experiment.objects.filter(pk=draft.pk).exists()
    assert media_files() == before
    # a version outside the submitted one's history can still go
    assert alice_client.post(reverse("recording_delete", args=[louder.pk])).status_code == 302


def test_it_rejects_other_users(client, alice, charlie, ines, course, active_model):
    original, _sliced, reversed_, louder = _family(alice)
    submitted = experiment_create(owner=alice, recording_a=original, recording_b=reversed_)
    experiment_submit(experiment=submitted, course=course)

    for user in (charlie, ines):  # ines may open the recording (she reviews it) but never delete it
        login(client, user)
        assert client.get(reverse("recording_delete", args=[louder.pk])).status_code == 404
        assert client.post(reverse("recording_delete", args=[original.pk])).status_code == 404
    assert Recording.objects.count() == 4
