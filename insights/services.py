"""Asking for attributions, attacks and robustness sweeps: each is a record computed by a job on a worker."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from core.errors import ServiceError
from dsp.operations import validate_operation
from experiments.models import Analysis, Recording
from experiments.services.analyses import active_model_version
from insights.attacks import adversarial_operation
from insights.models import Attack, Attribution, Sweep
from insights.robustness import MAX_POINTS, SWEEPS, sweep_operations, sweep_values
from jobs.models import Job
from jobs.services import job_enqueue, job_retry
from modelzoo.models import ModelVersion


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
) -> tuple[Attack, bool]:
    """A projected-gradient attack on `recording`; (attack, created).

    `target` None (or "") is untargeted (any other digit); the bound is the signal-to-noise
    ratio in dB. The same attack asked for again (same model, target, bound, steps and
    seed) is the same record: a failed one is retried, any other is reused as it is.
    """
    version = model_version or active_model_version()
    target = target or ""
    try:
        step = adversarial_operation(
            model_version=version.pk,
            target=_label_index(version, target) if target else None,
            snr_db=snr_db,
            steps=steps,
            seed=seed,
            n_labels=len(version.labels),
        )
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    params = step["params"]
    same = Attack.objects.filter(
        recording=recording,
        model_version=version,
        target=target,
        snr_db=params["snr_db"],
        steps=params["steps"],
        seed=params["seed"],
    ).select_related("job")
    if existing := same.first():
        if existing.job.status == Job.Status.FAILED:
            job_retry(job=existing.job)
            existing.refresh_from_db()
        return existing, False
    with transaction.atomic():
        job = Job.objects.create(kind="attack_run", owner=requested_by, payload={})
        attack = Attack.objects.create(
            recording=recording,
            model_version=version,
            job=job,
            target=target,
            snr_db=params["snr_db"],
            steps=params["steps"],
            seed=params["seed"],
            step=step,
        )
    job_enqueue(job=job)
    return Attack.objects.select_related("job").get(pk=attack.pk), True


def sweep_request(
    *,
    recording: Recording,
    requested_by: AbstractBaseUser,
    op: str,
    start: float | None = None,
    stop: float | None = None,
    num: int | None = None,
    model_version: ModelVersion | None = None,
) -> Sweep:
    """Queue a robustness sweep of one operation over a range; the sweep's result holds every point."""
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
    with transaction.atomic():
        job = Job.objects.create(kind="sweep_run", owner=requested_by, payload={})
        sweep = Sweep.objects.create(recording=recording, model_version=version, job=job, op=op, values=values)
    job_enqueue(job=job)
    return Sweep.objects.select_related("job").get(pk=sweep.pk)


def sweep_limits() -> dict[str, Any]:
    """What the sweep form offers: every sweepable operation with its default range."""
    return {"max_points": MAX_POINTS, "sweeps": {op: spec.to_dict() for op, spec in SWEEPS.items()}}
