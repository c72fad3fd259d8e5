"""What the comparison page and the report show, built from an experiment and its analyses.

Both the page (images as URLs) and the self-contained report (images as data: URIs) use
these builders, so they can never disagree about what changed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from core.charts import histogram_overlay_figure, similarity_chart
from experiments import selectors
from experiments.comparison import (
    FilterChange,
    LayerComparison,
    difference_map,
    overlay_histograms,
    probability_changes,
)
from experiments.models import Analysis, Experiment, Recording
from experiments.presenters import poll_delay_ms
from modelzoo.models import ModelVersion
from modelzoo.rendering import colorize, png_bytes

# A's map, B's map, A−B, B−A, and the three in one row (A | B | A−B, or B | A | B−A): the page
# asks for one row per filter, a third of the requests of three separate images.
SIDES = ("a", "b", "ab", "ba", "row-ab", "row-ba")
DIFFERENCE_CMAP = "RdBu_r"  # red: the left side fires more, blue: the right side does


@dataclass
class Side:
    """One column of the comparison: a clip through a model version, and its analysis."""

    key: str  # "a" or "b": the stored side
    letter: str  # "A" or "B": where it is shown (left is always A)
    recording: Recording
    model_version: ModelVersion
    analysis: Analysis | None
    level: dict | None = None  # peak and RMS in dBFS, see clip_level

    @property
    def status(self) -> str:
        return self.analysis.job.status if self.analysis else "none"

    @property
    def is_done(self) -> bool:
        return self.analysis is not None and self.analysis.is_done

    @property
    def top(self) -> tuple[str, float] | None:
        """The predicted label and its probability in percent."""
        analysis = self.analysis
        if analysis is None or not analysis.is_done or not analysis.probabilities:
            return None
        label = analysis.predicted_label
        return label, round(100 * analysis.probabilities.get(label, 0.0), 1)


def clip_level(recording: Recording) -> dict:
    """Peak and RMS level of a clip in dBFS.

    Waveforms are drawn scaled to each clip's loudest sample (quiet clips would be flat
    lines otherwise), so the levels are printed next to them: a gain edit stays visible.
    """
    return _clip_level(recording.pk, recording.sha256)


@lru_cache(maxsize=64)
def _clip_level(recording_id: int, sha256: str) -> dict:
    from experiments.services.recordings import recording_audio

    y = recording_audio(Recording.objects.get(pk=recording_id)).y.astype(np.float64)
    peak = float(np.max(np.abs(y), initial=0.0))
    rms = float(np.sqrt(np.mean(y**2))) if y.size else 0.0
    return {
        "peak_dbfs": round(20 * np.log10(peak), 1) if peak > 1e-9 else None,
        "rms_dbfs": round(20 * np.log10(rms), 1) if rms > 1e-9 else None,
    }


def experiment_mode(experiment: Experiment) -> str:
    """ "models" when one clip goes through two model versions, else "recordings"."""
    return "models" if experiment.model_version_b_id else "recordings"


def sides(experiment: Experiment, *, swap: bool = False) -> tuple[Side, Side]:
    """The left and right columns (A and B, or B and A when swapped)."""
    (rec_a, model_a), (rec_b, model_b) = selectors.experiment_sides(experiment)
    analysis_a, analysis_b = selectors.experiment_analyses(experiment)
    a = Side("a", "A", rec_a, model_a, analysis_a)
    b = Side("b", "B", rec_b, model_b, analysis_b)
    if swap:
        a.letter, b.letter = "B", "A"
        return b, a
    return a, b


def progress(left: Side, right: Side) -> dict:
    """Where the two analyses are: both done, one failed, one never asked for, or still running.

    ``poll_ms`` is how long the page waits before asking again; the side still waiting
    decides (soon after its job was queued, then less often).
    """
    statuses = {left.status, right.status}
    return {
        "done": left.is_done and right.is_done,
        "failed": "failed" in statuses,
        "missing": "none" in statuses,  # never asked for: the page offers "Analyse"
        "running": bool({"pending", "running"} & statuses),
        "poll_ms": max(poll_delay_ms(left.analysis), poll_delay_ms(right.analysis), 100),
    }


def layer_pair(analysis_a: Analysis, analysis_b: Analysis, layer_name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The activations of layer `layer_name` of A and of the layer at the same position in B."""
    acts_a = selectors.analysis_cache(analysis_a).activations
    acts_b = selectors.analysis_cache(analysis_b).activations
    names_a, names_b = list(acts_a), list(acts_b)
    if layer_name not in names_a:
        return None
    position = names_a.index(layer_name)
    if position >= len(names_b):
        return None
    return acts_a[layer_name], acts_b[names_b[position]]


