"""Run the web site and its task workers together; Ctrl-C (or SIGTERM) stops them all."""

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the site (runserver) and task workers; Ctrl-C stops them all."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where the site listens.")
        parser.add_argument("--workers", type=int, default=1, help="How many task workers to start (default 1).")

    def handle(self, *args: Any, addrport: str, workers: int, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = [[*manage, "runserver", "--noreload", addrport]]
        commands += [[*manage, "run_worker"] for _ in range(workers)]
        # `kill`, systemd and container runtimes stop a process with SIGTERM: clean up as for Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        processes = [subprocess.Popen(command) for command in commands]
        self.stdout.write(
            self.style.SUCCESS(f"d-DeVIS is starting on http://{addrport}/ with {workers} worker(s). Ctrl-C stops.")
        )
        exit_code = 0
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            exit_code = next(p.returncode for p in processes if p.returncode is not None) or 0
            self.stderr.write("A process stopped; stopping the others.")
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reaches the children too; a second one must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stdout.write("\nStopping the site and the workers…")
        finally:
            _stop(processes)
        if exit_code:
            sys.exit(exit_code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(processes: list[subprocess.Popen]) -> None:
    """Ask every child to stop, then kill what is still running after a grace period."""
    for process in processes:
        if process.poll() is None:
            # SIGTERM, not SIGINT: a child started in the background ignores SIGINT.
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
