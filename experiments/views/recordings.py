"""The lab's pages: add a clip, the recording page, edits with preview, history and replay."""

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused, message_refused, page_redirect
from core.media import Media, media_view, stored_file
from dsp.operation_specs import history_needs_worker, history_replays_on_worker
from experiments import selectors
from experiments.forms import OperationForm, operation_forms
from experiments.models import Analysis, Recording
from experiments.presenters import poll_delay_ms, probability_rows
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_audio as read_recording_audio
from experiments.services.recordings import (
    recording_delete,
    recording_deletion_plan,
    recording_derive,
    recording_from_sample,
    recording_preview,
    recording_replay,
    recording_upload,
)
from experiments.views.analyses import explorer_context
from jobs.models import Job
from jobs.selectors import job_get_for_user
from jobs.services import job_create
from modelzoo.rendering import spectrogram_png
from modelzoo.samples import sample_clips


@login_required
@require_GET
def recording_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """All of the user's recordings: each original with its versions under it, and what the network heard."""
    query = request.GET.get("q", "").strip()
    originals = selectors.recording_originals(user=request.user, query=query)
    page = Paginator(originals, 12).get_page(request.GET.get("page"))
    groups = selectors.recording_groups(user=request.user, originals=list(page.object_list))
    return render(request, "experiments/recording_list.html", {"page": page, "groups": groups, "query": query})


def _new_context() -> dict:
    return {
        "samples": sample_clips(),
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "max_seconds": settings.MAX_AUDIO_SECONDS,
    }


# The error slot of each way to add a clip: a refused upload or take keeps its file in the page.
_NEW_SLOTS = {"upload": "upload-error", "record": "record-error", "sample": "samples-error"}


