"""Real worker processes for tests: `run_worker` against the test database, with the test job kinds."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on, for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(tmp_path: Path, *, name: str = "worker", **env: str) -> subprocess.Popen:
    """Start `manage.py run_worker` (tests/jobs/worker_settings.py); its output goes to tmp_path/<name>.log."""
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-startup-delay"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
            "DATABASE_URL": database_url(),
            "DDEVIS_DATA_DIR": str(tmp_path / f"{name}-data"),
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, *, timeout: float = 60, what: str = "the condition") -> None:
    """Poll `condition()` every 50 ms until it is true; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    """Stop a worker started here (SIGTERM, then SIGKILL)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
