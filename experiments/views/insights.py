"""Beyond the layers: attribution you can hear, gradient attacks and robustness sweeps."""

import io
from functools import lru_cache
from typing import Any

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ddevis_site.errors import ServiceError
from experiments import selectors
from experiments.models import Analysis, Attribution, Recording
from experiments.operations import OPERATIONS
from experiments.services.insights import attack_request, attribution_request, sweep_limits, sweep_request
from experiments.services.recordings import recording_derive
from experiments.views.analyses import probability_rows
from experiments.views.media import cached_response
from jobs.models import Job
from jobs.selectors import job_get_for_user
from modelzoo.attacks import SNR_RANGE_DB, STEPS_RANGE
from modelzoo.attribution import attribution_masks, listen
from modelzoo.features import FeatureParams
from modelzoo.models import ModelVersion
from modelzoo.rendering import figure_png, overlay_rgb
from modelzoo.robustness import SWEEPS
from modelzoo.sonification import wav_bytes

DIGIT_COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#222222",
]


# --------------------------------------------------------------------------- attribution


def _attribution(request: HttpRequest, analysis: Analysis) -> tuple[str, Attribution | None]:
    """The requested target (default: the predicted digit) and its attribution, if asked for before."""
    target = request.GET.get("target") or analysis.predicted_label
    if target not in analysis.model_version.labels:
        raise Http404("Unknown digit.")
    return target, Attribution.objects.filter(analysis=analysis, target=target).select_related("job").first()


