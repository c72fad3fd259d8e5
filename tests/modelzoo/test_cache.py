import numpy as np
import pytest

from modelzoo.cache import AnalysisCache, layer_statistics, pack, unpack


def _cache(seed: int = 0) -> AnalysisCache:
    rng = np.random.default_rng(seed)
    return AnalysisCache(
        waveform=rng.standard_normal(8000).astype(np.float32),
        stft=(rng.standard_normal((129, 101)) + 1j * rng.standard_normal((129, 101))).astype(np.complex64),
        features=rng.standard_normal((129, 101)).astype(np.float32),
        activations={
            "conv1": np.maximum(rng.standard_normal((16, 129, 101)), 0).astype(np.float16),
            "conv3": np.maximum(rng.standard_normal((32, 32, 25)), 0).astype(np.float16),
        },
    )


def test_it_round_trips_every_array():
    original = _cache()

    restored = unpack(pack(original))

    np.testing.assert_array_equal(restored.waveform, original.waveform)
    np.testing.assert_array_equal(restored.stft, original.stft)
    np.testing.assert_allclose(restored.features, original.features, atol=2e-3)  # float16 storage
    assert restored.features.dtype == np.float32
    assert list(restored.activations) == ["conv1", "conv3"]
    for name, values in original.activations.items():
        assert restored.activations[name].dtype == np.float16
        np.testing.assert_array_equal(restored.activations[name], values)


def test_it_compresses_sparse_activations():
    original = _cache()
    raw = sum(v.nbytes for v in original.activations.values())

    assert len(pack(original)) < raw


def test_it_is_deterministic():
    assert pack(_cache(3)) == pack(_cache(3))


@pytest.mark.parametrize(
    ("maps", "means", "maxima", "layer_max"),
    [
        (np.array([[[0, 1], [2, 3]], [[0, 0], [0, 0]]], dtype=np.float16), [1.5, 0.0], [3.0, 0.0], 3.0),
        (np.zeros((3, 2, 2), dtype=np.float16), [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0),
    ],
)
def test_it_summarises_each_filter(maps, means, maxima, layer_max):
    stats = layer_statistics(maps)

    assert stats["mean"] == pytest.approx(means)
    assert stats["max"] == pytest.approx(maxima)
    assert stats["layer_max"] == pytest.approx(layer_max)
