"""The lab's pages: add a clip, the recording page, edits with preview, history and replay."""

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ServiceError
from core.media import Media, media_view, stored_file
from dsp.operation_specs import OPERATIONS, history_needs_worker
from experiments import selectors
from experiments.models import Analysis, Recording
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_audio as read_recording_audio
from experiments.services.recordings import (
    recording_derive,
    recording_from_sample,
    recording_preview,
    recording_replay,
    recording_upload,
)
from experiments.views.analyses import explorer_context, poll_delay_ms, probability_rows
from jobs.models import Job
from jobs.selectors import job_get_for_user
from jobs.services import job_create
from modelzoo.rendering import spectrogram_png
from modelzoo.samples import sample_clips


def _error(request: HttpRequest, template: str, context: dict, exc: ServiceError) -> HttpResponse:
    """Re-render `template` with the service's message and its 4xx status."""
    return render(request, template, {**context, "error": exc.message}, status=exc.status)


@login_required
@require_GET
def recording_list(request: HttpRequest) -> HttpResponse:
    """All of the user's recordings, originals with their versions."""
    recordings = selectors.recording_list(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        recordings = recordings.filter(title__icontains=query)
    page = Paginator(recordings, 24).get_page(request.GET.get("page"))
    return render(request, "experiments/recording_list.html", {"page": page, "query": query})


def _new_context() -> dict:
    return {
        "samples": sample_clips(),
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "max_seconds": settings.MAX_AUDIO_SECONDS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def recording_new(request: HttpRequest) -> HttpResponse:
    """Add a clip: upload a file, record in the browser, or pick a sample clip."""
    template = "experiments/recording_new.html"
    context = _new_context()
    if request.method == "GET":
        return render(request, template, context)
    try:
        if sample := request.POST.get("sample"):
            recording = recording_from_sample(owner=request.user, name=sample)
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError("Choose an audio file to upload.")
            if upload.size > settings.MAX_UPLOAD_BYTES:
                raise ServiceError(
                    f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {settings.MAX_UPLOAD_MB:g} MB.",
                    status=413,
                )
            recording = recording_upload(
                owner=request.user,
                data=upload.read(),
                filename=upload.name or "upload",
                title=request.POST.get("title", ""),
            )
    except ServiceError as exc:
        return _error(request, template, context, exc)
    _analyse(request, recording, quiet=True)  # the lab page says why when it cannot
    messages.success(request, f"“{recording.title}” is ready. The network is listening to it now.")
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # upload.js: where to go, without the XHR following a redirect (and eating the message).
        return JsonResponse({"id": recording.pk, "redirect": recording.get_absolute_url()}, status=201)
    return redirect("recording_detail", recording_id=recording.pk)


def _analyse(request: HttpRequest, recording: Recording, *, quiet: bool = False) -> Analysis | None:
    """Ask for the recording's analysis by the active model (a message when none can run)."""
    try:
        analysis, _ = analysis_request(recording=recording, requested_by=request.user)
    except ServiceError as exc:
        if not quiet:
            messages.error(request, exc.message)
        return None
    return analysis


@login_required
@require_GET
def recording_detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    """The lab: waveform, spectrogram, prediction, edits, history and the layer explorer."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    return render(request, "experiments/recording_detail.html", _lab_context(request, recording))


def _lab_context(request: HttpRequest, recording: Recording, *, submitted: dict | None = None) -> dict:
    """What the lab page shows; `submitted` (op and params) refills an edit form that failed."""
    is_owner = recording.owner_id == request.user.pk
    analysis = selectors.analysis_for(recording=recording)
    if analysis is None and is_owner and submitted is None:
        analysis = _analyse(request, recording)
    operations = [spec.to_dict(recording.duration_s) for spec in OPERATIONS.values()]
    if submitted:
        for op in operations:
            if op["op"] == submitted["op"]:
                for param in op["params"]:
                    if param["name"] in submitted["params"]:
                        param["default"] = submitted["params"][param["name"]]
    context = {
        "recording": recording,
        "is_owner": is_owner,
        "analysis": analysis,
        "probabilities": [],
        "family": selectors.recording_family(recording=recording),
        "operations": operations,
        "selected_op": submitted["op"] if submitted else "",
        "poll_ms": poll_delay_ms(analysis),
    }
    if analysis and analysis.is_done:
        # The explorer comes with the page (?layer= picks its tab).
        try:
            explorer = explorer_context(analysis, tab=request.GET.get("layer", ""))
        except Http404:
            explorer = explorer_context(analysis)
        context |= {"probabilities": probability_rows(analysis), **explorer, "recording": recording}
    return context


def _operations_from_post(request: HttpRequest) -> list[dict]:
    """One operation from a form: `op` and its `param_<name>` fields (numbers where they parse)."""
    name = request.POST.get("op", "")
    params: dict[str, object] = {}
    for key, value in request.POST.items():
        if key.startswith("param_") and value.strip() != "":
            try:
                number = float(value)
                params[key.removeprefix("param_")] = int(number) if number.is_integer() and "." not in value else number
            except ValueError:
                params[key.removeprefix("param_")] = value
    return [{"op": name, "params": params}]


@login_required
@require_POST
def recording_derive_view(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Save an edit as a new version and open it."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    operations = _operations_from_post(request)
    try:
        derived = recording_derive(recording=recording, operations=operations)
    except ServiceError as exc:
        if request.htmx:
            return render(request, "experiments/preview.html#preview", {"error": exc.message}, status=exc.status)
        # Without JavaScript: the lab again, the form refilled and the reason next to it.
        context = _lab_context(request, recording, submitted=operations[0]) | {"edit_error": exc.message}
        return render(request, "experiments/recording_detail.html", context, status=exc.status)
    messages.success(request, f"Saved a new version: {derived.title}.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = derived.get_absolute_url()
        return response
    return redirect(derived)


@login_required
@require_POST
def recording_preview_view(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Hear and see an edit before saving it (nothing is stored)."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    operations = _operations_from_post(request)
    template = "experiments/preview.html" + ("#preview" if request.htmx else "")
    try:
        audio, history = recording_preview(recording=recording, operations=operations)
    except ServiceError as exc:
        return render(request, template, {"recording": recording, "error": exc.message}, status=exc.status)
    return render(
        request,
        template,
        {
            "recording": recording,
            "step": history[-1],
            "duration_s": audio.duration_s,
            "audio_data_url": "data:audio/wav;base64," + base64.b64encode(audio.wav).decode(),
            "spectrogram_data_url": "data:image/png;base64,"
            + base64.b64encode(spectrogram_png(audio.y, audio.sample_rate, width=640, height=200)).decode(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recording_replay_view(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Replay the history from the original and compare the sha256 with the stored audio.

    A history with an adversarial step needs the model: it replays on a worker and the
    fragment polls (GET ?job=) until the answer is in.
    """
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    # Compare with the file as it is now, not only with the hash recorded when it was saved.
    stored_sha256 = read_recording_audio(recording).sha256
    context = {"recording": recording, "stored_sha256": stored_sha256}
    if request.method == "GET" or history_needs_worker(recording.operations):
        if request.method == "POST":
            job = job_create(kind="recording_replay", owner=request.user, payload={"recording": recording.pk})
        else:
            job = job_get_for_user(user=request.user, job_id=request.GET.get("job", ""))
            if job.kind != "recording_replay" or job.payload.get("recording") != recording.pk:
                raise Http404("No replay of this recording.")
        context["job"] = job
        if job.status != Job.Status.DONE:
            return render(request, "experiments/_replay.html", context)
        replayed_sha256 = job.result["replayed_sha256"]
    else:
        replayed_sha256 = recording_replay(recording=recording).sha256
    context |= {
        "replayed_sha256": replayed_sha256,
        "matches": replayed_sha256 == recording.sha256 == stored_sha256,
        "finished": True,
    }
    return render(request, "experiments/_replay.html", context)


@media_view
def recording_audio(request: HttpRequest, recording_id: int) -> Media:
    """The canonical WAV (the API's `audio` URL serves this view too)."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    return Media(
        recording.sha256,
        "audio/wav",
        stored_file(recording.audio),
        {"Content-Disposition": f'inline; filename="recording-{recording.pk}.wav"'},
    )


@media_view
def recording_original(request: HttpRequest, recording_id: int) -> Media:
    """The file as it was uploaded (derived versions have none: 404)."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    if not recording.original_file:
        raise Http404("This version was derived; it has no uploaded file.")
    suffix = recording.original_file.name.rsplit(".", 1)[-1]
    return Media(
        recording.original_sha256,
        "application/octet-stream",
        stored_file(recording.original_file),
        {"Content-Disposition": f'attachment; filename="recording-{recording.pk}-original.{suffix}"'},
    )


@media_view
def recording_spectrogram(request: HttpRequest, recording_id: int) -> Media:
    """The whole clip's log spectrogram with time and frequency axes."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)

    def draw() -> bytes:
        audio = read_recording_audio(recording)
        return spectrogram_png(audio.y, audio.sample_rate)

    return Media(f"spec-{recording.sha256}", "image/png", draw)
