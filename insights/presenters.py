"""Turning stored insight results into what the pages show (plain numbers and sentences, no HTML)."""

import numpy as np

from core.charts import DIGIT_COLOURS, curve_chart


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


def ig_summary(summary: dict) -> dict:
    """Integrated gradients' figures in percent, for a sentence: the target's probability on silence and on the clip."""
    baseline = round(summary.get("baseline_score", 0.0) * 100, 1)
    score = round(summary.get("score", 0.0) * 100, 1)
    return {"baseline": baseline, "score": score, "change": round(score - baseline, 1), "raises": score >= baseline}


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


# --------------------------------------------------------------------------- what each filter likes


def method_title(key: str) -> str:
    """An attribution map's key in words: ``ig`` → "Integrated gradients", ``cam_conv2`` → "Grad-CAM · conv2"."""
    return "Integrated gradients" if key == "ig" else f"Grad-CAM · {key.removeprefix('cam_')}"


def label_bars(mean_by_label: dict[str, float]) -> list[dict]:
    """Each digit's mean response as a bar (percent of the strongest), the strongest marked."""
    top = max(mean_by_label.values(), default=0.0)
    return [
        {
            "label": label,
            "value": value,
            "percent": round(100 * value / top, 1) if top > 0 else 0.0,
            "is_top": top > 0 and value == top,
        }
        for label, value in mean_by_label.items()
    ]


def preference_sentence(mean_by_label: dict[str, float], *, dead: bool) -> str:
    """What a filter prefers, in words a student reads."""
    from insights.filter_profiles import specialisation

    if dead:
        return "It never fires on any of the evaluation clips: a dead filter, whatever the digit."
    label, share = specialisation(mean_by_label)
    if label is None:
        return "It answers every digit alike."
    if share >= 0.5:
        return f"It answers mostly “{label}”: a specialist."
    if share >= 0.2:
        return f"It answers “{label}” most, and the other digits too."
    return f"It answers every digit about alike (a little more “{label}”)."


# --------------------------------------------------------------------------- faithfulness

# Where the plain sentences read a curve: after removing 5 % of the cells.
_READ_AT = 0.05


def _at(fractions: list[float], values: list[float], fraction: float) -> float:
    return float(np.interp(fraction, fractions, values))


def faithfulness_rows(summary: dict, keys: list[str], *, target: str) -> list[dict]:
    """Per attribution map: its figures, a chart of its curves and sentences a student understands.

    Parameters
    ----------
    summary : an attribution's stored summary (with ``faithfulness``, ``faithfulness_reference``, ``sanity``)
    keys : the maps shown, in order
    target : the explained digit
    """
    faith = summary.get("faithfulness") or {}
    reference = summary.get("faithfulness_reference") or {}
    sanity = summary.get("sanity") or {}
    similarity = sanity.get("randomised_similarity") or {}
    threshold = sanity.get("threshold", 0.5)
    rows = []
    for key in keys:
        entry = faith.get(key)
        if not entry:
            continue
        fractions = entry["fractions"]
        p_input = entry["deletion"][0]
        p_removed = _at(fractions, entry["deletion"], _READ_AT)
        p_random = _at(reference["fractions"], reference["deletion"], _READ_AT) if reference else None
        sim = similarity.get(key)
        flagged = sim is not None and sim >= threshold
        undefined = key in similarity and sim is None  # constant on both networks: nothing to compare
        beats_random = bool(reference) and entry["deletion_auc"] < reference["deletion_auc"]
        curves = [
            {"name": "removing its cells first", "values": entry["deletion"], "colour": "#c0263a"},
            {"name": "putting them back first", "values": entry["insertion"], "colour": "#14865b"},
        ]
        if reference:
            curves.append({"name": "removing cells at random", "values": reference["deletion"], "colour": "#7a8299"})
            curves[-1]["dashed"] = True
        deletion_sentence = (
            f"Removing the {_READ_AT:.0%} of the spectrogram this map points at first takes the network's "
            f"confidence in “{target}” from {p_input:.0%} to {p_removed:.0%}"
        )
        if p_random is not None:
            deletion_sentence += f" (removing {_READ_AT:.0%} at random: {p_random:.0%})."
        else:
            deletion_sentence += "."
        ff_sentence = f"Silencing “the evidence” you can listen to lowers it by {entry['ff'] * 100:.0f} points."
        if undefined:
            sanity_sentence = (
                "This map is flat (the same everywhere) here and on a network with random weights, so the two "
                "cannot be compared: the sanity check says nothing about it."
            )
        elif sim is None:
            sanity_sentence = ""
        elif flagged:
            sanity_sentence = (
                f"Warning: on a network with random weights this map looks much the same (similarity {sim:.2f}). "
                "It shows the clip more than what this network learned: do not trust it."
            )
        else:
            sanity_sentence = (
                f"On a network with random weights it looks different (similarity {sim:.2f}): it depends on what "
                "this network learned, as an explanation should."
            )
        rows.append(
            {
                "key": key,
                "title": method_title(key),
                "deletion_auc": entry["deletion_auc"],
                "insertion_auc": entry["insertion_auc"],
                "ff": entry["ff"],
                "similarity": sim,
                "flagged": flagged,
                "trusted": beats_random and not flagged,
                "chart": curve_chart(fractions, curves),
                "legend": curves,
                "sentences": [s for s in (deletion_sentence, ff_sentence, sanity_sentence) if s],
            }
        )
    return rows