def row_gap(width: int) -> int:
    """White columns between the panels of a row image (a few percent of a panel)."""
    return max(1, round(width / 24))


def _panels(a: np.ndarray, b: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray, float]:
    map_a = a[index].astype(np.float32)
    map_b = b[index].astype(np.float32)
    return map_a, map_b, float(max(map_a.max(initial=0.0), map_b.max(initial=0.0))) or 1.0


def filter_row_png(a: np.ndarray, b: np.ndarray, index: int, side: str) -> bytes:
    """One filter as a row of three panels: ``row-ab`` is A | B | A−B, ``row-ba`` is B | A | B−A."""
    map_a, map_b, top = _panels(a, b, index)
    first, second = (map_a, map_b) if side == "row-ab" else (map_b, map_a)
    diff = difference_map(first, second)
    gap = np.full((first.shape[0], row_gap(first.shape[1]), 3), 255, dtype=np.uint8)
    row = np.concatenate(
        [
            colorize(first, vmin=0.0, vmax=top),
            gap,
            colorize(second, vmin=0.0, vmax=top),
            gap,
            colorize(diff, vmin=-top, vmax=top, cmap=DIFFERENCE_CMAP),
        ],
        axis=1,
    )
    return png_bytes(row)


def filter_image_png(a: np.ndarray, b: np.ndarray, index: int, side: str) -> bytes:
    """One filter's map for A, B (shared scale: the larger max of the two) or their difference.

    The difference uses the same scale, centred on 0, so a faint difference map means a
    small change rather than being stretched to look dramatic.
    """
    if side.startswith("row-"):
        return filter_row_png(a, b, index, side)
    map_a, map_b, top = _panels(a, b, index)
    if side == "a":
        return png_bytes(colorize(map_a, vmin=0.0, vmax=top))
    if side == "b":
        return png_bytes(colorize(map_b, vmin=0.0, vmax=top))
    diff = difference_map(map_a, map_b) if side == "ab" else difference_map(map_b, map_a)
    return png_bytes(colorize(diff, vmin=-top, vmax=top, cmap=DIFFERENCE_CMAP))


def _oriented(stage: LayerComparison, swap: bool) -> LayerComparison:
    """A stage as seen with the columns swapped: A and B exchange their statistics."""
    if not swap:
        return stage
    flipped = [
        FilterChange(
            index=f.index,
            change=f.change,
            cosine=f.cosine,
            max_a=f.max_b,
            max_b=f.max_a,
            mean_a=f.mean_b,
            mean_b=f.mean_a,
        )
        for f in stage.filters
    ]
    return LayerComparison(
        name=stage.name,
        similarity=stage.similarity,
        change=stage.change,
        filters=flipped,
        comparable=stage.comparable,
        shape_a=stage.shape_b,
        shape_b=stage.shape_a,
    )


