"""Training and evaluation of the digit CNN (worker tier).

Dataset loading from a folder of ``{digit}_{speaker}_{take}.wav`` files,
the model, training with a per-epoch progress callback, evaluation and the two split protocols (held-out takes and
leave-one-speaker-out).  TensorFlow/Keras are imported inside functions only,
so importing this module is cheap and safe in the web tier.

Augmentation (:mod:`modelzoo.augmentation`) runs in numpy outside the model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsp.decode import decode_audio, resample, to_mono
from dsp.errors import AudioError
from dsp.params import FeatureParams
from modelzoo.augmentation import augment_features, build_banks, clean_features, mix_pairs
from modelzoo.evaluation import SPEAKER

DEFAULT_LABELS: tuple[str, ...] = tuple(str(d) for d in range(10))
HELDOUT_TEST_TAKES: tuple[int, ...] = (5, 6, 7, 8, 9)
#: The recipe's training clips, shipped with the repository (FSDD, CC BY-SA 4.0; see its README).
DATA_DIR = Path(__file__).with_name("data") / "fsdd"
#: Where the recipe's features differ from FeatureParams' defaults (which stay those of older models).
FEATURE_OVERRIDES: dict[str, Any] = {"active_method": "noise_floor"}


def recipe_features(**overrides: Any) -> FeatureParams:
    """The feature parameters the recipe trains with (the front end that finds the word in noise)."""
    return FeatureParams.from_dict({**FEATURE_OVERRIDES, **overrides})


#: The final recipe; see RECIPE_NOTES.md for why each value is what it is.
DEFAULT_HYPERPARAMETERS: dict[str, Any] = {
    # optimisation
    "epochs": 30,
    "batch_size": 32,
    "learning_rate": 2e-3,  # peak; cosine-decayed to 0 over all epochs (after any warm-up)
    "warmup_epochs": 1.0,  # linear learning-rate ramp from 0 to the peak over this many epochs (0: none)
    "weight_decay": 1e-4,
    "label_smoothing": 0.05,
    "mixup_alpha": 0.0,  # blend each example with another of the epoch, weight ~ Beta(alpha, alpha) (0: off)
    "average_last_epochs": 0,  # the final weights: the mean of the weights after each of the last N epochs (0: off)
    # model: three conv layers (filters, square kernels, max-pool sizes after each)
    "filters": (16, 16, 32),
    "kernels": (7, 5, 3),
    "pool_sizes": (2, 2, 2),
    "batch_norm": False,
    "conv_dropout": 0.0,
    "head": "flatten",  # "flatten", "time_max" (max over time, then flatten) or "gap"
    "dense_units": 128,
    "dense_dropout": 0.2,
    # waveform augmentation (off: every epoch sees the clean features)
    "augment": True,
    "speed": 0.12,  # speed factor uniform in [1 - speed, 1 + speed] (pitch and tempo together)
    "tempo": 0.25,  # tempo alone (WSOLA) by a factor in [1 / (1 + tempo), 1 + tempo]...
    "tempo_p": 0.3,  # ...with this probability
    "shift_s": 0.15,  # the window is centred on the word the front end finds, give or take this
    "trim": 0.15,  # up to this fraction of the word cut at each end...
    "trim_p": 0.3,  # ...with this probability
    "reverb_p": 0.4,  # probability of a synthetic room...
    "rt60_s": (0.15, 1.0),  # ...with a reverberation time in this range...
    "drr_db": (-6.0, 12.0),  # ...and a direct-to-reverberant ratio in this range
    "take_s": (1.0, 3.0),  # the word is put at a random place in a take this long
    "gain_db": 12.0,  # uniform in [-gain_db, +gain_db]
    "noise_p": 0.75,  # probability of adding noise over the whole take
    "noise_kinds": ("coloured", "babble", "hum", "fan"),
    "snr_db": (0.0, 30.0),  # SNR range (dB) of the added noise, against the word's power
    "clip_p": 0.1,  # probability of a too-hot input: DC offset, then clipping
    "clip_drive_db": (0.0, 12.0),  # peak this far over full scale
    "dc_max": 0.2,  # DC offset uniform in [-dc_max, dc_max]
    "codec_p": 0.1,  # probability of MP3 (16-32 kbit/s) or Opus (6-16 kbit/s)
    # spectral augmentation
    "tilt_db": 6.0,  # random linear spectral tilt (microphone colouring)
    "eq_db": 6.0,  # random smooth equaliser curve, about +-eq_db
    "band_p": 0.3,  # probability of a random low-pass and high-pass
    "lowpass_hz": (2500.0, 4000.0),
    "highpass_hz": (50.0, 300.0),
    "freq_warp": 0.08,  # frequency-axis warp factor range (VTLP-like)
    "freq_masks": 1,
    "freq_mask_bins": 8,
    "time_masks": 1,
    "time_mask_frames": 5,
}

ProgressCallback = Callable[[int, int, dict[str, float]], None]
_NAME = re.compile(rf"^(?P<label>[^_]+)_(?P<speaker>{SPEAKER})_(?P<take>\d+)\.(wav|flac)$")


class DatasetError(ValueError):
    """A dataset folder that cannot be used (bad file names, unreadable files...)."""


# --------------------------------------------------------------------------- data


@dataclass
class Dataset:
    """Decoded clips with their labels.

    Attributes
    ----------
    clips : list of np.ndarray, float32, each shaped (n_i,)
        Mono, DC-free, at ``sample_rate``; not yet fitted to the window.
    labels : np.ndarray, int64, shape (n,)
        Indices into ``label_names``.
    speakers : np.ndarray, str, shape (n,)
    takes : np.ndarray, int64, shape (n,)
    names : list of str
        File names.
    label_names : tuple of str
    sample_rate : int
    """

    clips: list[np.ndarray]
    labels: np.ndarray
    speakers: np.ndarray
    takes: np.ndarray
    names: list[str]
    label_names: tuple[str, ...]
    sample_rate: int

    def __len__(self) -> int:
        return len(self.clips)

    def plus(self, other: Dataset) -> Dataset:
        """This dataset's clips followed by ``other``'s (same labels and rate)."""
        if other.label_names != self.label_names or other.sample_rate != self.sample_rate:
            raise DatasetError("Datasets with different labels or sample rates cannot be joined.")
        return Dataset(
            clips=[*self.clips, *other.clips],
            labels=np.concatenate([self.labels, other.labels]),
            speakers=np.concatenate([self.speakers, other.speakers]),
            takes=np.concatenate([self.takes, other.takes]),
            names=[*self.names, *other.names],
            label_names=self.label_names,
            sample_rate=self.sample_rate,
        )

    def subset(self, idx: Sequence[int] | np.ndarray) -> Dataset:
        """The clips at positions ``idx`` (in that order)."""
        idx = np.asarray(idx, dtype=np.int64)
        return Dataset(
            clips=[self.clips[i] for i in idx],
            labels=self.labels[idx],
            speakers=self.speakers[idx],
            takes=self.takes[idx],
            names=[self.names[i] for i in idx],
            label_names=self.label_names,
            sample_rate=self.sample_rate,
        )


def parse_filename(name: str, label_names: Sequence[str] = DEFAULT_LABELS) -> tuple[int, str, int]:
    """``"7_jackson_32.wav"`` (or ``.flac``) -> ``(label_index, "jackson", 32)``.

    Raises
    ------
    DatasetError
        If the name does not follow ``{label}_{speaker}_{take}.wav`` or the
        label is unknown.
    """
    m = _NAME.match(name)
    if m is None:
        raise DatasetError(f"{name!r} is not named {{label}}_{{speaker}}_{{take}}.wav.")
    if m["label"] not in label_names:
        raise DatasetError(f"{name!r} has label {m['label']!r}, not one of {list(label_names)}.")
    return label_names.index(m["label"]), m["speaker"], int(m["take"])


def load_dataset(
    folder: str | Path,
    params: FeatureParams,
    *,
    label_names: Sequence[str] = DEFAULT_LABELS,
    max_duration_s: float = 10.0,
) -> Dataset:
    """Decode every ``*.wav`` and ``*.flac`` in ``folder`` (sorted by name, so deterministic).

    Raises
    ------
    DatasetError
        Listing *all* badly named or unreadable files, or if none are found.
    """
    paths = sorted(p for p in Path(folder).glob("*") if p.suffix in (".wav", ".flac"))
    if not paths:
        raise DatasetError(f"No .wav or .flac files found in {folder}.")
    clips, meta, problems = [], [], []
    for path in paths:
        try:
            meta.append(parse_filename(path.name, tuple(label_names)))
            y, sr = decode_audio(path, max_duration_s=max_duration_s)
        except (DatasetError, AudioError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        y = to_mono(y)
        if params.remove_dc:
            y = y - np.float32(y.mean())
        clips.append(resample(y, sr, params.sample_rate))
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DatasetError(f"{len(problems)} unusable file(s) in {folder}:\n  {shown}{more}")
    labels, speakers, takes = zip(*meta, strict=True)
    return Dataset(
        clips=clips,
        labels=np.array(labels, dtype=np.int64),
        speakers=np.array(speakers),
        takes=np.array(takes, dtype=np.int64),
        names=[p.name for p in paths],
        label_names=tuple(label_names),
        sample_rate=params.sample_rate,
    )


@dataclass(frozen=True)
class Fold:
    """One train/test split: positions into a :class:`Dataset`."""

    name: str
    train: np.ndarray
    test: np.ndarray


def heldout_split(ds: Dataset, test_takes: Sequence[int] = HELDOUT_TEST_TAKES) -> Fold:
    """Test on takes ``test_takes`` (default 5..9) of every speaker, train on the rest."""
    is_test = np.isin(ds.takes, np.asarray(test_takes))
    if not is_test.any() or is_test.all():
        raise DatasetError(f"Takes {list(test_takes)} do not split this dataset.")
    name = f"heldout takes {min(test_takes)}-{max(test_takes)}"
    return Fold(name, np.flatnonzero(~is_test), np.flatnonzero(is_test))


def loso_splits(ds: Dataset) -> list[Fold]:
    """Leave-one-speaker-out: one fold per speaker (alphabetical order)."""
    speakers = sorted(set(ds.speakers.tolist()))
    if len(speakers) < 2:
        raise DatasetError("Leave-one-speaker-out needs at least two speakers.")
    return [Fold(f"loso {s}", np.flatnonzero(ds.speakers != s), np.flatnonzero(ds.speakers == s)) for s in speakers]


# --------------------------------------------------------------------------- model


def warmup_steps_for(hyper: dict[str, Any], n_clips: int) -> int:
    """The warm-up's length in optimiser steps: ``warmup_epochs`` epochs of ``n_clips`` clips."""
    steps_per_epoch = int(np.ceil(n_clips / hyper["batch_size"]))
    return round(float(hyper.get("warmup_epochs", 0.0)) * steps_per_epoch)


