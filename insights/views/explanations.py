"""Beyond the layers: attribution you can hear, gradient attacks and robustness sweeps, and the dataset view."""

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.charts import probability_lines
from core.errors import ServiceError
from core.figures import figure_download, robustness_figure
from core.htmx import AuthenticatedHttpRequest, form_refused, page_redirect
from core.media import Media, media_view
from core.throttles import throttle_job_start
from dsp.operation_specs import OPERATIONS
from dsp.params import FeatureParams
from dsp.sonification import wav_bytes
from experiments import selectors as experiment_selectors
from experiments.presenters import probability_rows
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_derive
from insights import selectors
from insights.attribution import PADDING_WARNING_SHARE, attribution_masks, evidence_outside_word, listen
from insights.forms import AttackForm, SweepForm
from insights.models import Attribution
from insights.presenters import before_after, confusion_rows, faithfulness_rows, ig_summary, sweep_points
from insights.robustness import SWEEPS
from insights.services import attack_request, attribution_request, sweep_request
from modelzoo.rendering import figure_png, overlay_rgb
from modelzoo.selectors import model_version_get

# --------------------------------------------------------------------------- attribution


@login_required
@require_http_methods(["GET", "POST"])
@throttle_job_start("explanations")
def attribution_page(request: AuthenticatedHttpRequest, analysis_id: int) -> HttpResponse:
    """Why the network heard what it heard: Grad-CAM per layer and integrated gradients, seen and heard.

    GET shows the explanation of one digit (``?target=``, default: the predicted one) once
    someone asked for it; POST (the owner) asks for it, or retries it, and comes back here.
    """
    analysis = experiment_selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    target = request.POST.get("target") or request.GET.get("target") or analysis.predicted_label
    if target not in analysis.model_version.labels:
        raise Http404("Unknown digit.")
    is_owner = analysis.recording.owner_id == request.user.pk
    if request.method == "POST":
        if not is_owner:
            raise Http404("Only the owner of the recording can ask for an explanation.")
        try:
            attribution_request(analysis=analysis, target=target, requested_by=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect(f"{request.path}?target={target}")
    attribution = selectors.attribution_for(analysis=analysis, target=target)
    maps = _map_names(attribution) if attribution and attribution.is_done else []
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "target": target,
        "is_owner": is_owner,
        "attribution": attribution,
        "probabilities": probability_rows(analysis),
        "heard_percent": round(analysis.probabilities.get(analysis.predicted_label, 0.0) * 100),
        "maps": maps,
    }
    if attribution is not None and maps:
        _add_padding_shares(attribution, maps)
        context["ig"] = ig_summary(attribution.summary)
        rows = {
            row["key"]: row for row in faithfulness_rows(attribution.summary, [m["key"] for m in maps], target=target)
        }
        for entry in maps:
            entry["faith"] = rows.get(entry["key"])
        context["measured"] = bool(rows)
        context["flagged"] = [row["title"] for row in rows.values() if row["flagged"]]
    template = "insights/attribution.html" + ("#attribution" if request.htmx else "")
    return render(request, template, context)


def _add_padding_shares(attribution: Attribution, maps: list[dict]) -> None:
    """Each map's share of evidence outside the spoken part, and whether the page should warn about it."""
    analysis = attribution.analysis
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    stored = selectors.attribution_maps(attribution)
    waveform = experiment_selectors.analysis_cache(analysis).waveform
    for entry in maps:
        share = evidence_outside_word(stored[entry["key"]], waveform, params) if entry["key"] in stored else None
        entry["padding_share"] = share
        entry["padding_warning"] = share is not None and share >= PADDING_WARNING_SHARE


def _map_names(attribution: Attribution) -> list[dict]:
    names = [{"key": "ig", "title": "Integrated gradients (input)", "signed": True}]
    names += [
        {"key": f"cam_{layer}", "title": f"Grad-CAM · {layer}", "signed": False}
        for layer in attribution.summary.get("layers", [])
    ]
    return names


def _attribution_map(
    request: AuthenticatedHttpRequest, attribution_id: int, key: str
) -> tuple[Attribution, np.ndarray]:
    attribution = selectors.attribution_get(user=request.user, attribution_id=attribution_id)
    if not attribution.is_done:
        raise Http404("This attribution has not finished.")
    maps = selectors.attribution_maps(attribution)
    if key not in maps:
        raise Http404("No such map.")
    return attribution, maps[key]


