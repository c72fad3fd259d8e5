"""Reading recordings, analyses, experiments and courses, always scoped to what a user may see.

A student sees their own work. An instructor also sees, read-only, the experiments
submitted to a course they teach, and the recordings and analyses those use.
Anything else answers 404, never 403, so ids reveal nothing.
"""

import threading
import time
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from experiments.models import Analysis, Comment, Course, Experiment, ReadMark, Recording
from jobs.models import Job
from modelzoo.cache import AnalysisCache, unpack
from modelzoo.models import ModelVersion

if TYPE_CHECKING:
    from experiments.comparison import LayerComparison


def recording_list(*, user: User) -> QuerySet[Recording]:
    """The user's own recordings, newest first."""
    return Recording.objects.filter(owner=user).select_related("parent", "root")


# ----------------------------------------------------------------------------- access rules
# Written once here; pages, the API and the services ask these.


def is_course_instructor(*, user: User, course: Course | None) -> bool:
    """True when `user` teaches `course`."""
    if course is None or user.pk is None:
        return False
    return course.instructors.filter(pk=user.pk).exists()


def is_experiment_reviewer(*, user: User, experiment: Experiment) -> bool:
    """True for an instructor of the course `experiment` was submitted to."""
    return experiment.status != Experiment.Status.DRAFT and is_course_instructor(user=user, course=experiment.course)


def _reviewable_experiments(user: User) -> QuerySet[Experiment]:
    """Experiments submitted to a course `user` teaches."""
    return Experiment.objects.filter(course__instructors=user).exclude(status=Experiment.Status.DRAFT)


def recordings_visible(*, user: User) -> QuerySet[Recording]:
    """Recordings `user` may open: their own, and those of experiments submitted to their courses."""
    reviewable = _reviewable_experiments(user)
    return Recording.objects.filter(
        Q(owner=user) | Q(pk__in=reviewable.values("recording_a")) | Q(pk__in=reviewable.values("recording_b"))
    )


def recording_originals(*, user: User, query: str = "") -> QuerySet[Recording]:
    """The user's originals, newest first; with `query`, those whose title or a version's title contains it."""
    originals = Recording.objects.filter(owner=user, root__isnull=True)
    if query:
        matching = Recording.objects.filter(owner=user, title__icontains=query)
        originals = originals.filter(Q(pk__in=matching.values("pk")) | Q(pk__in=matching.values("root_id")))
    return originals


def recording_groups(*, user: User, originals: list[Recording]) -> list[dict]:
    """Each original with its versions (depth-first, as in the lab's history) and what the model heard.

    Every recording gets `depth`, `version_number` (as :func:`recording_family` numbers them) and
    `heard` (see :func:`heard_by_active_model`).
    """
    versions = Recording.objects.filter(owner=user, root__in=originals).order_by("created_at", "id")
    by_root: dict[int, list[Recording]] = {}
    for version in versions:
        if version.root_id is not None:
            by_root.setdefault(version.root_id, []).append(version)
    groups: list[dict[str, Any]] = []
    for original in originals:
        groups.append({"original": original, "versions": _tree([original, *by_root.get(original.pk, [])])})
    heard = heard_by_active_model([r for group in groups for r in group["versions"]])
    for group in groups:
        for recording in group["versions"]:
            recording.heard = heard.get(recording.pk)
    return groups


def heard_by_active_model(recordings: list[Recording]) -> dict[int, dict]:
    """What the active model heard in each recording: {id: {label, percent, status}} (absent: never asked)."""
    analyses = Analysis.objects.filter(recording__in=recordings, model_version__is_active=True).select_related("job")
    heard = {}
    for analysis in analyses:
        done = analysis.job.status == Job.Status.DONE
        heard[analysis.recording_id] = {
            "label": analysis.predicted_label if done else "",
            "percent": round(analysis.probabilities.get(analysis.predicted_label, 0.0) * 100) if done else None,
            "status": analysis.job.status,
            "is_silent": analysis.is_silent,
        }
    return heard


def _tree(versions: list[Recording]) -> list[Recording]:
    """One clip's versions (the original first, then in the order they were made) as a tree, depth-first."""
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

    visit(versions[0], 0)
    return ordered