def results(
    left: Side,
    right: Side,
    *,
    layer_name: str | None,
    order: str = "change",
    image_source: Callable[[str, int, str], str],
    audio_source: Callable[[Analysis, str, int], str] | None = None,
    all_layers: bool = False,
) -> dict:
    """Everything drawn from two finished analyses: probabilities, similarity figure, layers.

    `image_source(layer, index, side)` gives the src of a filter image: a URL on the
    page, a data: URI in the report. With `all_layers`, every layer's filters are listed
    (the report); otherwise only `layer_name`'s (the page shows one layer at a time).
    """
    if left.analysis is None or right.analysis is None:
        raise ValueError("Both sides must be analysed before they are compared.")
    swap = left.key == "b"
    analysis_a, analysis_b = (right.analysis, left.analysis) if swap else (left.analysis, right.analysis)
    stages = [_oriented(s, swap) for s in selectors.analyses_comparison(analysis_a, analysis_b)]
    conv_stages = stages[1:-1]
    # URLs name the layers of the stored side A; B's are matched by position.
    layer_names = list(selectors.analysis_cache(analysis_a).activations)
    own_names = {
        "a": layer_names,
        "b": list(selectors.analysis_cache(analysis_b).activations),
    }
    tabs: list[dict[str, Any]] = [
        {"name": name, "stage": stage} for name, stage in zip(layer_names, conv_stages, strict=False)
    ]
    if not tabs:
        return {"stages": stages, "chart": similarity_chart(stages), "tabs": [], "layers": []}
    current = layer_name if layer_name in {t["name"] for t in tabs} else None
    if current is None:
        # Open where the inputs part ways most: the least similar layer.
        comparable = [t for t in tabs if t["stage"].comparable and t["stage"].similarity is not None] or tabs
        current = min(comparable, key=lambda t: t["stage"].similarity if t["stage"].similarity is not None else 1.0)[
            "name"
        ]
    shown = tabs if all_layers else [t for t in tabs if t["name"] == current]
    diff_side = "ba" if swap else "ab"
    layers = []
    for tab in shown:
        stage = tab["stage"]
        position = layer_names.index(tab["name"])
        filters = stage.ranked() if order == "change" else stage.filters
        rows = []
        for rank, f in enumerate(filters, 1):
            row = {
                "f": f,
                "rank": rank,
                # One image per filter: left | right | left−right, side by side.
                "row": image_source(tab["name"], f.index, f"row-{diff_side}"),
                "change_pct": round(100 * f.change),
            }
            if audio_source is not None:
                row["left_audio"] = audio_source(left.analysis, own_names[left.key][position], f.index)
                row["right_audio"] = audio_source(right.analysis, own_names[right.key][position], f.index)
            rows.append(row)
        width = stage.shape_a[2] if stage.comparable else 0
        layers.append(
            {"name": tab["name"], "stage": stage, "filters": rows, "row_width": 3 * width + 2 * row_gap(width or 1)}
        )
    return {
        "stages": stages,
        "chart": similarity_chart(stages),
        "tabs": tabs,
        "current": current,
        "layers": layers,
        "order": order,
        "probability_rows": probability_changes(left.analysis.probabilities, right.analysis.probabilities),
    }


def weight_overlays(left: ModelVersion, right: ModelVersion) -> list[dict]:
    """Per layer weight: both versions' histograms as outlines on a shared axis (matched by position)."""
    overlays = []
    for entry_a, entry_b in zip(left.weight_histograms, right.weight_histograms, strict=False):
        if not entry_a.get("counts") or not entry_b.get("counts"):
            continue
        figure = histogram_overlay_figure(overlay_histograms(entry_a, entry_b))
        name = entry_a["layer"] if entry_a["layer"] == entry_b["layer"] else f"{entry_a['layer']} / {entry_b['layer']}"
        overlays.append(
            {
                **figure,
                "layer": name,
                "weight": entry_a.get("weight", ""),
                "shape_a": entry_a.get("shape", []),
                "shape_b": entry_b.get("shape", []),
                "stats_a": {"mean": entry_a.get("mean"), "std": entry_a.get("std")},
                "stats_b": {"mean": entry_b.get("mean"), "std": entry_b.get("std")},
            }
        )
    return overlays
