"""What a filter likes, from its responses to a set of labelled clips (pure numpy).

For every filter of a layer, given each clip's peak and mean response: the clips that
excite it most (its "dataset examples", as feature-visualisation tools show for images),
its mean response per digit (where filters specialise), and whether it is dead — never
above zero on any clip, which is a property of the model, not of one clip.
"""

from collections.abc import Sequence

import numpy as np

__all__ = ["DEAD_BELOW", "TOP_EXAMPLES", "connection_strengths", "layer_profiles", "specialisation"]

#: Clips kept per filter, strongest first.
TOP_EXAMPLES = 9
#: A filter whose peak over the whole set does not exceed this never activates: it is dead.
DEAD_BELOW = 1e-6


def layer_profiles(
    peaks: np.ndarray,
    means: np.ndarray,
    clip_labels: Sequence[str],
    *,
    top: int = TOP_EXAMPLES,
) -> list[dict]:
    """Profile every filter of one layer.

    Parameters
    ----------
    peaks, means : np.ndarray, shape (n_clips, n_filters)
        Each clip's largest and mean response of each filter.
    clip_labels : sequence of str, length n_clips
        Each clip's digit.
    top : int
        Examples kept per filter.

    Returns
    -------
    list of dict, one per filter, with ``index``, ``peak`` (the largest response on the
    set), ``dead``, ``mean_by_label`` ({label: mean response over that label's clips},
    labels in first-seen order) and ``examples`` ([{``clip``: row index, ``score``: peak}],
    strongest first, only clips that excite it at all).
    """
    peaks = np.asarray(peaks, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    if peaks.ndim != 2 or peaks.shape != means.shape or peaks.shape[0] != len(clip_labels):
        raise ValueError(
            f"peaks {peaks.shape} and means {means.shape} must be (n_clips, n_filters) for {len(clip_labels)} clips."
        )
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}.")
    labels = list(dict.fromkeys(clip_labels))
    label_rows = {label: np.array([lab == label for lab in clip_labels]) for label in labels}
    profiles = []
    for k in range(peaks.shape[1]):
        column = peaks[:, k]
        order = np.argsort(-column, kind="stable")
        examples = [
            {"clip": int(i), "score": round(float(column[i]), 5)} for i in order[:top] if column[i] > DEAD_BELOW
        ]
        peak = float(column.max()) if column.size else 0.0
        profiles.append(
            {
                "index": k,
                "peak": round(peak, 5),
                "dead": peak <= DEAD_BELOW,
                "mean_by_label": {label: round(float(means[rows, k].mean()), 5) for label, rows in label_rows.items()},
                "examples": examples,
            }
        )
    return profiles


def specialisation(mean_by_label: dict[str, float]) -> tuple[str | None, float]:
    """The digit a filter prefers and how much: (label, share of its mean response that label gets above the rest).

    The share is ``(best - mean of the others) / (best + mean of the others)``: 0 for a
    filter that answers every digit alike, 1 for one that answers only one.

    Returns
    -------
    (label or None, float in [0, 1])
        None and 0 when the filter never responds or there is at most one label.
    """
    if len(mean_by_label) < 2:
        return None, 0.0
    label = max(mean_by_label, key=lambda key: mean_by_label[key])
    best = mean_by_label[label]
    others = float(np.mean([v for key, v in mean_by_label.items() if key != label]))
    if best <= 0 or best + others <= 0:
        return None, 0.0
    return label, round(max(0.0, (best - others) / (best + others)), 4)


def connection_strengths(kernel: np.ndarray) -> np.ndarray:
    """How much each input channel of a convolution feeds each of its filters: the kernel summed over space.

    A map that is on everywhere at level ``a`` adds about ``a * sum(kernel[:, :, i, j])``
    to filter ``j``'s input, so this sum, times filter ``i``'s mean activation on a clip,
    is how much ``i`` pushes ``j`` on that clip (positive: excites, negative: inhibits).

    Parameters
    ----------
    kernel : np.ndarray, shape (k_rows, k_cols, in_channels, filters)

    Returns
    -------
    np.ndarray, float64, shape (in_channels, filters)
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must be (k_rows, k_cols, in_channels, filters), got shape {kernel.shape}.")
    return kernel.sum(axis=(0, 1))
