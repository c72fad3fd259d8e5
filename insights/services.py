"""Asking for attributions, attacks, robustness sweeps, filter insight and ablations (records computed by
jobs on a worker), and proposing and reviewing concept labels."""

import logging
import re
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ServiceError
from dsp.operations import validate_operation
from experiments.models import Analysis, Course, Recording
from experiments.services.analyses import active_model_version
from insights.ablation import edit_key, muted_filters
from insights.attacks import adversarial_operation
from insights.models import Ablation, AblationAccuracy, Attack, Attribution, FilterLabel, Sweep, VersionInsight
from insights.robustness import MAX_POINTS, SWEEPS, sweep_operations, sweep_values
from jobs.models import Job
from jobs.services import job_enqueue, job_retry
from modelzoo.models import ModelVersion

logger = logging.getLogger(__name__)


def _label_index(version: ModelVersion, label: str) -> int:
    if label not in version.labels:
        raise ServiceError(f"“{label}” is not one of the model's labels ({', '.join(version.labels)}).")
    return version.labels.index(label)


def attribution_request(*, analysis: Analysis, target: str, requested_by: User) -> tuple[Attribution, bool]:
    """Grad-CAM of every layer and integrated gradients for `target` (a label); reused when asked again."""
    if not analysis.is_done:
        raise ServiceError("The analysis has not finished yet.", status=409)
    _label_index(analysis.model_version, target)
    if existing := Attribution.objects.filter(analysis=analysis, target=target).select_related("job").first():
        if existing.job.status == Job.Status.FAILED:
            job_retry(job=existing.job)
            existing.refresh_from_db()
        elif existing.is_done and "faithfulness" not in existing.summary:
            # Explained before faithfulness was measured: explain again, with the checks.
            existing.job = Job.objects.create(
                kind="attribution_run", owner=requested_by, payload={"analysis": analysis.pk}
            )
            existing.save(update_fields=["job"])
            job_enqueue(job=existing.job)
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
    requested_by: User,
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
    requested_by: User,
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


# --------------------------------------------------------------------------- what each filter likes


def version_insight_request(
    *, version: ModelVersion, requested_by: User | None = None, faithfulness_clips: int | None = None
) -> tuple[VersionInsight, bool]:
    """What every filter of `version` likes, its dead filters and its methods' faithfulness; (record, created).

    Computed once per version: an existing record is reused (a failed one is retried).
    `faithfulness_clips` caps the clips the method averages run on (default: one take of
    every digit by every speaker).
    """
    if version.status != ModelVersion.Status.VALID:
        raise ServiceError(f"“{version.name}” is not a valid model version.", status=409)
    if faithfulness_clips is not None and not 1 <= faithfulness_clips <= 250:
        raise ServiceError("faithfulness_clips must be between 1 and 250.")
    if existing := VersionInsight.objects.filter(model_version=version).select_related("job").first():
        if existing.job.status == Job.Status.FAILED:
            job_retry(job=existing.job)
            existing.refresh_from_db()
        return existing, False
    payload = {"model_version": version.pk, "faithfulness_clips": faithfulness_clips}
    try:
        with transaction.atomic():
            job = Job.objects.create(kind="version_insight_run", owner=requested_by, payload=payload)
            insight = VersionInsight.objects.create(model_version=version, job=job)
    except IntegrityError:
        return VersionInsight.objects.select_related("job").get(model_version=version), False
    job_enqueue(job=job)
    return VersionInsight.objects.select_related("job").get(pk=insight.pk), True


def version_insight_after_validation(*, version: ModelVersion) -> None:
    """Queue the filter insight of a version that has just been validated (never fails the validation)."""
    try:
        version_insight_request(version=version)
    except Exception:  # the version is valid whatever happens here; the model page offers to compute it
        logger.exception("Could not queue the filter insight of %s", version)


# --------------------------------------------------------------------------- concept labels

LABEL_LENGTH = (2, 80)
#: Proposals waiting for review one person may have on one filter.
MAX_PENDING_LABELS = 5


def _conv_layer(version: ModelVersion, layer: str) -> dict:
    for row in version.conv_layers:
        if row["name"] == layer:
            return row
    names = ", ".join(row["name"] for row in version.conv_layers)
    raise ServiceError(f"“{layer}” is not a convolution layer of this model ({names}).", status=404)


def conv_filter_check(*, version: ModelVersion, layer: str, index: int) -> dict:
    """The layer row of a (layer, filter) that exists in `version`, or a 404 ServiceError."""
    row = _conv_layer(version, layer)
    if not 0 <= index < (row.get("filters") or 0):
        raise ServiceError(f"{layer} has filters 0 to {(row.get('filters') or 0) - 1}.", status=404)
    return row


