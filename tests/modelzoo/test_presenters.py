"""A version's robustness rows: in the conditions' own order whatever order the database keeps."""

import pytest

from modelzoo.conditions import CONDITION_NAMES, TITLES
from modelzoo.models import ModelVersion
from modelzoo.presenters import robustness_rows, robustness_summary
from tests.factories import model_version_row


def _measured(accuracies: dict[str, float]) -> dict:
    conditions = {
        name: {"title": TITLES.get(name, name), "accuracy": value, "per_label": {"3": value, "8": value / 2}}
        for name, value in accuracies.items()
    }
    return {"robustness": {"n": 250, "order": list(CONDITION_NAMES), "conditions": conditions}}


@pytest.mark.django_db
def test_rows_follow_the_conditions_order_after_a_round_trip_through_the_database():
    version = model_version_row()
    shuffled = sorted(CONDITION_NAMES, key=lambda name: (len(name), name[::-1]))  # jsonb's kind of order
    ModelVersion.objects.filter(pk=version.pk).update(metrics=_measured({name: 0.9 for name in shuffled}))
    version.refresh_from_db()

    assert [row["name"] for row in robustness_rows(version)] == list(CONDITION_NAMES)


def test_a_condition_it_does_not_know_comes_last_and_the_worst_is_named():
    version = ModelVersion(metrics=_measured({"zz_future": 0.95, "reverb": 0.6, "clean": 0.99}))

    rows = robustness_rows(version)
    summary = robustness_summary(version)

    assert [row["name"] for row in rows] == ["clean", "reverb", "zz_future"]
    assert [row["level"] for row in rows] == ["ok", "bad", "ok"]
    assert summary["worst"]["name"] == "reverb" and summary["worst"]["worst_label"] == "8"


def test_a_version_measured_before_robustness_has_no_rows():
    assert robustness_rows(ModelVersion(metrics={})) == [] and robustness_summary(ModelVersion()) is None
