"""Reading model versions for pages."""

import numpy as np

from modelzoo.models import ModelVersion


def histogram_bars(entry: dict, *, width: float = 320, height: float = 90) -> list[dict]:
    """SVG rectangles (x, y, w, h) for one stored weight histogram."""
    counts = np.asarray(entry["counts"], dtype=float)
    top = counts.max() or 1.0
    bar = width / len(counts)
    return [
        {
            "x": round(i * bar, 2),
            "w": round(bar * 0.92, 2),
            "h": round(c / top * height, 2),
            "y": round(height - c / top * height, 2),
            "count": int(c),
            "low": entry["edges"][i],
            "high": entry["edges"][i + 1],
        }
        for i, c in enumerate(counts)
    ]


def weight_panels(version: ModelVersion) -> list[dict]:
    """One panel per layer weight (kernel, bias) with its histogram bars and statistics."""
    return [{**entry, "bars": histogram_bars(entry)} for entry in version.weight_histograms]


def confusion_rows(evaluation: dict) -> list[dict]:
    """Rows of a stored confusion matrix with each cell's count and a shade (share of its row)."""
    rows = []
    for label, counts in zip(evaluation["labels"], evaluation["confusion"], strict=True):
        total = sum(counts) or 1
        rows.append(
            {
                "label": label,
                "total": sum(counts),
                "accuracy": evaluation["per_label"].get(label),
                "cells": [
                    {
                        "predicted": predicted,
                        "count": count,
                        "share": round(count / total, 3),
                        "correct": predicted == label,
                    }
                    for predicted, count in zip(evaluation["labels"], counts, strict=True)
                ],
            }
        )
    return rows
