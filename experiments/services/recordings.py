"""Writing recordings: uploads, browser takes, sample clips and derived versions."""

import hashlib
from pathlib import Path
from typing import TypedDict
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.deletion import Collector

from core.errors import ServiceError
from dsp.canonical import CanonicalAudio, canonical, canonicalise, load_canonical
from dsp.containers import UnsupportedFormatError
from dsp.errors import AudioError, OperationError
from dsp.limits import MAX_HISTORY_STEPS, MAX_STEPS_PER_EDIT
from dsp.operations import apply_operations
from experiments.models import Experiment, Recording
from jobs.models import Job
from modelzoo.samples import sample_clip


def _clean_title(title: str, fallback: str) -> str:
    title = " ".join((title or "").split())[:200]
    return title or " ".join(fallback.split())[:200] or "Untitled clip"


def _save(recording: Recording, audio: CanonicalAudio) -> Recording:
    recording.sha256 = audio.sha256
    recording.sample_rate = audio.sample_rate
    recording.duration_s = round(audio.duration_s, 4)
    recording.audio.save("audio.wav", ContentFile(audio.wav), save=False)
    recording.save()
    return recording


def recording_upload(
    *, owner: User, data: bytes, filename: str, title: str = "", source: str = Recording.Source.UPLOAD
) -> Recording:
    """Keep an uploaded (or browser-recorded) file and its canonical WAV.

    Raises
    ------
    ServiceError
        Too big (413), not a supported format (415), unreadable, over a decoding cap, too
        long, too short or not analysable (400): nothing is saved.
    """
    if source not in (Recording.Source.UPLOAD, Recording.Source.RECORD):
        raise ServiceError("The source must be “upload” or “record”.")
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ServiceError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is {settings.MAX_UPLOAD_MB:g} MB.", status=413
        )
    # The content decides the format, never the name: a renamed IRCAM file is refused, an AIFF
    # called "take.wav" is read as the AIFF it is.
    try:
        audio, container, original_format = canonicalise(data, max_duration_s=settings.MAX_AUDIO_SECONDS)
    except UnsupportedFormatError as exc:
        raise ServiceError(f"“{filename[:80]}”: {exc}", status=415) from None
    except AudioError as exc:
        raise ServiceError(str(exc)) from None
    recording = Recording(
        owner=owner,
        title=_clean_title(title, Path(filename).stem),
        source=source,
        original_name=filename[:255],
        original_sha256=hashlib.sha256(data).hexdigest(),
        original_format=original_format[:120],
    )
    with transaction.atomic():
        recording.original_file.save(f"original{container.suffix}", ContentFile(data), save=False)
        return _save(recording, audio)


def recording_from_sample(*, owner: User, name: str) -> Recording:
    """Copy a bundled sample clip into the user's recordings."""
    clip = sample_clip(name)
    if clip is None:
        raise ServiceError(f"There is no sample clip called “{name}”.", status=404)
    recording = recording_upload(owner=owner, data=clip.path.read_bytes(), filename=clip.path.name, title=clip.title)
    Recording.objects.filter(pk=recording.pk).update(source=Recording.Source.SAMPLE)
    recording.source = Recording.Source.SAMPLE
    return recording


def recording_audio(recording: Recording) -> CanonicalAudio:
    """The recording's canonical audio, read from storage."""
    with recording.audio.open("rb") as stored:
        return load_canonical(stored.read())


def _apply(audio: CanonicalAudio, operations: list[dict]) -> tuple[CanonicalAudio, list[dict]]:
    """Apply operations to canonical audio; returns the result and the normalised operations.

    Raises
    ------
    ServiceError
        An operation is unknown or out of range, or the result too long or too short.
    """
    try:
        y, normalised = apply_operations(
            audio.y, audio.sample_rate, operations, max_duration_s=settings.MAX_AUDIO_SECONDS
        )
    except OperationError as exc:
        raise ServiceError(str(exc)) from None
    return canonical(y, audio.sample_rate), normalised


def _check_operations_payload(operations: object, *, history: list[dict]) -> list[dict]:
    if not isinstance(operations, list) or not operations:
        raise ServiceError('"operations" must be a non-empty list of {"op": ..., "params": {...}}.')
    if len(operations) > MAX_STEPS_PER_EDIT:
        raise ServiceError(f"At most {MAX_STEPS_PER_EDIT} operations can be applied at once.")
    check_history_length(steps=len(history) + len(operations), existing=len(history))
    return operations


def check_history_length(*, steps: int, existing: int) -> None:
    """Refuse a version whose history would hold more than MAX_HISTORY_STEPS steps."""
    if steps > MAX_HISTORY_STEPS:
        raise ServiceError(
            f"A recording's history holds at most {MAX_HISTORY_STEPS} steps; this version has {existing}, so "
            f"{steps - existing} more would make {steps}. Start again from an earlier version or the original."
        )


def recording_preview(*, recording: Recording, operations: object) -> tuple[CanonicalAudio, list[dict]]:
    """What deriving `recording` with `operations` would give (audio, full history), without saving.

    The new steps run on the parent's stored audio. Stored audio is float32 and every
    operation is deterministic, so this equals replaying the whole history from the
    original, bit for bit (tests prove it); it also keeps steps that only a worker can
    compute (an adversarial perturbation) out of the web tier.
    """
    new = _check_operations_payload(operations, history=recording.operations)
    audio, normalised = _apply(recording_audio(recording), new)
    return audio, [*recording.operations, *normalised]


