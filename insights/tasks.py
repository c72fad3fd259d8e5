"""Job handlers for attribution, attacks, robustness sweeps, replays, filter insight and ablations (worker side)."""

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
    from insights.faithfulness import SANITY_THRESHOLD, check_explanations
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
    progress(75, "Checking each map: deletion, insertion, a randomised network")
    maps = {"ig": ig.attribution, **{f"cam_{name}": m for name, m in cams.items()}}
    checks = check_explanations(model, features, maps, target=target)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        allow_pickle=False,
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
        "faithfulness": {key: faith.to_dict() for key, faith in checks.faithfulness.items()},
        "faithfulness_reference": checks.reference.to_dict(),
        "sanity": {
            "randomised_similarity": checks.randomised_similarity,
            "threshold": SANITY_THRESHOLD,
            "flagged": checks.flagged(),
        },
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


@job_handler("version_insight_run")
def version_insight_run(job: Job, progress: Progress) -> dict[str, Any]:
    """What every filter of a model version likes, its dead filters and its explanation methods' faithfulness."""
    from insights.models import VersionInsight
    from insights.version_insight import compute_version_insight, evaluation_features, faithfulness_subset
    from modelzoo.inference import load_version

    insight = VersionInsight.objects.select_related("model_version").get(job=job)
    progress(2, "Loading the model")
    model = load_version(insight.model_version)
    rows = None
    if limit := job.payload.get("faithfulness_clips"):
        subset = faithfulness_subset(evaluation_features(model.params)[1])
        rows = subset[:limit] if limit <= len(subset) else list(range(limit))
    result = compute_version_insight(model, progress=progress, faithfulness_rows=rows)
    if insight.examples:
        insight.examples.delete(save=False)
    insight.examples.save(f"{insight.model_version_id}-{job.pk}.npz", ContentFile(result.examples_npz), save=False)
    insight.layers = result.layers
    insight.connections = result.connections
    insight.faithfulness = result.faithfulness
    insight.timings = result.timings
    insight.save()
    dead = {name: sum(p["dead"] for p in profiles) for name, profiles in result.layers.items()}
    return {"version_insight": insight.pk, "dead_filters": dead, "seconds": result.timings["total_s"]}


@job_handler("ablation_run")
def ablation_run(job: Job, progress: Progress) -> dict[str, Any]:
    """The clip's probabilities with some filters of one layer silenced."""
    from dsp.errors import AudioError
    from dsp.features import prepare
    from experiments.services.recordings import recording_audio
    from insights.ablation import ablated_probabilities
    from insights.models import Ablation
    from modelzoo.inference import load_version

    ablation = Ablation.objects.select_related("analysis__recording", "analysis__model_version").get(job=job)
    analysis = ablation.analysis
    model = load_version(analysis.model_version)
    audio = recording_audio(analysis.recording)
    try:
        features = prepare(audio.y, audio.sample_rate, model.params, allow_silent=True).features
    except AudioError as exc:
        raise JobError(str(exc)) from None
    if ablation.layer not in model.conv_layers:
        raise JobError(f"The model has no convolution layer called {ablation.layer}.")
    probabilities = ablated_probabilities(model, features, layer=ablation.layer, muted=ablation.muted)
    ablation.probabilities = {label: round(float(p), 6) for label, p in zip(model.labels, probabilities, strict=True)}
    ablation.predicted_label = model.labels[int(np.argmax(probabilities))]
    ablation.save(update_fields=["probabilities", "predicted_label"])
    return {"ablation": ablation.pk, "predicted_label": ablation.predicted_label}


@job_handler("ablation_accuracy_run")
def ablation_accuracy_run(job: Job, progress: Progress) -> dict[str, Any]:
    """Accuracy on the bundled evaluation clips with and without some filters of one layer."""
    from insights.ablation import ablated_probabilities
    from insights.models import AblationAccuracy
    from insights.version_insight import evaluation_features
    from modelzoo.evaluation import confusion_summary
    from modelzoo.inference import load_version

    accuracy = AblationAccuracy.objects.select_related("model_version").get(job=job)
    model = load_version(accuracy.model_version)
    if accuracy.layer not in model.conv_layers:
        raise JobError(f"The model has no convolution layer called {accuracy.layer}.")
    progress(10, "Reading the evaluation clips")
    features, clips = evaluation_features(model.params)
    chosen = [i for i, clip in enumerate(clips) if clip.label in model.labels]
    if not chosen:
        raise JobError("None of the evaluation clips has one of this model's labels.")
    truth = [clips[i].label for i in chosen]
    progress(30, f"{len(chosen)} clips with every filter")
    before = ablated_probabilities(model, features[chosen], layer=accuracy.layer, muted=[])
    progress(65, f"{len(chosen)} clips without the muted filters")
    after = ablated_probabilities(model, features[chosen], layer=accuracy.layer, muted=accuracy.muted)
    summaries = [
        confusion_summary(truth, [model.labels[int(i)] for i in np.argmax(p, axis=1)], model.labels)
        for p in (before, after)
    ]
    accuracy.result = {
        "n": len(chosen),
        "before": summaries[0]["accuracy"],
        "after": summaries[1]["accuracy"],
        "change": round(summaries[1]["accuracy"] - summaries[0]["accuracy"], 4),
        "per_label_before": summaries[0]["per_label"],
        "per_label_after": summaries[1]["per_label"],
    }
    accuracy.save(update_fields=["result"])
    return {"ablation_accuracy": accuracy.pk, "change": accuracy.result["change"]}
