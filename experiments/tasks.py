"""Job handlers of the experiments app (worker side)."""

import secrets
import time
from typing import Any

import soundfile as sf
from django.core.files.base import ContentFile
from django.utils import timezone

from jobs.models import Job
from jobs.registry import JobError, Progress, job_handler


@job_handler("analysis_run")
def analysis_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Decode a recording, run one forward pass, store the cache of every convolution layer."""
    from dsp.errors import AudioError
    from experiments.models import Analysis
    from experiments.services.recordings import recording_audio
    from modelzoo import cache, inference

    started = time.perf_counter()
    queued_ms = (timezone.now() - job.created_at).total_seconds() * 1000
    analysis = Analysis.objects.select_related("recording", "model_version").get(job=job)
    try:
        audio = recording_audio(analysis.recording)
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise JobError(
            f"The recording's stored audio could not be read ({exc}). "
            "If it was being copied or restored, retry; otherwise upload the clip again."
        ) from None
    progress(15, "Loading the model")
    model = inference.load_version(analysis.model_version)
    progress(30, "Running the network")
    try:
        result = inference.forward_audio(model, audio.y, audio.sample_rate)
    except AudioError as exc:
        raise JobError(str(exc)) from None
    progress(80, "Storing every layer's output")
    store_started = time.perf_counter()
    packed = cache.pack(result.cache)
    if analysis.activations:
        analysis.activations.delete(save=False)
    # A fresh name on every run: pages cache unpacked arrays and ETags by the file's name.
    analysis.activations.save(f"{analysis.pk}-{secrets.token_hex(6)}.npz", ContentFile(packed), save=False)
    analysis.layers = [
        {
            "name": name,
            "filters": int(values.shape[0]),
            "shape": [int(values.shape[1]), int(values.shape[2]), int(values.shape[0])],
            **cache.layer_statistics(values),
        }
        for name, values in result.cache.activations.items()
    ]
    analysis.probabilities = result.probabilities
    analysis.predicted_label = result.predicted_label
    analysis.is_silent = result.silent
    store_ms = (time.perf_counter() - store_started) * 1000
    analysis.timings = {
        **result.timings,
        "store_ms": round(store_ms, 2),
        "queued_ms": round(queued_ms, 2),
        "worker_ms": round((time.perf_counter() - started) * 1000, 2),
        "cache_bytes": len(packed),
    }
    analysis.save()
    return {"analysis": analysis.pk, "predicted_label": result.predicted_label}