def recording_get(*, user: User, recording_id: int) -> Recording:
    """A recording `user` may open, or 404."""
    return get_object_or_404(recordings_visible(user=user).select_related("parent", "root", "owner"), pk=recording_id)


def recording_get_own(*, user: User, recording_id: int) -> Recording:
    """One of `user`'s own recordings (to edit or analyse), or 404."""
    return get_object_or_404(recording_list(user=user), pk=recording_id)


def recording_family(*, recording: Recording, user: User) -> list[Recording]:
    """The versions of `recording`'s clip that `user` may know of, as a tree in depth-first order.

    The owner sees the original and every version derived from it. Anyone else (an instructor
    reviewing a submission) sees only the versions they may open and the steps of their
    histories (their ancestors, up to the original), never the owner's other versions: their
    titles and ids are the student's, not the submission's.

    Each recording gets `depth` (0 for the original), `version_number` (0 for the original,
    then 1, 2… in the order they were made, counted among the versions listed, so a reviewer
    does not learn how many others exist) and `is_open` (whether `user` may open its page).
    """
    original = recording.original
    versions = [original, *Recording.objects.filter(root=original).order_by("created_at", "id")]
    if recording.owner_id == user.pk:
        for version in versions:
            version.is_open = True
    else:
        versions = _shown_to_reviewer(versions, user=user)
    ordered = _tree(versions)
    heard = heard_by_active_model(ordered)
    for version in ordered:
        version.heard = heard.get(version.pk)
    return ordered


def _shown_to_reviewer(versions: list[Recording], *, user: User) -> list[Recording]:
    """Of one clip's versions, those `user` may open and their ancestors, in the order they were made."""
    by_id = {version.pk: version for version in versions}
    open_ids = set(recordings_visible(user=user).filter(pk__in=by_id).values_list("pk", flat=True))
    shown: set[int] = set()
    for pk in open_ids:
        node: Recording | None = by_id[pk]
        while node is not None and node.pk not in shown:
            shown.add(node.pk)
            node = by_id.get(node.parent_id) if node.parent_id else None
    kept = [version for version in versions if version.pk in shown]
    for version in kept:
        version.is_open = version.pk in open_ids
    return kept


# A version's reports (tens of kB of JSON) are for the model pages: an analysis read for a page, a poll
# or a filter image does not decode them (they load on first use if it needs them).
_VERSION_REPORTS = ("model_version__weight_histograms", "model_version__metrics", "model_version__training_data")


def analysis_get(*, user: User, analysis_id: int) -> Analysis:
    """An analysis of a recording `user` may open, or 404."""
    analyses = Analysis.objects.select_related("job", "model_version", "recording").defer(*_VERSION_REPORTS)
    # Most requests (a page's dozens of filter images) come from the owner: one cheap query.
    own = analyses.filter(pk=analysis_id, recording__owner=user).first()
    if own is not None:
        return own
    return get_object_or_404(analyses.filter(recording__in=recordings_visible(user=user)), pk=analysis_id)


def analysis_for(*, recording: Recording, model_version_id: int | None = None) -> Analysis | None:
    """The recording's analysis by a model version (the active one by default), if one was asked for."""
    analyses = Analysis.objects.filter(recording=recording).select_related("job", "model_version")
    analyses = analyses.defer(*_VERSION_REPORTS)
    if model_version_id is None:
        return analyses.filter(model_version__is_active=True).first()
    return analyses.filter(model_version_id=model_version_id).first()


def analysis_settled(*, recording: Recording, analysis: Analysis | None, within_s: float) -> Analysis | None:
    """The recording's analysis once a job started moments ago has finished, waiting up to `within_s` for it.

    A new clip's analysis ends about a tenth of a second after its upload: the lab page that
    the upload leads to waits that long rather than drawing "analysing…" and polling for it.
    Older jobs (a queue, a worker that is down) are not waited for.
    """
    if analysis is None or analysis.job.is_finished or within_s <= 0:
        return analysis
    if (timezone.now() - analysis.job.created_at).total_seconds() > FRESH_JOB_S:
        return analysis
    deadline = time.monotonic() + within_s
    finished = Job.objects.filter(pk=analysis.job_id, status__in=[s.value for s in FINISHED])
    while time.monotonic() < deadline:
        if finished.exists():
            return analysis_for(recording=recording, model_version_id=analysis.model_version_id)
        time.sleep(0.01)
    return analysis


