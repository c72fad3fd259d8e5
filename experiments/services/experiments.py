"""Writing experiments: create, edit, duplicate, delete, submit to a course, review, comment.

Callers fetch objects through `experiments.selectors` first (so another user's object is
already a 404); these functions check what only the service can know (states, ownership
of the parts, the course) and raise `ServiceError` for anything the user can fix.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import ServiceError
from experiments import selectors
from experiments.models import Analysis, Comment, Course, Experiment, ReadMark, Recording
from experiments.services.analyses import active_model_version, analysis_request, analysis_retry
from jobs.models import Job
from modelzoo.models import ModelVersion

MAX_COMMENT_CHARS = 5000
MAX_NOTES_CHARS = 20000

# Fields the owner may still change once an experiment is submitted: the words, not what
# the instructor is looking at.
LOCKED_AFTER_SUBMIT = ("recording_a", "recording_b", "model_version", "model_version_b")


def _clean_title(title: str | None) -> str:
    return " ".join((title or "").split())[:200]


def _check_notes(notes: str | None) -> str:
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_CHARS:
        raise ServiceError(f"Notes are limited to {MAX_NOTES_CHARS} characters.")
    return notes


def _check_parts(
    *,
    owner: User,
    recording_a: Recording,
    recording_b: Recording | None,
    model_version: ModelVersion,
    model_version_b: ModelVersion | None,
) -> None:
    """An experiment compares two clips through one model, or one clip through two models."""
    for recording in (recording_a, recording_b):
        if recording is not None and recording.owner_id != owner.pk:
            # Selectors already hide other people's recordings; this guards direct callers.
            raise ServiceError("An experiment can only use your own recordings.", status=404)
    if recording_b is None and model_version_b is None:
        raise ServiceError("Choose a second recording (B), or a second model version to compare on the same clip.")
    if recording_b is not None and model_version_b is not None:
        raise ServiceError("Compare two recordings through one model, or one recording through two models — not both.")
    if recording_b is not None and recording_b.pk == recording_a.pk:
        raise ServiceError("Recording B is the same as recording A; choose another recording or version.")
    if model_version_b is not None and model_version_b.pk == model_version.pk:
        raise ServiceError("The second model version is the same as the first; choose another one.")
    for version in (model_version, model_version_b):
        if version is not None and version.status != ModelVersion.Status.VALID:
            raise ServiceError(f"The model version “{version.name}” is not valid and cannot analyse clips.", status=409)


def _version_label(recording: Recording) -> str:
    """The version's label: "original", or the edits that made it ("reverse + gain")."""
    if recording.root_id is None:
        return "original"
    return " + ".join(step["op"].replace("_", " ") for step in recording.operations) or recording.title


def _default_title(recording_a: Recording, recording_b: Recording | None, model_b: ModelVersion | None) -> str:
    if recording_b is None:
        return _clean_title(f"{recording_a.title}: two model versions")
    if recording_a.original.pk == recording_b.original.pk:
        # Two versions of one clip: name the clip once, then what differs.
        labels = (_version_label(recording_a), _version_label(recording_b))
        return _clean_title(f"{recording_a.original.title}: {labels[0]} vs {labels[1]}")
    return _clean_title(f"{recording_a.title} vs {recording_b.title}")


def experiment_request_analyses(*, experiment: Experiment) -> tuple[Analysis, Analysis]:
    """Make sure both sides are analysed (or queued); returns the two analyses.

    Jobs belong to the experiment's owner whoever opens the page, so the owner's job list
    stays the place to find them.
    """
    (rec_a, model_a), (rec_b, model_b) = selectors.experiment_sides(experiment)
    analysis_a, _ = analysis_request(recording=rec_a, requested_by=experiment.owner, model_version=model_a)
    analysis_b, _ = analysis_request(recording=rec_b, requested_by=experiment.owner, model_version=model_b)
    return analysis_a, analysis_b


