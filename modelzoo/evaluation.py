"""Accuracy, per-label accuracy and the confusion matrix of a model on labelled clips."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dsp.decode import decode_audio
from dsp.errors import AudioError

#: A speaker's name in a clip's file name: a letter, then letters, digits and hyphens ("theo", "speaker2",
#: "synthEspeak-en-us-m3"); the training data and the evaluation folders follow the same convention.
SPEAKER = r"[A-Za-z][A-Za-z0-9-]*"
FILE_NAME = re.compile(rf"^(?P<label>\d)_(?P<speaker>{SPEAKER})_(?P<take>\d+)\.(wav|flac)$")


@dataclass(frozen=True)
class LabelledClip:
    """A clip file and its label, speaker and take, read from `{digit}_{speaker}_{take}.wav`."""

    path: Path
    label: str
    speaker: str
    take: int

    @property
    def name(self) -> str:
        """The file name without its extension."""
        return self.path.stem

    @property
    def title(self) -> str:
        """How the clip is titled when a user opens it in the lab."""
        return f"Sample: “{self.label}” by {self.speaker} (take {self.take})"


def labelled_clips(folder: Path) -> list[LabelledClip]:
    """Every `{digit}_{speaker}_{take}.wav` (or `.flac`) in `folder`, sorted by name.

    Raises
    ------
    FileNotFoundError
        The folder does not exist or holds no such file.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder at {folder}.")
    clips = [
        LabelledClip(path=path, label=m["label"], speaker=m["speaker"], take=int(m["take"]))
        for path in sorted(folder.iterdir())
        if (m := FILE_NAME.match(path.name))
    ]
    if not clips:
        raise FileNotFoundError(f"No clips named {{digit}}_{{speaker}}_{{take}}.wav in {folder}.")
    return clips


def confusion_summary(true: Iterable[str], predicted: Iterable[str], labels: list[str]) -> dict[str, Any]:
    """Accuracy, per-label accuracy (recall) and the confusion matrix (rows: true, columns: predicted)."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true, predicted, strict=True):
        matrix[index[t], index[p]] += 1
    totals = matrix.sum(axis=1)
    total = int(matrix.sum())
    return {
        "n": total,
        "accuracy": round(float(np.trace(matrix) / total), 4) if total else 0.0,
        "per_label": {
            label: round(float(matrix[i, i] / totals[i]), 4) if totals[i] else None for i, label in enumerate(labels)
        },
        "confusion": matrix.tolist(),
        "labels": list(labels),
    }


def evaluate_clips(
    predict: Callable[[np.ndarray, int], str],
    clips: list[LabelledClip],
    labels: list[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run `predict(y, sr) -> label` on every clip and summarise; unreadable clips count as errors."""
    true, predicted, per_clip = [], [], []
    for done, clip in enumerate(clips, start=1):
        try:
            y, sr = decode_audio(clip.path)
            label = predict(y, sr)
        except AudioError:
            label = None
        if label is not None:
            true.append(clip.label)
            predicted.append(label)
        per_clip.append({"file": clip.path.name, "label": clip.label, "predicted": label})
        if progress:
            progress(done, len(clips))
    summary = confusion_summary(true, predicted, labels)
    summary["clips"] = per_clip
    summary["unreadable"] = sum(1 for c in per_clip if c["predicted"] is None)
    return summary


def format_conditions(results: dict[str, dict[str, Any]]) -> str:
    """One line per condition: accuracy, then each digit's accuracy (the worst one marked)."""
    labels = next(iter(results.values()))["labels"] if results else []
    width = max([len(name) for name in results] + [9])
    lines = [f"{'condition':<{width}}  accuracy  " + "".join(f"{label:>6}" for label in labels) + "  worst"]
    for name, summary in results.items():
        per_label = summary["per_label"]
        known = {label: value for label, value in per_label.items() if value is not None}
        worst = min(known, key=lambda label: known[label]) if known else "-"
        lines.append(
            f"{name:<{width}}  {summary['accuracy'] * 100:7.1f}%  "
            + "".join(f"{value * 100:6.0f}" if value is not None else f"{'-':>6}" for value in per_label.values())
            + f"  {worst}"
        )
    return "\n".join(lines)


def format_report(summary: dict[str, Any]) -> str:
    """The accuracy, per-label accuracy and confusion matrix as aligned text."""
    labels = summary["labels"]
    lines = [f"accuracy: {summary['accuracy'] * 100:.2f}% on {summary['n']} clips"]
    lines.append(
        "per-digit accuracy: "
        + "  ".join(
            f"{label}: {value * 100:.1f}%" if value is not None else f"{label}: -"
            for label, value in summary["per_label"].items()
        )
    )
    width = max(4, max(len(str(v)) for row in summary["confusion"] for v in row) + 1)
    lines.append("confusion matrix (rows: true digit, columns: predicted):")
    lines.append("true\\pred" + "".join(f"{label:>{width}}" for label in labels))
    for label, row in zip(labels, summary["confusion"], strict=True):
        lines.append(f"{label:>9}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
