"""End-to-end timing: new clips uploaded and analysed through the API, run by a real worker process."""

import queue
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings


def _start_worker(write: Callable[[str], None]) -> subprocess.Popen:
    """Start `run_worker` and wait until it has warmed up and polls the queue."""
    worker = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "run_worker", "--no-startup-delay"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output = worker.stdout
    if output is None:  # stdout=PIPE always gives one
        raise RuntimeError("The worker's output is not piped.")

    def forward() -> None:
        for line in output:
            lines.put(line)

    threading.Thread(target=forward, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if worker.poll() is not None:
                raise RuntimeError("The worker stopped while starting.") from None
            continue
        if "Starting worker" in line:
            write("  worker warm and polling")
            return worker
    worker.kill()
    raise RuntimeError("The worker did not start within 120 s.")


def ensure_site_ready() -> None:
    """Raise RuntimeError unless the database is migrated and has an active model version."""
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    from modelzoo.models import ModelVersion

    try:
        active = ModelVersion.objects.filter(is_active=True).exists()
    except DatabaseError:
        raise RuntimeError(
            "The database is not set up: run `make run` once, or `python manage.py migrate` "
            "and `python manage.py register_bundled_model`."
        ) from None
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("The database is not up to date: run `python manage.py migrate` (`make run` does).")
    if not active:
        raise RuntimeError("No active model version: run `python manage.py register_bundled_model` first.")


def run_end_to_end(paths: list[Path], *, write: Callable[[str], None]) -> dict[str, Any]:
    """Upload each clip, ask for its analysis, poll until done; returns medians and p95s in ms."""
    from django.contrib.auth.models import User
    from django.test import Client

    ensure_site_ready()
    user = User.objects.create_user(username=f"benchmark-{secrets.token_hex(4)}")
    worker = _start_worker(write)
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost")
    client.force_login(user)
    upload_ms, analysis_ms, total_ms, worker_ms = [], [], [], []
    try:
        for path in paths:
            started = time.perf_counter()
            with path.open("rb") as handle:
                response = client.post("/api/recordings/", {"file": handle})
            if response.status_code != 201:
                raise RuntimeError(f"Upload of {path.name} failed: {response.status_code} {response.content[:200]!r}")
            uploaded = time.perf_counter()
            response = client.post(
                f"/api/recordings/{response.json()['id']}/analyses/", {}, content_type="application/json"
            )
            analysis_id = response.json()["id"]
            while True:
                data = client.get(f"/api/analyses/{analysis_id}/").json()
                if data["status"] in ("done", "failed"):
                    break
                time.sleep(0.005)
            done = time.perf_counter()
            if data["status"] != "done":
                raise RuntimeError(f"The analysis of {path.name} failed: {data['error']}")
            upload_ms.append((uploaded - started) * 1000)
            analysis_ms.append((done - uploaded) * 1000)
            total_ms.append((done - started) * 1000)
            worker_ms.append(data["timings"]["worker_ms"])
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        for recording in user.recordings.all():
            for analysis in recording.analyses.all():
                if analysis.activations:
                    analysis.activations.delete(save=False)
            recording.audio.delete(save=False)
            if recording.original_file:
                recording.original_file.delete(save=False)
        user.delete()

    def figures(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 1), "p95": round(float(np.percentile(values, 95)), 1)}

    report: dict[str, Any] = {
        "clips": len(paths),
        "upload_ms": figures(upload_ms),
        "analysis_requested_to_done_ms": figures(analysis_ms),
        "upload_to_done_ms": figures(total_ms),
        "worker_job_ms": figures(worker_ms),
        "worker_poll_interval_s": settings.WORKER_POLL_INTERVAL,
    }
    for key in ("upload_ms", "analysis_requested_to_done_ms", "upload_to_done_ms", "worker_job_ms"):
        write(f"  {key:<32} median {report[key]['median']:>8.1f}   p95 {report[key]['p95']:>8.1f}")
    return report
