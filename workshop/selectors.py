"""Reading trainings, always scoped to a user: someone else's training is a 404."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from experiments.models import Course
from jobs.models import Job
from workshop.models import CourseLimits, CourseVoice, Training

#: A training whose job is waiting or running holds a place (a job whose worker died is failed by jobs.leases).
JOB_LIVE = (Job.Status.PENDING, Job.Status.RUNNING)


def trainings_for(*, user: User) -> QuerySet[Training]:
    """The trainings `user` started, newest first (admins: everyone's)."""
    trainings = Training.objects.select_related("job", "model_version", "owner")
    return trainings if user.is_staff else trainings.filter(owner=user)


def training_get(*, user: User, training_id: int) -> Training:
    """One of `user`'s trainings (any for an admin), or 404."""
    return get_object_or_404(trainings_for(user=user), pk=training_id)


def running_trainings() -> QuerySet[Training]:
    """Trainings whose job is waiting or running, site-wide."""
    return Training.objects.filter(job__status__in=JOB_LIVE)


def trainings_at_once_for(*, user: User) -> int:
    """How many trainings `user` may have waiting or running: 1, or more where an instructor of one of
    their courses allowed it (the most generous of their courses counts)."""
    courses = Course.objects.filter(Q(students=user) | Q(instructors=user))
    allowed = CourseLimits.objects.filter(course__in=courses).aggregate(most=Max("trainings_at_once"))["most"]
    return max(1, allowed or 1)


def course_limits_of(*, course: Course) -> CourseLimits:
    """The course's workshop limits (the defaults when its instructors never changed them; not saved)."""
    return CourseLimits.objects.filter(course=course).first() or CourseLimits(course=course)


def running_training_of(*, user: User) -> Training | None:
    """`user`'s training that is waiting or running, if any."""
    return running_trainings().filter(owner=user).first()


def course_peers(user: User) -> QuerySet:
    """Ids of the people who share a course with `user` (as a student or an instructor): they see what `user` shares.

    Registered with :func:`modelzoo.selectors.register_sharing_peers` (the courses live in
    ``experiments``, above the model zoo).
    """
    courses = Course.objects.filter(Q(students=user) | Q(instructors=user))
    return (
        get_user_model()
        .objects.filter(Q(courses_attended__in=courses) | Q(courses_taught__in=courses))
        .values("pk")
        .distinct()
    )


def voices_of(*, user: User) -> QuerySet[CourseVoice]:
    """The recordings `user` gave to their courses, newest first."""
    return CourseVoice.objects.filter(contributor=user).select_related("course", "recording")


def voice_get_own(*, user: User, voice_id: int) -> CourseVoice:
    """One of `user`'s contributions, or 404 (nobody else may remove it)."""
    return get_object_or_404(voices_of(user=user), pk=voice_id)


def course_voices(*, course: Course) -> QuerySet[CourseVoice]:
    """Every recording the students of `course` gave to it, oldest first (so a training reads them in order)."""
    return CourseVoice.objects.filter(course=course).select_related("recording", "contributor").order_by("pk")


def training_in_the_way(*, user: User) -> Training | None:
    """A training of `user`'s that keeps a new one from starting (they run as many as they may), if any."""
    mine = running_trainings().filter(owner=user)
    return mine.first() if mine.count() >= trainings_at_once_for(user=user) else None
