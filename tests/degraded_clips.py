"""The robustness conditions' copies of the evaluation clips, built once per test run for all its processes.

Every validation measures the model under each condition on copies of the 250 evaluation clips; a process
builds them the first time (about ten seconds of CPU: noise, rooms, codecs) and keeps them. A test run has
many such processes: each pytest-xdist worker, and the worker processes tests start. The copies are the
same in all of them (seeded, and the same for every model), so the first process to need a condition builds
it with the real code and leaves it in a folder of the run; the others read it from there.
"""

import contextlib
import fcntl
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from modelzoo.conditions import DEFAULT_SEED

# The run's folder, for the processes that tests start (they inherit the environment).
FOLDER_VARIABLE = "DDEVIS_TEST_DEGRADED_CLIPS"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def install(folder: Path) -> None:
    """Make this process's validations take each condition's copies from `folder`, building them there once."""
    from modelzoo import worker

    build = worker._degraded_evaluation_clips
    if getattr(build, "shared_folder", None) == folder:
        return

    @functools.cache
    def shared(condition: str, seed: int = DEFAULT_SEED) -> tuple:
        stem = f"{condition}-{seed}"
        path = folder / f"{stem}.npz"
        # The lock makes a second process wait for the copies the first is building, not build them too.
        with _locked(folder / f"{stem}.lock"):
            if not path.exists():
                clips = build(condition, seed)
                draft = folder / f"{stem}.draft.npz"
                np.savez(draft, *[y for y, _ in clips], rates=np.array([sr for _, sr in clips]))
                os.replace(draft, path)
                return clips
        with np.load(path) as stored:
            rates = stored["rates"]
            return tuple((stored[f"arr_{i}"], int(sr)) for i, sr in enumerate(rates))

    shared.shared_folder = folder  # type: ignore[attr-defined]
    worker._degraded_evaluation_clips = shared


def install_from_environment() -> None:
    """For a worker process a test started (a WORKER_WARMUP of tests/jobs/worker_settings.py)."""
    if folder := os.environ.get(FOLDER_VARIABLE):
        install(Path(folder))
