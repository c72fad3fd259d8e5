"""Turning stored insight results into what the pages show (plain numbers, no HTML)."""


def before_after(result: dict) -> list[dict]:
    """Each digit's probability before and after an attack, in percent, with the change."""
    before, after = result["probabilities_before"], result["probabilities_after"]
    return [
        {
            "label": label,
            "before": round(before[label] * 100, 1),
            "after": round(after[label] * 100, 1),
            "change": round((after[label] - before[label]) * 100, 1),
        }
        for label in before
    ]


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


def sweep_points(result: dict) -> list[dict]:
    """Every point of a finished sweep with the probability of the digit it was heard as, in percent."""
    return [{**point, "top_percent": max(point["probabilities"]) * 100} for point in result.get("points", [])]
