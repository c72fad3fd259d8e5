"""Turning a model version's stored robustness figures into rows a page shows (no HTML)."""

from typing import Any

from modelzoo.models import ModelVersion

#: Below this accuracy a condition is where the model breaks (red); below OK_ACCURACY it wobbles (amber).
BREAKS_BELOW = 0.7
OK_ACCURACY = 0.9


def _level(accuracy: float) -> str:
    """ "ok", "warn" or "bad": how a condition's accuracy is coloured."""
    return "ok" if accuracy >= OK_ACCURACY else "warn" if accuracy >= BREAKS_BELOW else "bad"


def _worst_digit(per_label: dict[str, float | None]) -> tuple[str, float] | None:
    """The label the model gets wrong most often under a condition, and its accuracy."""
    known = {label: value for label, value in per_label.items() if value is not None}
    if not known:
        return None
    label = min(known, key=known.__getitem__)
    return label, known[label]


def robustness_rows(version: ModelVersion) -> list[dict[str, Any]]:
    """One row per evaluation condition: title, accuracy (0-1 and %), colour level and worst digit.

    Empty when the version was validated before robustness was measured.
    """
    stored = (version.metrics or {}).get("robustness") or {}
    conditions = stored.get("conditions") or {}
    # PostgreSQL's jsonb keeps keys in its own order (shortest first), not in the order they
    # were measured: the table follows the order stored beside them, clean first. (Reading it
    # from modelzoo.conditions would pull the degradations and scipy into every page.)
    order = {name: position for position, name in enumerate(stored.get("order") or conditions)}
    rows = []
    for name in sorted(conditions, key=lambda name: (order.get(name, len(order)), name)):
        summary = conditions[name]
        accuracy = float(summary["accuracy"])
        worst = _worst_digit(summary.get("per_label") or {})
        rows.append(
            {
                "name": name,
                "title": summary.get("title", name),
                "accuracy": accuracy,
                "width": round(100 * accuracy, 1),
                "level": _level(accuracy),
                "worst_label": worst[0] if worst else None,
                "worst_accuracy": worst[1] if worst else None,
            }
        )
    return rows


def robustness_summary(version: ModelVersion) -> dict[str, Any] | None:
    """The number of clips per condition and the condition where the version does worst."""
    rows = robustness_rows(version)
    if not rows:
        return None
    worst = min(rows, key=lambda row: row["accuracy"])
    return {"n": version.metrics["robustness"].get("n"), "worst": worst, "rows": rows}


def robustness_side_by_side(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
    """Rows for the conditions both versions were measured under: each one's accuracy and B minus A."""
    rows_b = {row["name"]: row for row in robustness_rows(b)}
    paired = []
    for row_a in robustness_rows(a):
        row_b = rows_b.get(row_a["name"])
        if row_b is not None:
            paired.append(
                {"title": row_a["title"], "a": row_a, "b": row_b, "change": row_b["accuracy"] - row_a["accuracy"]}
            )
    return paired
