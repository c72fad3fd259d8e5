"""`manage.py serve`: the site and its workers start together and stop together."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_site_too(tmp_path, stop):
    port = _free_port()
    env = {**os.environ, "DDEVIS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert serve.poll() is None, serve.stdout.read()
            assert time.monotonic() < deadline, "the site did not start within 60 s"
            time.sleep(0.2)

        serve.send_signal(stop)

        assert serve.wait(timeout=15) == 0
        assert not _listening(port)
        assert "Stopping the site and the workers" in serve.stdout.read()
    finally:
        if serve.poll() is None:
            serve.kill()
