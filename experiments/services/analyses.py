"""Asking for analyses: one per (recording, model version), computed once by a worker."""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from core.errors import ServiceError
from experiments.models import Analysis, Recording
from jobs.models import Job
from jobs.services import job_enqueue, job_retry
from modelzoo.models import ModelVersion


def active_model_version() -> ModelVersion:
    """The active model version (a clear error when an admin has activated none)."""
    version = ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        raise ServiceError("No model version is active yet; an admin must activate one.", status=409)
    return version


def analysis_request(
    *, recording: Recording, requested_by: User, model_version: ModelVersion | None = None
) -> tuple[Analysis, bool]:
    """The analysis of `recording` by `model_version` (default: the active one); (analysis, created).

    An existing analysis is reused, whatever its state; a failed one is retried with
    :func:`analysis_retry`.
    """
    version = model_version or active_model_version()
    if version.status != ModelVersion.Status.VALID:
        raise ServiceError(f"The model version “{version.name}” is not valid and cannot analyse clips.", status=409)
    existing = Analysis.objects.filter(recording=recording, model_version=version).select_related("job").first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind="analysis_run",
                owner=requested_by,
                payload={"recording": recording.pk, "model_version": version.pk},
            )
            analysis = Analysis.objects.create(recording=recording, model_version=version, job=job)
    except IntegrityError:
        # Someone asked for the same analysis a moment ago: use theirs.
        return Analysis.objects.select_related("job").get(recording=recording, model_version=version), False
    job_enqueue(job=analysis.job)
    # A worker (or, in tests, the immediate backend) may have filled it in already.
    return _reload(analysis), True


def _reload(analysis: Analysis) -> Analysis:
    return Analysis.objects.select_related("job", "model_version", "recording").get(pk=analysis.pk)


def analysis_retry(*, analysis: Analysis) -> Analysis:
    """Run a failed analysis again."""
    job_retry(job=analysis.job)
    return _reload(analysis)