@media_view
def attribution_image(request: AuthenticatedHttpRequest, attribution_id: int, key: str) -> Media:
    """The input spectrogram with an attribution map laid over it, with axes."""
    attribution, heat = _attribution_map(request, attribution_id, key)
    analysis = attribution.analysis
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    signed = key == "ig"

    def draw() -> bytes:
        features = experiment_selectors.analysis_cache(analysis).features
        title = (
            f"Integrated gradients for “{attribution.target}”: red for, blue against"
            if signed
            else f"Grad-CAM of {key.removeprefix('cam_')} for “{attribution.target}”"
        )
        limit = float(np.abs(heat).max()) or 1.0
        return figure_png(
            heat,
            rgb=overlay_rgb(features, heat, signed=signed),
            duration_s=params.duration_s,
            max_freq_hz=params.sample_rate / 2,
            vmin=-limit if signed else 0.0,
            vmax=limit if signed else 1.0,
            cmap="RdBu_r" if signed else "magma",
            title=title,
            colorbar_label="attribution",
        )

    return Media(f"attr-{attribution.pk}-{key}", "image/png", draw)


@media_view
def attribution_audio(request: AuthenticatedHttpRequest, attribution_id: int, key: str, part: str) -> Media:
    """Listen to the evidence (the input masked by the attribution, with its phase) or to the rest."""
    if part not in ("evidence", "rest"):
        raise Http404("Listen to the evidence or to the rest.")
    attribution, heat = _attribution_map(request, attribution_id, key)
    analysis = attribution.analysis
    params = FeatureParams.from_dict(analysis.model_version.feature_params)

    def render_wav() -> bytes:
        evidence, rest = attribution_masks(heat)
        spectrum = experiment_selectors.analysis_cache(analysis).stft
        sounds = {"evidence": listen(spectrum, evidence, params), "rest": listen(spectrum, rest, params)}
        # One gain for the clip and both parts (not each to its own peak): a map with little
        # evidence sounds quiet, and the evidence and the rest keep the loudness they have in the clip.
        whole = listen(spectrum, np.ones_like(evidence), params)
        top = max(float(np.abs(y).max()) for y in (whole, *sounds.values()))
        return wav_bytes(sounds[part], params.sample_rate, gain=0.9 / top if top > 1e-9 else 0.0)

    return Media(f"attr-{attribution.pk}-{key}-{part}", "audio/wav", render_wav)


# --------------------------------------------------------------------------- attacks


