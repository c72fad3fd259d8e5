"""The network at a glance: every layer of a model version as one flow, for one analysed clip (pure Python).

Stages come from the version's layer table (so any uploaded model's layers show):
the input, each convolution layer with a thumbnail per filter, every other layer as a
bar, and the labels.  Lines follow the strongest filters onward: from the input to the
first layer's strongest filters; from each layer's strongest filters to the filters of
the next layer they push most (their mean activation on this clip times the kernel's
sum, :func:`insights.filter_profiles.connection_strengths`), or, without the kernels,
to the next layer's strongest; from the last layer's strongest into the head; and from
the head to each digit, as thick as its probability.
"""

import itertools
from collections.abc import Sequence
from typing import Any

#: Layers that do nothing when the network listens, left out of the picture.
SKIPPED_TYPES = ("InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout")
#: Strongest filters followed per layer, and filters of the next layer each one feeds.
STRONGEST = 3
TARGETS = 2
#: Digits below this probability get no line from the head.
MIN_PROBABILITY = 0.02

BLOCK_NAMES = {
    "MaxPooling2D": "pool",
    "AveragePooling2D": "pool",
    "GlobalAveragePooling2D": "global pool",
    "GlobalMaxPooling2D": "global pool",
    "Flatten": "flatten",
    "Dense": "dense",
    "BatchNormalization": "norm",
}


def strongest(means: Sequence[float], k: int = STRONGEST) -> list[int]:
    """Indices of the `k` largest means, largest first (ties by index); none that is zero."""
    order = sorted(range(len(means)), key=lambda i: (-means[i], i))
    return [i for i in order[:k] if means[i] > 0]


def network_stages(*, layer_table: Sequence[dict], labels: Sequence[str]) -> list[dict]:
    """The stages of the flow from a version's layer table: input, layers, labels.

    The last Dense layer with one unit per label is the labels themselves.
    """
    rows = [row for row in layer_table if row.get("type") not in SKIPPED_TYPES]
    if rows and rows[-1].get("type") == "Dense" and rows[-1].get("units") == len(labels):
        rows = rows[:-1]
    stages: list[dict[str, Any]] = [{"kind": "input", "name": "input", "title": "what the network hears"}]
    for row in rows:
        if row.get("type") == "Conv2D":
            stages.append({"kind": "conv", "name": row["name"], "items": int(row.get("filters") or 0), "row": row})
        else:
            kind = BLOCK_NAMES.get(row.get("type", ""), row.get("type", "").lower())
            stages.append({"kind": "block", "name": row["name"], "title": kind, "row": row})
    stages.append({"kind": "output", "name": "digits", "items": len(labels), "labels": list(labels)})
    return stages


def network_edges(
    *,
    stages: Sequence[dict],
    layer_means: dict[str, Sequence[float]],
    probabilities: dict[str, float],
    connections: dict[str, Sequence[Sequence[float]]] | None = None,
) -> list[dict]:
    """The lines of the flow, each ``{source: (stage, item), target: (stage, item), weight, title}``.

    Parameters
    ----------
    stages : from :func:`network_stages`
    layer_means : each convolution layer's mean activation per filter on this clip
    probabilities : {label: probability} of this clip
    connections : {layer: in x out kernel sums} for layers that read the previous one's filters
    """
    connections = connections or {}
    convs = [i for i, stage in enumerate(stages) if stage["kind"] == "conv"]
    edges: list[dict] = []
    if not convs:
        return edges

    def scaled(values: list[float]) -> list[float]:
        top = max(values, default=0.0)
        return [v / top if top > 0 else 0.0 for v in values]

    first = stages[convs[0]]["name"]
    top_first = strongest(layer_means[first])
    for i, w in zip(top_first, scaled([layer_means[first][i] for i in top_first]), strict=True):
        edges.append({"source": (0, 0), "target": (convs[0], i), "weight": w, "title": f"input → {first} #{i}"})

    for here, there in itertools.pairwise(convs):
        name, next_name = stages[here]["name"], stages[there]["name"]
        means, next_means = layer_means[name], layer_means[next_name]
        matrix = connections.get(next_name)
        pairs: list[tuple[int, int, float]] = []
        if matrix is not None and len(matrix) == len(means):
            for i in strongest(means):
                pushes = [(means[i] * float(matrix[i][j]), j) for j in range(len(matrix[i]))]
                pushes.sort(key=lambda pj: (-pj[0], pj[1]))
                pairs += [(i, j, push) for push, j in pushes[:TARGETS] if push > 0]
        else:
            top_next = strongest(next_means)
            pairs = [(i, j, means[i] * next_means[j]) for i in strongest(means) for j in top_next]
        for (i, j, _), w in zip(pairs, scaled([p for _, _, p in pairs]), strict=True):
            edges.append(
                {"source": (here, i), "target": (there, j), "weight": w, "title": f"{name} #{i} → {next_name} #{j}"}
            )

    last = convs[-1]
    last_name = stages[last]["name"]
    head = [i for i in range(last + 1, len(stages) - 1)]
    entry = head[0] if head else len(stages) - 1
    top_last = strongest(layer_means[last_name])
    labels = stages[-1]["labels"]
    predicted = max(labels, key=lambda label: probabilities.get(label, 0.0)) if labels else None
    for i, w in zip(top_last, scaled([layer_means[last_name][i] for i in top_last]), strict=True):
        target_item = 0 if head else labels.index(predicted)
        edges.append({"source": (last, i), "target": (entry, target_item), "weight": w, "title": f"{last_name} #{i}"})
    for a, b in itertools.pairwise(head):
        edges.append({"source": (a, 0), "target": (b, 0), "weight": 0.6, "title": ""})
    if head:
        for k, label in enumerate(labels):
            p = probabilities.get(label, 0.0)
            if p >= MIN_PROBABILITY or label == predicted:
                edges.append(
                    {
                        "source": (head[-1], 0),
                        "target": (len(stages) - 1, k),
                        "weight": p,
                        "title": f"“{label}” {p:.0%}",
                    }
                )
    return edges
