"""Reading recordings, experiments and courses, always scoped to what a user may see."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from experiments.models import Course, Experiment, Recording


def recording_list(*, user: AbstractBaseUser) -> QuerySet[Recording]:
    """The user's own recordings, newest first."""
    return Recording.objects.filter(owner=user).select_related("parent", "root")


def experiment_list(*, user: AbstractBaseUser) -> QuerySet[Experiment]:
    """The user's own experiments, most recently changed first."""
    return Experiment.objects.filter(owner=user).select_related("course", "recording_a", "recording_b")


def course_list(*, user: AbstractBaseUser) -> QuerySet[Course]:
    """Courses the user teaches or attends."""
    return (Course.objects.filter(instructors=user) | Course.objects.filter(students=user)).distinct()


def submission_list(*, instructor: AbstractBaseUser, status: str | None = None) -> QuerySet[Experiment]:
    """Experiments submitted to courses `instructor` teaches, newest submission first."""
    submissions = Experiment.objects.filter(course__instructors=instructor).exclude(status=Experiment.Status.DRAFT)
    if status:
        submissions = submissions.filter(status=status)
    return submissions.select_related("owner", "course").order_by("-submitted_at", "-id")