@login_required
@require_http_methods(["GET", "POST"])
@throttle_job_start("attacks")
def attack_new(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Choose a target and an SNR bound, then run the attack on a worker (the same attack again is reused)."""
    recording = experiment_selectors.recording_get_own(user=request.user, recording_id=recording_id)
    analysis = experiment_selectors.analysis_for(recording=recording)
    labels = analysis.model_version.labels if analysis else [str(d) for d in range(10)]
    form = AttackForm(request.POST or None, labels=labels)
    context = {"recording": recording, "analysis": analysis, "form": form}
    if request.method == "GET":
        return render(request, "insights/attack_new.html", context)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            attack, _ = attack_request(
                recording=recording,
                requested_by=request.user,
                target=data["target"],
                snr_db=data["snr_db"],
                steps=data["steps"],
                seed=data["seed"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            return page_redirect(request, attack)
    template = "insights/attack_new.html" + ("#attack-form" if request.htmx else "")
    return form_refused(request, template, context, status=status, target="#attack-form")


@login_required
@require_GET
def attack_detail(request: AuthenticatedHttpRequest, attack_id: int) -> HttpResponse:
    """The attack's progress, then its outcome first: success, achieved SNR, probabilities before and after."""
    attack = selectors.attack_get(user=request.user, attack_id=attack_id)
    context = {
        "attack": attack,
        "job": attack.job,
        "recording": attack.recording,
        "result": attack.result,
        "bars": before_after(attack.result) if attack.result else [],
    }
    template = "insights/attack_detail.html" + ("#attack" if request.htmx else "")
    return render(request, template, context)


# --------------------------------------------------------------------------- sweeps


@login_required
@require_http_methods(["GET", "POST"])
@throttle_job_start("sweeps")
def sweep_new(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Pick an operation and a range; the worker plots every digit's probability across it."""
    recording = experiment_selectors.recording_get_own(user=request.user, recording_id=recording_id)
    op = request.POST.get("op") or request.GET.get("op") or "pitch_shift"
    op = op if op in SWEEPS else "pitch_shift"
    form = SweepForm(request.POST) if request.method == "POST" else SweepForm.for_op(op)
    context = {
        "recording": recording,
        "form": form,
        "op": op,
        "spec": SWEEPS[op].to_dict(),
        "op_label": OPERATIONS[op].label,
        "sweeps": [spec.to_dict() | {"op_label": OPERATIONS[name].label} for name, spec in SWEEPS.items()],
    }
    if request.method == "GET":
        return render(request, "insights/sweep_new.html", context)
    status = 400
    if form.is_valid():
        try:
            sweep = sweep_request(recording=recording, requested_by=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            return page_redirect(request, sweep)
    template = "insights/sweep_new.html" + ("#sweep-form" if request.htmx else "")
    return form_refused(request, template, context, status=status, target="#sweep-form")


@login_required
@require_GET
def sweep_detail(request: AuthenticatedHttpRequest, sweep_id: int) -> HttpResponse:
    """The sweep's progress, then the plot: click a point to open that variant in the lab."""
    sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
    result = sweep.result
    context = {
        "sweep": sweep,
        "job": sweep.job,
        "recording": sweep.recording,
        "result": result,
        "points": sweep_points(result),
        "spec": SWEEPS[sweep.op].to_dict(),
        "op_label": OPERATIONS[sweep.op].label,
        "chart": probability_lines(result) if result else None,
    }
    template = "insights/sweep_detail.html" + ("#sweep" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_POST
def sweep_open_point(request: AuthenticatedHttpRequest, sweep_id: int, index: int) -> HttpResponse:
    """Save one point of a sweep as a new version, start its analysis, and open it in the lab."""
    sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
    points = sweep.result.get("points", [])
    if not 0 <= index < len(points):
        raise Http404("No such point.")
    try:
        derived = recording_derive(recording=sweep.recording, operations=[points[index]["operation"]])
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(sweep)
    messages.success(request, f"Opened the variant at {points[index]['value']:g} {sweep.result['unit']}.")
    try:  # the variant is saved: its analysis starts now, not when the lab page is opened
        analysis_request(recording=derived, requested_by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(derived)


@media_view
def sweep_figure(request: AuthenticatedHttpRequest, sweep_id: int, fmt: str) -> Media:
    """The sweep's robustness curve (each digit's probability along the range) as PNG, SVG or PDF."""
    sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
    if not sweep.result:
        raise Http404("This sweep has not finished.")
    spec = SWEEPS[sweep.op]

    def draw() -> bytes:
        return robustness_figure(
            sweep.result["values"],
            sweep.result["probabilities_by_label"],
            xlabel=f"{spec.label} ({spec.unit})" if spec.unit else spec.label,
            title=f"{sweep.recording.title}: {OPERATIONS[sweep.op].label.lower()} sweep",
            fmt=fmt,
        )

    return figure_download(etag=f"fig-sweep-{sweep.pk}", fmt=fmt, filename=f"sweep-{sweep.pk}", draw=draw)


# --------------------------------------------------------------------------- the dataset view


@login_required
@require_GET
def model_dataset(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    """The confusion matrix on the held-out evaluation clips; a cell lists its clips to hear or open in the lab."""
    version = model_version_get(user=request.user, version_id=version_id)
    evaluation = version.metrics.get("evaluation_clips")
    if not evaluation:
        raise Http404("This version has not been evaluated on the bundled clips.")
    labels = evaluation["labels"]
    true_label, predicted = request.GET.get("true"), request.GET.get("pred")
    selected = []
    if true_label in labels and predicted in labels:
        selected = [
            {**clip, "name": clip["file"].removesuffix(".wav")}
            for clip in evaluation["clips"]
            if clip["label"] == true_label and clip["predicted"] == predicted
        ]
    context = {
        "version": version,
        "evaluation": evaluation,
        "matrix": confusion_rows(evaluation),
        "true_label": true_label,
        "predicted": predicted,
        "selected": selected,
    }
    template = "insights/model_dataset.html" + ("#cell-clips" if request.htmx else "")
    return render(request, template, context)
