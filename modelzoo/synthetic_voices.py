"""Synthetic voices of the ten digits, for training only (never shipped, never tested on).

Five real speakers is the recipe's real limit; speech synthesisers add voices with other
vocal tracts, pitches and rhythms.  This writes ``{digit}_{voice}_{take}.flac`` clips (8 kHz,
trimmed like the dataset) made by espeak-ng (its English accents and voice variants, men's and women's) and
festival (its installed English voices), each take at another speaking rate and pitch:

    python -m modelzoo.synthetic_voices --out /tmp/synthetic-digits

Needs the Debian packages ``espeak-ng`` and ``festival`` (plus festival voices such as
``festvox-kallpc16k``); a missing synthesiser is skipped with a message.  The speaker names
start with ``synth`` so the clips can never be mistaken for recordings.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: espeak-ng's English accents and voice variants (a variant changes the formants, pitch and breathiness).
ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbcwmd")
#: Names as espeak-ng's variant files spell them (`espeak-ng --voices=variant`, last column): a name it does not
#: know ("male1") is not an error there, it silently speaks with the default voice.
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "klatt", "klatt3", "Andy", "Mike")
#: Its women's voices: the five speakers of the data are men, and students are not.
ESPEAK_FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "rab_diphone", "cmu_us_slt_arctic_hts")
RATE = 8000


def _trim(y: np.ndarray, top_db: float = 35.0) -> np.ndarray:
    """Cut the synthesiser's leading and trailing silence (frames more than top_db below the loudest)."""
    frame = 128
    power = np.array([np.mean(y[i : i + frame] ** 2) for i in range(0, max(len(y) - frame, 1), frame // 2)])
    level = 10 * np.log10(power + 1e-12)
    loud = np.flatnonzero(level >= level.max() - top_db)
    return y[loud[0] * frame // 2 : loud[-1] * frame // 2 + frame]


def _save(y: np.ndarray, sr: int, path: Path) -> None:
    y = soxr.resample(y.astype(np.float64), sr, RATE) if sr != RATE else y
    y = _trim(np.asarray(y, dtype=np.float64))
    sf.write(path, (0.5 * y / (np.max(np.abs(y)) or 1.0)).astype(np.float32), RATE, format="FLAC", subtype="PCM_16")


def espeak_variants(exe: str) -> set[str]:
    """The variant names espeak-ng knows (the file names `--voices=variant` lists, without their folder)."""
    listing = subprocess.run([exe, "--voices=variant"], check=True, capture_output=True, text=True).stdout
    return {line.split()[4].rpartition("/")[2] for line in listing.splitlines()[1:] if len(line.split()) >= 5}


def espeak_clips(
    out: Path,
    takes: int,
    rng: np.random.Generator,
    variants: tuple[str, ...] | None = None,
    accents: tuple[str, ...] | None = None,
) -> int:
    """Each of ``accents`` with each of ``variants``, ``takes`` takes per digit at random rates and pitches.

    They default to ``ESPEAK_ACCENTS`` and the men's ``ESPEAK_VARIANTS``. Returns the number of clips written.
    """
    variants = ESPEAK_VARIANTS if variants is None else variants
    accents = ESPEAK_ACCENTS if accents is None else accents
    exe = shutil.which("espeak-ng")
    if exe is None:
        print("espeak-ng is not installed: skipped (apt-get install espeak-ng)", file=sys.stderr)
        return 0
    known = espeak_variants(exe)
    missing = [variant for variant in variants if variant not in known]
    if missing:
        print(f"espeak-ng has no variant {', '.join(missing)}: skipped", file=sys.stderr)
    written = 0
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "word.wav"
        for accent in accents:
            for variant in (v for v in variants if v in known):
                voice = f"synthEspeak-{accent}-{variant}".replace("_", "")
                for digit, word in enumerate(WORDS):
                    for take in range(takes):
                        rate, pitch = int(rng.integers(120, 200)), int(rng.integers(20, 80))
                        command = [exe, "-v", f"{accent}+{variant}", "-s", str(rate), "-p", str(pitch), "-w", str(wav)]
                        subprocess.run([*command, word], check=True, capture_output=True)
                        y, sr = sf.read(wav, dtype="float32")
                        _save(y, sr, out / f"{digit}_{voice}_{take}.flac")
                        written += 1
    return written


def festival_clips(out: Path, takes: int, rng: np.random.Generator) -> int:
    """Each installed festival voice, ``takes`` takes per digit at random durations (tempo)."""
    exe = shutil.which("text2wave")
    if exe is None:
        print("festival is not installed: skipped (apt-get install festival festvox-kallpc16k)", file=sys.stderr)
        return 0
    written = 0
    with tempfile.TemporaryDirectory() as folder:
        wav, text = Path(folder) / "word.wav", Path(folder) / "word.txt"
        for voice in FESTIVAL_VOICES:
            for digit, word in enumerate(WORDS):
                for take in range(takes):
                    text.write_text(word)
                    stretch = rng.uniform(0.8, 1.3)
                    evaluate = f"(voice_{voice}) (Parameter.set 'Duration_Stretch {stretch:.2f})"
                    result = subprocess.run(
                        [exe, "-eval", evaluate, "-o", str(wav), str(text)], capture_output=True, check=False
                    )
                    if result.returncode != 0 or not wav.exists() or b"not defined" in result.stderr:
                        print(f"festival voice {voice} is not installed: skipped", file=sys.stderr)
                        break
                    y, sr = sf.read(wav, dtype="float32")
                    _save(y, sr, out / f"{digit}_synthFestival-{voice.replace('_', '')}_{take}.flac")
                    written += 1
                else:
                    continue
                break
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the synthetic clips into --out; print how many."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--takes", type=int, default=1, help="espeak-ng takes per digit and voice (default 1)")
    parser.add_argument("--festival-takes", type=int, default=3, help="festival takes per digit and voice (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", choices=("espeak", "festival", "espeak-female"), help="one synthesiser (or espeak-ng's women) only"
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        help="with --only espeak: these espeak-ng variants instead (voices for a listening test)",
    )
    parser.add_argument("--accents", nargs="+", help="with --only espeak: these accents instead")
    args = parser.parse_args(argv)
    if (args.variants or args.accents) and args.only != "espeak":
        parser.error("--variants and --accents go with --only espeak")
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    written = 0
    if args.only in (None, "espeak"):
        variants, accents = (tuple(names) if names else None for names in (args.variants, args.accents))
        written += espeak_clips(args.out, args.takes, rng, variants=variants, accents=accents)
    if args.only in (None, "festival"):
        written += festival_clips(args.out, args.festival_takes, rng)
    if args.only in (None, "espeak-female"):
        # A generator of their own: adding the women's voices left every other voice's clips as they were.
        female_rng = np.random.default_rng([args.seed, 1])
        written += espeak_clips(args.out, args.takes, female_rng, variants=ESPEAK_FEMALE_VARIANTS)
    print(f"{written} synthetic clips in {args.out}")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
