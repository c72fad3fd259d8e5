"""Live mode: one window through the warm engine, and freezing a window into a recording.

Nothing is stored for a live window; only :func:`live_freeze` saves anything, through the
recording upload of the lab.
"""

import io
import time
from typing import Any

import soundfile as sf
from django.contrib.auth.models import User

from core.errors import ServiceError
from dsp.canonical import CanonicalAudio, canonicalise
from dsp.containers import WAV, UnsupportedFormatError, sniff_container
from dsp.errors import AudioError
from dsp.limits import LIVE_WINDOW_MAX_S
from experiments.models import Recording
from experiments.services.analyses import active_model_version, analysis_request
from experiments.services.recordings import recording_upload
from live.client import ask_engine
from modelzoo.models import ModelVersion
from modelzoo.selectors import model_version_get

NOT_WAV = "A live window must be a WAV file (audio/wav, or a multipart “file”); this is not one."


def live_version(*, user: User, version_id: int | None) -> ModelVersion:
    """The version a live window goes through: one `user` may see (404 otherwise), the active one by default.

    Raises
    ------
    ServiceError
        No version is active (409), or the chosen one is not valid (409).
    """
    version = active_model_version() if version_id is None else model_version_get(user=user, version_id=version_id)
    if version.status != ModelVersion.Status.VALID:
        raise ServiceError(f"The model version “{version.name}” is not valid and cannot listen.", status=409)
    return version


def window_decode(data: bytes) -> CanonicalAudio:
    """A live window's canonical audio, its length checked from the WAV header before anything is decoded.

    Raises
    ------
    ServiceError
        Not a WAV file (400), longer than ``LIVE_WINDOW_MAX_S`` (413), or unreadable, too short,
        over a cap or not analysable (400).
    """
    if not data:
        raise ServiceError("The window is empty: send a WAV file of at most 1.5 s.")
    try:
        container = sniff_container(data)
    except UnsupportedFormatError:
        raise ServiceError(NOT_WAV) from None
    if container is not WAV:
        raise ServiceError(NOT_WAV)
    try:
        with sf.SoundFile(io.BytesIO(data)) as header:  # opening reads the header only
            frames, rate = header.frames, header.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError, EOFError):
        raise ServiceError("The window could not be read as WAV audio; it may be corrupt or truncated.") from None
    if 0 < frames < 2**62 and rate > 0 and frames / rate > LIVE_WINDOW_MAX_S:
        raise ServiceError(
            f"The window is {frames / rate:.2f} s long; a live window is at most {LIVE_WINDOW_MAX_S:g} s.", status=413
        )
    try:
        # The exact cap again while decoding, for a header that does not know its length.
        audio, _, _ = canonicalise(data, max_duration_s=LIVE_WINDOW_MAX_S)
    except AudioError as exc:
        raise ServiceError(str(exc)) from None
    if audio.duration_s > LIVE_WINDOW_MAX_S:
        raise ServiceError(f"A live window is at most {LIVE_WINDOW_MAX_S:g} s.", status=413)
    return audio


def chosen_filter(version: ModelVersion, layer: str | None, index: str | int | None) -> dict | None:
    """``{"layer", "index"}`` of the filter whose map the caller wants back, checked against the version's layers.

    Raises
    ------
    ServiceError
        An unknown layer or a filter out of range (400, naming the field).
    """
    if layer in (None, "") and index in (None, ""):
        return None
    layers = {entry["name"]: int(entry.get("filters") or 0) for entry in version.conv_layers}
    if layer not in layers:
        names = ", ".join(layers) or "none"
        raise ServiceError(f"“{str(layer)[:40]}” is not a convolution layer of this version ({names}).", field="layer")
    try:
        number = int(index)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number < layers[layer]:
        raise ServiceError(f"The filter must be a number from 0 to {layers[layer] - 1}.", field="filter")
    return {"layer": layer, "index": number}


def live_window(
    *,
    user: User,
    data: bytes,
    version_id: int | None = None,
    layer: str | None = None,
    index: str | int | None = None,
) -> dict[str, Any]:
    """What the network makes of one window, answered by the live engine in this request; nothing is stored.

    Returns
    -------
    ``{model_version, predicted_label, probabilities: {label: p}, silent, layers: [{name, filters,
    energy: [float per filter]}], filter?: {layer, index, peak, shape, map}, timings: {ms}}``

    Raises
    ------
    ServiceError
        What :func:`live_version` and :func:`window_decode` refuse; 503 when the engine is down or slow.
    """
    started = time.perf_counter()
    version = live_version(user=user, version_id=version_id)
    wanted = chosen_filter(version, layer, index)
    audio = window_decode(data)
    decoded = time.perf_counter()
    header: dict[str, Any] = {"model_version": version.pk, "sha256": version.sha256, "sample_rate": audio.sample_rate}
    if wanted is not None:
        header["filter"] = wanted
    answer, round_trip_ms = ask_engine(header, audio.y)
    answer["timings"] = {
        **answer.get("timings", {}),
        "decode_ms": round((decoded - started) * 1000, 2),
        "engine_round_trip_ms": round(round_trip_ms, 2),
        "total_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return answer


def live_freeze(*, owner: User, data: bytes, version: ModelVersion, title: str = "") -> tuple[Recording, bool]:
    """Keep a frozen window (or the last seconds) as a browser recording and ask for its analyses.

    The lab's own upload (:func:`experiments.services.recordings.recording_upload`): the same caps,
    the same canonical WAV. The analysis by `version` is asked for, and by the active version
    too when that is another one (the lab shows the active version's). Returns the recording and
    whether every analysis could be asked for.

    Raises
    ------
    ServiceError
        What the upload refuses (400, 413, 415).
    """
    recording = recording_upload(
        owner=owner, data=data, filename="live.wav", title=title or "Live take", source=Recording.Source.RECORD
    )
    try:
        analysis_request(recording=recording, requested_by=owner, model_version=version)
        if not version.is_active:
            analysis_request(recording=recording, requested_by=owner)
    except ServiceError:
        return recording, False
    return recording, True
