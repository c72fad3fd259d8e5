"""Writing recordings: uploads, browser takes, sample clips and derived versions."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction

from ddevis_site.errors import ServiceError
from experiments.audio import CanonicalAudio, canonical, canonicalise, load_canonical
from experiments.models import Recording
from experiments.operations import OperationError, apply_operations
from modelzoo.features import AudioError
from modelzoo.samples import sample_clip

ALLOWED_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3"}


def _clean_title(title: str, fallback: str) -> str:
    title = " ".join((title or "").split())[:200]
    return title or fallback[:200] or "Untitled clip"


def _save(recording: Recording, audio: CanonicalAudio) -> Recording:
    recording.sha256 = audio.sha256
    recording.sample_rate = audio.sample_rate
    recording.duration_s = round(audio.duration_s, 4)
    recording.audio.save("audio.wav", ContentFile(audio.wav), save=False)
    recording.save()
    return recording


def recording_upload(
    *, owner: AbstractBaseUser, data: bytes, filename: str, title: str = "", source: str = Recording.Source.UPLOAD
) -> Recording:
    """Keep an uploaded (or browser-recorded) file and its canonical WAV.

    Raises
    ------
    ServiceError
        Too big, wrong type, unreadable, too long or too short: nothing is saved.
    """
    if source not in (Recording.Source.UPLOAD, Recording.Source.RECORD):
        raise ServiceError("The source must be “upload” or “record”.")
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ServiceError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is {settings.MAX_UPLOAD_MB:g} MB.", status=413
        )
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ServiceError(
            f"“{filename}” is not a supported audio file; upload a WAV, FLAC, OGG or MP3 file.", status=415
        )
    try:
        audio, original_format = canonicalise(data, max_duration_s=settings.MAX_AUDIO_SECONDS)
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
        recording.original_file.save(f"original{suffix}", ContentFile(data), save=False)
        return _save(recording, audio)


def recording_from_sample(*, owner: AbstractBaseUser, name: str) -> Recording:
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


def recording_render(*, original: Recording, operations: list[dict]) -> tuple[CanonicalAudio, list[dict]]:
    """Apply `operations` to an original's audio; returns the audio and the normalised operations.

    Raises
    ------
    ServiceError
        An operation is unknown or out of range, or the result too long or too short.
    """
    source = recording_audio(original)
    try:
        y, normalised = apply_operations(
            source.y, source.sample_rate, operations, max_duration_s=settings.MAX_AUDIO_SECONDS
        )
    except OperationError as exc:
        raise ServiceError(str(exc)) from None
    return canonical(y, source.sample_rate), normalised


def _check_operations_payload(operations: object) -> list[dict]:
    if not isinstance(operations, list) or not operations:
        raise ServiceError('“operations” must be a non-empty list of {"op": ..., "params": {...}}.')
    if len(operations) > 20:
        raise ServiceError("At most 20 operations can be applied at once.")
    return operations


def recording_preview(*, recording: Recording, operations: object) -> tuple[CanonicalAudio, list[dict]]:
    """What deriving `recording` with `operations` would give, without saving anything."""
    new = _check_operations_payload(operations)
    return recording_render(original=recording.original, operations=[*recording.operations, *new])


def recording_derive(*, recording: Recording, operations: object, title: str = "") -> Recording:
    """Save a new recording: `recording`'s history followed by `operations`, replayed from the original.

    Replaying from the original (not editing the parent's audio) is what makes any
    history reproducible bit for bit.
    """
    audio, history = recording_preview(recording=recording, operations=operations)
    steps = ", ".join(op["op"].replace("_", " ") for op in history[len(recording.operations) :])
    derived = Recording(
        owner=recording.owner,
        title=_clean_title(title, f"{recording.original.title} + {steps}"),
        source=Recording.Source.DERIVED,
        parent=recording,
        root=recording.original,
        operations=history,
    )
    return _save(derived, audio)


def recording_replay(*, recording: Recording) -> CanonicalAudio:
    """Recompute a recording's audio from its original and its history."""
    if recording.root is None:
        return recording_audio(recording)
    audio, _ = recording_render(original=recording.root, operations=recording.operations)
    return audio