def recording_derive(*, recording: Recording, operations: object, title: str = "") -> Recording:
    """Save a new recording: `recording`'s history followed by `operations`."""
    audio, history = recording_preview(recording=recording, operations=operations)
    return recording_save_derived(
        parent=recording, steps=history[len(recording.operations) :], audio=audio, title=title
    )


def history_title(original_title: str, history: list[dict]) -> str:
    """A version's default name: its original's and every step of its history ("Seven + slice + reverse")."""
    return " + ".join([original_title, *(step["op"].replace("_", " ") for step in history)])


def recording_save_derived(
    *, parent: Recording, steps: list[dict], audio: CanonicalAudio, title: str = ""
) -> Recording:
    """Store `audio` as a new version of `parent` made by `steps` (already applied and normalised)."""
    check_history_length(steps=len(parent.operations) + len(steps), existing=len(parent.operations))
    history = [*parent.operations, *steps]
    derived = Recording(
        owner=parent.owner,
        # The whole history, not only the last edit: "clip + slice + reverse" says how it was made.
        title=_clean_title(title, history_title(parent.original.title, history)),
        source=Recording.Source.DERIVED,
        parent=parent,
        root=parent.original,
        operations=history,
    )
    return _save(derived, audio)


def recording_replay(*, recording: Recording) -> CanonicalAudio:
    """Recompute a recording's audio from its original and its whole history, in one go."""
    if recording.root is None:
        return recording_audio(recording)
    audio, _ = _apply(recording_audio(recording.root), recording.operations)
    return audio


# ----------------------------------------------------------------------------- deleting


def recording_subtree(recording: Recording) -> list[Recording]:
    """`recording` and every version derived from it (directly or through other versions)."""
    family = Recording.objects.filter(Q(pk=recording.original.pk) | Q(root=recording.original)).only("pk", "parent_id")
    children: dict[int, list[int]] = {}
    for version in family:
        if version.parent_id is not None:
            children.setdefault(version.parent_id, []).append(version.pk)
    ids, todo = [], [recording.pk]
    while todo:
        pk = todo.pop()
        ids.append(pk)
        todo.extend(children.get(pk, []))
    return list(Recording.objects.filter(pk__in=ids).order_by("created_at", "id"))


class DeletionPlan(TypedDict):
    """What deleting a recording takes with it, and what forbids it."""

    versions: list[Recording]
    drafts: list[Experiment]
    submitted: list[Experiment]


def recording_deletion_plan(*, recording: Recording) -> DeletionPlan:
    """What deleting `recording` takes with it: its versions, the owner's draft experiments that use
    them, and the submitted experiments that forbid it."""
    versions = recording_subtree(recording)
    ids = [version.pk for version in versions]
    using = Experiment.objects.filter(Q(recording_a__in=ids) | Q(recording_b__in=ids)).order_by("created_at", "id")
    drafts = [e for e in using if e.status == Experiment.Status.DRAFT]
    return {
        "versions": versions,
        "drafts": drafts,
        "submitted": [e for e in using if e.status != Experiment.Status.DRAFT],
    }


def _cascade(objects: list[Recording]) -> tuple[list[tuple[Storage, str]], set[UUID]]:
    """What deleting `objects` takes with it, beyond rows: the (storage, name) of every file held by
    them and the rows their deletion cascades to, and the ids of those rows' jobs."""
    collector = Collector(using=router.db_for_write(Recording))
    collector.collect(objects)
    instances = [instance for items in collector.data.values() for instance in items]
    for queryset in collector.fast_deletes:
        instances.extend(queryset)
    files: list[tuple[Storage, str]] = []
    jobs: set[UUID] = set()
    for instance in instances:
        for field in instance._meta.concrete_fields:
            if isinstance(field, models.FileField):
                stored = getattr(instance, field.attname)
                if stored:
                    files.append((stored.storage, stored.name))
            elif field.is_relation and field.related_model is Job and getattr(instance, field.attname):
                jobs.add(getattr(instance, field.attname))
    return files, jobs


def recording_delete(*, recording: Recording) -> DeletionPlan:
    """Delete a recording, every version derived from it, their analyses and explanations, the owner's
    draft experiments that use them, and their files.

    A submitted experiment is the course's record: while one uses any of these versions, nothing is
    deleted.

    Returns
    -------
    The plan that was carried out (see :func:`recording_deletion_plan`).

    Raises
    ------
    ServiceError
        409 naming the submitted experiments that use a version.
    """
    with transaction.atomic():
        # Lock the clip's rows so an experiment cannot be submitted between the check and the delete.
        list(Recording.objects.select_for_update().filter(Q(pk=recording.original.pk) | Q(root=recording.original)))
        plan = recording_deletion_plan(recording=recording)
        if plan["submitted"]:
            many = len(plan["submitted"]) > 1
            titles = ", ".join(f"“{e.title}”" for e in plan["submitted"])
            raise ServiceError(
                f"“{recording.title}” cannot be deleted: the submitted experiment{'s' if many else ''} {titles} "
                f"use{'' if many else 's'} it or one of its versions, and submitted experiments are kept for "
                "your instructors.",
                status=409,
            )
        for draft in plan["drafts"]:
            draft.delete()
        files, jobs = _cascade([recording])
        recording.delete()
        # Finished jobs of what went are records of nothing now (a failed one would stay in the admin's
        # list); one still queued or running is left to its worker, which finds nothing to write to.
        Job.objects.filter(pk__in=jobs, status__in=[Job.Status.DONE, Job.Status.FAILED]).delete()

        def remove_files() -> None:
            for storage, name in files:
                storage.delete(name)

        transaction.on_commit(remove_files)
    return plan
