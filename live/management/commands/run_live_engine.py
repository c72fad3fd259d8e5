"""The warm live engine: load every valid model version, then answer live windows over a socket."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from live.engine import EngineError, LiveEngine, serve


class Command(BaseCommand):
    help = (
        "Run the live engine: load the model versions (TensorFlow), then answer POST /api/live/'s windows "
        "over LIVE_ENGINE_ADDRESS (a Unix socket path, or host:port). SIGTERM or Ctrl-C stops it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--address",
            default=None,
            help="Where to listen: a Unix socket path, or host:port (default: the LIVE_ENGINE_ADDRESS setting).",
        )

    def handle(self, *args: Any, address: str | None, **options: Any) -> None:
        address = address or settings.LIVE_ENGINE_ADDRESS
        engine = LiveEngine(tf_threads=settings.LIVE_ENGINE_TF_THREADS)
        started = time.perf_counter()
        loaded = engine.warm()
        self.stdout.write(
            f"Live engine: {len(loaded)} model version(s) loaded in {time.perf_counter() - started:.1f} s"
            + (f" ({', '.join(loaded)})" if loaded else " (none is valid yet; versions load on first use)")
        )

        def listening() -> None:
            self.stdout.write(f"Live engine listening on {address}")
            self.stdout.flush()

        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            serve(address, engine, ready=listening, rescan_s=settings.LIVE_ENGINE_RESCAN_S, said=say)
        except EngineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("Live engine stopped.")
