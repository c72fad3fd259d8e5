"""Can an explanation be trusted?  Deletion and insertion curves, FF, and a weight-randomisation sanity check.

An attribution map ranks the input's time-frequency cells by how much they speak for
a digit.  If the ranking is faithful to the network:

* **deletion** (Petsiuk et al., 2018): replacing the most-attributed cells first with
  the baseline makes the digit's probability fall fast, so the area under the curve
  (probability against the fraction of cells removed) is small;
* **insertion**: starting from the baseline and putting the most-attributed cells back
  first makes it rise fast, so the area is large;
* **FF** (faithfulness, as used for audio in L-MAC, Paissan et al., 2024): the drop of
  the probability when "the evidence" (the soft mask the pages play,
  :func:`insights.attribution.attribution_masks`) is masked out; large is faithful.

The **sanity check** (Adebayo et al., 2018) recomputes the explanation on the same
architecture with randomised weights: a method whose map barely changes explains the
input, not the network.  Similarity is the Spearman rank correlation of the two maps'
magnitudes.

Everything here but :func:`randomised_model` is numpy: the network enters as a
``predict(batch) -> probabilities`` callable, so the curves are tested on synthetic
models whose answers are known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from insights.attribution import DEFAULT_KEEP, attribution_masks

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = [
    "BASELINE_DESCRIPTION",
    "FRACTIONS",
    "SANITY_THRESHOLD",
    "Faithfulness",
    "area_under",
    "cell_order",
    "faithfulness_of_maps",
    "masked_inputs",
    "random_order_map",
    "randomised_model",
    "rank_similarity",
    "sanity_similarities",
]

#: Fractions of the cells removed (deletion) or put back (insertion), from none to all.  Dense at
#: the start: on a digit the first few per cent of the cells decide (tenths would miss it all).
FRACTIONS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
#: The seed of the random cell order every curve is compared with.
REFERENCE_SEED = 0
#: Maps that keep a rank similarity at least this high on a randomised network are flagged.
SANITY_THRESHOLD = 0.5
#: How removed cells are filled, in the words the pages use.
BASELINE_DESCRIPTION = "silence: each removed cell takes the value digital silence has after normalisation"

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Faithfulness:
    """How one attribution map fares when its cells are removed and put back.

    Attributes
    ----------
    fractions : tuple of float
        Fractions of cells removed or inserted, from 0 to 1.
    deletion, insertion : list of float
        The target's probability at each fraction.
    deletion_auc, insertion_auc : float
        Areas under the two curves (trapezoid rule), in [0, 1].
    ff : float
        Probability on the input minus probability with the evidence masked out.
    baseline : str
        What removed cells are replaced by.
    """

    fractions: tuple[float, ...]
    deletion: list[float]
    insertion: list[float]
    deletion_auc: float
    insertion_auc: float
    ff: float
    baseline: str

    def to_dict(self) -> dict:
        """Rounded, JSON-ready."""
        data = asdict(self)
        for key in ("deletion", "insertion"):
            data[key] = [round(float(v), 5) for v in data[key]]
        for key in ("deletion_auc", "insertion_auc", "ff"):
            data[key] = round(float(data[key]), 5)
        data["fractions"] = list(self.fractions)
        return data


def cell_order(attribution: np.ndarray) -> np.ndarray:
    """Flat indices of the cells, most attributed first (ties keep their place: a stable order).

    Parameters
    ----------
    attribution : np.ndarray, shape (n_freq, n_frames)
        Signed maps rank by value: cells that speak against the digit come last.

    Returns
    -------
    np.ndarray, int, shape (n_freq * n_frames,)
    """
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"attribution must be a finite 2-D map, got shape {a.shape}.")
    return np.argsort(-a.ravel(), kind="stable")


def masked_inputs(
    features: np.ndarray, baseline: np.ndarray, order: np.ndarray, fractions: tuple[float, ...] = FRACTIONS
) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of the deletion and insertion curves.

    Parameters
    ----------
    features, baseline : np.ndarray, float32, shape (n_freq, n_frames)
    order : np.ndarray, int
        From :func:`cell_order`.
    fractions : tuple of float in [0, 1]

    Returns
    -------
    deleted, inserted : np.ndarray, float32, shape (len(fractions), n_freq, n_frames)
        ``deleted[i]`` is the input with its first ``round(fractions[i] * cells)`` cells
        (in `order`) replaced by the baseline; ``inserted[i]`` is the baseline with
        those cells taken from the input.
    """
    x = np.asarray(features, dtype=np.float32)
    b = np.broadcast_to(np.asarray(baseline, dtype=np.float32), x.shape)
    cells = x.size
    rank = np.empty(cells, dtype=np.int64)
    rank[order] = np.arange(cells)  # each cell's position in the order
    counts = np.array([round(f * cells) for f in fractions])
    chosen = rank[None, :] < counts[:, None]  # (k, cells): removed or inserted at step k
    flat_x, flat_b = x.ravel()[None, :], b.ravel()[None, :]
    deleted = np.where(chosen, flat_b, flat_x).reshape(len(fractions), *x.shape)
    inserted = np.where(chosen, flat_x, flat_b).reshape(len(fractions), *x.shape)
    return deleted.astype(np.float32), inserted.astype(np.float32)


