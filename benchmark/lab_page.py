"""How long a new clip's recording page takes to show its layer explorer, in a real browser.

For each run it uploads a bundled sample clip through the upload form in Chromium, then
measures:

- upload_ms:   from the click on “Upload and analyse” to the lab page starting to load
               (upload, checks, canonical WAV, enqueueing the analysis, redirect);
- lab_html_ms, dom_ready_ms: the lab page's HTML received, its scripts run;
- prediction_shown_ms: the prediction panel swapped in (the poll that found the job done,
               or the page itself when the analysis had finished before it was rendered);
- lab_first_ms: from the lab page's navigation start to the last of the first layer's
               filter images loaded (what the page shows without any click: the
               prediction, then the explorer with every filter of the first layer);
- layer_ms:    for each further convolution layer, from the click on its tab to the last
               of its filter images loaded; all_layers_ms adds them to lab_first_ms;
- filter_wav_ms: one filter's sonified WAV fetched (what ▶ waits for);
- the server's side, from the analysis job's own timings (GET /api/analyses/{id}/):
               queued_ms (waiting for a worker), features_ms, forward_ms, store_ms,
               worker_ms (the whole job), and the job's wall time.

The first upload warms the worker (TensorFlow, the model) and is not counted.

Usage (from the repository root, with the project's Python):

    python benchmark/lab_page.py                 # starts its own site + one worker on a fresh database
    python benchmark/lab_page.py --runs 10 --json lab.json
    python benchmark/lab_page.py --url http://127.0.0.1:8000 --username alice --password ...   # an existing site

It needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and Playwright.
"""

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "modelzoo" / "samples").glob("*.wav"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


@contextmanager
def own_site():
    """A fresh site (SQLite in a temporary folder) with the bundled model, one user, a server and one worker."""
    with tempfile.TemporaryDirectory(prefix="ddevis-bench-") as data:
        env = {**os.environ, "DDEVIS_DATA_DIR": data, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        quiet = {"stdout": subprocess.DEVNULL}
        print(f"Preparing a fresh site in {data} (migrate, collectstatic, bundled model)…", flush=True)
        _manage(env, "migrate", "--noinput", **quiet)
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0", **quiet)
        _manage(env, "register_bundled_model", **quiet)
        password = secrets.token_urlsafe(12)
        _manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; from accounts.roles import add_to_role, STUDENT; "
            f"add_to_role(User.objects.create_user('bench', password='{password}'), STUDENT)",
            **quiet,
        )
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("The site did not start.") from None
                    time.sleep(0.3)
            yield url, "bench", password
        finally:
            os.killpg(server.pid, 2)  # SIGINT: `serve` stops the server and the worker it started
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
                server.wait()


# Evaluated in the page every 10 ms; it answers the page's own clock when the grid is complete, so
# no figure includes the round trip between Playwright and the browser.
ALL_IMAGES_LOADED = """(layer) => {
  const grid = document.querySelector(
    layer ? `#explorer .filter-grid[data-layer="${layer}"]` : '#explorer .filter-grid');
  const images = grid ? [...grid.querySelectorAll('img')] : [];
  return images.length > 0 && images.every((i) => i.complete && i.naturalWidth > 0)
    ? {count: images.length, at: performance.now()} : null;
}"""
# htmx makes the links of a swapped-in fragment live only when it settles (20 ms after the swap): a tab
# clicked sooner (the maps came from the cache) would be followed as a plain link, a new page with its
# own clock. A person cannot click that fast; the benchmark makes the link live first (idempotent).
CLICK_TAB = """(k) => {
  const tab = document.querySelectorAll('#explorer nav.tabs a')[k];
  htmx.process(tab);
  const at = performance.now();
  tab.click();
  return at;
}"""


def one_run(page, base: str, clip: Path, *, wait_ms: int = 60_000) -> dict:
    page.goto(f"{base}/recordings/new/")
    page.set_input_files("#upload input[type=file]", str(clip))
    clicked = time.perf_counter()
    page.get_by_role("button", name="Upload and analyse").click()
    page.wait_for_url(re.compile(r".*/recordings/\d+/$"), wait_until="commit")
    # From here on, time is measured inside the lab page, from its navigation start.
    first = page.wait_for_function(ALL_IMAGES_LOADED, arg=None, timeout=wait_ms, polling=10).json_value()
    count, lab_first_ms = first["count"], first["at"]
    navigation = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    upload_ms = (time.perf_counter() - clicked) * 1000 - lab_first_ms
    polls = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/analysis/'))"
        ".map(e => [Math.round(e.startTime), Math.round(e.responseEnd)])"
    )
    done_at = page.evaluate(
        "(() => { const m = performance.getEntriesByType('resource').filter(e => e.name.includes('/analysis/'));"
        " return m.length ? m[m.length - 1].responseEnd : null })()"
    )
    images = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => /layers\\/.*\\.png/.test(e.name))"
        ".map(e => [e.startTime, e.responseEnd, e.responseStart - e.requestStart])"
    )
    explorer = page.evaluate(
        "(() => { const m = performance.getEntriesByType('resource').filter(e => e.name.includes('/explorer/'));"
        " return m.length ? [m[0].startTime, m[0].responseEnd] : null })()"
    )
    result = {
        "clip": clip.name,
        "explorer_html_ms": [round(t, 1) for t in explorer] if explorer else None,
        "images_from_to_ms": [round(min(i[0] for i in images), 1), round(max(i[1] for i in images), 1)],
        "image_server_ms_median": round(statistics.median(i[2] for i in images), 1),
        "upload_ms": round(upload_ms, 1),
        "lab_html_ms": round(navigation["responseEnd"], 1),
        "dom_ready_ms": round(navigation["domContentLoadedEventEnd"], 1),
        "polls": polls,
        "prediction_shown_ms": round(done_at, 1) if done_at else round(navigation["responseEnd"], 1),
        "lab_first_ms": round(lab_first_ms, 1),
        "first_layer_images": count,
        "layer_ms": {},
    }
    tabs = page.locator("#explorer nav.tabs a")
    for k in range(1, tabs.count()):
        name = tabs.nth(k).inner_text().split()[0]
        if name in ("Overview", "Input", "Weights", "Model"):
            break
        started = page.evaluate(CLICK_TAB, k)
        done = page.wait_for_function(ALL_IMAGES_LOADED, arg=name, timeout=60_000, polling=10).json_value()
        if page.evaluate("performance.getEntriesByType('navigation')[0].name") != navigation["name"]:
            raise RuntimeError(f"The {name} tab opened a new page instead of swapping the explorer.")
        result["layer_ms"][name] = round(done["at"] - started, 1)
        result.setdefault("layer_fragment_ms", {})[name] = page.evaluate(
            "([since]) => { const e = performance.getEntriesByType('resource').find(e => e.startTime >= since"
            " && e.name.includes('/explorer/')); return e ? [Math.round(e.startTime - since),"
            " Math.round(e.responseEnd - since)] : null }",
            [started],
        )
        # How many of its maps the tab still had to fetch (the others came from the browser's cache).
        result.setdefault("layer_fetched", {})[name] = page.evaluate(
            "([layer, since]) => performance.getEntriesByType('resource').filter(e => e.startTime >= since"
            " && e.name.includes(`/layers/${layer}/`) && e.transferSize > 0).length",
            [name, started],
        )
    result["all_layers_ms"] = round(result["lab_first_ms"] + sum(result["layer_ms"].values()), 1)
    # Pressing ▶ on a filter: its sonified WAV (rendered on demand, then cached by the browser).
    sound = page.locator("#explorer .tile button.play").first.get_attribute("data-play")
    started = time.perf_counter()
    assert page.request.get(f"{base}{sound}").headers["content-type"] == "audio/wav"
    result["filter_wav_ms"] = round((time.perf_counter() - started) * 1000, 1)
    analysis_id = page.locator("#explorer").get_attribute("data-analysis")
    analysis = page.request.get(f"{base}/api/analyses/{analysis_id}/").json()
    job = page.request.get(f"{base}/api/jobs/{analysis['job']}/").json()
    result["server"] = {
        k: analysis["timings"].get(k) for k in ("queued_ms", "features_ms", "forward_ms", "store_ms", "worker_ms")
    }
    result["server"]["cache_kb"] = round(analysis["timings"].get("cache_bytes", 0) / 1024, 1)
    # From the job's creation (during the upload) to its end: what the page waits for, server side.
    created, finished = (datetime.fromisoformat(job[k].replace("Z", "+00:00")) for k in ("created_at", "finished_at"))
    result["server"]["job_wall_ms"] = round((finished - created).total_seconds() * 1000, 1)
    return result


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def summarise(runs: list[dict]) -> dict:
    summary = {
        key: median([r[key] for r in runs])
        for key in (
            "upload_ms",
            "lab_html_ms",
            "dom_ready_ms",
            "prediction_shown_ms",
            "lab_first_ms",
            "all_layers_ms",
            "filter_wav_ms",
        )
    }
    for name in runs[0]["layer_ms"]:
        summary[f"tab_{name}_ms"] = median([r["layer_ms"][name] for r in runs])
    for key in runs[0]["server"]:
        summary[f"server_{key}"] = median([r["server"][key] for r in runs])
    summary["runs"] = len(runs)
    return summary