@login_required
@require_http_methods(["GET", "POST"])
def attribution_page(request: HttpRequest, analysis_id: int) -> HttpResponse:
    """Why the network heard what it heard: Grad-CAM per layer and integrated gradients, seen and heard."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    target, attribution = _attribution(request, analysis)
    is_owner = analysis.recording.owner_id == request.user.pk
    if (attribution is None or attribution.job.status == Job.Status.FAILED) and is_owner and request.method == "POST":
        try:
            attribution, _ = attribution_request(analysis=analysis, target=target, requested_by=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
    elif attribution is None and is_owner:
        # Asking for an explanation is cheap (about a second on a worker): start it on sight.
        attribution, _ = attribution_request(analysis=analysis, target=target, requested_by=request.user)
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "target": target,
        "attribution": attribution,
        "probabilities": probability_rows(analysis),
        "maps": _map_names(attribution) if attribution and attribution.is_done else [],
    }
    template = "experiments/attribution.html" + ("#attribution" if request.htmx else "")
    return render(request, template, context)


def _map_names(attribution: Attribution) -> list[dict]:
    names = [{"key": "ig", "title": "Integrated gradients (input)", "signed": True}]
    names += [
        {"key": f"cam_{layer}", "title": f"Grad-CAM · {layer}", "signed": False}
        for layer in attribution.summary.get("layers", [])
    ]
    return names


@lru_cache(maxsize=16)
def _load_maps(attribution_id: int, file_name: str) -> dict[str, np.ndarray]:
    attribution = Attribution.objects.get(pk=attribution_id)
    with attribution.maps.open("rb") as stored, np.load(io.BytesIO(stored.read())) as arrays:
        return {name: arrays[name] for name in arrays.files}


def _attribution_map(request: HttpRequest, attribution_id: int, key: str) -> tuple[Attribution, np.ndarray]:
    attribution = get_object_or_404(
        Attribution.objects.select_related("analysis__model_version", "job"), pk=attribution_id
    )
    selectors.analysis_get(user=request.user, analysis_id=attribution.analysis_id)  # 404 for others
    if not attribution.is_done:
        raise Http404("This attribution has not finished.")
    maps = _load_maps(attribution.pk, attribution.maps.name)
    if key not in maps:
        raise Http404("No such map.")
    return attribution, maps[key]


@login_required
@require_GET
def attribution_image(request: HttpRequest, attribution_id: int, key: str) -> HttpResponse:
    """The input spectrogram with an attribution map laid over it, with axes."""
    attribution, heat = _attribution_map(request, attribution_id, key)
    analysis = attribution.analysis
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    signed = key == "ig"

    def draw() -> bytes:
        features = selectors.analysis_cache(analysis).features
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

    return cached_response(request, f"attr-{attribution.pk}-{key}", "image/png", draw)


@login_required
@require_GET
def attribution_audio(request: HttpRequest, attribution_id: int, key: str, part: str) -> HttpResponse:
    """Listen to the evidence (the input masked by the attribution, with its phase) or to the rest."""
    if part not in ("evidence", "rest"):
        raise Http404("Listen to the evidence or to the rest.")
    attribution, heat = _attribution_map(request, attribution_id, key)
    analysis = attribution.analysis
    params = FeatureParams.from_dict(analysis.model_version.feature_params)

    def render_wav() -> bytes:
        evidence, rest = attribution_masks(heat)
        spectrum = selectors.analysis_cache(analysis).stft
        return wav_bytes(listen(spectrum, evidence if part == "evidence" else rest, params), params.sample_rate)

    return cached_response(request, f"attr-{attribution.pk}-{key}-{part}", "audio/wav", render_wav)


# --------------------------------------------------------------------------- attacks


def _float(request: HttpRequest, name: str, default: float) -> float:
    try:
        return float(request.POST.get(name, default))
    except ValueError:
        raise ServiceError(f"{name.replace('_', ' ')} must be a number.") from None


@login_required
@require_http_methods(["GET", "POST"])
def attack_new(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Choose a target and an SNR bound, then run the attack on a worker."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    analysis = selectors.analysis_for(recording=recording)
    context = {
        "recording": recording,
        "analysis": analysis,
        "labels": analysis.model_version.labels if analysis else [str(d) for d in range(10)],
        "snr_range": SNR_RANGE_DB,
        "steps_range": STEPS_RANGE,
        "values": {"target": "", "snr_db": 30, "steps": 50, "seed": 0},
    }
    if request.method == "POST":
        try:
            values = {
                "target": request.POST.get("target", ""),
                "snr_db": _float(request, "snr_db", 30),
                "steps": int(_float(request, "steps", 50)),
                "seed": int(_float(request, "seed", 0)),
            }
            context["values"] = values
            job = attack_request(
                recording=recording,
                requested_by=request.user,
                target=values["target"] or None,
                snr_db=values["snr_db"],
                steps=values["steps"],
                seed=values["seed"],
            )
        except ServiceError as exc:
            return render(request, "experiments/attack_new.html", {**context, "error": exc.message}, status=exc.status)
        return redirect("attack_detail", job_id=job.pk)
    return render(request, "experiments/attack_new.html", context)


def _get_job_for_user(
    request: HttpRequest, job_id: str, *, kind: str, what: str
) -> tuple[Job, Recording, dict[str, Any]]:
    """The user's job of this kind, its recording, and its result once done (else {}); 404 otherwise."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    if job.kind != kind:
        raise Http404(f"Not {what}.")
    recording = get_object_or_404(Recording, pk=job.payload["recording"], owner=request.user)
    return job, recording, job.result if job.status == Job.Status.DONE else {}


@login_required
@require_GET
def attack_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    """The attack's progress, then its outcome: success, achieved SNR, probabilities before and after."""
    job, recording, result = _get_job_for_user(request, job_id, kind="attack_run", what="an attack")
    adversarial = Recording.objects.filter(pk=result.get("recording"), owner=request.user).first() if result else None
    params = job.payload["step"]["params"]
    version = ModelVersion.objects.filter(pk=params["model_version"]).first()
    target = params["target"]
    context = {
        "job": job,
        "recording": recording,
        "result": result,
        "adversarial": adversarial,
        "bars": _before_after(result) if result else [],
        "params": params,
        "target_label": version.labels[target] if version and 0 <= target < len(version.labels) else None,
    }
    if request.htmx and result.get("experiment") and request.GET.get("poll"):
        # The poll that sees the attack finish opens the comparison with the original.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("experiment_detail", args=[result["experiment"]])
        return response
    template = "experiments/attack_detail.html" + ("#attack" if request.htmx else "")
    return render(request, template, context)


def _before_after(result: dict) -> list[dict]:
    before, after = result["probabilities_before"], result["probabilities_after"]
    return [
        {
            "label": label,
            "before": round(before[label] * 100, 1),
            "after": round(after[label] * 100, 1),
            "change": round((after[label] - before[label]) * 100, 1),
        }
        for label in before
    ]


# --------------------------------------------------------------------------- sweeps


