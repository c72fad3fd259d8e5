"""What a user gets, timed through the API with a token: a new clip's prediction, then every filter image and sound.

Plain `http.client` on kept-alive connections, as a browser or a script would use them;
the site is a real server (`manage.py serve`, started here on a free port unless a URL
is given) with a real worker.
"""

import http.client
import json
import secrets
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from core.served import served_site


@dataclass
class Site:
    """Where the site answers, and the token of the benchmark's own user."""

    host: str
    port: int
    token: str
    local: threading.local = field(default_factory=threading.local)

    def connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection (opened on first use)."""
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.local.connection

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None) -> tuple:
        """(status, headers, body) of one request on this thread's connection; reconnects once if it was closed."""
        headers = {"Authorization": f"Token {self.token}", "Host": settings.ALLOWED_HOSTS[0], **(headers or {})}
        for attempt in (1, 2):
            connection = self.connection()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = json.dumps(payload or {}).encode() if method == "POST" else None
        status, _, content = self.request(method, path, body=body, headers={"Content-Type": "application/json"})
        return status, json.loads(content) if content else None


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file field `file`; returns (body, content type)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def one_run(site: Site, clip: Path, *, connections: int) -> dict[str, Any]:
    """Upload `clip`, ask for its analysis, wait for the prediction, then fetch every filter image and sound."""
    body, content_type = multipart(clip.name, clip.read_bytes())
    started = time.perf_counter()
    status, _, content = site.request("POST", "/api/recordings/", body=body, headers={"Content-Type": content_type})
    if status != 201:
        raise RuntimeError(f"Upload of {clip.name} answered {status}: {content[:200]!r}")
    recording = json.loads(content)["id"]
    status, analysis = site.json("POST", f"/api/recordings/{recording}/analyses/")
    if status not in (200, 201, 202):
        raise RuntimeError(f"Asking for the analysis answered {status}: {analysis}")
    while analysis.get("status") not in ("done", "failed"):
        if "status" not in analysis:
            raise RuntimeError(f"Reading the analysis answered {analysis}")
        time.sleep(0.002)
        _, analysis = site.json("GET", f"/api/analyses/{analysis['id']}/")
    predicted = time.perf_counter()
    if analysis["status"] != "done":
        raise RuntimeError(f"The analysis failed: {analysis['error']}")
    urls = [url for layer in analysis["layers"] for url in (*layer["images"], *layer["audio"])]

    def fetch(url: str) -> int:
        status, _, content = site.request("GET", url)
        if status != 200 or not content:
            raise RuntimeError(f"GET {url} answered {status}")
        return len(content)

    with ThreadPoolExecutor(max_workers=connections) as pool:
        sizes = list(pool.map(fetch, urls))
    finished = time.perf_counter()
    return {
        "prediction_ms": (predicted - started) * 1000,
        "media_ms": (finished - predicted) * 1000,
        "total_ms": (finished - started) * 1000,
        "media_requests": len(urls),
        "media_bytes": sum(sizes),
        "analysis": analysis["id"],
        "first_image": analysis["layers"][0]["images"][0],
    }


def kept_alive_latency(site: Site, path: str, *, requests: int) -> dict[str, dict[str, float]]:
    """Median and p95 (ms) of `requests` GETs of `path` on one kept-alive connection, and of fresh connections."""
    kept, fresh = [], []
    local = Site(site.host, site.port, site.token)  # a connection of its own
    local.request("GET", path)
    for _ in range(requests):
        started = time.perf_counter()
        status, _, _ = local.request("GET", path)
        kept.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    for _ in range(max(10, requests // 5)):
        started = time.perf_counter()
        Site(site.host, site.port, site.token).request("GET", path)
        fresh.append((time.perf_counter() - started) * 1000)
    return {"kept_alive": figures(kept), "fresh_connection": figures(fresh)}


def figures(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "p95": round(float(np.percentile(values, 95)), 2)}


@contextmanager
def benchmark_user() -> Iterator[str]:
    """A user of its own with an API token; it and everything it made are deleted afterwards."""
    from django.contrib.auth.models import User

    from accounts.services import api_token_create

    user = User.objects.create_user(username=f"benchmark-api-{secrets.token_hex(4)}")
    try:
        yield api_token_create(user=user, name="benchmark")[1]
    finally:
        for recording in user.recordings.all():
            for analysis in recording.analyses.all():
                if analysis.activations:
                    analysis.activations.delete(save=False)
            recording.audio.delete(save=False)
            if recording.original_file:
                recording.original_file.delete(save=False)
        user.delete()


def run_benchmark(
    *, url: str, clips: list[Path], runs: int, connections: int, write: Callable[[str], None]
) -> dict[str, Any]:
    """Time `runs` rounds over `clips` (plus one warm-up clip) and the kept-alive latency; returns the figures."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    # The benchmark polls for each prediction and times hundreds of API reads: more than a user's
    # 600 a minute. The site it starts lifts that limit; a site given by URL keeps its own.
    unlimited = {"API_RATE_USER": "1000000/min"}
    with benchmark_user() as token, served_site(url, write, workers=1, env=unlimited) as (host, port):
        site = Site(host, port, token)
        write("Warm-up (the worker loads the model before its first job)…")
        warm = one_run(site, clips[0], connections=connections)
        rows = []
        for run in range(runs):
            for clip in clips:
                rows.append(one_run(Site(host, port, token), clip, connections=connections))
            so_far = statistics.median(r["total_ms"] for r in rows)
            write(f"  run {run + 1}/{runs}: total median so far {so_far:.0f} ms")
        static_path = staticfiles_storage.url("css/ddevis.css")
        latency = {
            "static_file": kept_alive_latency(site, static_path, requests=200),
            "filter_image": kept_alive_latency(site, warm["first_image"], requests=200),
            "api_analysis": kept_alive_latency(site, f"/api/analyses/{warm['analysis']}/", requests=100),
        }
    report = {
        "clips": len(clips),
        "runs": runs,
        "connections": connections,
        "media_requests": rows[0]["media_requests"],
        "prediction_ms": figures([r["prediction_ms"] for r in rows]),
        "media_ms": figures([r["media_ms"] for r in rows]),
        "total_ms": figures([r["total_ms"] for r in rows]),
        "latency_ms": latency,
    }
    write("")
    write(f"{'what (ms)':<52}{'median':>10}{'p95':>10}   ({len(rows)} new clips)")
    write(f"{'upload -> prediction (through the worker)':<52}{report['prediction_ms']['median']:>10.1f}"
          f"{report['prediction_ms']['p95']:>10.1f}")  # fmt: skip
    write(f"{f'all {report["media_requests"]} filter images and sounds ({connections} connections)':<52}"
          f"{report['media_ms']['median']:>10.1f}{report['media_ms']['p95']:>10.1f}")  # fmt: skip
    write(f"{'prediction + every image and sound':<52}{report['total_ms']['median']:>10.1f}"
          f"{report['total_ms']['p95']:>10.1f}")  # fmt: skip
    for name, values in latency.items():
        for mode in ("kept_alive", "fresh_connection"):
            label = f"one GET, {name.replace('_', ' ')}, {mode.replace('_', ' ')}"
            write(f"{label:<52}{values[mode]['median']:>10.2f}{values[mode]['p95']:>10.2f}")
    return report
