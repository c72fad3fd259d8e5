"""Model version pages: what each version is, its layers, weights and metrics; activation by admins."""

import numpy as np
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest
from core.media import Media, media_view
from modelzoo.models import ModelVersion
from modelzoo.presenters import robustness_summary
from modelzoo.rendering import kernels_png
from modelzoo.samples import sample_clip
from modelzoo.selectors import model_version_get, model_versions_visible, weight_panels
from modelzoo.services import model_version_activate


@login_required
@require_GET
def model_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every model version the user may see, the active one first."""
    return render(request, "modelzoo/model_list.html", {"versions": model_versions_visible(user=request.user)})


@login_required
@require_GET
def model_detail(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    """A version's layer table, robustness per condition, metrics, weight histograms and first-layer kernels."""
    version = model_version_get(user=request.user, version_id=version_id)
    context = {
        "version": version,
        "weights": weight_panels(version),
        "sample_metrics": version.metrics.get("sample_clips"),
        "robustness": robustness_summary(version),
    }
    return render(request, "modelzoo/model_detail.html", context)


@media_view
def model_kernels(request: AuthenticatedHttpRequest, version_id: int) -> Media:
    """The first convolution layer's kernels as images."""
    version = model_version_get(user=request.user, version_id=version_id)
    entry = next((w for w in version.weight_histograms if "kernels" in w), None)
    if entry is None:
        raise Http404("This version has no convolution kernels on record.")
    return Media(f"kernels-{version.sha256}", "image/png", lambda: kernels_png(np.asarray(entry["kernels"])))


@staff_member_required
@require_POST
def model_activate(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    """Make a valid version the active one (admins only)."""
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        model_version_activate(version=version)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{version.name}” is now the active model. New analyses use it.")
    return redirect("model_detail", version_id=version.pk)


@media_view
def bundled_clip_audio(request: AuthenticatedHttpRequest, name: str) -> Media:
    """A bundled sample or evaluation clip, to listen to before opening it in the lab."""
    clip = sample_clip(name)
    if clip is None:
        raise Http404("No such clip.")
    return Media(f"clip-{clip.name}", "audio/wav", clip.path.read_bytes)
