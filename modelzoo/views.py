"""Model version pages: what each version is, its layers, weights and metrics; activation by admins."""

import numpy as np
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ddevis_site.errors import ServiceError
from experiments.views.media import cached_response
from modelzoo.models import ModelVersion
from modelzoo.rendering import kernels_png
from modelzoo.samples import sample_clip
from modelzoo.selectors import confusion_rows, weight_panels
from modelzoo.services import model_version_activate


def _versions_for(user) -> "QuerySet[ModelVersion]":  # noqa: F821
    """Admins see every version; others see the valid ones."""
    versions = ModelVersion.objects.select_related("uploaded_by")
    return versions if user.is_staff else versions.filter(status=ModelVersion.Status.VALID)


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    """Every model version the user may see, the active one first."""
    return render(request, "modelzoo/model_list.html", {"versions": _versions_for(request.user)})


@login_required
@require_GET
def model_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """A version's layer table, hyper-parameters, metrics, weight histograms and first-layer kernels."""
    version = get_object_or_404(_versions_for(request.user), pk=version_id)
    return render(
        request,
        "modelzoo/model_detail.html",
        {"version": version, "weights": weight_panels(version), "sample_metrics": version.metrics.get("sample_clips")},
    )


@login_required
@require_GET
def model_kernels(request: HttpRequest, version_id: int) -> HttpResponse:
    """The first convolution layer's kernels as images."""
    version = get_object_or_404(_versions_for(request.user), pk=version_id)
    entry = next((w for w in version.weight_histograms if "kernels" in w), None)
    if entry is None:
        raise Http404("This version has no convolution kernels on record.")
    return cached_response(
        request, f"kernels-{version.sha256}", "image/png", lambda: kernels_png(np.asarray(entry["kernels"]))
    )


@staff_member_required
@require_POST
def model_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    """Make a valid version the active one (admins only)."""
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        model_version_activate(version=version)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{version.name}” is now the active model. New analyses use it.")
    return redirect("model_detail", version_id=version.pk)


@login_required
@require_GET
def model_dataset(request: HttpRequest, version_id: int) -> HttpResponse:
    """The confusion matrix on the held-out evaluation clips; a cell lists its clips to hear or open in the lab."""
    version = get_object_or_404(_versions_for(request.user), pk=version_id)
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
    template = "modelzoo/model_dataset.html" + ("#cell-clips" if request.htmx else "")
    return render(request, template, context)


@login_required
@require_GET
def bundled_clip_audio(request: HttpRequest, name: str) -> HttpResponse:
    """A bundled sample or evaluation clip, to listen to before opening it in the lab."""
    clip = sample_clip(name)
    if clip is None:
        raise Http404("No such clip.")
    return cached_response(request, f"clip-{clip.name}", "audio/wav", clip.path.read_bytes)