# How old a job may be for the lab page to wait for it; what finishing means.
FRESH_JOB_S = 2.0
FINISHED = (Job.Status.DONE, Job.Status.FAILED, Job.Status.CANCELLED)


def analysis_cache(analysis: Analysis) -> AnalysisCache:
    """The unpacked arrays of a finished analysis (kept in memory for the next requests)."""
    if not analysis.activations.name:
        raise ValueError("This analysis has stored nothing yet.")
    return stored_analysis_cache(analysis.activations.name)


def stored_analysis_cache(path: str) -> AnalysisCache:
    """The unpacked arrays of an analysis's stored file (kept in memory: a new run writes a new name)."""
    # One thread loads it; the page's other image requests, arriving at once, wait for it
    # instead of each reading and unpacking the same file.
    with _cache_lock:
        return _load_cache(path)


_cache_lock = threading.Lock()


@lru_cache(maxsize=16)
def _load_cache(path: str) -> AnalysisCache:
    with default_storage.open(path, "rb") as stored:
        return unpack(stored.read())


def experiment_list(*, user: User) -> QuerySet[Experiment]:
    """The user's own experiments, most recently changed first."""
    return Experiment.objects.filter(owner=user).select_related("course", "recording_a", "recording_b")


def course_list(*, user: User) -> QuerySet[Course]:
    """Courses the user teaches or attends."""
    return Course.objects.filter(Q(instructors=user) | Q(students=user)).distinct()


def submission_list(*, instructor: User, status: str | None = None) -> QuerySet[Experiment]:
    """Experiments submitted to courses `instructor` teaches, newest submission first."""
    submissions = _reviewable_experiments(instructor)
    if status:
        submissions = submissions.filter(status=status)
    return submissions.select_related("owner", "course").order_by("-submitted_at", "-id")


# ----------------------------------------------------------------------------- experiments and review
# Experiments, courses, comments and the unread badge.


def experiments_visible(*, user: User) -> QuerySet[Experiment]:
    """Experiments `user` may open: their own, and those submitted to a course they teach."""
    return Experiment.objects.filter(Q(owner=user) | Q(pk__in=_reviewable_experiments(user).values("pk")))


# A model version's big JSON (weight histograms with kernels, layer table) is decoded only when
# a page asks for it: filter images are requested by the hundred and need none of it.
_HEAVY_VERSION_FIELDS = ("weight_histograms", "layers", "hyperparameters", "training_data", "metrics")


def experiment_get(*, user: User, experiment_id: int) -> Experiment:
    """An experiment `user` may open (own, or submitted to a course they teach), or 404."""
    related = ("owner", "course", "recording_a", "recording_b", "model_version", "model_version_b")
    heavy = [f"{version}__{name}" for version in ("model_version", "model_version_b") for name in _HEAVY_VERSION_FIELDS]
    experiments = experiments_visible(user=user).select_related(*related).defer(*heavy)
    return get_object_or_404(experiments, pk=experiment_id)


def experiment_search(*, user: User, query: str = "", status: str = "") -> QuerySet[Experiment]:
    """The user's own experiments matching `query` (title, notes or a recording's title) and `status`."""
    experiments = experiment_list(user=user).select_related("model_version", "model_version_b")
    if query:
        experiments = experiments.filter(
            Q(title__icontains=query)
            | Q(notes__icontains=query)
            | Q(recording_a__title__icontains=query)
            | Q(recording_b__title__icontains=query)
        )
    if status in Experiment.Status.values:
        experiments = experiments.filter(status=status)
    return experiments


def courses_taught(*, user: User) -> QuerySet[Course]:
    """Courses `user` teaches."""
    return Course.objects.filter(instructors=user)


