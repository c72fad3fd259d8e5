"""Asking for attributions, attacks and robustness sweeps: each runs as a job on a worker."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from ddevis_site.errors import ServiceError
from experiments.models import Analysis, Attribution, Recording
from experiments.operations import validate_operation
from experiments.services.analyses import active_model_version
from jobs.models import Job
from jobs.services import job_create, job_enqueue, job_retry
from modelzoo.attacks import adversarial_operation
from modelzoo.models import ModelVersion
from modelzoo.robustness import MAX_POINTS, SWEEPS, sweep_operations, sweep_values


def _label_index(version: ModelVersion, label: str) -> int:
    if label not in version.labels:
        raise ServiceError(f"“{label}” is not one of the model's labels ({', '.join(version.labels)}).")
    return version.labels.index(label)


def attribution_request(*, analysis: Analysis, target: str, requested_by: AbstractBaseUser) -> tuple[Attribution, bool]:
    """Grad-CAM of every layer and integrated gradients for `target` (a label); reused when asked again."""
    if not analysis.is_done:
        raise ServiceError("The analysis has not finished yet.", status=409)
    _label_index(analysis.model_version, target)
    if existing := Attribution.objects.filter(analysis=analysis, target=target).select_related("job").first():
        if existing.job.status == Job.Status.FAILED:
            job_retry(job=existing.job)
            existing.refresh_from_db()
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(kind="attribution_run", owner=requested_by, payload={"analysis": analysis.pk})
            attribution = Attribution.objects.create(analysis=analysis, target=target, job=job)
    except IntegrityError:
        return Attribution.objects.select_related("job").get(analysis=analysis, target=target), False
    job_enqueue(job=attribution.job)
    attribution.refresh_from_db()
    return attribution, True


def attack_request(
    *,
    recording: Recording,
    requested_by: AbstractBaseUser,
    target: str | None,
    snr_db: float,
    steps: int,
    seed: int,
    model_version: ModelVersion | None = None,
) -> Job:
    """Queue a projected-gradient attack on `recording`; the job makes the adversarial version.

    `target` None is untargeted (any other digit); the bound is the signal-to-noise ratio in dB.
    """
    version = model_version or active_model_version()
    try:
        step = adversarial_operation(
            model_version=version.pk,
            target=None if target in (None, "") else _label_index(version, target),
            snr_db=snr_db,
            steps=steps,
            seed=seed,
            n_labels=len(version.labels),
        )
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    return job_create(kind="attack_run", owner=requested_by, payload={"recording": recording.pk, "step": step})


def sweep_request(
    *,
    recording: Recording,
    requested_by: AbstractBaseUser,
    op: str,
    start: float | None = None,
    stop: float | None = None,
    num: int | None = None,
    model_version: ModelVersion | None = None,
) -> Job:
    """Queue a robustness sweep of one operation over a range; the job's result holds every point."""
    if op not in SWEEPS:
        raise ServiceError(f"“{op}” cannot be swept; choose one of {', '.join(SWEEPS)}.")
    spec = SWEEPS[op]
    start = spec.start if start is None else start
    stop = spec.stop if stop is None else stop
    num = spec.num if num is None else num
    try:
        values = sweep_values(op, start, stop, num)
        for operation in sweep_operations(op, values):
            validate_operation(operation, duration_s=recording.duration_s)
    except ValueError as exc:  # OperationError is a ValueError too
        raise ServiceError(str(exc)) from None
    version = model_version or active_model_version()
    payload: dict[str, Any] = {"recording": recording.pk, "model_version": version.pk, "op": op, "values": values}
    return job_create(kind="sweep_run", owner=requested_by, payload=payload)


def sweep_limits() -> dict[str, Any]:
    """What the sweep form offers: every sweepable operation with its default range."""
    return {"max_points": MAX_POINTS, "sweeps": {op: spec.to_dict() for op, spec in SWEEPS.items()}}
