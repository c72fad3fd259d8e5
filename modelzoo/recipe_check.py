"""Check that the training recipe meets its accuracy targets.

Usage (from the repository root)::

    python -m modelzoo.recipe_check [--data modelzoo/data/fsdd] [--folds all|heldout|loso] \\
        [--epochs N] [--seed S] [--set key=value ...] [--conditions] [--extra-data DIR ...] \\
        [--save-models DIR]

Prints per-epoch progress, each fold's accuracy and the LOSO mean; with
``--conditions``, each fold's accuracy under every evaluation condition (built
from that fold's test clips only) and the mean per condition.  Thin wrapper
over :mod:`modelzoo.training`; no Django needed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dsp.params import FeatureParams
from modelzoo import training

TARGETS = {"heldout": 0.98, "loso": 0.85}


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["epochs=30", "snr_db=(5, 30)"]`` -> ``{"epochs": 30, "snr_db": (5, 30)}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _describe(ev: training.Evaluation) -> str:
    """Accuracy, plus the worst digit and where its clips went."""
    worst = min(range(len(ev.labels)), key=lambda i: ev.per_label[ev.labels[i]])
    row = ev.confusion[worst]
    went = ", ".join(f"{ev.labels[j]}:{c}" for j, c in enumerate(row) if c and j != worst)
    return (
        f"accuracy {ev.accuracy:.4f} (n={ev.n}); worst digit {ev.labels[worst]} "
        f"{ev.per_label[ev.labels[worst]]:.3f}" + (f" (mistaken for {went})" if went else "")
    )


def _write(path: str | None, report: dict[str, Any]) -> None:
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)


def _run_fold(
    ds: training.Dataset,
    extra: training.Dataset | None,
    params: FeatureParams,
    fold: training.Fold,
    hyper: dict[str, Any],
    args: argparse.Namespace,
    progress: Any,
) -> tuple[training.FoldResult, Any]:
    """Train on the fold's training clips (plus any extra ones), test on its test clips."""
    train_ds, test_ds = ds.subset(fold.train), ds.subset(fold.test)
    if extra is not None:
        train_ds = train_ds.plus(extra)

    def callback(epoch: int, epochs: int, logs: dict[str, float]) -> None:
        progress(fold.name, epoch, epochs, logs)

    trained = training.train(
        train_ds,
        params,
        hyper,
        seed=args.seed,
        progress=callback,
        monitor=test_ds if args.monitor else None,
        threads=args.threads,
    )
    evaluation = training.evaluate(trained.model, test_ds, params)
    return training.FoldResult(fold.name, evaluation, trained.seconds, len(train_ds)), trained.model


def _condition_means(folds: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each condition's accuracy averaged over the folds."""
    names = list(next(iter(folds.values()))["conditions"])
    return {name: sum(f["conditions"][name]["accuracy"] for f in folds.values()) / len(folds) for name in names}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen protocols; exit status 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        default=str(training.DATA_DIR),
        help="folder of {digit}_{speaker}_{take}.wav or .flac (default: shipped)",
    )
    parser.add_argument(
        "--extra-data",
        action="append",
        default=[],
        help="more training clips (e.g. synthetic voices) added to every fold's training set, never tested on",
    )
    parser.add_argument("--conditions", action="store_true", help="also test each fold under every condition")
    parser.add_argument("--conditions-seed", type=int, default=0, help="seed of the degraded copies (default 0)")
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads (default 2)")
    parser.add_argument("--folds", choices=("all", "heldout", "loso"), default="all")
    parser.add_argument("--epochs", type=int, help="override the recipe's epoch count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="hyper-parameter overrides")
    parser.add_argument("--features", default="{}", help="FeatureParams overrides as JSON")
    parser.add_argument("--only", nargs="*", help="LOSO speakers to run (default: all)")
    parser.add_argument("--monitor", action="store_true", help="log test accuracy every epoch")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--save-models", metavar="DIR", help="also save each fold's model as DIR/<fold>.keras")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter hides the progress lines

    params = training.recipe_features(**json.loads(args.features))
    hyper = _parse_overrides(args.set)
    if args.epochs is not None:
        hyper["epochs"] = args.epochs
    print(f"features: {params.to_dict()}")
    print(f"hyper-parameters: {training.DEFAULT_HYPERPARAMETERS | hyper}")
    ds = training.load_dataset(args.data, params)
    print(f"{len(ds)} clips, speakers {sorted(set(ds.speakers.tolist()))}", flush=True)
    extra = None
    for folder in args.extra_data:
        more = training.load_dataset(folder, params)
        extra = more if extra is None else extra.plus(more)
        print(f"+ {len(more)} training clips from {folder} (speakers {sorted(set(more.speakers.tolist()))})")

    def progress(fold: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        extra = f" test {logs['monitor_accuracy']:.3f}" if "monitor_accuracy" in logs else ""
        print(
            f"  [{fold}] epoch {epoch:3d}/{epochs} loss {logs['loss']:.4f} acc {logs['accuracy']:.4f}"
            f"{extra} ({logs['seconds']:.1f} s, augment {logs['augment_seconds']:.1f} s)",
            flush=True,
        )

    report: dict[str, Any] = {"features": params.to_dict(), "hyper": hyper, "protocols": {}}
    status = 0
    for protocol in ("heldout", "loso"):
        if args.folds not in ("all", protocol):
            continue
        folds = [training.heldout_split(ds)] if protocol == "heldout" else training.loso_splits(ds)
        if protocol == "loso" and args.only:
            folds = [f for f in folds if f.name.split()[-1] in args.only]
        t0 = time.perf_counter()
        results = []
        entry: dict[str, Any] = {"folds": {}}
        report["protocols"][protocol] = entry
        for fold in folds:  # one at a time so each fold's figure is printed (and saved) when known
            r, model = _run_fold(ds, extra, params, fold, hyper, args, progress)
            results.append(r)
            print(
                f"{r.name}: {_describe(r.evaluation)} (trained on {r.n_train} in {r.train_seconds:.0f} s)", flush=True
            )
            entry["folds"][r.name] = r.evaluation.to_dict() | {"train_seconds": r.train_seconds}
            if args.save_models:
                Path(args.save_models).mkdir(parents=True, exist_ok=True)
                saved = training.save_model(model, Path(args.save_models) / f"{r.name.replace(' ', '-')}.keras")
                print(f"  saved {saved}", flush=True)
            if args.conditions:
                by_condition = training.evaluate_under_conditions(
                    model, ds.subset(fold.test), params, seed=args.conditions_seed
                )
                for name, summary in by_condition.items():
                    print(f"  {r.name} {name:<16} {summary['accuracy'] * 100:5.1f}%", flush=True)
                entry["folds"][r.name]["conditions"] = by_condition
            _write(args.json, report)
        wall = time.perf_counter() - t0
        mean = sum(r.evaluation.accuracy for r in results) / len(results)
        ok = mean >= TARGETS[protocol]
        status |= 0 if ok else 1
        print(
            f"{protocol} mean accuracy {mean:.4f} over {len(results)} fold(s) "
            f"(target {TARGETS[protocol]:.2f}: {'met' if ok else 'MISSED'}), wall {wall / 60:.1f} min",
            flush=True,
        )
        entry.update(mean=mean, wall_seconds=wall)
        if args.conditions:
            entry["conditions_mean"] = _condition_means(entry["folds"])
            for name, value in entry["conditions_mean"].items():
                print(f"{protocol} {name:<16} mean {value * 100:5.1f}%", flush=True)
        _write(args.json, report)
    return status


if __name__ == "__main__":
    sys.exit(main())