def courses_attended(*, user: User) -> QuerySet[Course]:
    """Courses `user` attends as a student."""
    return Course.objects.filter(students=user)


def course_attended_get(*, user: User, course_id: object) -> Course | None:
    """The course `user` attends with this id (a form's value, maybe not a number), or None."""
    try:
        return courses_attended(user=user).filter(pk=int(str(course_id))).first()
    except ValueError:
        return None


def courses_taught_with_counts(*, user: User) -> QuerySet[Course]:
    """Courses `user` teaches, each with `n_students` and `n_waiting` (submissions not yet reviewed)."""
    return courses_taught(user=user).annotate(
        n_students=Count("students", distinct=True),
        n_waiting=Count("experiments", filter=Q(experiments__status=Experiment.Status.SUBMITTED), distinct=True),
    )


def submitted_counts_by_course(*, user: User) -> dict[int, int]:
    """How many of `user`'s experiments were submitted to each course, by course id."""
    rows = (
        Experiment.objects.filter(owner=user, course__isnull=False)
        .exclude(status=Experiment.Status.DRAFT)
        .values("course")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["course"]: row["n"] for row in rows}


def course_get(*, user: User, course_id: int) -> Course:
    """A course `user` teaches or attends, or 404."""
    return get_object_or_404(course_list(user=user), pk=course_id)


def course_submissions(*, course: Course, status: str = "") -> QuerySet[Experiment]:
    """Experiments submitted to `course`, newest submission first (drafts never show)."""
    submissions = course.experiments.exclude(status=Experiment.Status.DRAFT)
    if status in (Experiment.Status.SUBMITTED, Experiment.Status.REVIEWED):
        submissions = submissions.filter(status=status)
    return submissions.select_related("owner", "recording_a", "recording_b").order_by("-submitted_at", "-id")


def course_submission_counts(*, course: Course) -> dict[str, int]:
    """How many submissions of `course` wait for review, were reviewed, and in all."""
    counts = course_submissions(course=course).aggregate(
        submitted=Count("id", filter=Q(status=Experiment.Status.SUBMITTED)),
        reviewed=Count("id", filter=Q(status=Experiment.Status.REVIEWED)),
    )
    return {**counts, "all": counts["submitted"] + counts["reviewed"]}


def course_own_submissions(*, user: User, course: Course) -> QuerySet[Experiment]:
    """What `user` submitted to `course`, newest first."""
    own = Experiment.objects.filter(owner=user, course=course).exclude(status=Experiment.Status.DRAFT)
    return own.order_by("-submitted_at")


def experiment_drafts(*, user: User) -> QuerySet[Experiment]:
    """The user's experiments not submitted yet, most recently changed first."""
    return experiment_list(user=user).filter(status=Experiment.Status.DRAFT)


def read_mark_at(*, user: User, experiment: Experiment) -> datetime | None:
    """When `user` last read the experiment's comments, or None."""
    mark = ReadMark.objects.filter(user=user, experiment=experiment).first()
    return mark.read_at if mark else None


def comment_list(*, experiment: Experiment) -> QuerySet[Comment]:
    """An experiment's review comments, oldest first."""
    return experiment.comments.select_related("author")


def _unread_comments(user: User) -> QuerySet[Comment]:
    """Comments others wrote on experiments `user` may open, after `user` last read them."""
    read_at = ReadMark.objects.filter(user=user, experiment=OuterRef("experiment")).values("read_at")[:1]
    return (
        Comment.objects.filter(experiment__in=experiments_visible(user=user))
        .exclude(author=user)
        .annotate(read_at=Subquery(read_at))
        .filter(Q(read_at__isnull=True) | Q(created_at__gt=F("read_at")))
    )


def unread_counts(*, user: User, experiment_ids: list[int] | None = None) -> dict[int, int]:
    """Unread comments per experiment id (only experiments with some)."""
    comments = _unread_comments(user)
    if experiment_ids is not None:
        comments = comments.filter(experiment_id__in=experiment_ids)
    rows = comments.values("experiment_id").annotate(n=Count("id")).order_by()
    return {row["experiment_id"]: row["n"] for row in rows}


