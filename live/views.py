"""The live page, freezing a window into the lab, and the classroom's view of a frozen take."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import is_instructor
from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, message_refused, page_redirect
from dsp.limits import LIVE_WINDOW_MAX_S
from experiments import selectors as experiment_selectors
from insights.selectors import version_insight_done
from live.services import chosen_filter, live_freeze, live_version
from modelzoo.models import ModelVersion
from modelzoo.selectors import model_versions_visible

#: How many seconds of the microphone the page keeps, and freezing saves.
FREEZE_SECONDS = 3


def _may_teach(user: User) -> bool:
    return user.is_staff or is_instructor(user)


def _version_choices(user: User) -> list[dict]:
    """Every version `user` may listen with: id, name, labels and convolution layers (for the page's script)."""
    versions = model_versions_visible(user=user).filter(status=ModelVersion.Status.VALID).order_by("-is_active", "name")
    choices = []
    for version in versions:
        # Dead filters (never active on the evaluation set) would show a blank map: the page starts on a live one.
        insight = version_insight_done(version=version)
        dead = {
            name: [p["index"] for p in profiles if p.get("dead")]
            for name, profiles in (insight.layers if insight else {}).items()
        }
        choices.append(
            {
                "id": version.pk,
                "name": version.name,
                "active": version.is_active,
                "labels": version.labels,
                "layers": [
                    {
                        "name": layer["name"],
                        "filters": int(layer.get("filters") or 0),
                        "dead": dead.get(layer["name"], []),
                    }
                    for layer in version.conv_layers
                ],
            }
        )
    return choices


@login_required
@require_GET
def live_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The network listening to the microphone: probabilities, spectrogram and filter energies as you speak."""
    versions = _version_choices(request.user)
    wanted = request.GET.get("model_version", "")
    chosen = next((v for v in versions if str(v["id"]) == wanted), versions[0] if versions else None)
    classroom = request.GET.get("classroom") == "1" and _may_teach(request.user)
    return render(
        request,
        "live/live.html",
        {
            "versions": versions,
            # The page's script reads them from an attribute: no <script> of data (the CSP's "nothing inline").
            "versions_json": json.dumps(versions),
            "chosen": chosen,
            "classroom": classroom,
            "may_teach": _may_teach(request.user),
            "window_s": 1.0,
            "max_window_s": LIVE_WINDOW_MAX_S,
            "freeze_s": FREEZE_SECONDS,
        },
    )


@login_required
@require_POST
def live_freeze_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Keep the last seconds of the microphone as a recording and open it in the lab (or, in classroom mode,
    the chosen filter's sound of it)."""
    try:
        upload = request.FILES.get("file")
        if upload is None:
            raise ServiceError("There is nothing to freeze yet: start the microphone and speak first.")
        raw_version = request.POST.get("model_version") or None
        version = live_version(user=request.user, version_id=int(raw_version) if raw_version else None)
        classroom = request.POST.get("classroom") == "1" and _may_teach(request.user)
        wanted = chosen_filter(version, request.POST.get("layer"), request.POST.get("filter")) if classroom else None
        recording, analysed = live_freeze(
            owner=request.user, data=upload.read(), version=version, title=request.POST.get("title", "")
        )
    except (ValueError, ServiceError) as exc:
        message = exc.message if isinstance(exc, ServiceError) else "Choose a model version from the list."
        status = exc.status if isinstance(exc, ServiceError) else 400
        if request.htmx:
            return message_refused(request, message, status=status, slot="freeze-error")
        return render(
            request, "live/live.html", {"versions": _version_choices(request.user), "error": message}, status=status
        )
    messages.success(
        request,
        f"“{recording.title}” is saved from live mode."
        + (" The network is listening to it now." if analysed else " Ask for its analysis in the lab."),
    )
    if wanted is not None:
        query = urlencode({"model_version": version.pk, "layer": wanted["layer"], "filter": wanted["index"]})
        return page_redirect(request, f"{reverse('live_frozen', args=[recording.pk])}?{query}")
    return page_redirect(request, recording)


@login_required
@require_GET
def live_frozen(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Classroom mode after a freeze: the take, and the sound of the one filter shown (polls until analysed)."""
    recording = experiment_selectors.recording_get(user=request.user, recording_id=recording_id)
    raw_version = request.GET.get("model_version") or None
    try:
        version = live_version(user=request.user, version_id=int(raw_version) if raw_version else None)
        wanted = chosen_filter(version, request.GET.get("layer"), request.GET.get("filter"))
    except (ValueError, ServiceError):
        raise Http404("No such model version or filter.") from None
    analysis = experiment_selectors.analysis_for(recording=recording, model_version_id=version.pk)
    silent = False
    if analysis is not None and analysis.is_done and wanted is not None:
        layer: dict = next((entry for entry in analysis.layers if entry.get("name") == wanted["layer"]), {})
        peaks = layer.get("max") or []
        silent = wanted["index"] < len(peaks) and not peaks[wanted["index"]]
    context = {
        "silent": silent,
        "recording": recording,
        "version": version,
        "analysis": analysis,
        "wanted": wanted,
        "poll": analysis is not None and not analysis.job.is_finished,
        "classroom": True,
    }
    template = "live/frozen.html#solo" if request.htmx else "live/frozen.html"
    return render(request, template, context)
