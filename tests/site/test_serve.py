"""`manage.py serve`: the site and its workers start together and stop together."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _line_waiter(serve: subprocess.Popen, *, timeout_s: float) -> Callable[[str], re.Match]:
    """`wait_for_line(pattern)`: the first line `serve` prints that matches, within `timeout_s` (else fail)."""
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in serve.stdout], daemon=True).start()

    def wait_for_line(pattern: str) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                assert serve.poll() is None, "".join(seen)
                continue
            if match := re.search(pattern, seen[-1]):
                return match
        raise AssertionError(f"no line like {pattern!r} within {timeout_s:g} s:\n{''.join(seen)}")

    return wait_for_line


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_site_too(tmp_path, stop):
    port = free_port()
    env = {**os.environ, "DDEVIS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "0", "--no-live-engine"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert serve.poll() is None, serve.stdout.read()
            assert time.monotonic() < deadline, "the site did not start within 60 s"
            time.sleep(0.2)

        serve.send_signal(stop)

        assert serve.wait(timeout=60) == 0  # gunicorn lets its workers finish what they were doing
        assert not _listening(port)
        output = serve.stdout.read()
        assert "Stopping the site and the workers" in output
        assert "live engine" not in output  # --no-live-engine
    finally:
        if serve.poll() is None:
            serve.kill()


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_dies_is_started_again_and_the_site_stays_up(tmp_path):
    from tests.jobs.workers import database_url

    port = free_port()
    env = {
        **os.environ,
        "DDEVIS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",  # workers without TensorFlow: quick to start
    }
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "1", "--no-live-engine"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_for_line = _line_waiter(serve, timeout_s=90)

    try:
        first = int(wait_for_line(r"worker 1 started \(pid (\d+)\)")[1])
        wait_for_line("Starting worker")
        os.kill(first, signal.SIGKILL)

        wait_for_line(r"worker 1 stopped \(exit code -9\); starting it again in 1 s")
        second = int(wait_for_line(r"worker 1 started again \(pid (\d+)\)")[1])
        assert second != first
        wait_for_line("Starting worker")
        assert serve.poll() is None and _listening(port)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
        assert not _listening(port)
        with pytest.raises(ProcessLookupError):
            os.kill(second, 0)  # the restarted worker was stopped too
    finally:
        if serve.poll() is None:
            serve.kill()


@pytest.mark.django_db(transaction=True)
def test_serve_runs_the_live_engine_and_starts_it_again_when_it_dies(tmp_path):
    from tests.jobs.workers import database_url

    port = free_port()
    env = {**os.environ, "DDEVIS_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url()}
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_for_line = _line_waiter(serve, timeout_s=120)

    socket_path = tmp_path / "live-engine.sock"
    try:
        first = int(wait_for_line(r"live engine started \(pid (\d+)\)")[1])
        wait_for_line(f"Live engine listening on {re.escape(str(socket_path))}")
        assert socket_path.exists()
        # No version is valid yet: the engine has not loaded TensorFlow (it waits until a version needs it).
        assert "tensorflow" not in Path(f"/proc/{first}/maps").read_text()
        os.kill(first, signal.SIGKILL)

        wait_for_line(r"live engine stopped \(exit code -9\); starting it again in 1 s")
        second = int(wait_for_line(r"live engine started again \(pid (\d+)\)")[1])
        wait_for_line("Live engine listening on")  # the stale socket file of the killed one is replaced
        assert second != first and _listening(port)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
        assert not socket_path.exists()  # the engine removes its socket when it stops
    finally:
        if serve.poll() is None:
            serve.terminate()  # serve stops its children; a SIGKILL would leave the engine behind
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
