"""Time the filter insight: per-version precomputation, faithfulness of one clip's maps, ablation probabilities."""

import json
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from dsp.decode import decode_audio
from dsp.features import prepare
from modelzoo.samples import sample_clips


def _quiet(percent: int, message: str = "") -> None:
    """Progress of a computation nobody watches."""


def _figures(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "p95": round(float(np.percentile(values, 95)), 1)}


class Command(BaseCommand):
    help = (
        "Benchmark the filter insight on the bundled model: the per-version precomputation (every filter on the "
        "250 evaluation clips, the methods checked on 50), the faithfulness checks of one clip's maps, an "
        "ablation's probabilities in the worker and, with --e2e, through the API and a real worker."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--runs", type=int, default=3, help="Timed runs per sample clip (default 3).")
        parser.add_argument("--skip-version", action="store_true", help="Skip the per-version precomputation.")
        parser.add_argument("--e2e", action="store_true", help="Also time ablations through the API and a worker.")
        parser.add_argument("--json", dest="json_path", type=Path, help="Write the figures to this file.")

    def handle(self, *args: Any, runs: int, skip_version: bool, e2e: bool, json_path: Path | None, **options: Any):
        from insights.ablation import ablated_probabilities
        from insights.faithfulness import check_explanations, explain
        from insights.version_insight import compute_version_insight
        from modelzoo.management.commands.evaluate_model import load_model

        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        if e2e:
            from modelzoo.benchmark_e2e import ensure_site_ready

            try:
                ensure_site_ready()
            except RuntimeError as error:
                raise CommandError(str(error)) from None
        started = time.perf_counter()
        model, label = load_model("")
        self.stdout.write(f"Model: {label} (loaded in {time.perf_counter() - started:.1f} s, TensorFlow included)")
        report: dict[str, Any] = {"model": label}

        if not skip_version:
            wall, cpu = time.perf_counter(), time.process_time()
            result = compute_version_insight(model, progress=_quiet)
            report["version_precomputation"] = {
                "wall_s": round(time.perf_counter() - wall, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
                "parts_s": result.timings,
                "faithfulness_clips": result.faithfulness["clips"],
            }
            figures = report["version_precomputation"]
            self.stdout.write(
                f"per-version precomputation: {figures['wall_s']} s wall, {figures['cpu_s']} s CPU "
                f"(profiles {result.timings['features_s'] + result.timings['profiles_s']:.1f} s, "
                f"methods on {figures['faithfulness_clips']} clips {result.timings['faithfulness_s']} s)"
            )

        checks_ms, ablation_ms = [], []
        prepared = []
        for clip in sample_clips():
            y, sr = decode_audio(clip.path)
            prepared.append(prepare(y, sr, model.params, allow_silent=True).features)
        for n, x in enumerate(prepared):
            probabilities, _ = model.run(x)
            target = int(np.argmax(probabilities))
            maps = explain(model, x, target=target)
            for run in range(runs + (1 if n == 0 else 0)):
                t0 = time.perf_counter()
                check_explanations(model, x, maps, target=target)
                t1 = time.perf_counter()
                ablated_probabilities(model, x, layer=model.conv_layers[run % len(model.conv_layers)], muted=[0])
                t2 = time.perf_counter()
                if n == 0 and run == 0:
                    continue  # the first call of each traces its functions
                checks_ms.append((t1 - t0) * 1000)
                ablation_ms.append((t2 - t1) * 1000)
        report["faithfulness_one_clip_ms"] = _figures(checks_ms)
        report["ablation_probabilities_worker_ms"] = _figures(ablation_ms)
        checks, ablation = report["faithfulness_one_clip_ms"], report["ablation_probabilities_worker_ms"]
        self.stdout.write(
            f"faithfulness of one clip's {len(model.conv_layers) + 1} maps (curves, FF, randomised network): "
            f"median {checks['median']} ms, p95 {checks['p95']} ms"
        )
        self.stdout.write(
            f"an ablation's probabilities in the worker: median {ablation['median']} ms, p95 {ablation['p95']} ms"
        )
        if e2e:
            self.stdout.write("\nAblations through the API and a worker process:")
            report["e2e"] = self._end_to_end(runs)
        report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if json_path:
            json_path.write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"Wrote {json_path}")

    def _end_to_end(self, runs: int) -> dict[str, Any]:
        """POST an ablation, poll GET until its probabilities are there; a new edit each time (nothing reused)."""
        import secrets

        from django.conf import settings
        from django.contrib.auth.models import User
        from django.test import Client

        from insights.models import Ablation
        from jobs.models import Job
        from modelzoo.benchmark_e2e import _start_worker

        user = User.objects.create_user(username=f"benchmark-{secrets.token_hex(4)}")
        worker = _start_worker(self.stdout.write)
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost")
        client.force_login(user)
        timings: list[float] = []
        waits: list[float] = []
        runs_ms: list[float] = []
        try:
            with sample_clips()[0].path.open("rb") as handle:
                recording = client.post("/api/recordings/", {"file": handle}).json()
            asked = client.post(f"/api/recordings/{recording['id']}/analyses/", {}, content_type="application/json")
            analysis_id = asked.json()["id"]
            while client.get(f"/api/analyses/{analysis_id}/").json()["status"] not in ("done", "failed"):
                time.sleep(0.01)
            edits = [(layer, k) for layer in ("conv1", "conv2", "conv3") for k in range(16)]
            for n, (layer, k) in enumerate(edits[: runs * 5 + 1]):
                started = time.perf_counter()
                response = client.post(
                    f"/api/analyses/{analysis_id}/ablations/",
                    {"layer": layer, "mute": [k]},
                    content_type="application/json",
                )
                ablation_id = response.json()["id"]
                while True:
                    data = client.get(f"/api/ablations/{ablation_id}/").json()
                    if data["probabilities"] or data["status"] == "failed":
                        break
                    time.sleep(0.005)
                if data["status"] == "failed":
                    raise CommandError(f"An ablation failed: {data['error']}")
                if n > 0:  # the first one builds the functions around its layer
                    timings.append((time.perf_counter() - started) * 1000)
                    # The probabilities are stored before the job's end is: wait for the job's own record.
                    deadline = time.monotonic() + 10
                    job = Ablation.objects.select_related("job").get(pk=ablation_id).job
                    while job.finished_at is None and time.monotonic() < deadline:
                        time.sleep(0.005)
                        job.refresh_from_db()
                    if job.started_at is None or job.finished_at is None:
                        raise CommandError("An ablation's job did not record its start and end within 10 s.")
                    waits.append((job.started_at - job.created_at).total_seconds() * 1000)
                    runs_ms.append((job.finished_at - job.started_at).total_seconds() * 1000)
                # Let the evaluation-set job finish before the next edit, so each is timed on an idle worker.
                while Job.objects.filter(owner__isnull=True, status__in=["pending", "running"]).exists():
                    time.sleep(0.02)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
            for rec in user.recordings.all():
                for analysis in rec.analyses.all():
                    if analysis.activations:
                        analysis.activations.delete(save=False)
                rec.audio.delete(save=False)
                if rec.original_file:
                    rec.original_file.delete(save=False)
            user.delete()
        figures: dict[str, Any] = {
            "ablations": len(timings),
            "requested_to_probabilities_ms": _figures(timings),
            "queue_wait_ms": _figures(waits),
            "worker_job_ms": _figures(runs_ms),
            "worker_poll_interval_s": settings.WORKER_POLL_INTERVAL,
        }
        for key, what in (
            ("requested_to_probabilities_ms", "an ablation's probabilities through the API"),
            ("queue_wait_ms", "  of which waiting for the worker"),
            ("worker_job_ms", "  of which the worker's job"),
        ):
            self.stdout.write(f"  {what:<46} median {figures[key]['median']:>7} ms, p95 {figures[key]['p95']:>7} ms")
        return figures
