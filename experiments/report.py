"""One experiment as a single self-contained HTML file, for an instructor to archive.

Everything is embedded: sounds and images as data: URIs, styles inline, figures as inline
SVG. The file makes no request of any kind when opened, so it still works when the site
(or the network) is gone. Tests check that no external reference slips in.
"""

import base64
import io

import numpy as np
import soundfile as sf
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.utils import timezone

from experiments import comparison_page, selectors
from experiments.models import Experiment, Recording
from experiments.services.recordings import recording_audio
from modelzoo.rendering import spectrogram_png

# Long uploads would make the archive heavy: the report keeps the first 30 s of each clip.
MAX_EMBEDDED_SECONDS = 30.0


def data_uri(mime: str, data: bytes) -> str:
    """`data:` URI of some bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _clip_wav(recording: Recording) -> tuple[bytes, bool]:
    """The clip as 16-bit PCM WAV (half the size of the stored float32), and whether it was cut."""
    audio = recording_audio(recording)
    limit = int(MAX_EMBEDDED_SECONDS * audio.sample_rate)
    y = np.clip(audio.y[:limit], -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, y.astype(np.float32), audio.sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue(), len(audio.y) > limit


def _side_media(side: comparison_page.Side) -> dict:
    audio = recording_audio(side.recording)
    wav, cut = _clip_wav(side.recording)
    return {
        "audio": data_uri("audio/wav", wav),
        "audio_cut": cut,
        "spectrogram": data_uri("image/png", spectrogram_png(audio.y, audio.sample_rate, width=640, height=230)),
    }


def experiment_report_html(*, experiment: Experiment, viewer: User) -> str:
    """The report of `experiment` as exported by `viewer` (who may open it: checked by the caller)."""
    left, right = comparison_page.sides(experiment)
    mode = comparison_page.experiment_mode(experiment)
    media = {"left": _side_media(left)}
    media["right"] = media["left"] if mode == "models" else _side_media(right)
    context = {
        "experiment": experiment,
        "mode": mode,
        "left": left,
        "right": right,
        "media": media,
        "comments": selectors.comment_list(experiment=experiment),
        "viewer": viewer,
        "exported_at": timezone.localtime(),
        "done": left.is_done and right.is_done,
    }
    analysis_a, analysis_b = left.analysis, right.analysis
    if context["done"] and analysis_a is not None and analysis_b is not None:

        def image(layer: str, index: int, side: str) -> str:
            pair = comparison_page.layer_pair(analysis_a, analysis_b, layer)
            if pair is None:  # results() lists only the layers both sides have
                raise ValueError(f"Layer {layer} is not on both sides.")
            a, b = pair
            return data_uri("image/png", comparison_page.filter_image_png(a, b, index, side))

        context["results"] = comparison_page.results(left, right, layer_name=None, image_source=image, all_layers=True)
    if mode == "models":
        context["weights"] = comparison_page.weight_overlays(left.model_version, right.model_version)
    return render_to_string("experiments/experiment_report.html", context)
