"""The site as the benchmarks drive it: at a given URL, or `manage.py serve` started on a free port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_site(
    url: str, write: Callable[[str], None], *, workers: int, what: str = "", env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """(host, port) of the site at `url`, or of `manage.py serve --workers N` started here until the block ends.

    The site serves hashed static names from the manifest: static files are collected first.
    `env` adds settings to the started site's environment.
    """
    from django.core.management import call_command

    if url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", parts.port or 80
        return
    call_command("collectstatic", interactive=False, verbosity=0)
    port = free_port()
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "serve", f"127.0.0.1:{port}"]
    serve = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("`manage.py serve` did not start.")
            time.sleep(0.2)
        write(f"Started `manage.py serve 127.0.0.1:{port} --workers {workers}`{what}")
        yield "127.0.0.1", port
    finally:
        serve.terminate()
        serve.wait(timeout=30)
