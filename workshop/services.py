"""Writing trainings: start one (one per user at a time, a few site-wide), cancel it, share its version."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from core.errors import ServiceError
from experiments.models import Course, Experiment, Recording
from experiments.selectors import is_course_instructor
from experiments.services.analyses import active_model_version
from experiments.services.experiments import experiment_create
from experiments.services.recordings import recording_from_sample
from jobs.models import Job
from jobs.services import job_cancel, job_enqueue
from modelzoo.models import ModelVersion
from modelzoo.samples import sample_clip, sample_clips
from workshop.architecture import Design, summarise
from workshop.models import CourseLimits, CourseVoice, Training
from workshop.selectors import course_voices, running_trainings, trainings_at_once_for

DEFAULT_MAX_RUNNING = 2
MAX_NAME_CHARS = 80


def max_running() -> int:
    """How many trainings may wait or run at once on the whole site (WORKSHOP_MAX_RUNNING)."""
    return int(getattr(settings, "WORKSHOP_MAX_RUNNING", DEFAULT_MAX_RUNNING))


# An instructor may let a course's people train more at once; the site-wide cap still holds.
MAX_TRAININGS_AT_ONCE = 4


def course_limits_set(*, course: Course, instructor: User, trainings_at_once: int) -> CourseLimits:
    """Let the students (and instructors) of `course` have up to `trainings_at_once` trainings waiting or running.

    Raises
    ------
    ServiceError
        404 unless `instructor` teaches the course; 400 (field ``trainings_at_once``) outside 1 to
        MAX_TRAININGS_AT_ONCE.
    """
    if not is_course_instructor(user=instructor, course=course):
        raise ServiceError("Only an instructor of the course can change its limits.", status=404)
    if not 1 <= trainings_at_once <= MAX_TRAININGS_AT_ONCE:
        raise ServiceError(
            f"From 1 to {MAX_TRAININGS_AT_ONCE} trainings at once (the site runs {max_running()} at most in all).",
            field="trainings_at_once",
        )
    limits, _ = CourseLimits.objects.update_or_create(
        course=course, defaults={"trainings_at_once": trainings_at_once, "updated_by": instructor}
    )
    return limits


def training_start(*, owner: User, name: str, design: Design, seed: int = 0, course: Course | None = None) -> Training:
    """Queue the training of `design` for `owner` (with `course`: plus the voices its students gave it).

    Raises
    ------
    ServiceError
        400 for a design that cannot be built (``field`` names the input at fault) or an empty
        name; 409 when `owner` has a training waiting or running, or the site runs as many as it allows.
    """
    name = " ".join((name or "").split())[:MAX_NAME_CHARS]
    if not name:
        raise ServiceError("Give the training a name, e.g. “wider first layer”.", field="name")
    summary = summarise(design)
    if summary.problems:
        field, reason = next(iter(summary.problems.items()))
        raise ServiceError(reason, field=field)
    if course is not None:
        if not is_course_instructor(user=owner, course=course):
            raise ServiceError("Only an instructor of the course can train on its students' voices.", status=404)
        if not course_voices(course=course).exists():
            raise ServiceError(f"No student of {course.name} has given a recording to it yet.", field="course")
    with transaction.atomic():
        # One training per user: lock the user's row so two quick clicks cannot both pass the check.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        mine = running_trainings().filter(owner=owner)
        allowed = trainings_at_once_for(user=owner)
        if mine.count() >= allowed:
            if allowed == 1:
                running = mine.first()
                assert running is not None
                message = f"Your training “{running.name}” is still running: wait for it to finish or cancel it first."
            else:
                message = (
                    f"You have {allowed} trainings running, as many as your course allows at once: "
                    "wait for one to finish or cancel it first."
                )
            raise ServiceError(message, status=409)
        if running_trainings().count() >= max_running():
            raise ServiceError(
                f"The workshop is training {max_running()} models already, as many as this site runs at once; "
                "try again in a few minutes.",
                status=409,
            )
        job = Job.objects.create(kind="workshop_train", owner=owner, payload={})
        training = Training.objects.create(
            owner=owner,
            name=name,
            architecture=design.architecture(),
            hyperparameters=design.hyperparameters(),
            seed=seed,
            job=job,
            course=course,
        )
        Job.objects.filter(pk=job.pk).update(payload={"training": training.pk})
    job.refresh_from_db()
    job_enqueue(job=job)
    training.refresh_from_db()
    return training


def training_cancel(*, training: Training) -> Training:
    """Stop `training`: a waiting one at once, a running one after the batch it is on.

    Raises
    ------
    ServiceError
        409 when it has finished already.
    """
    if not training.is_active:
        raise ServiceError(f"This training has finished already ({training.get_status_display().lower()}).", status=409)
    job = job_cancel(job=training.job)
    if job.status == Job.Status.CANCELLED:
        Training.objects.filter(pk=training.pk).update(status=Training.Status.CANCELLED, finished_at=job.finished_at)
    training.refresh_from_db()
    return training


def training_sync(*, training: Training) -> Training:
    """Mark failed a training whose job ended without it (its worker stopped): the job's sentence says why."""
    if training.is_active and training.job.status in (Job.Status.FAILED, Job.Status.CANCELLED):
        status = Training.Status.FAILED if training.job.status == Job.Status.FAILED else Training.Status.CANCELLED
        Training.objects.filter(pk=training.pk, status__in=Training.ACTIVE).update(
            status=status, error=training.job.error, finished_at=training.job.finished_at
        )
        training.refresh_from_db()
    return training