@login_required
@require_http_methods(["GET", "POST"])
def recording_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add a clip: upload a file, record in the browser (the recorder posts its WAV here), or pick a sample."""
    template = "experiments/recording_new.html"
    context = _new_context()
    if request.method == "GET":
        return render(request, template, context)
    sample = request.POST.get("sample")
    source = "sample" if sample is not None else request.POST.get("source", "upload")
    try:
        if sample is not None:
            recording = recording_from_sample(owner=request.user, name=sample)
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError("Choose an audio file to upload.")
            size = upload.size or 0  # Django sizes every file it receives
            if size > settings.MAX_UPLOAD_BYTES:
                raise ServiceError(
                    f"The file is {size / 1024 / 1024:.1f} MB; the limit is {settings.MAX_UPLOAD_MB:g} MB.",
                    status=413,
                )
            recording = recording_upload(
                owner=request.user,
                data=upload.read(),
                filename=upload.name or "upload",
                title=request.POST.get("title", ""),
                source=source,
            )
    except ServiceError as exc:
        if request.htmx:
            return message_refused(request, exc.message, status=exc.status, slot=_NEW_SLOTS.get(source, "upload-error"))
        return render(request, template, {**context, "error": exc.message}, status=exc.status)
    _analyse(request, recording)
    # That the network is listening is said by the prediction panel, which gives way to the
    # prediction when it comes; a message saying it would stay on the page after.
    messages.success(request, f"“{recording.title}” is ready.")
    return page_redirect(request, recording)


def _analyse(request: AuthenticatedHttpRequest, recording: Recording) -> Analysis | None:
    """Start the active model's analysis of a recording just saved (a message when none can run)."""
    try:
        analysis, _ = analysis_request(recording=recording, requested_by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None
    return analysis


@login_required
@require_GET
def recording_detail(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """The lab: waveform, spectrogram, prediction, edits, history and the layer explorer."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    return render(request, "experiments/recording_detail.html", _lab_context(request, recording))


def _lab_context(
    request: AuthenticatedHttpRequest, recording: Recording, *, refused: OperationForm | None = None
) -> dict:
    """What the lab page shows; `refused` is an edit form sent back with its errors, in its place."""
    analysis = selectors.analysis_settled(
        recording=recording,
        analysis=selectors.analysis_for(recording=recording),
        within_s=settings.LAB_WAITS_FOR_A_NEW_ANALYSIS_S if refused is None else 0,
    )
    family = selectors.recording_family(recording=recording, user=request.user)
    context = {
        "recording": recording,
        "is_owner": recording.owner_id == request.user.pk,
        "analysis": analysis,
        "probabilities": [],
        "family": family,
        # the original's page is a link only for whoever may open it
        "root_open": any(version.is_open for version in family if version.pk == recording.root_id),
        "operation_forms": operation_forms(duration_s=recording.duration_s, bound=refused),
        "selected_op": refused.spec.op if refused is not None and refused.spec else "",
        # a refusal no operation's form can show (an unknown operation)
        "edit_error": " ".join(map(str, refused.errors.get("op", [])))
        if refused is not None and not refused.spec
        else "",
        "poll_ms": poll_delay_ms(analysis),
    }
    if analysis and analysis.is_done:
        # The explorer comes with the page (?layer= picks its tab, ?scale= and ?sort= its view).
        view = {"scale": request.GET.get("scale", ""), "sort": request.GET.get("sort", "")}
        try:
            explorer = explorer_context(analysis, viewer=request.user, tab=request.GET.get("layer", ""), **view)
        except Http404:
            explorer = explorer_context(analysis, viewer=request.user, **view)
        context |= {"probabilities": probability_rows(analysis), **explorer, "recording": recording}
    return context


def _edit_refused(
    request: AuthenticatedHttpRequest, recording: Recording, form: OperationForm, status: int
) -> HttpResponse:
    """The refused edit's form with its errors: in its place (htmx), or the whole lab around it."""
    if not request.htmx:
        return render(
            request, "experiments/recording_detail.html", _lab_context(request, recording, refused=form), status=status
        )
    if form.spec is None:
        return message_refused(request, " ".join(map(str, form.errors.get("op", []))), status=status, slot="edit-error")
    context = {"recording": recording, "form": form, "refused": True}
    return form_refused(
        request, "experiments/recording_detail.html#op-form", context, status=status, target=f"#op-{form.spec.op}"
    )


@login_required
@require_POST
def recording_derive_view(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Save an edit as a new version, start its analysis, and open it."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    form = OperationForm(request.POST, duration_s=recording.duration_s)
    if not form.is_valid():
        return _edit_refused(request, recording, form, 400)
    try:
        derived = recording_derive(recording=recording, operations=[form.operation])
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _edit_refused(request, recording, form, exc.status)
    _analyse(request, derived)
    messages.success(request, f"Saved a new version: {derived.title}.")
    return page_redirect(request, derived)


@login_required
@require_POST
def recording_preview_view(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Hear and see an edit before saving it (nothing is stored)."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    form = OperationForm(request.POST, duration_s=recording.duration_s)
    if not form.is_valid():
        return _edit_refused(request, recording, form, 400)
    try:
        audio, history = recording_preview(recording=recording, operations=[form.operation])
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _edit_refused(request, recording, form, exc.status)
    template = "experiments/preview.html" + ("#preview" if request.htmx else "")
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
def recording_replay_view(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Replay the history from the original and compare the sha256 with the stored audio.

    A history with an adversarial step needs the model, and a long one would tie up the
    request: either replays on a worker and the fragment polls (GET ?job=) until the answer is in.
    """
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    # Compare with the file as it is now, not only with the hash recorded when it was saved.
    stored_sha256 = read_recording_audio(recording).sha256
    context = {
        "recording": recording,
        "stored_sha256": stored_sha256,
        "needs_model": history_needs_worker(recording.operations),
    }
    if request.method == "GET" or history_replays_on_worker(recording.operations):
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
def recording_audio(request: AuthenticatedHttpRequest, recording_id: int) -> Media:
    """The canonical WAV (the API's `audio` URL serves this view too)."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    return Media(
        recording.sha256,
        "audio/wav",
        stored_file(recording.audio),
        {"Content-Disposition": f'inline; filename="recording-{recording.pk}.wav"'},
    )


@media_view
def recording_original(request: AuthenticatedHttpRequest, recording_id: int) -> Media:
    """The file as it was uploaded (derived versions have none: 404)."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    name = recording.original_file.name
    if not name:
        raise Http404("This version was derived; it has no uploaded file.")
    suffix = name.rsplit(".", 1)[-1]
    return Media(
        recording.original_sha256,
        "application/octet-stream",
        stored_file(recording.original_file),
        {"Content-Disposition": f'attachment; filename="recording-{recording.pk}-original.{suffix}"'},
    )


@media_view
def recording_spectrogram(request: AuthenticatedHttpRequest, recording_id: int) -> Media:
    """The whole clip's log spectrogram with time and frequency axes."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)

    def draw() -> bytes:
        audio = read_recording_audio(recording)
        return spectrogram_png(audio.y, audio.sample_rate)

    return Media(f"spec-{recording.sha256}", "image/png", draw)


@login_required
@require_http_methods(["GET", "POST"])
def recording_delete_view(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """Ask (showing what goes with it), then delete a recording and its versions."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    template = "experiments/recording_confirm_delete.html"
    planned = recording_deletion_plan(recording=recording)
    context = {"recording": recording, "plan": planned}
    if request.method == "GET":
        return render(request, template, context, status=409 if planned["submitted"] else 200)
    parent = recording.parent
    try:
        plan = recording_delete(recording=recording)
    except ServiceError as exc:
        return render(request, template, {**context, "error": exc.message}, status=exc.status)
    others = len(plan["versions"]) - 1
    also = f" and {others} version{'s' if others > 1 else ''} made from it" if others else ""
    messages.success(request, f"Deleted “{recording.title}”{also}.")
    return redirect(parent.get_absolute_url() if parent is not None else "recording_list")
