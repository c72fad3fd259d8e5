"""Time what a user gets through the API with a token: a new clip's prediction plus every filter image and sound."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ddevis_site.benchmark_api import run_benchmark
from modelzoo.benchmark_e2e import ensure_site_ready
from modelzoo.samples import sample_clips


class Command(BaseCommand):
    help = (
        "Through the API with a token, on kept-alive connections: upload a new clip, wait for its prediction, "
        "fetch every filter image and sound; median of several runs, and the latency of one kept-alive request."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="", help="A running site (default: start `serve` on a free port).")
        parser.add_argument("--clip", action="append", type=Path, help="Clip(s) to use (default: the bundled samples).")
        parser.add_argument("--runs", type=int, default=3, help="Rounds over the clips (default 3), after a warm-up.")
        parser.add_argument("--connections", type=int, default=6, help="Parallel connections, as a browser (6).")
        parser.add_argument("--json", dest="json_path", type=Path, help="Write the figures to this file.")

    def handle(
        self, *args: Any, url: str, clip: list[Path] | None, runs: int, connections: int, json_path: Path | None, **o
    ) -> None:
        if runs < 1 or connections < 1:
            raise CommandError("--runs and --connections must be at least 1.")
        paths = clip or [c.path for c in sample_clips()]
        for path in paths:
            if not path.exists():
                raise CommandError(f"No clip at {path}.")
        try:
            ensure_site_ready()
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        try:
            report = run_benchmark(url=url, clips=paths, runs=runs, connections=connections, write=self.stdout.write)
        except (RuntimeError, OSError) as error:
            raise CommandError(str(error)) from None
        if json_path:
            json_path.write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"\nWrote {json_path}")
