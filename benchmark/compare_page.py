"""How long the comparison page takes for two new clips, in a real browser against a real worker.

For each run it uploads two bundled sample clips the site has never analysed (API), then in
Chromium creates the experiment through the “New experiment” form and measures:

- create_ms:      from the click on “Create experiment” to the comparison page starting to
                  load (saving it and queueing both analyses; the page never waits for them);
- html_ms:        the comparison page's own HTML (navigation responseEnd), with analyses pending;
- results_ms:     from the page's navigation start until the results (predictions, the
                  similarity figure, the most-changed layer's filters) are swapped in by htmx;
- visible_ms:     … until every image in view is loaded (what the reader sees, no scrolling);
- all_images_ms:  … until every image of the page is loaded, scrolling through it (lazy images);
- images:         how many images that is, and the server's median time per filter image;
- reload_html_ms: the finished page's HTML on a second visit (the page render alone);
- server:         each analysis job's own timings (queued_ms, features_ms, forward_ms,
                  worker_ms) and, for both, from the first job's creation to the last one's end.

The first run warms the worker (TensorFlow, the model) and is not counted.

Usage (from the repository root, with the project's Python):

    python benchmark/compare_page.py              # its own site + one worker on a fresh SQLite database
    python benchmark/compare_page.py --runs 5 --json compare.json
    python benchmark/compare_page.py --url http://127.0.0.1:8000 --username alice --password ...

It needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and Playwright; it reuses the
fresh-site helper of benchmark/lab_page.py.
"""

import json
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_page import CHROMIUM, CHROMIUM_ARGS, SAMPLES, cli, sign_in

# Lazy images load only near the viewport, and the page grows while images arrive, so a
# single scroll-through can miss the last ones: bring the first image still missing into view.
ALL_LOADED = """(selector) => {
  const images = [...document.querySelectorAll(selector)];
  const missing = images.find((i) => !(i.complete && i.naturalWidth > 0));
  if (missing) missing.scrollIntoView({block: "center"});
  return images.length > 0 && !missing ? images.length : 0;
}"""
VISIBLE_LOADED = """() => {
  const inView = [...document.querySelectorAll('#results img')].filter((i) => {
    const r = i.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight;
  });
  return inView.every((i) => i.complete && i.naturalWidth > 0);
}"""


def _upload(api, base: str, clip: Path) -> int:
    # A cookie-less client with a token: the browser's session cookie would ask for a CSRF token.
    response = api.post(
        f"{base}/api/recordings/",
        multipart={
            "file": {"name": clip.name, "mimeType": "audio/wav", "buffer": clip.read_bytes()},
            "title": f"bench {clip.stem} {time.time_ns()}",
        },
    )
    assert response.status == 201, response.text()
    return response.json()["id"]


def one_run(page, api, base: str, clip_a: Path, clip_b: Path) -> dict:
    a, b = _upload(api, base, clip_a), _upload(api, base, clip_b)
    page.goto(f"{base}/experiments/new/?a={a}&b={b}")
    clicked = time.perf_counter()
    page.get_by_role("button", name="Create experiment").click()
    page.wait_for_url(re.compile(r".*/experiments/\d+/$"), wait_until="commit")
    page.wait_for_selector("#results[data-state=done]", timeout=120_000)
    results_ms = page.evaluate("performance.now()")
    create_ms = (time.perf_counter() - clicked) * 1000 - results_ms
    page.wait_for_function(VISIBLE_LOADED, timeout=60_000, polling=10)
    visible_ms = page.evaluate("performance.now()")
    # Scroll through the page so every lazy image is asked for, then wait for the last one.
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 900, 700):
        page.evaluate(f"window.scrollTo(0, {y})")
    count = page.wait_for_function(ALL_LOADED, arg="img", timeout=60_000, polling=10).json_value()
    all_images_ms = page.evaluate("performance.now()")
    navigation = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    images = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => /experiments\\/\\d+\\/layers\\/.*\\.png/.test(e.name))"
        ".map(e => e.responseStart - e.requestStart)"
    )
    experiment_id = int(re.search(r"/experiments/(\d+)/", page.url).group(1))
    experiment = page.request.get(f"{base}/api/experiments/{experiment_id}/").json()
    server: dict = {}
    jobs = []
    for side in ("a", "b"):
        analysis = page.request.get(f"{base}/api/analyses/{experiment['analyses'][side]}/").json()
        jobs.append(page.request.get(f"{base}/api/jobs/{analysis['job']}/").json())
        for key in ("queued_ms", "features_ms", "forward_ms", "worker_ms"):
            server[f"{side}_{key}"] = analysis["timings"].get(key)
    created = min(datetime.fromisoformat(j["created_at"].replace("Z", "+00:00")) for j in jobs)
    finished = max(datetime.fromisoformat(j["finished_at"].replace("Z", "+00:00")) for j in jobs)
    server["both_jobs_wall_ms"] = round((finished - created).total_seconds() * 1000, 1)
    page.reload()
    page.wait_for_selector("#results[data-state=done]")
    reload_html = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    return {
        "clips": [clip_a.name, clip_b.name],
        "create_ms": round(create_ms, 1),
        "html_ms": round(navigation["responseEnd"], 1),
        "results_ms": round(results_ms, 1),
        "visible_ms": round(visible_ms, 1),
        "all_images_ms": round(all_images_ms, 1),
        "images": count,
        "image_server_ms_median": round(statistics.median(images), 1) if images else None,
        "reload_html_ms": round(reload_html["responseEnd"] - reload_html["requestStart"], 1),
        "server": server,
    }


def summarise(runs: list[dict]) -> dict:
    keys = ("create_ms", "html_ms", "results_ms", "visible_ms", "all_images_ms", "images", "image_server_ms_median")
    summary = {key: round(statistics.median(r[key] for r in runs), 1) for key in (*keys, "reload_html_ms")}
    for key in runs[0]["server"]:
        summary[f"server_{key}"] = round(statistics.median(r["server"][key] for r in runs), 1)
    summary["runs"] = len(runs)
    return summary


def benchmark(base: str, username: str, password: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # The timing probes are evaluated scripts, which the site's policy (no eval) would block.
        page = browser.new_context(viewport={"width": 1360, "height": 900}, bypass_csp=True).new_page()
        page.set_default_timeout(60_000)
        anonymous = playwright.request.new_context()
        token = anonymous.post(f"{base}/api/auth/token/", data={"username": username, "password": password})
        api = playwright.request.new_context(extra_http_headers={"Authorization": f"Token {token.json()['token']}"})
        sign_in(page, base, username, password)
        print("Warm-up run (not counted)…", flush=True)
        one_run(page, api, base, SAMPLES[-1], SAMPLES[-2])
        results = []
        for k in range(runs):
            # Two different digits each time, never analysed before (each upload is a new recording).
            result = one_run(page, api, base, SAMPLES[(2 * k) % len(SAMPLES)], SAMPLES[(2 * k + 5) % len(SAMPLES)])
            print(json.dumps(result), flush=True)
            results.append(result)
        browser.close()
    return summarise(results)


if __name__ == "__main__":
    cli(__doc__.split("\n\n")[0], benchmark, "experiments with two new clips (ms unless said)")