def review_badges(*, user: User) -> dict[str, int]:
    """What the navigation badges count.

    ``experiments``: unread comments on the user's own experiments; ``courses``: submissions
    waiting for the user's review plus unread comments on them (instructors);
    ``total``: both.
    """
    counts = _unread_comments(user).aggregate(
        own=Count("id", filter=Q(experiment__owner=user)), others=Count("id", filter=~Q(experiment__owner=user))
    )
    waiting = _reviewable_experiments(user).filter(status=Experiment.Status.SUBMITTED).count()
    badges = {
        "experiments": counts["own"] or 0,
        "courses": waiting + (counts["others"] or 0),
        "waiting": waiting,
        "unread_reviews": counts["others"] or 0,
    }
    badges["total"] = badges["experiments"] + badges["courses"]
    return badges


def experiment_sides(experiment: Experiment) -> tuple[tuple[Recording, ModelVersion], tuple[Recording, ModelVersion]]:
    """The (recording, model version) of side A and side B.

    Two clips through one model, or one clip through two model versions.
    """
    side_a = (experiment.recording_a, experiment.model_version)
    if experiment.model_version_b_id and (model_b := experiment.model_version_b) is not None:
        return side_a, (experiment.recording_a, model_b)
    return side_a, (experiment.recording_b or experiment.recording_a, experiment.model_version)


def experiment_verdicts(*, experiments: list[Experiment]) -> dict[int, tuple[str, str]]:
    """Each experiment's predicted labels (A, B) where both analyses are done, in one query."""
    pairs = {e.pk: experiment_sides(e) for e in experiments}
    wanted = Q(pk__in=[])
    for (rec_a, model_a), (rec_b, model_b) in pairs.values():
        wanted |= Q(recording=rec_a, model_version=model_a) | Q(recording=rec_b, model_version=model_b)
    found = {
        (a.recording_id, a.model_version_id): a.predicted_label
        for a in Analysis.objects.filter(wanted, job__status="done").only(
            "recording", "model_version", "predicted_label"
        )
    }
    verdicts = {}
    for pk, ((rec_a, model_a), (rec_b, model_b)) in pairs.items():
        a, b = found.get((rec_a.pk, model_a.pk)), found.get((rec_b.pk, model_b.pk))
        if a is not None and b is not None:
            verdicts[pk] = (a, b)
    return verdicts


def experiment_analyses(experiment: Experiment) -> tuple[Analysis | None, Analysis | None]:
    """The analyses of both sides, where they have been asked for."""
    (rec_a, model_a), (rec_b, model_b) = experiment_sides(experiment)
    found = {
        (a.recording_id, a.model_version_id): a
        for a in Analysis.objects.filter(recording__in={rec_a.pk, rec_b.pk}, model_version__in={model_a.pk, model_b.pk})
        .select_related("job", "model_version", "recording")
        .defer(*(f"model_version__{name}" for name in _HEAVY_VERSION_FIELDS))
    }
    return found.get((rec_a.pk, model_a.pk)), found.get((rec_b.pk, model_b.pk))


def analyses_comparison(analysis_a: Analysis, analysis_b: Analysis) -> list["LayerComparison"]:
    """Stage by stage (input, each convolution layer, output): how the two finished analyses differ."""
    return _load_comparison(analysis_a.pk, analysis_a.activations.name, analysis_b.pk, analysis_b.activations.name)


@lru_cache(maxsize=16)
def _load_comparison(id_a: int, file_a: str, id_b: int, file_b: str) -> list["LayerComparison"]:
    # Keyed by the cache files too, like _load_cache: a retried analysis is compared afresh.
    from experiments.comparison import compare

    analysis_a, analysis_b = Analysis.objects.get(pk=id_a), Analysis.objects.get(pk=id_b)
    cache_a, cache_b = analysis_cache(analysis_a), analysis_cache(analysis_b)
    return compare(
        features_a=cache_a.features,
        features_b=cache_b.features,
        activations_a=cache_a.activations,
        activations_b=cache_b.activations,
        probabilities_a=analysis_a.probabilities,
        probabilities_b=analysis_b.probabilities,
    )
