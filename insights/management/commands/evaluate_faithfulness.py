"""How faithful each explanation method is on a model: deletion, insertion, FF and the sanity check, averaged."""

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Deletion and insertion areas, FF and the weight-randomisation similarity of integrated gradients and "
        "Grad-CAM of every layer, averaged over evaluation clips (each explained for the digit the model hears)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--model", default="", help="Model version name or .keras path (default: bundled).")
        parser.add_argument(
            "--clips",
            default="subset",
            help="'subset' (one take of every digit by every speaker, 50 clips), 'all' (250) or a number.",
        )
        parser.add_argument("--json", dest="json_path", type=Path, help="Also write the figures to this file.")

    def handle(self, *args: Any, model: str, clips: str, json_path: Path | None, **options: Any) -> None:
        from insights.management.commands.compute_filter_insight import format_methods
        from insights.version_insight import evaluation_features, faithfulness_subset, method_averages
        from modelzoo.management.commands.evaluate_model import load_model

        loaded, label = load_model(model)
        features, all_clips = evaluation_features(loaded.params)
        subset = faithfulness_subset(all_clips)
        if clips == "subset":
            rows = subset
        elif clips == "all":
            rows = list(range(len(all_clips)))
        elif clips.isdigit() and 1 <= int(clips) <= len(all_clips):
            rows = subset[: int(clips)] if int(clips) <= len(subset) else list(range(int(clips)))
        else:
            raise CommandError(f"--clips must be subset, all or a number from 1 to {len(all_clips)}.")
        self.stdout.write(f"Model: {label}; {len(rows)} evaluation clips")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 10 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} clips ({time.perf_counter() - started:.0f} s)")

        result = method_averages(loaded, features, rows, progress=progress)
        result["seconds"] = round(time.perf_counter() - started, 1)
        self.stdout.write(format_methods(result))
        self.stdout.write(f"{result['seconds']} s, {result['seconds'] / len(rows):.2f} s per clip")
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")
            self.stdout.write(f"Wrote {json_path}")
