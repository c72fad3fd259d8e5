"""Evaluate a model on a folder of labelled clips: accuracy, per-digit accuracy, confusion matrix."""

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsp.params import FeatureParams
from modelzoo.evaluation import evaluate_clips, format_report, labelled_clips
from modelzoo.inference import LoadedModel, load_from_path, load_version
from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME, read_sidecar


def load_model(name_or_path: str) -> tuple[LoadedModel, str]:
    """A model by .keras path (with its JSON sidecar), by model version name, or the bundled one."""
    from core.errors import ServiceError
    from modelzoo.models import ModelVersion

    path = Path(name_or_path) if name_or_path else BUNDLED_DIR / f"{BUNDLED_NAME}.keras"
    if path.suffix == ".keras":
        if not path.exists():
            raise CommandError(f"No model file at {path}.")
        try:
            sidecar = read_sidecar(path)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        params = FeatureParams.from_dict(sidecar["feature_params"])
        return load_from_path(path, params=params, labels=sidecar["labels"]), str(path)
    version = ModelVersion.objects.filter(name=name_or_path).first()
    if version is None:
        raise CommandError(f"No model version called {name_or_path!r} and no .keras file at that path.")
    return load_version(version), f"model version {version.name}"


class Command(BaseCommand):
    help = "Accuracy, per-digit accuracy and confusion matrix of a model on {digit}_{speaker}_{take}.wav clips."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--model", default="", help="Model version name or .keras path (default: bundled).")
        parser.add_argument("--data", type=Path, required=True, help="Folder of {digit}_{speaker}_{take}.wav files.")
        parser.add_argument("--speaker", action="append", help="Only these speakers (repeatable).")
        parser.add_argument("--json", dest="json_path", type=Path, help="Also write the figures to this file.")

    def handle(
        self, *args: Any, model: str, data: Path, speaker: list[str] | None, json_path: Path | None, **options: Any
    ) -> None:
        from modelzoo.worker import predict_label

        try:
            clips = labelled_clips(data)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        if speaker:
            clips = [clip for clip in clips if clip.speaker in speaker]
            if not clips:
                raise CommandError(f"No clips by {', '.join(speaker)} in {data}.")
        started = time.perf_counter()
        loaded, label = load_model(model)
        self.stdout.write(f"Model: {label}")
        self.stdout.write(f"Data: {data} ({len(clips)} clips)")

        def progress(done: int, total: int) -> None:
            if done % 250 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} clips")

        summary = evaluate_clips(lambda y, sr: predict_label(loaded, y, sr), clips, loaded.labels, progress=progress)
        self.stdout.write(format_report(summary))
        if summary["unreadable"]:
            self.stdout.write(self.style.WARNING(f"{summary['unreadable']} clip(s) could not be read."))
        self.stdout.write(f"({time.perf_counter() - started:.1f} s)")
        if json_path:
            json_path.write_text(json.dumps({k: v for k, v in summary.items()}, indent=2) + "\n")
            self.stdout.write(f"Wrote {json_path}")
