"""Worker side: validate a model version with TensorFlow and record what it is."""

import functools
import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np

from dsp.decode import decode_audio, to_mono
from dsp.features import prepare
from dsp.params import FeatureParams
from modelzoo import conditions
from modelzoo.evaluation import LabelledClip, confusion_summary, evaluate_clips
from modelzoo.inference import LoadedModel, build_loaded_model, load_keras_file
from modelzoo.introspection import ModelFileError, check_model, layer_table, weight_histograms
from modelzoo.models import ModelVersion
from modelzoo.samples import evaluation_clips, sample_clips
from modelzoo.signals import version_validated
from modelzoo.validation import ModelConfigError, check_keras_file

logger = logging.getLogger(__name__)


def predict_label(model: LoadedModel, y: np.ndarray, sr: int) -> str:
    """The label `model` predicts for a decoded clip."""
    probabilities, _ = model.run(prepare(y, sr, model.params, allow_silent=True).features)
    return model.labels[int(np.argmax(probabilities))]


def clip_features(clips: Sequence[conditions.Clip], params: FeatureParams) -> np.ndarray:
    """The model inputs of decoded clips, stacked: shape (len(clips), n_freq, n_frames)."""
    return np.stack([prepare(y, sr, params, allow_silent=True).features for y, sr in clips])


def predict_feature_labels(model: LoadedModel, features: np.ndarray, batch_size: int = 128) -> list[str]:
    """The labels `model` predicts for stacked features (`clip_features`), in batches (probabilities only)."""
    predicted: list[str] = []
    for begin in range(0, len(features), batch_size):
        batch = features[begin : begin + batch_size, ..., np.newaxis]
        probabilities = np.asarray(model.keras_model(batch, training=False))
        predicted += [model.labels[int(i)] for i in probabilities.argmax(axis=1)]
    return predicted


def predict_labels(model: LoadedModel, clips: Sequence[conditions.Clip], batch_size: int = 128) -> list[str]:
    """The labels `model` predicts for decoded clips, in batches (probabilities only)."""
    predicted: list[str] = []
    for begin in range(0, len(clips), batch_size):
        features = clip_features(clips[begin : begin + batch_size], model.params)
        predicted += predict_feature_labels(model, features, batch_size)
    return predicted


@functools.cache
def _robustness_clips() -> tuple[tuple[conditions.Clip, ...], tuple[str, ...]]:
    """The shipped evaluation clips, decoded once per process, and their labels."""
    clips = evaluation_clips()
    decoded = [decode_audio(clip.path) for clip in clips]
    return tuple((to_mono(y), sr) for y, sr in decoded), tuple(clip.label for clip in clips)


@functools.cache
def _degraded_evaluation_clips(condition: str, seed: int = conditions.DEFAULT_SEED) -> tuple[conditions.Clip, ...]:
    """Every condition's copies of the evaluation clips, built once per worker process (the same for every model)."""
    clips, _ = _robustness_clips()
    return tuple(conditions.degrade(clips, condition=condition, seed=seed))


#: Feature parameters whose degraded clips' features a process keeps: each set is about 115 MB (250 clips under
#: 14 conditions), and the versions validated one after the other mostly share their parameters.
FEATURE_PARAMS_KEPT = 2


@functools.lru_cache(maxsize=FEATURE_PARAMS_KEPT * len(conditions.CONDITION_NAMES))
def _degraded_features(params: FeatureParams, condition: str, seed: int) -> np.ndarray:
    """The features of one condition's copies of the evaluation clips, computed once per process (read-only).

    Computing them takes about as long as running the model on them, and they depend only on the features'
    parameters, the condition and its seed: every version validated with the same parameters shares them.
    """
    features = clip_features(_degraded_evaluation_clips(condition, seed), params)
    features.flags.writeable = False  # shared by every later validation: no caller may change it
    return features


