"""Worker side: everything computed once per model version over the bundled evaluation clips.

* what every filter likes: its strongest clips, its mean response per digit, dead or not
  (:mod:`insights.filter_profiles`), with the maps of those clips through it;
* how strongly each filter feeds the next convolution layer's filters (from the kernels);
* which explanation to believe on this model: the faithfulness and sanity figures of each
  attribution method, averaged over one take of every digit by every speaker.

TensorFlow is imported inside the functions (through :mod:`modelzoo.inference`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from dsp.decode import decode_audio
from dsp.features import prepare
from dsp.params import FeatureParams
from insights.filter_profiles import connection_strengths, layer_profiles
from modelzoo.evaluation import LabelledClip
from modelzoo.samples import evaluation_clips

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

Progress = Callable[[int, str], None]


@dataclass
class InsightResult:
    """What :func:`compute_version_insight` returns: JSON-ready parts and the example maps (npz bytes)."""

    layers: dict
    connections: dict
    faithfulness: dict
    examples_npz: bytes
    timings: dict = field(default_factory=dict)


@lru_cache(maxsize=4)
def _evaluation_features(params_items: tuple) -> tuple[np.ndarray, tuple[LabelledClip, ...]]:
    params = FeatureParams.from_dict(dict(params_items))
    clips = tuple(evaluation_clips())
    features = np.empty((len(clips), params.n_freq, params.n_frames), dtype=np.float32)
    for i, clip in enumerate(clips):
        y, sr = decode_audio(clip.path)
        features[i] = prepare(y, sr, params, allow_silent=True).features
    features.setflags(write=False)
    return features, clips


def evaluation_features(params: FeatureParams) -> tuple[np.ndarray, tuple[LabelledClip, ...]]:
    """The features of every bundled evaluation clip for these parameters (kept per process).

    Returns
    -------
    features : np.ndarray, float32, shape (n_clips, n_freq, n_frames), read-only
    clips : tuple of LabelledClip
    """
    return _evaluation_features(tuple(sorted(params.to_dict().items())))


def faithfulness_subset(clips: tuple[LabelledClip, ...]) -> list[int]:
    """One take (the first) of every digit by every speaker: the clips the method averages run on."""
    seen: dict[tuple[str, str], int] = {}
    for i, clip in enumerate(clips):
        seen.setdefault((clip.label, clip.speaker), i)
    return sorted(seen.values())


def _activation_statistics(
    model: LoadedModel, features: np.ndarray, batch_size: int = 50
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Each clip's peak and mean response of every filter, by layer, and the probabilities."""
    peaks: dict[str, list[np.ndarray]] = {name: [] for name in model.conv_layers}
    means: dict[str, list[np.ndarray]] = {name: [] for name in model.conv_layers}
    probabilities = []
    for start in range(0, len(features), batch_size):
        outputs = model.forward(features[start : start + batch_size, ..., None])
        probabilities.append(np.asarray(outputs[0]))
        for name, output in zip(model.conv_layers, outputs[1:], strict=True):
            values = np.asarray(output, dtype=np.float32)  # (batch, rows, cols, filters)
            peaks[name].append(values.max(axis=(1, 2)))
            means[name].append(values.mean(axis=(1, 2)))
    stats = {name: (np.concatenate(peaks[name]), np.concatenate(means[name])) for name in model.conv_layers}
    return stats, np.concatenate(probabilities)


def _example_maps(model: LoadedModel, features: np.ndarray, layers: dict[str, list[dict]]) -> bytes:
    """The maps of each filter's example clips through it, as npz (``<layer>/<filter>/<rank>``, float16)."""
    wanted = sorted({e["row"] for profiles in layers.values() for p in profiles for e in p["examples"]})
    arrays: dict[str, np.ndarray] = {}
    for start in range(0, len(wanted), 50):
        rows = wanted[start : start + 50]
        outputs = model.forward(features[rows][..., None])
        by_clip = {clip: position for position, clip in enumerate(rows)}
        for name, output in zip(model.conv_layers, outputs[1:], strict=True):
            values = np.asarray(output)
            for profile in layers[name]:
                for rank, example in enumerate(profile["examples"]):
                    if example["row"] in by_clip:
                        fmap = values[by_clip[example["row"]], :, :, profile["index"]]
                        arrays[f"{name}/{profile['index']}/{rank}"] = fmap.astype(np.float16)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _connections(model: LoadedModel) -> dict[str, list[list[float]]]:
    """For each convolution layer that reads the previous one's filters: in x out strengths (kernel sums)."""
    connections = {}
    for previous, name in zip(model.conv_layers, model.conv_layers[1:], strict=False):
        kernel = np.asarray(model.keras_model.get_layer(name).kernel.numpy())
        n_previous = int(model.keras_model.get_layer(previous).output.shape[-1])
        if kernel.ndim == 4 and kernel.shape[2] == n_previous:
            connections[name] = np.round(connection_strengths(kernel), 5).tolist()
    return connections


