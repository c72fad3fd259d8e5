"""Turning stored analyses into what the lab's pages show: plain numbers and rows, no HTML, no queries."""

import numpy as np
from django.utils import timezone

from dsp.params import FeatureParams
from experiments.models import Analysis


def probability_rows(analysis: Analysis) -> list[dict]:
    """Every label with its probability (percent), the predicted one marked."""
    return [
        {"label": label, "p": p, "percent": round(p * 100, 1), "is_top": label == analysis.predicted_label}
        for label, p in analysis.probabilities.items()
    ]


def poll_delay_ms(analysis: Analysis | None) -> int:
    """How long the prediction panel waits before asking again: soon for a job just queued, then less often.

    A new clip's analysis is usually done a few hundred milliseconds after the upload; a
    job that has waited longer is behind a queue, and a page left open should not hammer
    the server.
    """
    if analysis is None or analysis.job.is_finished:
        return 0
    age_s = (timezone.now() - analysis.job.created_at).total_seconds()
    return 100 if age_s < 3 else 500 if age_s < 20 else 2000


def layer_overview(analysis: Analysis) -> list[dict]:
    """Per layer: each filter's mean and max activation, scaled for bars, the three strongest marked."""
    rows = []
    for layer in analysis.layers:
        top = max(layer["max"]) or 1.0
        top_mean = max(layer["mean"]) or 1.0
        strongest = set(np.argsort(layer["mean"])[::-1][:3].tolist())
        rows.append(
            {
                "name": layer["name"],
                "filters": [
                    {
                        "index": k,
                        "mean": layer["mean"][k],
                        "max": layer["max"][k],
                        "mean_pct": round(100 * layer["mean"][k] / top_mean, 1),
                        "max_pct": round(100 * layer["max"][k] / top, 1),
                        "strong": k in strongest,
                    }
                    for k in range(layer["filters"])
                ],
            }
        )
    return rows


def filter_tiles(layer: dict, *, sort: str = "index") -> list[dict]:
    """One tile per filter of a layer's stored statistics, by index or strongest (mean activation) first.

    ``silent`` marks a filter that never fires on this clip (every cell zero).
    """
    order = list(range(layer["filters"]))
    if sort == "strength":
        order.sort(key=lambda k: -layer["mean"][k])
    # A filter whose maximum is zero does not fire at all on this clip: its map is black and
    # its sound is silence, so the tile says so instead of offering to play it.
    return [
        {"index": k, "mean": layer["mean"][k], "max": layer["max"][k], "silent": layer["max"][k] <= 0} for k in order
    ]


def filter_statistics(values: np.ndarray, *, layer: dict, index: int, params: FeatureParams) -> dict:
    """What the zoomed filter shows beside its map: level, spread, rank and where it fires.

    Parameters
    ----------
    values : np.ndarray, shape (frequency_bins, frames)
        The filter's output map (float32), low frequencies first.
    layer : dict
        The layer's stored statistics (``filters``, per-filter ``mean``).
    index : int
        The filter's index in the layer.
    params : FeatureParams
        The model's features: the map spans ``params.duration_s`` seconds and 0 to half
        of ``params.sample_rate`` Hz.

    Returns
    -------
    dict
        ``mean``, ``max``, ``std``, ``active_fraction`` (share of cells above zero),
        ``rank`` (1 for the layer's strongest filter by mean activation), and
        ``time_span`` (seconds) and ``freq_span`` (Hz) of the cells above half the
        map's maximum, each ``None`` when the filter never fires.
    """
    peak = float(values.max())
    active = values > 0.5 * peak if peak > 0 else np.zeros_like(values, dtype=bool)
    columns = np.flatnonzero(active.any(axis=0))
    rows = np.flatnonzero(active.any(axis=1))
    seconds_per_column = params.duration_s / values.shape[1]
    hz_per_row = params.sample_rate / 2 / values.shape[0]
    return {
        "mean": float(values.mean()),
        "max": peak,
        "std": float(values.std()),
        "active_fraction": float((values > 0).mean()),
        "rank": sorted(range(layer["filters"]), key=lambda k: -layer["mean"][k]).index(index) + 1,
        "time_span": (columns[0] * seconds_per_column, (columns[-1] + 1) * seconds_per_column)
        if columns.size
        else None,
        "freq_span": (rows[0] * hz_per_row, (rows[-1] + 1) * hz_per_row) if rows.size else None,
    }
