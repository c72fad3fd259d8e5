"""Attack success rate, achieved SNR and time per attack on labelled clips (default: the sample clips)."""

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsp.decode import decode_audio
from modelzoo.evaluation import labelled_clips
from modelzoo.samples import SAMPLES_DIR


class Command(BaseCommand):
    help = (
        "Projected-gradient attacks on every clip, untargeted and targeted to each other digit: "
        "success rate, mean SNR, steps and time per attack."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--model", default="", help="Model version name or .keras path (default: bundled).")
        parser.add_argument("--data", type=Path, default=SAMPLES_DIR, help="Clips (default: the 20 sample clips).")
        parser.add_argument("--snr", type=float, default=30.0, help="Lowest signal-to-noise ratio allowed, dB.")
        parser.add_argument("--steps", type=int, default=50, help="Gradient steps per attack at most.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--untargeted-only", action="store_true", help="Skip the targeted attacks.")
        parser.add_argument("--json", dest="json_path", type=Path, help="Also write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        from insights.attacks import SNR_RANGE_DB, STEPS_RANGE
        from insights.robustness import attack_benchmark, format_benchmark
        from modelzoo.management.commands.evaluate_model import load_model

        if not SNR_RANGE_DB[0] <= options["snr"] <= SNR_RANGE_DB[1]:
            raise CommandError(f"--snr must be between {SNR_RANGE_DB[0]:g} and {SNR_RANGE_DB[1]:g} dB.")
        if not STEPS_RANGE[0] <= options["steps"] <= STEPS_RANGE[1]:
            raise CommandError(f"--steps must be between {STEPS_RANGE[0]} and {STEPS_RANGE[1]}.")
        try:
            clips = labelled_clips(options["data"])
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        loaded, label = load_model(options["model"])
        decoded = [(*decode_audio(clip.path), clip.label) for clip in clips]
        n_attacks = len(decoded) * (1 if options["untargeted_only"] else len(loaded.labels))
        self.stdout.write(f"Model: {label}; {len(decoded)} clips; {n_attacks} attacks")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 20 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} attacks ({time.perf_counter() - started:.0f} s)")

        result = attack_benchmark(
            loaded,
            decoded,
            snr_db=options["snr"],
            steps=options["steps"],
            seed=options["seed"],
            targeted=not options["untargeted_only"],
            progress=progress,
        )
        self.stdout.write(format_benchmark(result))
        per_target = result.get("targeted", {}).get("per_target")
        if per_target:
            self.stdout.write(
                "targeted success by target: "
                + "  ".join(f"{t}: {100 * r:.0f}%" for t, r in per_target.items() if r is not None)
            )
        if options["json_path"]:
            options["json_path"].write_text(json.dumps(result, indent=2, default=float) + "\n")
            self.stdout.write(f"Wrote {options['json_path']}")