def benchmark(base: str, username: str, password: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # The timing probes are evaluated scripts, which the site's policy (no eval) would block.
        context = browser.new_context(viewport={"width": 1360, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_in(page, base, username, password)
        print("Warm-up upload (not counted)…", flush=True)
        # The worker's first job starts TensorFlow: on a busy machine that alone can take a minute.
        one_run(page, base, SAMPLES[-1], wait_ms=300_000)
        results = []
        for k in range(runs):
            result = one_run(page, base, SAMPLES[k % len(SAMPLES)])
            print(json.dumps(result), flush=True)
            results.append(result)
        browser.close()
    return summarise(results)


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the real login form and wait for the dashboard."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def cli(description: str, benchmark_fn, what: str) -> None:
    """Parse the common options, run ``benchmark_fn`` on a given or a fresh site, print its medians."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", help="An existing site (default: start a fresh one with one worker).")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="Write the medians to this file.")
    args = parser.parse_args()
    if args.url:
        summary = benchmark_fn(args.url.rstrip("/"), args.username, args.password, args.runs)
    else:
        with own_site() as (url, username, password):
            summary = benchmark_fn(url, username, password, args.runs)
    print(f"\nMedians over {summary['runs']} {what}:")
    width = max(len(key) for key in summary) + 2
    for key, value in summary.items():
        if key != "runs":
            print(f"  {key:{width}} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    cli(__doc__.split("\n\n")[0], benchmark, "new clips (ms)")
