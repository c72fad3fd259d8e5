"""Waking an idle worker the moment a job is queued, with the poll interval as the fallback.

- PostgreSQL: ``NOTIFY ddevis_jobs`` after the enqueue commits; each worker ``LISTEN``s on a
  connection of its own. Works across machines, and is transactional like the queue itself.
- SQLite (one machine): a named pipe beside the database file (``<database>.wake``). The web
  process writes one byte per job; an idle worker waiting on the pipe wakes, reads it and looks
  at the queue. Nobody listening, or a full pipe, is fine: the workers poll anyway.
- Any other database: the poll alone.

A signal that is lost or arrives twice costs nothing: the queue in the database stays the
truth, the signal only shortens the wait.
"""

import contextlib
import errno
import logging
import os
import select
import stat
import time
from pathlib import Path

from django.db import connection, transaction

logger = logging.getLogger(__name__)

CHANNEL = "ddevis_jobs"


def _pipe_path() -> Path | None:
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(f"{name}.wake")


def notify_workers() -> None:
    """Tell idle workers that a job is waiting (once the current transaction commits)."""
    transaction.on_commit(_notify_now)


def _notify_now() -> None:
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {CHANNEL}")
            return
        path = _pipe_path()
        if path is None:
            return
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        # ENOENT: no worker made the pipe yet; ENXIO: no worker has it open. They poll.
        if exc.errno not in (errno.ENOENT, errno.ENXIO):
            logger.warning("Could not wake the workers: %s", exc)
        return
    try:
        os.write(fd, b"!")
    except BlockingIOError:
        pass  # the pipe is full of wake-ups already
    finally:
        os.close(fd)


class WakeListener:
    """What an idle worker waits on: a notification, or `timeout` seconds, whichever comes first."""

    def __init__(self) -> None:
        self.kind = "poll"
        self._pg = None
        self._fds: tuple[int, int] | None = None
        if connection.vendor == "postgresql":
            import psycopg

            self._pg = psycopg.connect(**connection.get_connection_params(), autocommit=True)
            self._pg.execute(f"LISTEN {CHANNEL}")
            self.kind = "PostgreSQL LISTEN/NOTIFY"
        elif (path := _pipe_path()) is not None:
            with contextlib.suppress(FileExistsError):
                os.mkfifo(path, 0o600)
            if not stat.S_ISFIFO(path.stat().st_mode):
                raise RuntimeError(f"{path} is not a named pipe; remove it.")
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            # Holding a writer of our own keeps the pipe from reading as closed (always ready) between jobs.
            writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            self._fds = (reader, writer)
            self.kind = f"named pipe {path.name}"

    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` s passed; True when woken. Pending wake-ups are consumed."""
        if self._pg is not None:
            woken = any(True for _ in self._pg.notifies(timeout=timeout, stop_after=1))
            if woken:
                for _ in self._pg.notifies(timeout=0.0):
                    pass
            return woken
        if self._fds is not None:
            ready, _, _ = select.select([self._fds[0]], [], [], timeout)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._fds[0], 4096):
                        pass
            return bool(ready)
        time.sleep(timeout)
        return False

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None