def method_averages_rows(faithfulness: dict) -> dict:
    """A version's per-method averages as table rows, the one to believe first, with a sentence.

    Methods are ranked by whether they pass the sanity check, then by deletion area (the
    lower, the faster the probability falls when their cells go).
    """
    methods = faithfulness.get("methods") or {}
    reference = faithfulness.get("reference") or {}
    threshold = faithfulness.get("threshold", 0.5)
    rows = [
        {
            "key": key,
            "title": method_title(key),
            **values,
            "flagged": values["randomised_similarity"] is not None and values["randomised_similarity"] >= threshold,
            "beats_random": bool(reference) and values["deletion_auc"] < reference.get("deletion_auc", 1.0),
        }
        for key, values in methods.items()
    ]
    rows.sort(key=lambda row: (row["flagged"], row["deletion_auc"]))
    best = next((row for row in rows if not row["flagged"] and row["beats_random"]), None)
    if best is None:
        sentence = "No method passes both checks on this model: read every explanation with care."
    else:
        sentence = (
            f"On this model, believe {best['title']} first: removing the cells it points at makes the "
            f"probability fall fastest (deletion area {best['deletion_auc']:.2f}, against "
            f"{reference.get('deletion_auc', 0):.2f} at random), and its maps change when the weights are randomised."
        )
    chart = None
    if rows and faithfulness.get("fractions"):
        curves = [
            {"name": row["title"], "values": row["deletion"], "colour": DIGIT_COLOURS[i % len(DIGIT_COLOURS)]}
            for i, row in enumerate(rows)
        ]
        if reference.get("deletion"):
            curves.append({"name": "at random", "values": reference["deletion"], "colour": "#7a8299", "dashed": True})
        chart = {"geometry": curve_chart(faithfulness["fractions"], curves, width=420, height=220), "legend": curves}
    return {"rows": rows, "best": best, "sentence": sentence, "reference": reference, "chart": chart}


# --------------------------------------------------------------------------- ablations


def ablation_rows(before: dict[str, float], after: dict[str, float]) -> list[dict]:
    """Each digit's probability with and without the edit, in percent, the change, the top of each marked."""
    top_before = max(before, key=lambda label: before[label]) if before else None
    top_after = max(after, key=lambda label: after[label]) if after else None
    return [
        {
            "label": label,
            "before": round(before[label] * 100, 1),
            "after": round(after.get(label, 0.0) * 100, 1),
            "change": round((after.get(label, 0.0) - before[label]) * 100, 1),
            "was_top": label == top_before,
            "is_top": label == top_after,
        }
        for label in before
    ]


def probability_change(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Each label's probability after minus before (the API's ``change``)."""
    return {label: round(after.get(label, 0.0) - p, 6) for label, p in before.items()}


def accuracy_sentence(result: dict) -> str:
    """What muting did to the evaluation-set accuracy, in clips."""
    if not result:
        return ""
    n = result["n"]
    changed = round(abs(result["change"]) * n)
    if changed == 0:
        return f"The network gets exactly as many of the {n} clips right without them."
    more_or_fewer = "fewer" if result["change"] < 0 else "more"
    return f"The network gets {changed} {more_or_fewer} of the {n} clips right without them."
