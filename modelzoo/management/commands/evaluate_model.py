"""Evaluate a model on a folder of labelled clips: accuracy, per-digit accuracy, confusion matrix."""

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsp.decode import decode_audio, to_mono
from dsp.errors import AudioError
from dsp.params import FeatureParams
from modelzoo.conditions import CONDITION_NAMES, DEFAULT_SEED, evaluate_conditions
from modelzoo.evaluation import FILE_NAME, evaluate_clips, format_conditions, format_report, labelled_clips
from modelzoo.inference import LoadedModel, load_from_path, load_version
from modelzoo.samples import EVALUATION_DIR
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
    help = (
        "Accuracy, per-digit accuracy and confusion matrix of a model on {digit}_{speaker}_{take}.wav (or .flac) "
        "clips; with --conditions, on seeded degraded copies of them too (noise, reverberation, codecs...)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--model", default="", help="Model version name or .keras path (default: bundled).")
        parser.add_argument(
            "--data",
            type=Path,
            default=EVALUATION_DIR,
            help="Folder of {digit}_{speaker}_{take}.wav files (default: the shipped held-out evaluation clips).",
        )
        parser.add_argument("--speaker", action="append", help="Only these speakers (repeatable).")
        parser.add_argument("--takes", help="Only these takes, e.g. 5-9 or 5,7 (held-out takes).")
        parser.add_argument(
            "--conditions",
            nargs="*",
            metavar="CONDITION",
            help=f"Also evaluate under these conditions (none named: all of {', '.join(CONDITION_NAMES)}). "
            "Build them only from clips the model never trained on.",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Seed of the degraded copies (default 0).")
        parser.add_argument("--json", dest="json_path", type=Path, help="Also write the figures to this file.")

    def handle(
        self,
        *args: Any,
        model: str,
        data: Path,
        speaker: list[str] | None,
        takes: str | None,
        conditions: list[str] | None,
        seed: int,
        json_path: Path | None,
        **options: Any,
    ) -> None:
        from modelzoo.management.commands.train_baseline import parse_takes
        from modelzoo.worker import predict_label, predict_labels

        if conditions is not None:
            unknown = sorted(set(conditions) - set(CONDITION_NAMES))
            if unknown:
                raise CommandError(f"Unknown condition(s) {', '.join(unknown)}; use {', '.join(CONDITION_NAMES)}.")
            conditions = conditions or list(CONDITION_NAMES)
        try:
            clips = labelled_clips(data)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        if speaker:
            clips = [clip for clip in clips if clip.speaker in speaker]
            if not clips:
                raise CommandError(f"No clips by {', '.join(speaker)} in {data}.")
        if takes:
            chosen = parse_takes(takes)
            clips = [clip for clip in clips if clip.take in chosen]
            if not clips:
                raise CommandError(f"No clips of takes {takes} in {data}.")
        started = time.perf_counter()
        loaded, label = load_model(model)
        self.stdout.write(f"Model: {label}")
        self.stdout.write(f"Data: {data} ({len(clips)} clips)")
        skipped = sorted(path.name for path in data.iterdir() if path.is_file() and not FILE_NAME.match(path.name))
        if skipped:
            # A clip misnamed is a clip missing from the figures: say so rather than leave them quietly smaller.
            self.stdout.write(
                f"Skipped {len(skipped)} file(s) not named {{digit}}_{{speaker}}_{{take}}.wav, such as {skipped[0]}"
            )

        def progress(done: int, total: int) -> None:
            if done % 250 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} clips")

        summary = evaluate_clips(lambda y, sr: predict_label(loaded, y, sr), clips, loaded.labels, progress=progress)
        self.stdout.write(format_report(summary))
        if summary["unreadable"]:
            self.stdout.write(self.style.WARNING(f"{summary['unreadable']} clip(s) could not be read."))
        if conditions:
            decoded, true = [], []
            for clip in clips:
                if clip.label not in loaded.labels:
                    continue
                try:
                    y, sr = decode_audio(clip.path)
                except AudioError:
                    continue
                decoded.append((to_mono(y), sr))
                true.append(clip.label)
            self.stdout.write(f"\nConditions (seed {seed}), {len(decoded)} clips each; per-digit accuracy in %:")

            def condition_done(done: int, total: int, name: str) -> None:
                self.stdout.write(f"  {done}/{total} {name}")

            summary["conditions"] = evaluate_conditions(
                lambda batch: predict_labels(loaded, batch),
                decoded,
                loaded.labels,
                true,
                conditions=conditions,
                seed=seed,
                progress=condition_done,
            )
            summary["conditions_seed"] = seed
            self.stdout.write(format_conditions(summary["conditions"]))
        self.stdout.write(f"({time.perf_counter() - started:.1f} s)")
        if json_path:
            json_path.write_text(json.dumps({k: v for k, v in summary.items()}, indent=2) + "\n")
            self.stdout.write(f"Wrote {json_path}")