def training_share(*, training: Training, shared: bool) -> ModelVersion:
    """Show the trained version to the people of the author's courses (or stop showing it)."""
    if training.model_version is None:
        raise ServiceError("This training has no trained version to share yet.", status=409)
    ModelVersion.objects.filter(pk=training.model_version.pk).update(shared_with_courses=shared)
    training.model_version.refresh_from_db()
    return training.model_version


def training_debug(*, training: Training, user: User, sample: str | None = None) -> Experiment:
    """Compare the trained version with the active (bundled) model on a sample clip: an experiment of two models.

    The clip is the user's copy of the sample (made once); both analyses are queued by the experiment.

    Raises
    ------
    ServiceError
        409 while there is no valid trained version; 404 for an unknown sample.
    """
    version = training.model_version
    if version is None or version.status != ModelVersion.Status.VALID:
        raise ServiceError("This training has no validated model version to debug yet.", status=409)
    clip = sample_clip(sample) if sample else sample_clips()[0]
    if clip is None:
        raise ServiceError(f"There is no sample clip called “{sample}”.", status=404)
    recording = (
        Recording.objects.filter(owner=user, source=Recording.Source.SAMPLE, title=clip.title, root__isnull=True)
        .order_by("created_at")
        .first()
    ) or recording_from_sample(owner=user, name=clip.name)
    bundled = active_model_version()
    if bundled.pk == version.pk:
        raise ServiceError("This version is the active model: there is nothing to compare it with.", status=409)
    return experiment_create(
        owner=user,
        recording_a=recording,
        model_version=bundled,
        model_version_b=version,
        title=f"{clip.title}: bundled model vs “{training.name}”",
    )


VOICE_CONSENT = (
    "I give this recording of my voice to the trainings of {course}: its instructors may train models on it, "
    "and those models may be shown to the course. I can remove it at any time; later trainings will not use it."
)
VOICE_LABELS = tuple(str(digit) for digit in range(10))


def voice_contribute(*, student: User, course: Course, recording: Recording, label: str, consent: bool) -> CourseVoice:
    """Give one of `student`'s recordings, labelled with the digit it says, to `course`'s trainings.

    Raises
    ------
    ServiceError
        Without consent, for a course the student does not attend or someone else's recording (404),
        a label that is not a digit, or a recording given to that course already (409).
    """
    if not course.students.filter(pk=student.pk).exists():
        raise ServiceError("You can only give recordings to a course you attend.", status=404, field="course")
    if recording.owner_id != student.pk:
        raise ServiceError("You can only give your own recordings.", status=404, field="recording")
    if label not in VOICE_LABELS:
        raise ServiceError("Say which digit the recording is: 0 to 9.", field="label")
    if not consent:
        raise ServiceError("Tick the consent to give the recording; nothing is shared without it.", field="consent")
    if CourseVoice.objects.filter(course=course, recording=recording).exists():
        raise ServiceError(f"You gave this recording to {course.name} already.", status=409, field="recording")
    return CourseVoice.objects.create(
        course=course,
        contributor=student,
        recording=recording,
        label=label,
        consent_text=VOICE_CONSENT.format(course=course.name),
    )


def voice_remove(*, voice: CourseVoice) -> None:
    """Take a contribution back: trainings that start from now on no longer hear it."""
    voice.delete()
