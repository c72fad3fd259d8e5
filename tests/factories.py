"""Small builders for rows the tests need; audio is synthetic and real."""

import hashlib
import io

import numpy as np
import soundfile as sf
from django.core.files.base import ContentFile

from experiments.models import Experiment, Recording
from modelzoo.models import ModelVersion


def wav_bytes(
    seconds: float = 0.6,
    sr: int = 8000,
    freq: float = 440.0,
    channels: int = 1,
    subtype: str = "PCM_16",
    fmt: str = "WAV",
) -> bytes:
    """A sine tone with a short fade, encoded as an audio file."""
    t = np.arange(int(seconds * sr)) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t) * np.minimum(1, np.minimum(t, t[::-1]) * 20)
    if channels > 1:
        y = np.stack([y] * channels, axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def recording_row(*, owner, title: str = "A tone", data: bytes | None = None) -> Recording:
    """A recording row holding a WAV as its canonical audio (no upload checks)."""
    data = data or wav_bytes()
    info = sf.info(io.BytesIO(data))
    recording = Recording(
        owner=owner,
        title=title,
        source=Recording.Source.UPLOAD,
        sha256=hashlib.sha256(data).hexdigest(),
        sample_rate=info.samplerate,
        duration_s=info.duration,
    )
    recording.audio.save("clip.wav", ContentFile(data), save=False)
    recording.save()
    return recording


def model_version_row(name: str = "test-model") -> ModelVersion:
    """A model version row without a usable file, for pages that only list versions."""
    version, _ = ModelVersion.objects.get_or_create(name=name, defaults={"labels": [str(d) for d in range(10)]})
    return version


def experiment_create(*, owner, title: str) -> Experiment:
    return Experiment.objects.create(
        owner=owner, title=title, recording_a=recording_row(owner=owner), model_version=model_version_row()
    )