def learning_rate_schedule(peak: float, total_steps: int, warmup_steps: int = 0) -> Any:
    """Linear warm-up from 0 to ``peak`` over ``warmup_steps``, then a cosine decay to 0.

    The whole schedule spans ``total_steps`` optimiser steps (warm-up included). Without a
    warm-up it is exactly the cosine decay the recipe always had, so older runs repeat.
    Built-in Keras schedule, so a saved model reloads with ``safe_mode=True``.
    """
    import keras

    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=total_steps)
    if not 0 < warmup_steps < total_steps:
        raise ValueError(f"The warm-up ({warmup_steps} steps) must be shorter than the training ({total_steps}).")
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total_steps - warmup_steps, warmup_target=peak, warmup_steps=warmup_steps
    )


def _configure_tf(seed: int, threads: int | None) -> None:
    """Seeds and deterministic kernels; threads only if TF is not running yet."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised (e.g. inside a worker): keep it
            pass


def build_model(
    params: FeatureParams,
    n_labels: int,
    hyper: dict[str, Any] | None = None,
    *,
    decay_steps: int | None = None,
    warmup_steps: int = 0,
) -> Any:
    """The paper's CNN: conv 16@7x7, 16@5x5, 32@3x3, each + max-pool, dropout.

    ``filters``, ``kernels`` and ``pool_sizes`` in ``hyper`` change the three conv blocks
    (the model workshop's variants); the layer names stay ``conv1..3``, ``pool1..3``.

    Parameters
    ----------
    params : FeatureParams
        Defines the input shape ``(n_freq, n_frames, 1)``.
    n_labels : int
    hyper : dict, optional
        Overrides of :data:`DEFAULT_HYPERPARAMETERS`.
    decay_steps : int, optional
        Cosine-decay the learning rate to 0 over this many steps (the warm-up's included).
    warmup_steps : int
        With ``decay_steps``: first raise the learning rate linearly from 0 to its peak over
        this many steps (see :func:`learning_rate_schedule`).

    Returns
    -------
    keras.Model
        Compiled; layers ``conv1..3``, ``pool1..3``, output ``probabilities``.
    """
    import keras
    from keras import layers

    h = {**DEFAULT_HYPERPARAMETERS, **(hyper or {})}
    x = inputs = keras.Input((params.n_freq, params.n_frames, 1), name="features")
    blocks = zip(h["filters"], h["kernels"], h["pool_sizes"], strict=True)
    for i, (filters, kernel, pool) in enumerate(blocks, start=1):
        x = layers.Conv2D(int(filters), int(kernel), padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(int(pool), name=f"pool{i}")(x)
        if h["batch_norm"]:
            x = layers.BatchNormalization(name=f"norm{i}")(x)
        if h["conv_dropout"] > 0:
            x = layers.Dropout(h["conv_dropout"], name=f"dropout{i}")(x)
    if h["head"] == "gap":
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    elif h["head"] == "time_max":  # max over time per (frequency band, filter): shift invariant
        x = layers.MaxPooling2D((1, x.shape[2]), name="time_pool")(x)
    elif h["head"] != "flatten":
        raise ValueError(f"Unknown head {h['head']!r}; use 'flatten', 'time_max' or 'gap'.")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(h["dense_units"], activation="relu", name="dense")(x)
    x = layers.Dropout(h["dense_dropout"], name="dropout_dense")(x)
    outputs = layers.Dense(n_labels, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="ddevis_digits")
    lr = h["learning_rate"]
    if decay_steps:
        lr = learning_rate_schedule(lr, decay_steps, warmup_steps)
    model.compile(
        optimizer=keras.optimizers.AdamW(lr, weight_decay=h["weight_decay"]),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=h["label_smoothing"]),
        metrics=["accuracy"],
    )
    return model


# --------------------------------------------------------------------------- train / evaluate


@dataclass
class Evaluation:
    """Accuracy, per-label accuracy and confusion matrix (rows: true label)."""

    accuracy: float
    per_label: dict[str, float]
    confusion: list[list[int]]
    labels: tuple[str, ...]
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (what gets stored in a model version's metrics)."""
        return {
            "accuracy": self.accuracy,
            "per_label": self.per_label,
            "confusion": self.confusion,
            "labels": list(self.labels),
            "n": self.n,
        }


@dataclass
class TrainResult:
    """A trained model and its per-epoch log."""

    model: Any
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def predict(model: Any, x: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """Probabilities, shape (n, n_labels), for features shaped (n, n_freq, n_frames)."""
    return np.asarray(model.predict(x[..., None], batch_size=batch_size, verbose=0))


def evaluate(model: Any, ds: Dataset, params: FeatureParams) -> Evaluation:
    """Evaluate on clean (non-augmented) features of ``ds``."""
    pred = predict(model, clean_features(ds.clips, params)).argmax(axis=1)
    k = len(ds.label_names)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (ds.labels, pred), 1)
    totals = confusion.sum(axis=1)
    per_label = {
        name: float(confusion[i, i] / totals[i]) if totals[i] else float("nan") for i, name in enumerate(ds.label_names)
    }
    return Evaluation(
        accuracy=float(np.trace(confusion) / max(len(ds), 1)),
        per_label=per_label,
        confusion=confusion.tolist(),
        labels=ds.label_names,
        n=len(ds),
    )


def train(
    ds: Dataset,
    params: FeatureParams,
    hyper: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    monitor: Dataset | None = None,
    threads: int | None = 2,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train a fresh model on ``ds``, freshly augmented every epoch.

    Parameters
    ----------
    ds : Dataset
    params : FeatureParams
    hyper : dict, optional
        Overrides of :data:`DEFAULT_HYPERPARAMETERS` (unknown keys raise).
    seed : int
        Seeds Keras (python, numpy, TF) and the augmentation generator; with
        deterministic ops the same seed gives the same weights on a machine.
    progress : callable, optional
        ``progress(epoch, epochs, logs)`` after each epoch (1-based); ``logs``
        has ``loss``, ``accuracy``, ``seconds`` and, with ``monitor``,
        ``monitor_loss`` and ``monitor_accuracy``.
    monitor : Dataset, optional
        Evaluated after every epoch for the log only (never used to choose).
    threads : int, optional
        TF intra-op threads (ignored if TF is already initialised).
    callbacks : sequence of keras.callbacks.Callback
        Given to every epoch's ``fit`` (the workshop's cancel check after each batch and its
        weight histograms after each epoch); an exception raised in one stops the training.

    Returns
    -------
    TrainResult
    """
    unknown = set(hyper or {}) - set(DEFAULT_HYPERPARAMETERS)
    if unknown:
        raise ValueError(f"Unknown hyper-parameter(s): {', '.join(sorted(unknown))}.")
    h = {**DEFAULT_HYPERPARAMETERS, **(hyper or {})}
    if h["average_last_epochs"] and h["batch_norm"]:
        # Averaged weights need batch statistics of their own, which the mean of the epochs' statistics is not.
        raise ValueError("average_last_epochs cannot be combined with batch_norm.")
    _configure_tf(seed, threads)
    rng = np.random.default_rng(seed)
    # Without augmentation the features are the same every epoch: computed once.
    banks = build_banks(ds.clips, params, h, rng) if h["augment"] else None
    clean_x = None if h["augment"] else clean_features(ds.clips, params)[..., None]
    steps = int(np.ceil(len(ds) / h["batch_size"])) * h["epochs"]
    # A warm-up as long as the training would leave no steps at the peak: a short training (the workshop
    # allows one epoch) ramps up over its first half at most.
    warmup_steps = min(warmup_steps_for(h, len(ds)), steps // 2)
    model = build_model(params, len(ds.label_names), h, decay_steps=steps, warmup_steps=warmup_steps)
    targets = np.eye(len(ds.label_names), dtype=np.float32)[ds.labels]
    monitor_x = clean_features(monitor.clips, params)[..., None] if monitor is not None else None
    monitor_y = np.eye(len(ds.label_names), dtype=np.float32)[monitor.labels] if monitor is not None else None
    result, t0 = TrainResult(model), time.perf_counter()
    averaged = WeightAverage(first_epoch=h["epochs"] - int(h["average_last_epochs"]))
    for epoch in range(h["epochs"]):
        t = time.perf_counter()
        x = augment_features(ds.clips, params, h, rng, banks)[..., None] if clean_x is None else clean_x
        epoch_targets = targets
        if h["mixup_alpha"] > 0:
            x, epoch_targets = mix_pairs(x, targets, h["mixup_alpha"], rng)
        t_aug = time.perf_counter() - t
        fit = model.fit(
            x,
            epoch_targets,
            batch_size=h["batch_size"],
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=True,
            verbose=0,
            callbacks=list(callbacks),
        )
        logs = {k: float(v[-1]) for k, v in fit.history.items()}
        averaged.add(epoch, model)
        if monitor_x is not None:
            loss, accuracy = model.evaluate(monitor_x, monitor_y, batch_size=128, verbose=0)
            logs["monitor_loss"], logs["monitor_accuracy"] = float(loss), float(accuracy)
        logs["augment_seconds"] = t_aug
        logs["seconds"] = time.perf_counter() - t
        result.history.append(logs)
        if progress is not None:
            progress(epoch + 1, h["epochs"], logs)
    averaged.apply(model)
    result.seconds = time.perf_counter() - t0
    return result


class WeightAverage:
    """The running mean of a model's weights after each epoch from ``first_epoch`` (0-based) on.

    Averaging the weights the last epochs pass through lands nearer the middle of the flat region
    they wander in than any one of them (stochastic weight averaging). `train` refuses it with batch
    normalisation, whose statistics would have to be measured again for the averaged weights.
    """

    def __init__(self, *, first_epoch: int) -> None:
        self.first_epoch = first_epoch
        self.count = 0
        self.mean: list[np.ndarray] = []

    def add(self, epoch: int, model: Any) -> None:
        """Fold the weights after ``epoch`` into the mean (earlier epochs are not averaged)."""
        if epoch < self.first_epoch:
            return
        weights = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
        self.count += 1
        if self.count == 1:
            self.mean = weights
        else:
            self.mean = [m + (w - m) / self.count for m, w in zip(self.mean, weights, strict=True)]

    def apply(self, model: Any) -> None:
        """Give the model the averaged weights (nothing changes if fewer than two epochs were averaged)."""
        if self.count > 1:
            model.set_weights([m.astype(np.float32) for m in self.mean])


def evaluate_under_conditions(
    model: Any,
    ds: Dataset,
    params: FeatureParams,
    *,
    conditions: Sequence[str] | None = None,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Accuracy per condition (:mod:`modelzoo.conditions`) of degraded copies of ``ds``'s clips.

    Each copy goes through :func:`dsp.features.prepare`, the front end the site
    uses, so a 3 s stereo take at 44.1 kHz is resampled and its word found as
    in the lab.  ``ds`` must hold clips the model never trained on.
    """
    from dsp.features import prepare
    from modelzoo.conditions import CONDITION_NAMES, evaluate_conditions

    def predict_batch(batch: Sequence[tuple[np.ndarray, int]]) -> list[str]:
        x = np.stack([prepare(y, sr, params, allow_silent=True).features for y, sr in batch])
        return [ds.label_names[i] for i in predict(model, x).argmax(axis=1)]

    return evaluate_conditions(
        predict_batch,
        [(y, ds.sample_rate) for y in ds.clips],
        ds.label_names,
        [ds.label_names[i] for i in ds.labels],
        conditions=conditions or CONDITION_NAMES,
        seed=seed,
    )


@dataclass
class FoldResult:
    """Outcome of training on ``fold.train`` and testing on ``fold.test``."""

    name: str
    evaluation: Evaluation
    train_seconds: float
    n_train: int


def run_folds(
    ds: Dataset,
    params: FeatureParams,
    folds: Sequence[Fold],
    hyper: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    progress: Callable[[str, int, int, dict[str, float]], None] | None = None,
    monitor: bool = False,
) -> list[FoldResult]:
    """Train and evaluate one model per fold, each with the same ``seed``.

    ``progress(fold_name, epoch, epochs, logs)`` is called after every epoch;
    with ``monitor`` the fold's test accuracy is logged each epoch (slower;
    for curves only, the reported figure is always the last epoch's model).
    """
    results = []
    for fold in folds:
        train_ds, test_ds = ds.subset(fold.train), ds.subset(fold.test)
        callback = None
        if progress is not None:

            def callback(e: int, n: int, logs: dict[str, float], _f: str = fold.name) -> None:
                progress(_f, e, n, logs)

        trained = train(
            train_ds,
            params,
            hyper,
            seed=seed,
            progress=callback,
            monitor=test_ds if monitor else None,
        )
        results.append(FoldResult(fold.name, evaluate(trained.model, test_ds, params), trained.seconds, len(train_ds)))
    return results


def save_model(model: Any, path: str | Path) -> Path:
    """Save as ``.keras`` and check it reloads with ``safe_mode=True``."""
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError("The model file name must end in .keras.")
    model.save(path)
    keras.models.load_model(path, safe_mode=True, compile=False)
    return path
