"""Live mode under load: windows through POST /api/live/ as the page sends them, for one user and for N at once.

Each simulated user does what the page does: every 200 ms it sends the last second (a 16 kHz
16-bit WAV of a real digit clip, about 32 kB) unless its previous window is still out, on a
kept-alive connection with an API token. The site is a real server (`manage.py serve`, which
runs the live engine, started here on a free port unless a URL is given).
"""

import http.client
import io
import json
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
from django.conf import settings

from core.served import served_site

TICK_S = 0.2  # the page's pace: five windows a second


def window_wav(path: Any, *, rate: int = 16000) -> bytes:
    """One second around a clip, at `rate`, as the page encodes it (mono 16-bit PCM)."""
    from dsp.decode import decode_audio, resample, to_mono

    y, sr = decode_audio(path)
    y = resample(to_mono(y), sr, rate)[:rate]
    window = np.zeros(rate, dtype=np.float32)
    start = (rate - len(y)) // 2
    window[start : start + len(y)] = y
    buffer = io.BytesIO()
    sf.write(buffer, window, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@dataclass
class UserRun:
    """What one simulated user saw: the latency of each answered window (ms) and what went wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # ticks that found the previous window still out

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def _post(connection: http.client.HTTPConnection, token: str, body: bytes) -> tuple[int, bytes]:
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "audio/wav",
        "Host": settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost",
    }
    connection.request("POST", "/api/live/", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def simulate_user(host: str, port: int, token: str, windows: list[bytes], *, seconds: float) -> UserRun:
    """Send a window every 200 ms for `seconds` (one in flight at a time), cycling through `windows`."""
    run = UserRun()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    started = time.perf_counter()
    next_tick = started
    n = 0
    while True:
        now = time.perf_counter()
        if now - started >= seconds:
            break
        if now < next_tick:
            time.sleep(next_tick - now)
        sent = time.perf_counter()
        try:
            status, content = _post(connection, token, windows[n % len(windows)])
        except (OSError, http.client.HTTPException) as exc:
            run.error(type(exc).__name__)
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=30)
            status, content = 0, b""
        done = time.perf_counter()
        if status == 200 and "probabilities" in json.loads(content):
            run.latencies_ms.append((done - sent) * 1000)
        elif status:
            run.error(str(status))
        n += 1
        next_tick += TICK_S
        while next_tick < done:  # the page skips the ticks that come while a window is out
            next_tick += TICK_S
            run.skipped += 1
    connection.close()
    return run


def phase(host: str, port: int, tokens: list[str], windows: list[bytes], *, seconds: float) -> dict[str, Any]:
    """`len(tokens)` users at once for `seconds`: latency figures, updates a second, errors."""
    runs: list[UserRun] = [UserRun() for _ in tokens]

    def one(i: int) -> None:
        runs[i] = simulate_user(host, port, tokens[i], windows, seconds=seconds)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [ms for run in runs for ms in run.latencies_ms]
    errors: dict[str, int] = {}
    for run in runs:
        for what, count in run.errors.items():
            errors[what] = errors.get(what, 0) + count
    per_user = [len(run.latencies_ms) / seconds for run in runs]
    return {
        "users": len(tokens),
        "seconds": seconds,
        "windows": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "updates_per_s_per_user": round(statistics.mean(per_user), 2),
        "slowest_user_updates_per_s": round(min(per_user), 2),
        "updates_per_s_total": round(sum(per_user), 2),
        "skipped_ticks": sum(run.skipped for run in runs),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
    }


@contextmanager
def benchmark_users(n: int) -> Iterator[list[str]]:
    """`n` users of their own with API tokens (each has its own throttle budget); deleted afterwards."""
    from django.contrib.auth.models import User

    from accounts.services import api_token_create

    stem = f"benchmark-live-{secrets.token_hex(3)}"
    users = [User.objects.create_user(username=f"{stem}-{i}") for i in range(n)]
    try:
        yield [api_token_create(user=user, name="benchmark-live")[1] for user in users]
    finally:
        User.objects.filter(pk__in=[user.pk for user in users]).delete()


def wait_for_engine(host: str, port: int, token: str, window: bytes, *, timeout_s: float = 180) -> None:
    """Until a window is answered 200: the engine loads TensorFlow and the model versions first."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            status, content = _post(connection, token, window)
        except (OSError, http.client.HTTPException) as exc:
            status, content = 0, str(exc).encode()
        finally:
            connection.close()
        if status == 200:
            return
        last = f"{status} {content[:200]!r}"
        time.sleep(0.5)
    raise RuntimeError(f"The live engine did not answer within {timeout_s:g} s (last answer: {last}).")


def run_benchmark(*, url: str, users: int, seconds: float, write: Callable[[str], None]) -> dict[str, Any]:
    """One user for `seconds`, then `users` at once for `seconds`; prints and returns the figures."""
    from modelzoo.samples import sample_clips

    windows = [window_wav(clip.path) for clip in sample_clips()]
    with (
        benchmark_users(users) as tokens,
        served_site(url, write, workers=0, what=" (the site and its live engine)") as (host, port),
    ):
        write("Waiting for the live engine (TensorFlow and the model load first)…")
        wait_for_engine(host, port, tokens[0], windows[0])
        for token in tokens:  # a few windows each: connections, the engine's threads
            phase(host, port, [token], windows, seconds=0.5)
        time.sleep(1.1)  # the warm-up's windows leave the throttle's one-second window
        write(f"1 user for {seconds:g} s…")
        one = phase(host, port, tokens[:1], windows, seconds=seconds)
        time.sleep(1.1)
        write(f"{users} users at once for {seconds:g} s…")
        many = phase(host, port, tokens, windows, seconds=seconds)
    report = {"one_user": one, "many_users": many, "tick_s": TICK_S}
    write("")
    write(
        f"{'':<16}{'windows':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'updates/s/user':>16}{'slowest':>9}"
        f"{'errors':>8}"
    )
    for name, row in (("1 user", one), (f"{users} users", many)):
        write(
            f"{name:<16}{row['windows']:>9}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['max_ms']:>9}"
            f"{row['updates_per_s_per_user']:>16}{row['slowest_user_updates_per_s']:>9}{row['errors']:>8}"
        )
    if many["errors_by_kind"] or one["errors_by_kind"]:
        write(f"errors by kind: 1 user {one['errors_by_kind']}, {users} users {many['errors_by_kind']}")
    write("Targets: p95 ≤ 150 ms, 5 updates a second for one user, no errors with 10 users.")
    return report
