"""Live mode under load: p50/p95 per window and sustained updates a second, for one user and for N at once."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from live.benchmark import run_benchmark
from modelzoo.benchmark_e2e import ensure_site_ready


class Command(BaseCommand):
    help = (
        "Send live windows as the page does (every 200 ms, one in flight per user) through POST /api/live/: "
        "one user, then --users at once, --seconds each; prints p50/p95 per window, updates a second and errors."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="", help="A running site (default: start `serve` on a free port).")
        parser.add_argument("--users", type=int, default=10, help="Simultaneous users in the second phase (10).")
        parser.add_argument("--seconds", type=float, default=30, help="Length of each phase in seconds (30).")
        parser.add_argument("--json", dest="json_path", type=Path, help="Write the figures to this file.")

    def handle(self, *args: Any, url: str, users: int, seconds: float, json_path: Path | None, **o: Any) -> None:
        if users < 1 or seconds <= 0:
            raise CommandError("--users must be at least 1 and --seconds positive.")
        try:
            ensure_site_ready()
            report = run_benchmark(url=url, users=users, seconds=seconds, write=self.stdout.write)
        except (RuntimeError, OSError) as error:
            raise CommandError(str(error)) from None
        if json_path:
            json_path.write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"\nWrote {json_path}")
