"""A real live engine process for tests: `run_live_engine` on a temporary socket, against the test database."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.jobs.workers import database_url, stop
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "modelzoo" / "samples"


def start_engine(folder: Path, *, media_root: Path, address: str = "") -> tuple[subprocess.Popen, str]:
    """Start `manage.py run_live_engine` (on a socket in `folder` unless `address` is given); wait until it
    listens. (process, address)"""
    address = address or str(folder / "live.sock")
    log = (folder / "engine.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_live_engine", "--address", address],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DDEVIS_DATA_DIR": str(folder / "data"),
            "MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": "ddevis_site.settings",
            "LIVE_ENGINE_RESCAN_S": "0.5",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not _listening(address):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise AssertionError("the live engine did not start: " + (folder / "engine.log").read_text()[-3000:])
        time.sleep(0.1)
    return process, address


def _listening(address: str) -> bool:
    from live.protocol import parse_address

    family, where = parse_address(address)
    if family == socket.AF_UNIX and not os.path.exists(where):
        return False
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(where) == 0


def wav_bytes(y: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    import io

    buffer = io.BytesIO()
    sf.write(buffer, y, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def digit_window(name: str = "3_theo_5.wav", *, seconds: float = 1.0, rate: int = 48000) -> bytes:
    """One second of a real digit clip, resampled to the browser's rate, as a 16-bit WAV (what the page sends)."""
    from dsp.decode import decode_audio, resample, to_mono

    y, sr = decode_audio(SAMPLES / name)
    y = resample(to_mono(y), sr, rate)
    n = round(seconds * rate)
    window = np.zeros(n, dtype=np.float32)
    start = max(0, (n - len(y)) // 2)
    window[start : start + min(len(y), n)] = y[: n - start]
    return wav_bytes(window, rate)


@pytest.fixture(scope="module")
def live_engine(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """(address, media root, log file) of a running engine; it reads model versions from the test database.

    It listens on a Unix socket in a temporary folder, as `serve` starts it, or on a host and port (as an
    engine on another machine) when the test module sets ``ENGINE_ON_HOST_AND_PORT = True``.
    """
    folder = tmp_path_factory.mktemp("live")
    media = folder / "media"
    address = f"127.0.0.1:{free_port()}" if getattr(request.module, "ENGINE_ON_HOST_AND_PORT", False) else ""
    with django_db_blocker.unblock():
        process, address = start_engine(folder, media_root=media, address=address)
    yield address, media, folder / "engine.log"
    stop(process)


@pytest.fixture
def engine(live_engine, _test_settings, settings):
    """The running engine, with this test's media where the engine reads model files."""
    address, media, _ = live_engine
    settings.LIVE_ENGINE_ADDRESS = address
    settings.MEDIA_ROOT = media
    return address


@pytest.fixture
def live_model(engine, active_model, settings):
    """The bundled model, active, saved where the engine reads it, and loaded by the engine.

    The first window of a version the engine has not seen loads it (seconds on a busy machine):
    that one is sent here with a long deadline, so the tests see what a warm engine does.
    """
    from live.client import ask_engine

    settings.LIVE_ENGINE_TIMEOUT_S = 120
    silence = np.zeros(16000, dtype=np.float32)
    ask_engine({"model_version": active_model.pk, "sha256": active_model.sha256, "sample_rate": 16000}, silence)
    settings.LIVE_ENGINE_TIMEOUT_S = 5
    return active_model
