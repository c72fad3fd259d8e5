"""Worker side: load a model version once per process and run one forward pass per clip.

TensorFlow is imported only inside these functions, so importing this module stays
cheap; only worker processes (and commands) ever call them.
"""

import logging
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.features import Prepared, prepare
from dsp.params import FeatureParams
from modelzoo.cache import AnalysisCache
from modelzoo.validation import check_keras_archive

if TYPE_CHECKING:
    from modelzoo.models import ModelVersion

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A Keras model ready for one-pass inference with every convolution layer's output."""

    key: str
    params: FeatureParams
    labels: list[str]
    conv_layers: list[str]
    keras_model: Any
    forward: Callable[[np.ndarray], list[Any]] = field(repr=False)

    def run(self, features: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One forward pass.

        Parameters
        ----------
        features : np.ndarray, float32, shape (n_freq, n_frames)

        Returns
        -------
        probabilities : np.ndarray, float32, shape (n_labels,)
        activations : dict of layer name to np.ndarray, float32, shape (filters, height, width)
        """
        outputs = self.forward(features[np.newaxis, :, :, np.newaxis].astype(np.float32))
        probabilities = np.asarray(outputs[0])[0]
        activations = {
            name: np.asarray(output)[0].transpose(2, 0, 1)
            for name, output in zip(self.conv_layers, outputs[1:], strict=True)
        }
        return probabilities, activations


@dataclass
class ForwardResult:
    """What analysing one clip gives: the cache to store, the prediction and timings (ms)."""

    cache: AnalysisCache
    probabilities: dict[str, float]
    predicted_label: str
    silent: bool
    timings: dict[str, float]


_loaded: dict[str, LoadedModel] = {}
_lock = threading.Lock()


def configure_tensorflow() -> None:
    """Quiet TensorFlow's start-up chatter; called before the first import."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def load_keras_file(path: str | Path) -> Any:
    """Load a .keras file with safe_mode=True (no Lambda layers, no arbitrary code), after the zip's caps.

    Raises
    ------
    modelzoo.validation.ModelConfigError
        The zip announces a bomb (``check_keras_archive``): Keras never inflates it.
    """
    with zipfile.ZipFile(path) as archive:
        check_keras_archive(archive)
    configure_tensorflow()
    import keras

    return keras.models.load_model(str(path), safe_mode=True, compile=False)


def build_loaded_model(keras_model: Any, *, key: str, params: FeatureParams, labels: list[str]) -> LoadedModel:
    """Wrap `keras_model` in one compiled function returning probabilities and all conv outputs."""
    import keras
    import tensorflow as tf

    conv_layers = [layer.name for layer in keras_model.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(
        inputs=keras_model.inputs,
        outputs=[keras_model.outputs[0], *[keras_model.get_layer(name).output for name in conv_layers]],
    )
    spec = tf.TensorSpec(shape=(None, params.n_freq, params.n_frames, 1), dtype=tf.float32)
    forward = tf.function(lambda x: probe([x], training=False), input_signature=[spec])
    return LoadedModel(
        key=key, params=params, labels=list(labels), conv_layers=conv_layers, keras_model=keras_model, forward=forward
    )


def load_from_path(
    path: str | Path, *, params: FeatureParams, labels: list[str], key: str | None = None
) -> LoadedModel:
    """Load (or reuse) the model in the .keras file at `path`."""
    key = key or f"path:{Path(path).resolve()}"
    with _lock:
        if key not in _loaded:
            started = time.perf_counter()
            _loaded[key] = build_loaded_model(load_keras_file(path), key=key, params=params, labels=labels)
            logger.info(
                "Loaded model %s in %.1f s",
                Path(path).name if key.startswith("path:") else key[:19],
                time.perf_counter() - started,
            )
        return _loaded[key]


def load_version(version: "ModelVersion") -> LoadedModel:
    """Load (or reuse) a model version; each worker process loads a version once."""
    # Keyed by the file's hash and the feature parameters: the same file is loaded once
    # however many versions (or test databases) point at it.
    key = f"sha256:{version.sha256}:{sorted(version.feature_params.items())}:{version.labels}"
    if key in _loaded:
        return _loaded[key]
    params = FeatureParams.from_dict(version.feature_params)
    with tempfile.NamedTemporaryFile(suffix=".keras") as copy:
        # Keras needs a real file; media may live in an object store.
        with version.file.open("rb") as source:
            copy.write(source.read())
        copy.flush()
        return load_from_path(copy.name, params=params, labels=version.labels, key=key)


def forward_audio(model: LoadedModel, y: np.ndarray, sr: int) -> ForwardResult:
    """Features, one forward pass and the cache for a decoded clip.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n,) or (n, channels)
    sr : int
    """
    started = time.perf_counter()
    prepared: Prepared = prepare(y, sr, model.params, allow_silent=True)
    features_done = time.perf_counter()
    probabilities, activations = model.run(prepared.features)
    forward_done = time.perf_counter()
    cache = AnalysisCache(
        waveform=prepared.waveform,
        stft=prepared.stft,
        features=prepared.features,
        activations={name: values.astype(np.float16) for name, values in activations.items()},
    )
    best = int(np.argmax(probabilities))
    return ForwardResult(
        cache=cache,
        probabilities={label: round(float(p), 6) for label, p in zip(model.labels, probabilities, strict=True)},
        predicted_label=model.labels[best],
        silent=prepared.silent,
        timings={
            "features_ms": round((features_done - started) * 1000, 2),
            "forward_ms": round((forward_done - features_done) * 1000, 2),
        },
    )


def warm_up() -> None:
    """Load the active model version and run it once, so the first real job is fast."""
    from modelzoo.models import ModelVersion

    version = ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        logger.warning("No active model version to warm up.")
        return
    model = load_version(version)
    model.run(np.zeros((model.params.n_freq, model.params.n_frames), dtype=np.float32))
    logger.info("Warm: %s", version.name)
