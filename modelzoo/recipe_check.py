"""Check that the training recipe meets its accuracy targets.

Usage (from the repository root)::

    python -m modelzoo.recipe_check --data /work/shared/data/fsdd/recordings \\
        [--folds all|heldout|loso] [--epochs N] [--seed S] [--set key=value ...]

Prints per-epoch progress, each fold's accuracy and the LOSO mean.  Thin
wrapper over :mod:`modelzoo.training`; no Django needed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
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


def main(argv: list[str] | None = None) -> int:
    """Run the chosen protocols; exit status 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder of {digit}_{speaker}_{take}.wav")
    parser.add_argument("--folds", choices=("all", "heldout", "loso"), default="all")
    parser.add_argument("--epochs", type=int, help="override the recipe's epoch count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="hyper-parameter overrides")
    parser.add_argument("--features", default="{}", help="FeatureParams overrides as JSON")
    parser.add_argument("--only", nargs="*", help="LOSO speakers to run (default: all)")
    parser.add_argument("--monitor", action="store_true", help="log test accuracy every epoch")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter hides the progress lines

    params = FeatureParams.from_dict(json.loads(args.features))
    hyper = _parse_overrides(args.set)
    if args.epochs is not None:
        hyper["epochs"] = args.epochs
    print(f"features: {params.to_dict()}")
    print(f"hyper-parameters: {training.DEFAULT_HYPERPARAMETERS | hyper}")
    ds = training.load_dataset(args.data, params)
    print(f"{len(ds)} clips, speakers {sorted(set(ds.speakers.tolist()))}", flush=True)

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
            [r] = training.run_folds(ds, params, [fold], hyper, seed=args.seed, progress=progress, monitor=args.monitor)
            results.append(r)
            print(
                f"{r.name}: {_describe(r.evaluation)} (trained on {r.n_train} in {r.train_seconds:.0f} s)", flush=True
            )
            entry["folds"][r.name] = r.evaluation.to_dict() | {"train_seconds": r.train_seconds}
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
        _write(args.json, report)
    return status


if __name__ == "__main__":
    sys.exit(main())
