"""Train the paper's CNN on spoken digits (seeded) and write the .keras file and its JSON sidecar."""

import json
import platform
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

ATTRIBUTION = (
    "Free Spoken Digit Dataset (FSDD), Zohar Jackson and contributors, "
    "https://github.com/Jakobovski/free-spoken-digit-dataset (DOI 10.5281/zenodo.1342401), "
    "licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/). "
    "The model, trained on these recordings, is shared under the same license."
)


class Command(BaseCommand):
    help = (
        "Train the baseline CNN (three Conv2D layers of 16, 16, 32 filters, kernels 7, 5, 3) on "
        "{digit}_{speaker}_{take}.wav clips; writes OUT (.keras) and OUT with .json (the sidecar)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--data",
            type=Path,
            help="Folder of {digit}_{speaker}_{take}.wav or .flac files (default: the shipped training clips, "
            "modelzoo/data/fsdd).",
        )
        parser.add_argument(
            "--extra-data",
            type=Path,
            action="append",
            default=[],
            help="More training clips (e.g. synthetic voices); all of them are trained on, none held out.",
        )
        parser.add_argument("--out", type=Path, required=True, help="Where to write the model (.keras).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of everything random (default 0).")
        parser.add_argument("--epochs", type=int, help="Override the recipe's number of epochs.")
        parser.add_argument(
            "--hold-out-takes",
            default="5-9",
            help="Takes kept out of training and evaluated at the end (default 5-9, the bundled evaluation "
            "clips); 'none' trains on everything.",
        )
        parser.add_argument(
            "--recipe-report",
            type=Path,
            action="append",
            default=[],
            help="JSON from evaluate_recipe --json, kept in metrics (repeatable: one file per fold is fine).",
        )
        parser.add_argument("--name", help="Model version name (default: the file name).")
        parser.add_argument(
            "--conditions", action="store_true", help="Also test the held-out takes under every evaluation condition."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from modelzoo import training
        from modelzoo.inference import configure_tensorflow

        configure_tensorflow()

        out: Path = options["out"]
        if out.suffix != ".keras":
            raise CommandError("--out must end in .keras.")
        held_out = parse_takes(options["hold_out_takes"])
        params = training.recipe_features()
        hyper = dict(training.DEFAULT_HYPERPARAMETERS)
        if options["epochs"]:
            hyper["epochs"] = options["epochs"]
        try:
            ds = training.load_dataset(options["data"] or training.DATA_DIR, params)
            extras = [training.load_dataset(folder, params) for folder in options["extra_data"]]
        except (training.DatasetError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        train_idx = [i for i, take in enumerate(ds.takes) if int(take) not in held_out]
        test_idx = [i for i, take in enumerate(ds.takes) if int(take) in held_out]
        if not train_idx:
            raise CommandError("Every clip is held out: nothing is left to train on.")
        train_ds = ds.subset(train_idx)
        speakers = sorted(set(ds.speakers.tolist()))
        synthetic = sorted({str(s) for extra in extras for s in extra.speakers})
        for extra in extras:
            train_ds = train_ds.plus(extra)
        self.stdout.write(
            f"Training on {len(train_ds)} clips of {len(speakers)} speakers ({', '.join(speakers)})"
            + (f" and {len(synthetic)} synthetic voices" if synthetic else "")
            + "; "
            f"{len(test_idx)} held out (takes {options['hold_out_takes']}); seed {options['seed']}"
        )

        def progress(epoch: int, epochs: int, logs: dict[str, float]) -> None:
            self.stdout.write(
                f"  epoch {epoch:3d}/{epochs}  loss {logs['loss']:.4f}  accuracy {logs['accuracy']:.4f}  "
                f"({logs['seconds']:.1f} s)"
            )
            self.stdout.flush()

        started = time.perf_counter()
        trained = training.train(train_ds, params, hyper, seed=options["seed"], progress=progress)
        metrics: dict[str, Any] = {"train_seconds": round(time.perf_counter() - started, 1)}
        if test_idx:
            evaluation = training.evaluate(trained.model, ds.subset(test_idx), params)
            metrics["heldout_takes"] = evaluation.to_dict() | {"takes": sorted(held_out)}
            self.stdout.write(f"Held-out takes: accuracy {evaluation.accuracy:.4f} on {evaluation.n} clips")
            if options["conditions"]:
                conditions = training.evaluate_under_conditions(trained.model, ds.subset(test_idx), params)
                metrics["heldout_conditions"] = {name: c["accuracy"] for name, c in conditions.items()}
                for name, accuracy in metrics["heldout_conditions"].items():
                    self.stdout.write(f"  {name:<16} {accuracy * 100:5.1f}%")
        merge_recipe_reports(metrics, options["recipe_report"])
        out.parent.mkdir(parents=True, exist_ok=True)
        training.save_model(trained.model, out)
        import keras
        import tensorflow as tf

        sidecar = {
            "name": options["name"] or out.stem,
            "feature_params": params.to_dict(),
            "labels": list(ds.label_names),
            "hyperparameters": {key: list(v) if isinstance(v, tuple) else v for key, v in hyper.items()},
            "seed": options["seed"],
            "training_data": {
                "source": "Free Spoken Digit Dataset (subset)",
                "speakers": speakers,
                "clips": len(train_ds) - sum(len(extra) for extra in extras),
                **(
                    {"synthetic_voices": f"{sum(len(e) for e in extras)} clips of {len(synthetic)} synthesised voices"}
                    if synthetic
                    else {}
                ),
                "held_out_takes": sorted(held_out),
                "attribution": ATTRIBUTION,
            },
            "metrics": metrics,
            "history": trained.history,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()},
        }
        out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} and {out.with_suffix('.json')}"))


def merge_recipe_reports(metrics: dict[str, Any], report_paths: list[Path]) -> None:
    """Add the leave-one-speaker-out folds of `evaluate_recipe --json` reports to a sidecar's `metrics`.

    One report per fold is fine (folds run as separate processes); a fold found again replaces
    the earlier one, and the mean is taken over the folds present.
    """
    for report_path in report_paths:
        report = json.loads(report_path.read_text())
        loso = report.get("protocols", {}).get("loso")
        if loso:
            folds = metrics.setdefault("leave_one_speaker_out", {"folds": {}})["folds"]
            folds.update({name: fold["accuracy"] for name, fold in loso["folds"].items()})
            metrics["leave_one_speaker_out"]["mean_accuracy"] = sum(folds.values()) / len(folds)
            for name, fold in loso["folds"].items():
                if "conditions" in fold:
                    by_fold = metrics.setdefault("leave_one_speaker_out_conditions", {})
                    by_fold[name] = {c: v["accuracy"] for c, v in fold["conditions"].items()}


def parse_takes(spec: str) -> set[int]:
    """'5-9' → {5, 6, 7, 8, 9}; '5,7' → {5, 7}; 'none' → set()."""
    if spec.strip().lower() == "none":
        return set()
    takes: set[int] = set()
    try:
        for part in spec.split(","):
            low, _, high = part.partition("-")
            takes.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise CommandError(f"--hold-out-takes must look like 5-9 or 5,7 or none (got {spec!r}).") from None
    return takes
