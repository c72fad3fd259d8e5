"""Run the web site (gunicorn), its task workers and the live engine together, as a small supervisor.

A worker (or the live engine) that stops is started again after a back-off (1 s, doubling up to
30 s; back to 1 s once it has stayed up for a minute), and the site stays up meanwhile. When the
web server itself stops, everything stops. Ctrl-C (or SIGTERM) stops them all.
"""

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0


@dataclass
class Child:
    """A supervised worker: its command, its process, and when it may be started again."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff_s: float = FIRST_BACKOFF_S
    restart_at: float | None = None

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen(self.command)
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.process


class Command(BaseCommand):
    help = (
        "Start the site (gunicorn), task workers and the live engine; a worker or engine that stops is restarted; "
        "Ctrl-C stops them all."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where the site listens.")
        parser.add_argument("--workers", type=int, default=1, help="How many task workers to start (default 1).")
        parser.add_argument(
            "--no-live-engine",
            action="store_false",
            dest="live_engine",
            help="Do not start the live engine (live mode then answers 503).",
        )

    def handle(self, *args: Any, addrport: str, workers: int, live_engine: bool = True, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        config = str(settings.BASE_DIR / "ddevis_site" / "gunicorn.conf.py")
        web = Child("web", [sys.executable, "-m", "gunicorn", "-c", config, "--bind", addrport])
        task_workers = [Child(f"worker {n + 1}", [*manage, "run_worker"]) for n in range(workers)]
        if live_engine:
            # Supervised like a worker: live mode answers 503 while it is away, and it comes back.
            task_workers.append(Child("live engine", [*manage, "run_live_engine"]))
        # `kill`, systemd and container runtimes stop a process with SIGTERM: clean up as for Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        web_process = web.start()
        for worker in task_workers:
            self._say(f"{worker.name} started (pid {worker.start().pid})")
        self._say(
            self.style.SUCCESS(
                f"d-DeVIS is starting on http://{addrport}/ with {workers} worker(s)"
                + (" and the live engine" if live_engine else "")
                + ". Ctrl-C stops."
            )
        )
        exit_code = 0
        try:
            while web_process.poll() is None:
                self._supervise(task_workers)
                time.sleep(0.2)
            exit_code = web_process.returncode or 0
            self.stderr.write(f"The web server stopped (exit code {exit_code}); stopping the workers.")
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reaches the children too; a second one must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stdout.write("\nStopping the site and the workers…")
        finally:
            _stop([child.process for child in (web, *task_workers) if child.process is not None])
        if exit_code:
            sys.exit(exit_code)

    def _say(self, line: str) -> None:
        """One line on the console, at once (the children write there too)."""
        self.stdout.write(line)
        self.stdout.flush()

    def _supervise(self, task_workers: list[Child]) -> None:
        """Schedule a restart for each worker that stopped, and start those whose back-off has passed."""
        now = time.monotonic()
        for worker in task_workers:
            process = worker.process
            if process is None:  # never started: nothing to watch
                continue
            if worker.restart_at is None and process.poll() is not None:
                if now - worker.started_at >= STABLE_AFTER_S:
                    worker.backoff_s = FIRST_BACKOFF_S
                worker.restart_at = now + worker.backoff_s
                self._say(
                    f"{worker.name} stopped (exit code {process.returncode}); "
                    f"starting it again in {worker.backoff_s:g} s."
                )
                worker.backoff_s = min(MAX_BACKOFF_S, worker.backoff_s * 2)
            elif worker.restart_at is not None and now >= worker.restart_at:
                self._say(f"{worker.name} started again (pid {worker.start().pid})")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(processes: list[subprocess.Popen]) -> None:
    """Ask every child to stop, then kill what is still running after a grace period."""
    for process in processes:
        if process.poll() is None:
            # SIGTERM, not SIGINT: a child started in the background ignores SIGINT.
            process.terminate()
    deadline = time.monotonic() + 25
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
