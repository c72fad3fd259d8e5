"""Reading recordings, analyses, experiments and courses, always scoped to what a user may see.

A student sees their own work. An instructor also sees, read-only, the experiments
submitted to a course they teach, and the recordings and analyses those use.
Anything else answers 404, never 403, so ids reveal nothing.
"""

from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from experiments.models import Analysis, Course, Experiment, Recording
from modelzoo.cache import AnalysisCache, unpack


def recording_list(*, user: AbstractBaseUser) -> QuerySet[Recording]:
    """The user's own recordings, newest first."""
    return Recording.objects.filter(owner=user).select_related("parent", "root")


def _reviewable_experiments(user: AbstractBaseUser) -> QuerySet[Experiment]:
    """Experiments submitted to a course `user` teaches."""
    return Experiment.objects.filter(course__instructors=user).exclude(status=Experiment.Status.DRAFT)


def recordings_visible(*, user: AbstractBaseUser) -> QuerySet[Recording]:
    """Recordings `user` may open: their own, and those of experiments submitted to their courses."""
    reviewable = _reviewable_experiments(user)
    return Recording.objects.filter(
        Q(owner=user) | Q(pk__in=reviewable.values("recording_a")) | Q(pk__in=reviewable.values("recording_b"))
    )


def recording_get(*, user: AbstractBaseUser, recording_id: int) -> Recording:
    """A recording `user` may open, or 404."""
    return get_object_or_404(recordings_visible(user=user).select_related("parent", "root", "owner"), pk=recording_id)


def recording_get_own(*, user: AbstractBaseUser, recording_id: int) -> Recording:
    """One of `user`'s own recordings (to edit or analyse), or 404."""
    return get_object_or_404(recording_list(user=user), pk=recording_id)


def recording_family(*, recording: Recording) -> list[Recording]:
    """The original and every version derived from it, as a tree in depth-first order.

    Each recording gets `depth` (0 for the original) and `version_number` (0 for the
    original, then 1, 2… in the order they were made).
    """
    original = recording.original
    versions = [original, *Recording.objects.filter(root=original).order_by("created_at", "id")]
    children: dict[int | None, list[Recording]] = {}
    for number, version in enumerate(versions):
        version.version_number = number
        children.setdefault(version.parent_id if version.root_id else None, []).append(version)
    ordered: list[Recording] = []

    def visit(node: Recording, depth: int) -> None:
        node.depth = depth
        ordered.append(node)
        for child in children.get(node.pk, []):
            visit(child, depth + 1)

    visit(original, 0)
    return ordered


def analysis_get(*, user: AbstractBaseUser, analysis_id: int) -> Analysis:
    """An analysis of a recording `user` may open, or 404."""
    analyses = Analysis.objects.filter(recording__in=recordings_visible(user=user))
    return get_object_or_404(analyses.select_related("job", "model_version", "recording"), pk=analysis_id)


def analysis_for(*, recording: Recording, model_version_id: int | None = None) -> Analysis | None:
    """The recording's analysis by a model version (the active one by default), if one was asked for."""
    analyses = Analysis.objects.filter(recording=recording).select_related("job", "model_version")
    if model_version_id is None:
        return analyses.filter(model_version__is_active=True).first()
    return analyses.filter(model_version_id=model_version_id).first()


def analysis_cache(analysis: Analysis) -> AnalysisCache:
    """The unpacked arrays of a finished analysis (kept in memory for the next requests)."""
    return _load_cache(analysis.pk, analysis.activations.name)


@lru_cache(maxsize=16)
def _load_cache(analysis_id: int, file_name: str) -> AnalysisCache:
    # Keyed by the file name too: a retried analysis writes a new file.
    analysis = Analysis.objects.get(pk=analysis_id)
    with analysis.activations.open("rb") as stored:
        return unpack(stored.read())


def experiment_list(*, user: AbstractBaseUser) -> QuerySet[Experiment]:
    """The user's own experiments, most recently changed first."""
    return Experiment.objects.filter(owner=user).select_related("course", "recording_a", "recording_b")


def course_list(*, user: AbstractBaseUser) -> QuerySet[Course]:
    """Courses the user teaches or attends."""
    return Course.objects.filter(Q(instructors=user) | Q(students=user)).distinct()


def submission_list(*, instructor: AbstractBaseUser, status: str | None = None) -> QuerySet[Experiment]:
    """Experiments submitted to courses `instructor` teaches, newest submission first."""
    submissions = _reviewable_experiments(instructor)
    if status:
        submissions = submissions.filter(status=status)
    return submissions.select_related("owner", "course").order_by("-submitted_at", "-id")
