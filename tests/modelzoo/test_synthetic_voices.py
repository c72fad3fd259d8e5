"""Synthetic digit voices for training: named as a dataset, 8 kHz, trimmed, never mistaken for recordings."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from modelzoo import synthetic_voices, training


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (Debian package) is not installed")
def test_espeak_writes_every_digit_as_a_trimmed_8k_clip_of_a_synthetic_speaker(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_voices, "ESPEAK_ACCENTS", ("en-us",))
    monkeypatch.setattr(synthetic_voices, "ESPEAK_VARIANTS", ("male3",))

    written = synthetic_voices.espeak_clips(tmp_path, 1, np.random.default_rng(0))

    assert written == 10
    ds = training.load_dataset(tmp_path, training.recipe_features())
    assert sorted(ds.labels.tolist()) == list(range(10))
    assert set(ds.speakers.tolist()) == {"synthEspeak-en-us-male3"}
    for path in tmp_path.glob("*.flac"):
        y, sr = sf.read(path)
        assert sr == 8000 and 0.15 < len(y) / sr < 1.5 and np.max(np.abs(y)) > 0.3


def test_trimming_cuts_the_synthesisers_silence():
    y = np.zeros(8000)
    y[3000:5000] = np.sin(np.arange(2000) / 3.0)

    trimmed = synthetic_voices._trim(y)

    assert 2000 <= len(trimmed) <= 2300