def robustness_evaluate(
    *, loaded: LoadedModel, progress: Callable[[int, str], None], start: int = 0, end: int = 100
) -> dict:
    """Accuracy per condition (noise, reverberation, clipping, codecs...) on the shipped evaluation clips.

    Stored in a version's metrics as ``robustness``:
    ``{"seed", "n", "order": [name, ...], "conditions": {name: summary}}``.
    """
    _, true = _robustness_clips()
    keep = [i for i, label in enumerate(true) if label in loaded.labels]
    results = {}
    for done, condition in enumerate(conditions.CONDITION_NAMES):
        progress(
            start + (end - start) * done // len(conditions.CONDITION_NAMES),
            f"Robustness: {conditions.TITLES[condition]}",
        )
        features = _degraded_features(loaded.params, condition, conditions.DEFAULT_SEED)
        predicted = predict_feature_labels(loaded, features[keep])
        summary = confusion_summary([true[i] for i in keep], predicted, loaded.labels)
        results[condition] = {"title": conditions.TITLES[condition], **summary}
    # jsonb (PostgreSQL) does not keep the keys' order: the order the pages list them in is stored too.
    return {
        "seed": conditions.DEFAULT_SEED,
        "n": len(keep),
        "order": list(conditions.CONDITION_NAMES),
        "conditions": results,
    }


def _evaluate(
    loaded: LoadedModel,
    clips: list[LabelledClip],
    progress: Callable[[int, str], None],
    start: int,
    end: int,
    what: str,
) -> dict:
    """Accuracy, per-label accuracy, confusion matrix and per-clip predictions on bundled clips."""
    chosen = [clip for clip in clips if clip.label in loaded.labels]
    return evaluate_clips(
        lambda y, sr: predict_label(loaded, y, sr),
        chosen,
        loaded.labels,
        progress=lambda done, total: progress(start + (end - start) * done // total, f"{what} {done} of {total}"),
    )


def model_version_validate(*, version: ModelVersion, progress: Callable[[int, str], None]) -> ModelVersion:
    """Load with safe_mode, check shapes, describe layers and weights, evaluate on the bundled clips.

    A version that fails is marked invalid with the reason and the error is raised again.
    """
    import tempfile

    try:
        try:
            params = FeatureParams.from_dict(version.feature_params)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"The feature parameters are invalid: {exc}") from None
        if not version.labels or len(set(version.labels)) != len(version.labels):
            raise ModelFileError("The labels must be a non-empty list without repeats.")
        progress(10, "Loading the model with safe_mode")
        with version.file.open("rb") as source:
            data = source.read()
        try:
            check_keras_file(data)  # the zip's caps, before Keras inflates anything
        except ModelConfigError as exc:
            raise ModelFileError(str(exc)) from None
        with tempfile.NamedTemporaryFile(suffix=".keras") as copy:
            copy.write(data)
            copy.flush()
            try:
                keras_model = load_keras_file(copy.name)
            except Exception as exc:  # Keras raises many types for a bad file
                raise ModelFileError(f"Keras could not load this file safely: {exc}") from None
        progress(30, "Checking input, output and layers")
        check_model(keras_model, params=params, labels=version.labels)
        version.sha256 = hashlib.sha256(data).hexdigest()
        version.layers = layer_table(keras_model)
        version.weight_histograms = weight_histograms(keras_model)
        loaded = build_loaded_model(keras_model, key=f"validate:{version.pk}", params=params, labels=version.labels)
        version.metrics = {
            **version.metrics,
            "sample_clips": _evaluate(loaded, sample_clips(), progress, 45, 55, "Sample clip"),
            # Kept with every clip's prediction: the dataset view draws its confusion matrix from them.
            "evaluation_clips": _evaluate(loaded, evaluation_clips(), progress, 55, 70, "Evaluation clip"),
        }
        version.metrics["robustness"] = robustness_evaluate(loaded=loaded, progress=progress, start=70, end=98)
        version.metrics["sample_clips"].pop("clips")
        version.status = ModelVersion.Status.VALID
        version.validation_error = ""
        version.save()
        version_validated.send(sender=ModelVersion, version=version)
        return version
    except Exception as exc:
        if isinstance(exc, ModelFileError):
            reason = str(exc)
        else:
            logger.exception("Validating model version %s failed", version.pk)
            reason = "The validation stopped on an unexpected problem; the details are in the worker's log."
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.INVALID, validation_error=reason, is_active=False
        )
        raise