def area_under(fractions: tuple[float, ...], values: list[float] | np.ndarray) -> float:
    """Trapezoid area under a curve sampled at `fractions` (a probability curve gives a value in [0, 1])."""
    x, y = np.asarray(fractions, dtype=np.float64), np.asarray(values, dtype=np.float64)
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def faithfulness_of_maps(
    predict: Predict,
    features: np.ndarray,
    maps: dict[str, np.ndarray],
    *,
    target: int,
    baseline: np.ndarray,
    fractions: tuple[float, ...] = FRACTIONS,
    keep: float = DEFAULT_KEEP,
    batch_size: int = 128,
) -> dict[str, Faithfulness]:
    """Deletion, insertion and FF of every map of one clip, from batched predictions.

    Parameters
    ----------
    predict : callable
        ``(batch, n_freq, n_frames) float32 -> (batch, n_labels)`` probabilities.
    features : np.ndarray, float32, shape (n_freq, n_frames)
        The input the maps explain.
    maps : dict of str to np.ndarray, shape (n_freq, n_frames)
        Attribution maps by key (``ig``, ``cam_conv1``, ...).
    target : int
        The explained label's index.
    baseline : np.ndarray, float32, shape (n_freq, n_frames)
        What removed cells take (:func:`insights.attribution.baseline_features`).
    fractions : tuple of float
        Must start at 0 and end at 1.
    keep : float
        The evidence mask's share of cells (as the pages' "listen to the evidence").

    Returns
    -------
    dict of str to Faithfulness
    """
    if not maps:
        return {}
    if fractions[0] != 0 or fractions[-1] != 1:
        raise ValueError("fractions must run from 0 to 1.")
    x = np.asarray(features, dtype=np.float32)
    b = np.asarray(baseline, dtype=np.float32)
    # The interior points of every curve and each map's evidence-removed input, in one batch;
    # the two ends (the input, the baseline) are the same for every map.
    interior = fractions[1:-1]
    batches, evidence_inputs = [], []
    for heat in maps.values():
        deleted, inserted = masked_inputs(x, b, cell_order(heat), interior)
        batches += [deleted, inserted]
        evidence, _ = attribution_masks(heat, keep=keep)
        evidence_inputs.append(x * (1.0 - evidence) + b * evidence)
    stacked = np.concatenate([np.stack([x, b]), *batches, np.stack(evidence_inputs)]).astype(np.float32)
    p = np.concatenate(
        [np.asarray(predict(stacked[i : i + batch_size]))[:, target] for i in range(0, len(stacked), batch_size)]
    ).astype(np.float64)
    p_input, p_baseline = float(p[0]), float(p[1])
    k = len(interior)
    results = {}
    for m, key in enumerate(maps):
        start = 2 + 2 * k * m
        deletion = [p_input, *p[start : start + k], p_baseline]
        insertion = [p_baseline, *p[start + k : start + 2 * k], p_input]
        results[key] = Faithfulness(
            fractions=tuple(fractions),
            deletion=deletion,
            insertion=insertion,
            deletion_auc=area_under(fractions, deletion),
            insertion_auc=area_under(fractions, insertion),
            ff=p_input - float(p[2 + 2 * k * len(maps) + m]),
            baseline="silence",
        )
    return results


def random_order_map(shape: tuple[int, ...], *, seed: int = REFERENCE_SEED) -> np.ndarray:
    """A map that ranks cells in a seeded random order: the reference every explanation must beat."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks with ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if len(unique) < len(values):  # average the ranks of tied values
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def rank_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation of two maps' magnitudes, as in Adebayo et al. (2018).

    Parameters
    ----------
    a, b : np.ndarray, same shape

    Returns
    -------
    float in [-1, 1], or None
        1 for maps that rank cells the same way; a constant map against a varying one
        says nothing alike (0).  Two constant maps (a Grad-CAM that is all zeros on both
        networks) rank no cell above another: their similarity is undefined (None), not
        1, which would flag the method as ignoring the weights when it said nothing.
    """
    x, y = np.abs(np.asarray(a, dtype=np.float64)).ravel(), np.abs(np.asarray(b, dtype=np.float64)).ravel()
    if x.shape != y.shape:
        raise ValueError(f"maps must have the same shape, got {np.shape(a)} and {np.shape(b)}.")
    flat_x, flat_y = np.ptp(x) == 0, np.ptp(y) == 0
    if flat_x or flat_y:
        return None if flat_x and flat_y else 0.0
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float(np.clip((rx @ ry) / np.sqrt((rx @ rx) * (ry @ ry)), -1.0, 1.0))


