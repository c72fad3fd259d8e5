"""Helpers the lab's tests share: real clips, uploads, and a snapshot of what is stored."""

import io
from pathlib import Path

import numpy as np
import soundfile as sf
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from experiments.models import Analysis, Recording
from jobs.models import Job
from modelzoo.samples import SAMPLES_DIR

SEVEN = "7_nicolas_5"  # a bundled sample clip the bundled model gets right


def sample_bytes(name: str = SEVEN) -> bytes:
    """A bundled sample clip's WAV bytes."""
    return (SAMPLES_DIR / f"{name}.wav").read_bytes()


def encode(y: np.ndarray, sr: int, *, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def sample_as(fmt: str, name: str = SEVEN) -> bytes:
    """A bundled sample clip re-encoded as WAV, FLAC, OGG (Vorbis) or MP3."""
    y, sr = sf.read(io.BytesIO(sample_bytes(name)), dtype="float32")
    return encode(y, sr, fmt=fmt)


def upload_file(data: bytes, name: str = "clip.wav", content_type: str = "audio/wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def media_files() -> set[str]:
    """Every file under MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def stored_state() -> dict:
    """What is saved: rows of recordings, analyses and jobs (with their contents) and media files."""
    return {
        "recordings": list(Recording.objects.order_by("pk").values()),
        "analyses": list(Analysis.objects.order_by("pk").values()),
        "jobs": list(Job.objects.order_by("pk").values_list("pk", "status", "progress", "error")),
        "files": media_files(),
    }


def analysed(owner, name: str = SEVEN) -> Analysis:
    """A sample clip of `owner`'s, analysed by the active model (tasks run inline in tests)."""
    from experiments.services.analyses import analysis_request
    from experiments.services.recordings import recording_from_sample

    recording = recording_from_sample(owner=owner, name=name)
    analysis, _ = analysis_request(recording=recording, requested_by=owner)
    assert analysis.is_done, analysis.job.error
    return analysis