def experiment_analyse(*, experiment: Experiment) -> tuple[Analysis, Analysis]:
    """Ask for the analyses the experiment is missing and run its failed ones again (the page's button)."""
    analysis_a, analysis_b = (
        analysis_retry(analysis=analysis) if analysis.job.status == Job.Status.FAILED else analysis
        for analysis in experiment_request_analyses(experiment=experiment)
    )
    return analysis_a, analysis_b


def experiment_create(
    *,
    owner: User,
    recording_a: Recording,
    recording_b: Recording | None = None,
    model_version: ModelVersion | None = None,
    model_version_b: ModelVersion | None = None,
    title: str = "",
    notes: str = "",
) -> Experiment:
    """Save a comparison and ask for the analyses it needs (the page shows them as they finish).

    Raises
    ------
    ServiceError
        Nothing to compare, the same thing twice, an invalid model version, notes too long.
    """
    model_version = model_version or active_model_version()
    _check_parts(
        owner=owner,
        recording_a=recording_a,
        recording_b=recording_b,
        model_version=model_version,
        model_version_b=model_version_b,
    )
    experiment = Experiment.objects.create(
        owner=owner,
        title=_clean_title(title) or _default_title(recording_a, recording_b, model_version_b),
        notes=_check_notes(notes),
        recording_a=recording_a,
        recording_b=recording_b,
        model_version=model_version,
        model_version_b=model_version_b,
    )
    experiment_request_analyses(experiment=experiment)
    return experiment


def experiment_for_pair(
    *,
    owner: User,
    recording_a: Recording,
    recording_b: Recording,
    model_version: ModelVersion | None = None,
) -> tuple[Experiment, bool]:
    """The owner's experiment comparing `recording_a` with `recording_b` through one model, made when there is none.

    "Compare with original" asks this: pressing it twice opens the same comparison instead of a
    second draft. Returns the experiment and whether it was created.
    """
    model_version = model_version or active_model_version()
    existing = (
        Experiment.objects.filter(
            owner=owner,
            recording_a=recording_a,
            recording_b=recording_b,
            model_version=model_version,
            model_version_b__isnull=True,
        )
        .order_by("created_at", "id")
        .first()
    )
    if existing is not None:
        return existing, False
    return experiment_create(
        owner=owner, recording_a=recording_a, recording_b=recording_b, model_version=model_version
    ), True


def experiment_update(*, experiment: Experiment, **changes: object) -> Experiment:
    """Change an experiment's title, notes, or (while it is a draft) what it compares.

    `changes` holds only what the caller wants changed: title, notes, recording_a,
    recording_b, model_version, model_version_b.
    """
    unknown = set(changes) - {"title", "notes", *LOCKED_AFTER_SUBMIT}
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    parts_changed = any(
        name in changes and getattr(experiment, f"{name}_id") != getattr(changes[name], "pk", None)
        for name in LOCKED_AFTER_SUBMIT
    )
    if parts_changed and experiment.status != Experiment.Status.DRAFT:
        raise ServiceError(
            "This experiment was submitted: what it compares is fixed. Duplicate it to try another comparison.",
            status=409,
        )
    if "title" in changes:
        title = _clean_title(str(changes["title"] or ""))
        if not title:
            raise ServiceError("The title cannot be empty.")
        experiment.title = title
    if "notes" in changes:
        experiment.notes = _check_notes(str(changes["notes"] or ""))
    if parts_changed:
        for name in LOCKED_AFTER_SUBMIT:
            if name in changes:
                setattr(experiment, name, changes[name])
        if experiment.model_version_id is None:
            experiment.model_version = active_model_version()
        _check_parts(
            owner=experiment.owner,
            recording_a=experiment.recording_a,
            recording_b=experiment.recording_b,
            model_version=experiment.model_version,
            model_version_b=experiment.model_version_b,
        )
    experiment.save()
    if parts_changed:
        experiment_request_analyses(experiment=experiment)
    return experiment