def sanity_similarities(original: dict[str, np.ndarray], randomised: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Each map's rank similarity to the same method's map on the randomised network (None: undefined)."""
    values = {key: rank_similarity(original[key], randomised[key]) for key in original if key in randomised}
    return {key: None if value is None else round(value, 4) for key, value in values.items()}


# --------------------------------------------------------------------------- worker side (TensorFlow)

_randomised: dict[str, LoadedModel] = {}
_randomised_lock = threading.Lock()


def randomised_model(model: LoadedModel, *, seed: int = 0) -> LoadedModel:
    """The same architecture with every weight redrawn (once per model per process).

    Each weight tensor is replaced by draws from a normal distribution with the trained
    tensor's standard deviation (zero stays zero), seeded: the scale of every layer is
    kept, what it learned is gone.  Adebayo et al. re-initialise layer by layer from
    the top ("cascading"); randomising all layers at once is the strongest form of
    the same test.

    Returns
    -------
    LoadedModel
    """
    from modelzoo.inference import build_loaded_model

    key = f"{model.key}:randomised:{seed}"
    with _randomised_lock:
        if key not in _randomised:
            import keras

            clone = keras.models.clone_model(model.keras_model)
            rng = np.random.default_rng(seed)
            clone.set_weights(
                [
                    rng.normal(0.0, float(np.std(w)), size=w.shape).astype(w.dtype)
                    for w in model.keras_model.get_weights()
                ]
            )
            _randomised[key] = build_loaded_model(clone, key=key, params=model.params, labels=model.labels)
        return _randomised[key]


_predictors: dict[str, Predict] = {}
_predictors_lock = threading.Lock()


def probabilities_function(model: LoadedModel) -> Predict:
    """``predict(batch (n, n_freq, n_frames)) -> probabilities (n, n_labels)`` for `model`, compiled once.

    The probabilities alone: the curves run a hundred inputs at a time, and the layer
    outputs :meth:`LoadedModel.run` also returns would be copied for nothing.
    """
    with _predictors_lock:
        if model.key not in _predictors:
            import tensorflow as tf

            p = model.params
            spec = tf.TensorSpec((None, p.n_freq, p.n_frames), tf.float32)
            keras_model = model.keras_model
            compiled = tf.function(lambda x: keras_model(x[..., None], training=False), input_signature=[spec])
            _predictors[model.key] = lambda batch: compiled(tf.constant(batch, tf.float32)).numpy()
        return _predictors[model.key]


def explain(model: LoadedModel, features: np.ndarray, *, target: int, steps: int = 32) -> dict[str, np.ndarray]:
    """Every map an attribution shows: integrated gradients (``ig``) and Grad-CAM of each layer (``cam_<layer>``).

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n_freq, n_frames)
    target : int
    steps : int
        Integrated gradients' path points.

    Returns
    -------
    dict of str to np.ndarray, float32, shape (n_freq, n_frames)
    """
    from insights.attribution import grad_cams, integrated_gradients

    maps = {"ig": integrated_gradients(model, features, target=target, steps=steps)}
    maps |= {f"cam_{name}": heat for name, heat in grad_cams(model, features, target=target).items()}
    return maps


@dataclass(frozen=True)
class ExplanationChecks:
    """Faithfulness of each map and its similarity on a randomised network.

    Attributes
    ----------
    faithfulness : dict of str to Faithfulness
    randomised_similarity : dict of str to float or None
        None where both maps are constant: nothing to compare, so nothing flagged.
    """

    faithfulness: dict[str, Faithfulness]
    randomised_similarity: dict[str, float | None]
    reference: Faithfulness

    def flagged(self, threshold: float = SANITY_THRESHOLD) -> list[str]:
        """The maps that barely change when the weights are randomised."""
        return [key for key, value in self.randomised_similarity.items() if value is not None and value >= threshold]


def check_explanations(
    model: LoadedModel,
    features: np.ndarray,
    maps: dict[str, np.ndarray],
    *,
    target: int,
    explain_randomised: Callable[..., dict[str, np.ndarray]] | None = None,
) -> ExplanationChecks:
    """Deletion, insertion and FF of each map, and the sanity check of the method that made it.

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n_freq, n_frames)
    maps : dict of str to np.ndarray
        The clip's maps (from :func:`explain`, or stored).
    target : int
    explain_randomised : callable, optional
        ``(model, features, target=) -> maps``: how the maps are made again on the
        randomised network; :func:`explain` by default.

    Returns
    -------
    ExplanationChecks
        With ``reference``: the same curves for cells taken in a random order (what a
        map must beat).
    """
    from insights.attribution import baseline_features

    reference_key = "\0random"  # cannot clash with a map's key
    faithfulness = faithfulness_of_maps(
        probabilities_function(model),
        features,
        maps | {reference_key: random_order_map(np.shape(features))},
        target=target,
        baseline=baseline_features(model.params, "silence"),
    )
    reference = faithfulness.pop(reference_key)
    randomised = (explain_randomised or explain)(randomised_model(model), features, target=target)
    return ExplanationChecks(faithfulness, sanity_similarities(maps, randomised), reference)
