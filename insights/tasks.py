"""Job handlers for attribution, attacks, robustness sweeps and replays (worker side)."""

import io
from typing import Any

import numpy as np
from django.core.files.base import ContentFile

from jobs.models import Job
from jobs.registry import JobError, Progress, job_handler


@job_handler("attribution_run")
def attribution_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Grad-CAM of every convolution layer and integrated gradients for one target digit."""
    from dsp.errors import AudioError
    from dsp.features import prepare
    from experiments.services.recordings import recording_audio
    from insights.attribution import grad_cams, integrated_gradients_result
    from insights.models import Attribution
    from modelzoo.inference import load_version

    attribution = Attribution.objects.select_related("analysis__recording", "analysis__model_version").get(job=job)
    analysis = attribution.analysis
    progress(10, "Loading the model")
    model = load_version(analysis.model_version)
    audio = recording_audio(analysis.recording)
    try:
        features = prepare(audio.y, audio.sample_rate, model.params, allow_silent=True).features
    except AudioError as exc:
        raise JobError(str(exc)) from None
    target = model.labels.index(attribution.target)
    progress(25, "Grad-CAM of every layer")
    cams = grad_cams(model, features, target=target)
    progress(50, "Integrated gradients (32 steps)")
    ig = integrated_gradients_result(model, features, target=target, steps=32)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        ig=ig.attribution.astype(np.float32),
        **{f"cam_{name}": m.astype(np.float32) for name, m in cams.items()},
    )
    if attribution.maps:
        attribution.maps.delete(save=False)
    attribution.maps.save(f"{attribution.pk}.npz", ContentFile(buffer.getvalue()), save=False)
    attribution.summary = {
        "layers": list(cams),
        "score": round(ig.score, 6),
        "baseline_score": round(ig.baseline_score, 6),
        "completeness_error": round(ig.completeness_error, 6),
        "ig_positive_sum": round(float(np.clip(ig.attribution, 0, None).sum()), 6),
        "ig_negative_sum": round(float(np.clip(ig.attribution, None, 0).sum()), 6),
    }
    attribution.save()
    return {"attribution": attribution.pk}


@job_handler("attack_run")
def attack_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Run the attack and keep its result as a new version whose history ends in the adversarial step."""
    from dsp.canonical import canonical
    from dsp.errors import AudioError
    from experiments.services.experiments import experiment_create
    from experiments.services.recordings import recording_audio, recording_save_derived
    from insights.attacks import apply_adversarial
    from insights.models import Attack
    from modelzoo.inference import load_version

    attack = Attack.objects.select_related("recording__root", "model_version").get(job=job)
    recording, step = attack.recording, attack.step
    progress(5, "Loading the model")
    model = load_version(attack.model_version)
    audio = recording_audio(recording)
    total = attack.steps
    try:
        y_adv, result = apply_adversarial(
            model,
            audio.y,
            audio.sample_rate,
            step["params"],
            progress=lambda done, _: progress(10 + 85 * done // total, f"Gradient step {done} of at most {total}"),
        )
    except (AudioError, ValueError) as exc:
        raise JobError(str(exc)) from None
    goal = f"“{attack.target}”" if attack.target else "any other digit"
    adversarial = recording_save_derived(
        parent=recording,
        steps=[step],
        audio=canonical(y_adv, model.params.sample_rate),
        title=f"{recording.title} · attacked towards {goal} at {attack.snr_db:g} dB",
    )
    experiment = experiment_create(
        owner=recording.owner,
        recording_a=recording,
        recording_b=adversarial,
        model_version=attack.model_version,
        title=f"Attack on {recording.title}",
        notes=(
            f"Projected gradient descent towards {goal}, SNR at least {attack.snr_db:g} dB, "
            f"{result.steps_used} of at most {total} steps, seed {attack.seed}: "
            + ("it worked." if result.success else "it did not change the answer.")
        ),
    )
    attack.result = result.to_dict(model.labels)
    attack.adversarial = adversarial
    attack.experiment = experiment
    attack.save(update_fields=["result", "adversarial", "experiment"])
    return {"attack": attack.pk, "recording": adversarial.pk, "experiment": experiment.pk}


@job_handler("sweep_run")
def sweep_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Each digit's probability across a range of one operation."""
    from experiments.services.recordings import recording_audio
    from insights.models import Sweep
    from insights.robustness import run_sweep
    from modelzoo.inference import load_version

    sweep = Sweep.objects.select_related("recording", "model_version").get(job=job)
    progress(5, "Loading the model")
    model = load_version(sweep.model_version)
    audio = recording_audio(sweep.recording)
    try:
        sweep.result = run_sweep(
            model,
            audio.y,
            audio.sample_rate,
            sweep.op,
            sweep.values,
            progress=lambda done, total: progress(10 + 88 * done // total, f"Point {done} of {total}"),
        )
    except ValueError as exc:
        raise JobError(str(exc)) from None
    sweep.save(update_fields=["result"])
    return {"sweep": sweep.pk}


@job_handler("recording_replay")
def recording_replay_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Replay a history that holds an adversarial step, or a long one, and compare with the stored audio."""
    from experiments.models import Recording
    from experiments.services.recordings import recording_audio
    from insights.replay import replay_history

    recording = Recording.objects.select_related("root").get(pk=job.payload["recording"])
    replayed = replay_history(recording_audio(recording.original), recording.operations, progress=progress)
    return {
        "recording": recording.pk,
        "replayed_sha256": replayed.sha256,
        "matches": replayed.sha256 == recording.sha256,
    }