@login_required
@require_http_methods(["GET", "POST"])
def sweep_new(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Pick an operation and a range; the worker plots every digit's probability across it."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    limits = sweep_limits()
    op = request.POST.get("op") or request.GET.get("op") or "pitch_shift"
    if op not in SWEEPS:
        op = "pitch_shift"
    context = {
        "recording": recording,
        "limits": limits,
        "op": op,
        "spec": SWEEPS[op].to_dict(),
        "op_label": OPERATIONS[op].label,
        "sweeps": [spec.to_dict() | {"op_label": OPERATIONS[name].label} for name, spec in SWEEPS.items()],
    }
    if request.method == "POST":
        try:
            job = sweep_request(
                recording=recording,
                requested_by=request.user,
                op=op,
                start=_float(request, "start", SWEEPS[op].start),
                stop=_float(request, "stop", SWEEPS[op].stop),
                num=int(_float(request, "num", SWEEPS[op].num)),
            )
        except ServiceError as exc:
            return render(request, "experiments/sweep_new.html", {**context, "error": exc.message}, status=exc.status)
        return redirect("sweep_detail", job_id=job.pk)
    return render(request, "experiments/sweep_new.html", context)


def sweep_chart(result: dict, *, width: int = 760, height: int = 320) -> dict:
    """SVG coordinates of each digit's probability line across the sweep."""
    left, right, top, bottom = 48, 16, 14, 38
    values = result["values"]
    low, high = min(values), max(values)
    span = (high - low) or 1.0

    def x(v: float) -> float:
        return round(left + (v - low) / span * (width - left - right), 1)

    def y(p: float) -> float:
        return round(top + (1 - p) * (height - top - bottom), 1)

    lines = []
    for index, label in enumerate(result["labels"]):
        probabilities = result["probabilities_by_label"][label]
        points = [
            {"x": x(v), "y": y(p), "p": round(p * 100, 1), "value": v, "index": i}
            for i, (v, p) in enumerate(zip(values, probabilities, strict=True))
        ]
        lines.append(
            {
                "label": label,
                "colour": DIGIT_COLOURS[index % len(DIGIT_COLOURS)],
                "path": " ".join(f"{pt['x']},{pt['y']}" for pt in points),
                "points": points,
                "peak": max(probabilities),
            }
        )
    x_ticks = (
        [{"x": x(v), "label": f"{v:g}"} for v in values]
        if len(values) <= 15
        else [{"x": x(v), "label": f"{v:g}"} for v in values[:: max(1, len(values) // 10)]]
    )
    y_ticks = [{"y": y(p), "label": f"{int(p * 100)}%"} for p in (0, 0.25, 0.5, 0.75, 1.0)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "lines": lines,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "columns": [{"x": x(v), "index": i, "value": v} for i, v in enumerate(values)],
    }


@login_required
@require_GET
def sweep_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    """The sweep's progress, then the plot: click a point to open that variant in the lab."""
    job, recording, result = _get_job_for_user(request, job_id, kind="sweep_run", what="a sweep")
    for point in result.get("points", []):
        point["top_percent"] = max(point["probabilities"]) * 100
    spec = SWEEPS[job.payload["op"]].to_dict()
    context = {
        "job": job,
        "recording": recording,
        "result": result,
        "spec": spec,
        "op_label": OPERATIONS[job.payload["op"]].label,
        "chart": sweep_chart(result) if result else None,
    }
    template = "experiments/sweep_detail.html" + ("#sweep" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_POST
def sweep_open_point(request: HttpRequest, job_id: str, index: int) -> HttpResponse:
    """Save one point of a sweep as a new version and open it in the lab."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    if job.kind != "sweep_run" or job.status != Job.Status.DONE:
        raise Http404("No finished sweep here.")
    recording = get_object_or_404(Recording, pk=job.payload["recording"], owner=request.user)
    points = job.result["points"]
    if not 0 <= index < len(points):
        raise Http404("No such point.")
    try:
        derived = recording_derive(recording=recording, operations=[points[index]["operation"]])
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("sweep_detail", job_id=job.pk)
    messages.success(request, f"Opened the variant at {points[index]['value']:g} {job.result['unit']}.")
    return redirect(reverse("recording_detail", args=[derived.pk]))