def method_averages(
    model: LoadedModel, features: np.ndarray, rows: list[int], *, progress: Callable[[int, int], None] | None = None
) -> dict:
    """Faithfulness and sanity of every attribution method, averaged over the clips at `rows`.

    Each clip is explained for the digit the model predicts, as the pages do by default.

    Returns
    -------
    dict with ``clips`` (how many), ``fractions``, ``methods`` ({key: {deletion_auc,
    insertion_auc, ff, randomised_similarity, flagged_share, deletion, insertion}}) and
    ``reference`` (the random cell order's deletion_auc, insertion_auc and curves).
    """
    from insights.faithfulness import FRACTIONS, SANITY_THRESHOLD, check_explanations, explain

    sums: dict[str, dict[str, list]] = {}
    reference: dict[str, list] = {"deletion_auc": [], "insertion_auc": [], "deletion": [], "insertion": []}
    for done, row in enumerate(rows, start=1):
        x = features[row]
        probabilities, _ = model.run(x)
        target = int(np.argmax(probabilities))
        maps = explain(model, x, target=target)
        checks = check_explanations(model, x, maps, target=target)
        for key, faith in checks.faithfulness.items():
            entry = sums.setdefault(
                key,
                {"deletion_auc": [], "insertion_auc": [], "ff": [], "similarity": [], "deletion": [], "insertion": []},
            )
            entry["deletion_auc"].append(faith.deletion_auc)
            entry["insertion_auc"].append(faith.insertion_auc)
            entry["ff"].append(faith.ff)
            entry["deletion"].append(faith.deletion)
            entry["insertion"].append(faith.insertion)
            entry["similarity"].append(checks.randomised_similarity[key])
        for key in reference:
            reference[key].append(getattr(checks.reference, key))
        if progress:
            progress(done, len(rows))

    def mean(values: list) -> float | list[float]:
        average = np.mean(np.asarray(values, dtype=np.float64), axis=0)
        return np.round(average, 4).tolist() if np.ndim(average) else round(float(average), 4)

    def sanity_average(similarities: list[float | None]) -> dict:
        # A clip where both maps were constant has no similarity (None): the average and the
        # share flagged are over the clips that have one.
        defined = [x for x in similarities if x is not None]
        if not defined:
            return {"randomised_similarity": None, "flagged_share": 0.0}
        flagged = float(np.mean(np.asarray(defined) >= SANITY_THRESHOLD))
        return {"randomised_similarity": mean(defined), "flagged_share": round(flagged, 4)}

    methods = {
        key: {
            "deletion_auc": mean(v["deletion_auc"]),
            "insertion_auc": mean(v["insertion_auc"]),
            "ff": mean(v["ff"]),
            **sanity_average(v["similarity"]),
            "deletion": mean(v["deletion"]),
            "insertion": mean(v["insertion"]),
        }
        for key, v in sums.items()
    }
    return {
        "clips": len(rows),
        "fractions": list(FRACTIONS),
        "threshold": SANITY_THRESHOLD,
        "methods": methods,
        "reference": {key: mean(values) for key, values in reference.items()},
    }


def compute_version_insight(
    model: LoadedModel, *, progress: Progress, faithfulness_rows: list[int] | None = None
) -> InsightResult:
    """Profiles of every filter, dead filters, connections and the methods' faithfulness for one version.

    Parameters
    ----------
    model : LoadedModel
    progress : callable
        ``progress(percent, message)``.
    faithfulness_rows : list of int, optional
        Evaluation clips (rows) the method averages run on; by default one take of every
        digit by every speaker (:func:`faithfulness_subset`).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress(5, "Reading the evaluation clips")
    features, clips = evaluation_features(model.params)
    timings["features_s"] = round(time.perf_counter() - started, 2)

    mark = time.perf_counter()
    progress(12, f"Every filter on {len(clips)} clips")
    stats, probabilities = _activation_statistics(model, features)
    clip_labels = [clip.label for clip in clips]
    names = [clip.name for clip in clips]
    layers = {}
    for name, (peaks, means) in stats.items():
        profiles = layer_profiles(peaks, means, clip_labels)
        for profile in profiles:
            for example in profile["examples"]:
                row = example.pop("clip")
                example |= {"row": row, "clip": names[row], "label": clip_labels[row]}
        layers[name] = profiles
    progress(25, "The maps of each filter's favourite clips")
    examples_npz = _example_maps(model, features, layers)
    connections = _connections(model)
    timings["profiles_s"] = round(time.perf_counter() - mark, 2)

    mark = time.perf_counter()
    rows = faithfulness_subset(clips) if faithfulness_rows is None else faithfulness_rows
    faithfulness = method_averages(
        model,
        features,
        rows,
        progress=lambda done, total: progress(
            30 + 68 * done // total, f"Checking explanations: clip {done} of {total}"
        ),
    )
    faithfulness["accuracy_on_subset"] = round(
        float(np.mean([model.labels[int(np.argmax(probabilities[r]))] == clip_labels[r] for r in rows])), 4
    )
    timings["faithfulness_s"] = round(time.perf_counter() - mark, 2)
    timings["total_s"] = round(time.perf_counter() - started, 2)
    return InsightResult(layers, connections, faithfulness, examples_npz, timings)
