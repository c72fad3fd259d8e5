"""Time every stage of an analysis on a warm process, and optionally end to end through the API and a worker."""

import json
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from dsp.decode import decode_audio
from dsp.features import prepare
from dsp.params import FeatureParams
from dsp.sonification import sonify, wav_bytes
from modelzoo import cache
from modelzoo.rendering import filter_png
from modelzoo.samples import sample_clips

STAGES = ["features_ms", "forward_ms", "store_ms", "images_ms", "sonify_ms", "total_ms"]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


class Command(BaseCommand):
    help = (
        "Benchmark an analysis: decode+features, forward pass with all activations, storing the cache, "
        "every filter image, every filter's sound, end to end, and peak memory."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--clip", action="append", type=Path, help="Clip(s) to use (default: the bundled samples).")
        parser.add_argument("--runs", type=int, default=5, help="Timed runs per clip (default 5) after one warm-up.")
        parser.add_argument("--model", default="", help="Model version name or .keras path (default: bundled).")
        parser.add_argument("--json", dest="json_path", type=Path, help="Write the medians (and p95s) to this file.")
        parser.add_argument(
            "--e2e", action="store_true", help="Also time new clips through the API and a real worker process."
        )

    def handle(
        self,
        *args: Any,
        clip: list[Path] | None,
        runs: int,
        model: str,
        json_path: Path | None,
        e2e: bool,
        **options: Any,
    ) -> None:
        from modelzoo.management.commands.evaluate_model import load_model

        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        paths = clip or [c.path for c in sample_clips()]
        for path in paths:
            if not path.exists():
                raise CommandError(f"No clip at {path}.")
        if e2e:
            from modelzoo.benchmark_e2e import ensure_site_ready

            try:  # before the stage timings, not a minute later
                ensure_site_ready()
            except RuntimeError as error:
                raise CommandError(str(error)) from None
        started = time.perf_counter()
        loaded, label = load_model(model)
        self.stdout.write(f"Model: {label} (loaded in {time.perf_counter() - started:.1f} s, TensorFlow included)")
        self.stdout.write(f"Clips: {len(paths)}; runs per clip: {runs} (+1 warm-up)")

        timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
        per_filter_sonify: list[float] = []
        with tempfile.TemporaryDirectory() as folder:
            for path in paths:
                data = path.read_bytes()
                for run in range(runs + 1):
                    result = self._one(loaded, data, Path(folder) / f"{path.stem}.npz")
                    if run == 0:
                        continue  # warm-up: first call of each shape
                    for stage in STAGES:
                        timings[stage].append(result[stage])
                    per_filter_sonify.append(result["sonify_ms"] / result["filters"])
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        self.stdout.write(f"\n{'stage':<34}{'median':>10}{'p95':>10}   (ms, {len(timings['total_ms'])} samples)")
        names = {
            "features_ms": "decode + features",
            "forward_ms": "forward pass, all activations",
            "store_ms": "store the cache (pack + write)",
            "images_ms": f"all {result['filters']} filter images",
            "sonify_ms": f"sonify all {result['filters']} filters",
            "total_ms": "end to end (sum of the above)",
        }
        for stage in STAGES:
            self.stdout.write(
                f"{names[stage]:<34}{statistics.median(timings[stage]):>10.2f}{percentile(timings[stage], 95):>10.2f}"
            )
        self.stdout.write(
            f"{'one filter sonified':<34}{statistics.median(per_filter_sonify):>10.2f}"
            f"{percentile(per_filter_sonify, 95):>10.2f}"
        )
        forward_and_store = [f + s for f, s in zip(timings["forward_ms"], timings["store_ms"], strict=True)]
        self.stdout.write(
            f"{'forward pass + cache':<34}{statistics.median(forward_and_store):>10.2f}"
            f"{percentile(forward_and_store, 95):>10.2f}"
        )
        self.stdout.write(f"peak RSS: {peak_rss_mb:.0f} MB")

        report: dict[str, Any] = {stage: round(statistics.median(timings[stage]), 2) for stage in STAGES}
        report |= {
            "peak_rss_mb": round(peak_rss_mb, 1),
            "sonify_one_filter_ms": round(statistics.median(per_filter_sonify), 3),
            "forward_and_store_ms": round(statistics.median(forward_and_store), 2),
            "p95": {stage: round(percentile(timings[stage], 95), 2) for stage in STAGES},
            "clips": len(paths),
            "runs": runs,
            "model": label,
        }
        if e2e:
            from modelzoo.benchmark_e2e import run_end_to_end

            self.stdout.write("\nEnd to end through the API and a worker process (new clips):")
            e2e_report = run_end_to_end(paths, write=self.stdout.write)
            report["e2e"] = e2e_report
        if json_path:
            json_path.write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"\nWrote {json_path}")

    def _one(self, loaded: Any, data: bytes, store_path: Path) -> dict[str, float]:
        """Run every stage once on one clip; returns milliseconds per stage."""
        t0 = time.perf_counter()
        y, sr = decode_audio(data)
        prepared = prepare(y, sr, loaded.params, allow_silent=True)
        t1 = time.perf_counter()
        _, activations = loaded.run(prepared.features)
        t2 = time.perf_counter()
        stored = cache.AnalysisCache(
            waveform=prepared.waveform,
            stft=prepared.stft,
            features=prepared.features,
            activations={name: values.astype(np.float16) for name, values in activations.items()},
        )
        store_path.write_bytes(cache.pack(stored))
        for values in stored.activations.values():
            cache.layer_statistics(values)
        t3 = time.perf_counter()
        maps = cache.unpack(store_path.read_bytes()).activations
        filters = 0
        for values in maps.values():
            for index in range(values.shape[0]):
                fmap = values[index].astype(np.float32)
                filter_png(fmap, vmax=float(fmap.max()) or 1.0)
                filters += 1
        t5 = time.perf_counter()
        params: FeatureParams = loaded.params
        for values in maps.values():
            for index in range(values.shape[0]):
                wav_bytes(sonify(values[index].astype(np.float32), stored.stft, params), params.sample_rate)
        t6 = time.perf_counter()
        stages = {
            "features_ms": (t1 - t0) * 1000,
            "forward_ms": (t2 - t1) * 1000,
            "store_ms": (t3 - t2) * 1000,
            # Images are drawn from the stored cache, as pages do: unpacking is part of their cost.
            "images_ms": (t5 - t3) * 1000,
            "sonify_ms": (t6 - t5) * 1000,
        }
        stages["total_ms"] = sum(stages.values())
        stages["filters"] = filters
        return stages
