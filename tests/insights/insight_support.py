"""The bundled model for the insights tests, and its filter insight computed for real once per test process.

Computing the insight takes tens of seconds (every filter on the 250 evaluation clips, then the
explanation methods checked); the tests that only read it share one computation, with the
methods checked on a few clips, stored again for each test.
"""

import json
from pathlib import Path

from django.core.files.base import ContentFile

from dsp.params import FeatureParams
from insights.models import VersionInsight
from jobs.models import Job
from modelzoo.models import ModelVersion

BUNDLED = Path(__file__).resolve().parents[2] / "modelzoo" / "bundled" / "ddevis-cnn-v4.keras"
#: The bundled model's feature parameters.
P = FeatureParams.from_dict(json.loads(BUNDLED.with_suffix(".json").read_text())["feature_params"])


def bundled_model():
    """The bundled model loaded from its file, as the worker loads it (TensorFlow)."""
    from modelzoo.inference import load_from_path

    labels = json.loads(BUNDLED.with_suffix(".json").read_text())["labels"]
    return load_from_path(BUNDLED, params=P, labels=labels)


#: Evaluation clips the shared computation checks the explanation methods on.
FAITHFULNESS_CLIPS = 3

_results: dict[str, object] = {}


def bundled_insight_result(version: ModelVersion):
    """The real InsightResult of the bundled model (computed on first use)."""
    from insights.version_insight import compute_version_insight, evaluation_features, faithfulness_subset
    from modelzoo.inference import load_version

    if version.sha256 not in _results:
        model = load_version(version)
        rows = faithfulness_subset(evaluation_features(model.params)[1])[:FAITHFULNESS_CLIPS]
        _results[version.sha256] = compute_version_insight(
            model, progress=lambda percent, message="": None, faithfulness_rows=rows
        )
    return _results[version.sha256]


def stored_insight(version: ModelVersion) -> VersionInsight:
    """A finished VersionInsight row for `version`, holding the shared computation."""
    result = bundled_insight_result(version)
    job = Job.objects.create(kind="version_insight_run", status=Job.Status.DONE, progress=100)
    insight = VersionInsight(
        model_version=version,
        job=job,
        layers=result.layers,
        connections=result.connections,
        faithfulness=result.faithfulness,
        timings=result.timings,
    )
    insight.examples.save(f"{version.pk}-test.npz", ContentFile(result.examples_npz), save=False)
    insight.save()
    return insight


def dead_filters(version: ModelVersion, layer: str = "conv2") -> list[int]:
    """The indices of `layer`'s dead filters, as the real insight of `version` finds them."""
    return [p["index"] for p in bundled_insight_result(version).layers[layer] if p["dead"]]