def experiment_duplicate(*, experiment: Experiment, owner: User) -> Experiment:
    """A new draft copy of one of `owner`'s experiments (not submitted, no comments)."""
    if experiment.owner_id != owner.pk:
        raise ServiceError("You can only duplicate your own experiments.", status=403)
    copy = Experiment.objects.create(
        owner=owner,
        title=_clean_title(f"Copy of {experiment.title}"),
        notes=experiment.notes,
        recording_a=experiment.recording_a,
        recording_b=experiment.recording_b,
        model_version=experiment.model_version,
        model_version_b=experiment.model_version_b,
    )
    return copy


def experiment_delete(*, experiment: Experiment) -> None:
    """Delete a draft experiment (its recordings stay).

    A submitted experiment belongs to the course's record too: it cannot be deleted.
    """
    if experiment.status != Experiment.Status.DRAFT:
        raise ServiceError(
            f"“{experiment.title}” was submitted to {experiment.course or 'a course'}; "
            "submitted experiments are kept for your instructors.",
            status=409,
        )
    experiment.delete()


def experiment_submit(*, experiment: Experiment, course: Course) -> Experiment:
    """Submit a draft to a course its owner attends: its instructors can then open and comment on it."""
    if experiment.status != Experiment.Status.DRAFT:
        raise ServiceError(f"This experiment was already submitted to {experiment.course or 'a course'}.", status=409)
    if not course.students.filter(pk=experiment.owner_id).exists():
        raise ServiceError("You can only submit to a course you have joined.")
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.status != Experiment.Status.DRAFT:
            raise ServiceError("This experiment was already submitted.", status=409)
        locked.status = Experiment.Status.SUBMITTED
        locked.course = course
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "course", "submitted_at", "updated_at"])
    experiment.refresh_from_db()
    return experiment


def _check_instructor(experiment: Experiment, user: User) -> None:
    if not selectors.is_course_instructor(user=user, course=experiment.course):
        raise ServiceError("Only an instructor of the course can review this experiment.", status=403)


def experiment_mark_reviewed(*, experiment: Experiment, reviewer: User) -> Experiment:
    """An instructor marks a submission as reviewed (submitted → reviewed)."""
    _check_instructor(experiment, reviewer)
    if experiment.status == Experiment.Status.DRAFT:
        raise ServiceError("A draft cannot be reviewed.", status=409)
    if experiment.status != Experiment.Status.REVIEWED:
        experiment.status = Experiment.Status.REVIEWED
        experiment.save(update_fields=["status", "updated_at"])
    return experiment


def experiment_reopen(*, experiment: Experiment, reviewer: User) -> Experiment:
    """An instructor puts a reviewed submission back in the waiting list (reviewed → submitted)."""
    _check_instructor(experiment, reviewer)
    if experiment.status == Experiment.Status.REVIEWED:
        experiment.status = Experiment.Status.SUBMITTED
        experiment.save(update_fields=["status", "updated_at"])
    return experiment


def experiment_mark_read(*, experiment: Experiment, user: User) -> None:
    """Record that `user` has read the experiment's comments up to now (clears its unread badge)."""
    ReadMark.objects.update_or_create(user=user, experiment=experiment, defaults={"read_at": timezone.now()})


def comment_create(*, experiment: Experiment, author: User, body: str) -> Comment:
    """A review comment (instructor) or a reply (the owner) on a submitted experiment.

    The caller has already checked `author` may open the experiment; here only its owner
    and the course's instructors may write.
    """
    body = (body or "").strip()
    if not body:
        raise ServiceError("Write something before sending.")
    if len(body) > MAX_COMMENT_CHARS:
        raise ServiceError(f"A comment is limited to {MAX_COMMENT_CHARS} characters.")
    is_owner = experiment.owner_id == author.pk
    if not is_owner:
        _check_instructor(experiment, author)
    if experiment.status == Experiment.Status.DRAFT:
        raise ServiceError("Comments are for review: submit the experiment to a course first.", status=409)
    comment = Comment.objects.create(experiment=experiment, author=author, body=body)
    Experiment.objects.filter(pk=experiment.pk).update(updated_at=timezone.now())
    # Writing a comment means having read the thread up to it.
    experiment_mark_read(experiment=experiment, user=author)
    return comment
