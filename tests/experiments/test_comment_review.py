"""Review: instructors read submissions read-only and comment, students reply; unread badges; reviewed status."""

import pytest
from django.urls import reverse

from core.errors import ServiceError
from experiments.models import Comment, Experiment
from experiments.selectors import review_badges, unread_counts
from experiments.services.experiments import comment_create, experiment_submit

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_instructor_opens_a_submission_read_only_with_every_visual(client, ines, submitted_experiment):
    client.force_login(ines)
    page = client.get(reverse("experiment_detail", args=[submitted_experiment.pk])).content.decode()
    assert "You are reviewing alice’s experiment" in page and "Mark as reviewed" in page
    assert 'data-state="done"' in page and page.count('class="cmp-filter"') >= 16 and 'class="sim-chart"' in page
    for owner_only in ("Submit for review", "Edit title and notes", "Duplicate", "Delete…"):
        assert owner_only not in page
    assert "Send comment" in page


def test_an_instructor_cannot_change_a_submission(client, ines, submitted_experiment):
    client.force_login(ines)
    for name in ("experiment_edit", "experiment_duplicate", "experiment_delete", "experiment_submit"):
        assert client.post(reverse(name, args=[submitted_experiment.pk]), {"title": "x"}).status_code == 403
    submitted_experiment.refresh_from_db()
    assert submitted_experiment.title != "x"


def test_the_instructor_comments_and_the_student_replies(client, alice, ines, submitted_experiment):
    url = reverse("experiment_comments", args=[submitted_experiment.pk])
    client.force_login(ines)
    fragment = client.post(url, {"body": "Try a time shift next.\n<script>x</script>"}, **HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and html.lstrip().startswith('<section class="card" id="comments">')
    assert "Try a time shift next.<br>&lt;script&gt;x&lt;/script&gt;" in html

    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[submitted_experiment.pk])).content.decode()
    assert "Try a time shift next." in page and "Send reply" in page
    response = client.post(url, {"body": "Will do!"})  # without htmx: back to the page
    assert response.status_code == 302 and response["Location"].endswith("#comments")
    authors = list(submitted_experiment.comments.values_list("author__username", flat=True))
    assert authors == ["ines", "ines", "alice"]


def test_an_empty_comment_is_refused_with_a_message(client, ines, submitted_experiment):
    client.force_login(ines)
    response = client.post(reverse("experiment_comments", args=[submitted_experiment.pk]), {"body": "   "}, **HTMX)
    assert response.status_code == 400 and "Write something" in response.content.decode()


def test_comments_open_only_once_submitted(alice, ab_experiment):
    with pytest.raises(ServiceError, match="submit the experiment"):
        comment_create(experiment=ab_experiment, author=alice, body="note to self")


def test_another_instructor_cannot_comment(olga, submitted_experiment):
    with pytest.raises(ServiceError) as caught:
        comment_create(experiment=submitted_experiment, author=olga, body="hi")
    assert caught.value.status == 403


def test_unread_comments_are_counted_until_read(client, alice, ines, submitted_experiment):
    # The fixture's comment from ines is unread for alice, read for ines (she wrote it).
    assert review_badges(user=alice)["experiments"] == 1
    assert unread_counts(user=alice) == {submitted_experiment.pk: 1}
    client.force_login(alice)
    nav = client.get(reverse("dashboard")).content.decode()
    assert 'data-badge="experiments"' in nav
    page = client.get(reverse("experiment_detail", args=[submitted_experiment.pk])).content.decode()
    assert 'class="comment by-reviewer is-new"' in page  # marked new this once
    assert review_badges(user=alice)["experiments"] == 0
    page = client.get(reverse("experiment_detail", args=[submitted_experiment.pk])).content.decode()
    assert "is-new" not in page
    assert 'data-badge="experiments"' not in client.get(reverse("dashboard")).content.decode()


def test_the_instructor_badge_counts_waiting_submissions_and_unread_replies(alice, ines, submitted_experiment):
    assert review_badges(user=ines) == {
        "experiments": 0,
        "courses": 1,
        "waiting": 1,
        "unread_reviews": 0,
        "total": 1,
    }
    comment_create(experiment=submitted_experiment, author=alice, body="Thanks!")
    assert review_badges(user=ines)["courses"] == 2 and review_badges(user=ines)["unread_reviews"] == 1


def test_marking_reviewed_takes_it_out_of_the_waiting_list(client, ines, submitted_experiment):
    client.force_login(ines)
    url = reverse("experiment_review", args=[submitted_experiment.pk])
    client.post(url, {"action": "reviewed"})
    submitted_experiment.refresh_from_db()
    assert submitted_experiment.status == "reviewed"
    assert review_badges(user=ines)["waiting"] == 0
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f'data-experiment="{submitted_experiment.pk}"' not in dashboard
    response = client.post(url, {"action": "reopen", "next": "course"})
    assert response["Location"] == reverse("course_detail", args=[submitted_experiment.course_id])
    submitted_experiment.refresh_from_db()
    assert submitted_experiment.status == "submitted"


def test_only_the_courses_instructor_can_mark_reviewed(client, alice, olga, submitted_experiment):
    client.force_login(alice)
    assert client.post(reverse("experiment_review", args=[submitted_experiment.pk])).status_code == 403
    client.force_login(olga)
    assert client.post(reverse("experiment_review", args=[submitted_experiment.pk])).status_code == 404
    submitted_experiment.refresh_from_db()
    assert submitted_experiment.status == "submitted"


def test_a_submission_cannot_be_submitted_again_nor_its_clips_changed(alice, submitted_experiment, other_course):
    from experiments.services.experiments import experiment_update

    with pytest.raises(ServiceError, match="already submitted"):
        experiment_submit(experiment=submitted_experiment, course=submitted_experiment.course)
    with pytest.raises(ServiceError, match="Duplicate it"):
        experiment_update(experiment=submitted_experiment, recording_b=submitted_experiment.recording_a)
    updated = experiment_update(experiment=submitted_experiment, notes="A typo fixed")
    assert updated.notes == "A typo fixed" and updated.status == Experiment.Status.SUBMITTED


def test_comments_are_kept_in_order_with_their_authors(alice, ines, submitted_experiment):
    comment_create(experiment=submitted_experiment, author=alice, body="reply")
    assert [c.author.username for c in Comment.objects.filter(experiment=submitted_experiment)] == ["ines", "alice"]
