"""How much memory the web process needs for the worst uploads: hostile ones and the largest accepted ones.

Each case runs in a fresh Python process that imports what a web process imports, warms up
(one small upload of each kind, so lazy imports are loaded), then takes the upload's checks
exactly as a request would (``dsp.canonical.canonicalise`` for audio, the upload service's
``modelzoo.validation.read_model_config`` for a model file).  It prints, per case, what the
checks answered, the file's size, the rise of the process's peak RSS over its RSS just
before the checks (``/proc/self/status`` VmHWM, reset through ``/proc/self/clear_refs``),
the peak of Python allocations (``tracemalloc``) and the time.

Usage (from the repository root, with the project's Python):

    python benchmark/hostile_uploads.py
    python benchmark/hostile_uploads.py --json uploads.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Whichever model ships in modelzoo/bundled/ (its name changes with each retraining).
BUNDLED_MODEL = next((ROOT / "modelzoo" / "bundled").glob("*.keras"))
sys.path.insert(0, str(ROOT))

CASES = {
    "FLAC, 8 channels at 600 kHz, 30 s (the tester's)": "flac_600k",
    "FLAC, stereo at 192 kHz, 30 s (largest accepted rate)": "flac_192k",
    "FLAC, 8 channels at 48 kHz, 30 s (largest accepted channels)": "flac_8ch",
    "WAV float32, stereo 48 kHz, 10 MB of noise": "wav_10mb",
    "M4A/AAC, 8 channels at 48 kHz, 30 s (largest through ffmpeg)": "m4a_8ch",
    "WebM/Opus, stereo 48 kHz, 30 s (a take as long as allowed)": "webm_30s",
    "WAV float32 peaking at 1.5e38": "wav_loud",
    "FLAC of silence, 2 hours": "flac_2h",
    ".keras whose config.json is padded to 400 MB (0.4 MB compressed)": "keras_bomb",
}


def _flac(rate: int, channels: int, seconds: int, noise: bool = False) -> bytes:
    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with sf.SoundFile(buffer, "w", rate, channels, format="FLAC", subtype="PCM_16") as f:
        for _ in range(seconds):
            block = 0.1 * rng.standard_normal((rate, channels)) if noise else np.zeros((rate, channels))
            f.write(block.astype(np.float32))
    return buffer.getvalue()


def _ffmpeg(suffix: str, channels: int, seconds: int, *args: str) -> bytes:
    from dsp.ffmpeg import ffmpeg_executable

    layout = {1: "mono", 2: "stereo", 8: "7.1"}[channels]
    source = f"anoisesrc=d={seconds}:r=48000:a=0.1,aformat=channel_layouts={layout}"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"out{suffix}"
        command = [ffmpeg_executable(), "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, *args, str(out)]
        subprocess.run(command, check=True, timeout=300)
        return out.read_bytes()


def make(case: str) -> bytes:
    """The file of one case."""
    import numpy as np
    import soundfile as sf

    if case == "flac_600k":
        return _flac(600_000, 8, 30)
    if case == "flac_192k":
        return _flac(192_000, 2, 30)
    if case == "flac_8ch":
        return _flac(48_000, 8, 30)
    if case == "wav_10mb":
        y = 0.1 * np.random.default_rng(0).standard_normal((int(10 * 1024 * 1024 / 8) - 64, 2))
        buffer = io.BytesIO()
        sf.write(buffer, y.astype(np.float32), 48000, format="WAV", subtype="FLOAT")
        return buffer.getvalue()
    if case == "m4a_8ch":
        return _ffmpeg(".m4a", 8, 30, "-c:a", "aac", "-b:a", "256k")
    if case == "webm_30s":
        return _ffmpeg(".webm", 2, 30, "-c:a", "libopus", "-b:a", "64k")
    if case == "wav_loud":
        buffer = io.BytesIO()
        y = 1.5e38 * np.sin(2 * np.pi * 300 * np.arange(8000) / 8000)
        sf.write(buffer, y.astype(np.float32), 8000, format="WAV", subtype="FLOAT")
        return buffer.getvalue()
    if case == "flac_2h":
        return _flac(8000, 1, 7200)
    if case == "keras_bomb":
        bundled = BUNDLED_MODEL
        buffer = io.BytesIO()
        with zipfile.ZipFile(bundled) as source, zipfile.ZipFile(buffer, "w") as archive:
            for name in source.namelist():
                if name != "config.json":
                    archive.writestr(name, source.read(name))
            info = zipfile.ZipInfo("config.json")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                member.write(source.read("config.json"))
                for _ in range(400):
                    member.write(b" " * (1024 * 1024))
        return buffer.getvalue()
    raise ValueError(case)


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> None:
    """Start the peak-RSS high-water mark again from the current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(case: str, path: Path) -> dict:
    """In this (fresh) process: warm up, then take the checks of one upload and measure them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")
    import django

    django.setup()
    from django.conf import settings

    from dsp.canonical import canonicalise
    from modelzoo.validation import ModelConfigError, read_model_config

    def check(data: bytes) -> str:
        if data[:2] == b"PK":
            try:
                read_model_config(data)
            except ModelConfigError as exc:
                return f"refused: {exc}"
            return "accepted"
        try:
            audio, _, description = canonicalise(data, max_duration_s=settings.MAX_AUDIO_SECONDS)
        except ValueError as exc:
            return f"refused: {exc}"
        return f"accepted: {description}, {audio.duration_s:.1f} s"

    for warm in sorted(path.parent.glob("warm-*")):  # tiny files of each decoder: lazy imports loaded
        check(warm.read_bytes())
    data = path.read_bytes()
    _reset_peak_rss()
    baseline = _status_mb("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    outcome = check(data)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    peak = _status_mb("VmHWM")
    return {
        "case": case,
        "outcome": outcome,
        "file_mb": round(len(data) / 1024 / 1024, 3),
        "peak_rss_rise_mb": round(peak - baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "tracemalloc_peak_mb": round(traced, 1),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument("--measure", nargs=2, metavar=("CASE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "warm-wav").write_bytes(make("wav_loud"))
        (Path(folder) / "warm-webm").write_bytes(_ffmpeg(".webm", 1, 1, "-c:a", "libopus"))
        (Path(folder) / "warm-keras").write_bytes(BUNDLED_MODEL.read_bytes())
        for title, case in CASES.items():
            path = Path(folder) / case
            path.write_bytes(make(case))
            done = subprocess.run(
                [sys.executable, __file__, "--measure", case, str(path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1]) | {"title": title}
            rows.append(row)
            print(
                f"{title}\n  {row['outcome'][:110]}\n  file {row['file_mb']} MB; "
                f"peak RSS +{row['peak_rss_rise_mb']} MB "
                f"(process {row['peak_rss_mb']} MB); Python allocations peak {row['tracemalloc_peak_mb']} MB; "
                f"{row['seconds']} s",
                flush=True,
            )
    worst = max(rows, key=lambda r: r["peak_rss_rise_mb"])
    print(f"\nWorst: {worst['title']}: peak RSS +{worst['peak_rss_rise_mb']} MB over the warmed-up web process.")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