def filter_label_propose(*, version: ModelVersion, layer: str, index: int, text: str, proposed_by: User) -> FilterLabel:
    """Propose a concept label for one filter ("onset of /s/"); an instructor of the proposer's course reviews it."""
    conv_filter_check(version=version, layer=layer, index=index)
    text = re.sub(r"\s+", " ", str(text)).strip()
    low, high = LABEL_LENGTH
    if not low <= len(text) <= high:
        raise ServiceError(f"A label has {low} to {high} characters.")
    if any(not ch.isprintable() for ch in text):
        raise ServiceError("A label cannot hold control characters.")
    mine = FilterLabel.objects.filter(model_version=version, layer=layer, index=index, proposed_by=proposed_by)
    if mine.filter(text__iexact=text).exclude(status=FilterLabel.Status.REJECTED).exists():
        raise ServiceError("You have proposed this label for this filter already.", status=409)
    if mine.filter(status=FilterLabel.Status.PROPOSED).count() >= MAX_PENDING_LABELS:
        raise ServiceError(
            f"You have {MAX_PENDING_LABELS} labels waiting for review on this filter already.", status=409
        )
    return FilterLabel.objects.create(
        model_version=version, layer=layer, index=index, text=text, proposed_by=proposed_by
    )


def can_review_label(*, label: FilterLabel, user: User) -> bool:
    """Whether `user` teaches a course the label's proposer attends."""
    return Course.objects.filter(instructors=user, students=label.proposed_by_id).exists()


def filter_label_review(*, label: FilterLabel, reviewer: User, approve: bool) -> FilterLabel:
    """Approve or reject a label; only an instructor of a course the proposer attends may."""
    if not can_review_label(label=label, user=reviewer):
        raise ServiceError("Only an instructor of a course the proposer attends can review this label.", status=403)
    label.status = FilterLabel.Status.APPROVED if approve else FilterLabel.Status.REJECTED
    label.reviewed_by = reviewer
    label.reviewed_at = timezone.now()
    label.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return label


# --------------------------------------------------------------------------- ablations


def _accuracy_request(*, version: ModelVersion, layer: str, muted: list[int]) -> AblationAccuracy:
    """The shared evaluation-set accuracy without these filters (queued once for every clip and user)."""
    key = edit_key(muted)
    if existing := AblationAccuracy.objects.filter(model_version=version, layer=layer, key=key).first():
        if existing.job.status == Job.Status.FAILED:
            job_retry(job=existing.job)
        return existing
    try:
        with transaction.atomic():
            job = Job.objects.create(kind="ablation_accuracy_run", owner=None, payload={})
            accuracy = AblationAccuracy.objects.create(
                model_version=version, layer=layer, key=key, muted=muted, job=job
            )
    except IntegrityError:
        return AblationAccuracy.objects.get(model_version=version, layer=layer, key=key)
    return accuracy


def ablation_request(
    *, analysis: Analysis, layer: str, mode: str, filters: Sequence[int], requested_by: User
) -> tuple[Ablation, bool]:
    """Run the analysis again with `filters` of `layer` muted (or only ``filters[0]`` kept); (ablation, created).

    The same edit asked for again is the same record (a failed one is retried).  Its
    probabilities come from a quick job; the accuracy change on the evaluation set from a
    second one, shared by every ablation that silences the same filters.
    """
    if not analysis.is_done:
        raise ServiceError("The analysis has not finished yet.", status=409)
    row = next((r for r in analysis.layers if r["name"] == layer), None)
    if row is None:
        names = ", ".join(r["name"] for r in analysis.layers)
        raise ServiceError(f"“{layer}” is not a convolution layer of this model ({names}).")
    if any(isinstance(k, bool) or not isinstance(k, int) for k in filters):
        raise ServiceError("Filters are given by their index (whole numbers).")
    try:
        muted = muted_filters(mode=mode, filters=filters, n_filters=row["filters"])
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    chosen = sorted(set(filters))
    key = edit_key(chosen)
    existing = Ablation.objects.filter(analysis=analysis, layer=layer, mode=mode, key=key).select_related("job")
    if ablation := existing.first():
        if ablation.job.status == Job.Status.FAILED:
            job_retry(job=ablation.job)
        if ablation.accuracy and ablation.accuracy.job.status == Job.Status.FAILED:
            job_retry(job=ablation.accuracy.job)
        return _ablation_reload(ablation), False
    accuracy = _accuracy_request(version=analysis.model_version, layer=layer, muted=muted)
    try:
        with transaction.atomic():
            job = Job.objects.create(kind="ablation_run", owner=requested_by, payload={})
            ablation = Ablation.objects.create(
                analysis=analysis,
                layer=layer,
                mode=mode,
                filters=chosen,
                muted=muted,
                key=key,
                job=job,
                accuracy=accuracy,
            )
    except IntegrityError:
        return _ablation_reload(existing.get()), False
    job_enqueue(job=job)  # the probabilities first: they are what the page waits for
    if not accuracy.job.task_id and accuracy.job.status == Job.Status.PENDING:
        job_enqueue(job=accuracy.job)
    return _ablation_reload(ablation), True


def _ablation_reload(ablation: Ablation) -> Ablation:
    return Ablation.objects.select_related("job", "accuracy__job", "analysis__model_version").get(pk=ablation.pk)
