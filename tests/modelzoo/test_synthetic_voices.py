"""Synthetic digit voices for training: named as a dataset, 8 kHz, trimmed, never mistaken for recordings."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from modelzoo import synthetic_voices, training


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (Debian package) is not installed")
def test_espeak_writes_every_digit_as_a_trimmed_8k_clip_of_a_synthetic_speaker(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_voices, "ESPEAK_ACCENTS", ("en-us",))
    monkeypatch.setattr(synthetic_voices, "ESPEAK_VARIANTS", ("m3",))

    written = synthetic_voices.espeak_clips(tmp_path, 1, np.random.default_rng(0))

    assert written == 10
    ds = training.load_dataset(tmp_path, training.recipe_features())
    assert sorted(ds.labels.tolist()) == list(range(10))
    assert set(ds.speakers.tolist()) == {"synthEspeak-en-us-m3"}
    for path in tmp_path.glob("*.flac"):
        y, sr = sf.read(path)
        assert sr == 8000 and 0.15 < len(y) / sr < 1.5 and np.max(np.abs(y)) > 0.3


ESPEAK = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (Debian package) is not installed")


def _spoken(voice: str) -> bytes:
    """espeak-ng's WAV of "six" in `voice`, at a fixed rate and pitch."""
    command = [shutil.which("espeak-ng"), "-v", voice, "-s", "150", "-p", "50", "--stdout", "six"]
    return subprocess.run(command, check=True, capture_output=True).stdout


@ESPEAK
def test_every_variant_is_one_espeak_knows_and_speaks_with_a_voice_of_its_own():
    # espeak-ng takes a variant it does not know ("male1") without a word and speaks with its default voice.
    default = _spoken("en-us")
    variants = synthetic_voices.ESPEAK_VARIANTS + synthetic_voices.ESPEAK_FEMALE_VARIANTS
    assert set(variants) <= synthetic_voices.espeak_variants(shutil.which("espeak-ng"))
    voices = {variant: _spoken(f"en-us+{variant}") for variant in variants}
    assert all(audio != default for audio in voices.values())
    assert len(set(voices.values())) == len(voices)


@ESPEAK
def test_a_variant_espeak_does_not_know_is_skipped_with_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(synthetic_voices, "ESPEAK_ACCENTS", ("en-us",))
    monkeypatch.setattr(synthetic_voices, "ESPEAK_VARIANTS", ("m3", "male1"))

    written = synthetic_voices.espeak_clips(tmp_path, 1, np.random.default_rng(0))

    assert written == 10 and not list(tmp_path.glob("*male1*"))
    assert "espeak-ng has no variant male1: skipped" in capsys.readouterr().err


def test_trimming_cuts_the_synthesisers_silence():
    y = np.zeros(8000)
    y[3000:5000] = np.sin(np.arange(2000) / 3.0)

    trimmed = synthetic_voices._trim(y)

    assert 2000 <= len(trimmed) <= 2300


@ESPEAK
def test_the_womens_voices_come_with_the_rest_or_alone_and_the_same_either_way(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_voices, "ESPEAK_ACCENTS", ("en-gb",))
    monkeypatch.setattr(synthetic_voices, "ESPEAK_VARIANTS", ("m3",))
    monkeypatch.setattr(synthetic_voices, "ESPEAK_FEMALE_VARIANTS", ("f2",))
    monkeypatch.setattr(synthetic_voices, "FESTIVAL_VOICES", ())

    assert synthetic_voices.main(["--out", str(tmp_path / "all")]) == 0
    assert synthetic_voices.main(["--out", str(tmp_path / "women"), "--only", "espeak-female"]) == 0

    every = {path.name for path in (tmp_path / "all").iterdir()}
    women = {path.name for path in (tmp_path / "women").iterdir()}
    assert women == {f"{digit}_synthEspeak-en-gb-f2_0.flac" for digit in range(10)} and women < every
    for name in women:  # their own random rates and pitches: the same clips whether the others were made or not
        assert (tmp_path / "all" / name).read_bytes() == (tmp_path / "women" / name).read_bytes()


@ESPEAK
def test_a_listening_test_can_ask_for_other_voices_and_accents(tmp_path):
    args = ["--out", str(tmp_path), "--only", "espeak", "--variants", "Annie", "--accents", "en-us", "en-gb"]

    assert synthetic_voices.main(args) == 0

    speakers = {path.name.split("_")[1] for path in tmp_path.iterdir()}
    assert speakers == {"synthEspeak-en-us-Annie", "synthEspeak-en-gb-Annie"} and len(list(tmp_path.iterdir())) == 20


def test_other_voices_go_with_espeak_only(tmp_path):
    with pytest.raises(SystemExit):
        synthetic_voices.main(["--out", str(tmp_path), "--variants", "Annie"])
