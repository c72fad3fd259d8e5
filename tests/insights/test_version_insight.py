"""What every filter of a version likes, its dead filters and its methods' faithfulness: computed once per version."""

import io

import numpy as np
import pytest
from django.core.management import call_command

from insights.models import VersionInsight
from insights.services import version_insight_request
from insights.version_insight import evaluation_features, faithfulness_subset
from jobs.models import Job
from modelzoo.models import ModelVersion
from tests.insights.insight_support import FAITHFULNESS_CLIPS, bundled_insight_result, stored_insight


def test_every_filter_of_every_layer_has_its_profile(active_model):
    result = bundled_insight_result(active_model)

    assert list(result.layers) == ["conv1", "conv2", "conv3"]
    for name, profiles in result.layers.items():
        row = next(r for r in active_model.layers if r["name"] == name)
        assert [p["index"] for p in profiles] == list(range(row["filters"]))
        for profile in profiles:
            scores = [e["score"] for e in profile["examples"]]
            assert len(scores) <= 9 and scores == sorted(scores, reverse=True)
            assert profile["dead"] == (not scores)
            assert set(profile["mean_by_label"]) == {str(d) for d in range(10)}
            for example in profile["examples"]:
                assert example["clip"].startswith(f"{example['label']}_")


def test_dead_filters_never_fire_on_any_evaluation_clip(active_model):
    from modelzoo.inference import load_version

    result = bundled_insight_result(active_model)
    model = load_version(active_model)
    features, clips = evaluation_features(model.params)
    dead = {(name, p["index"]) for name, profiles in result.layers.items() for p in profiles if p["dead"]}
    assert dead  # the bundled model has dead conv2 filters: the check below is not vacuous

    peaks = {name: np.zeros(len(profiles)) for name, profiles in result.layers.items()}
    for start in range(0, len(clips), 50):
        _, acts = zip(*(model.run(x) for x in features[start : start + 50]), strict=True)
        for layer_acts in acts:
            for name, values in layer_acts.items():
                peaks[name] = np.maximum(peaks[name], values.max(axis=(1, 2)))
    assert dead == {(name, int(i)) for name, p in peaks.items() for i in np.flatnonzero(p <= 1e-6)}


def test_the_example_maps_are_those_clips_through_the_filter(active_model):
    from modelzoo.inference import load_version

    result = bundled_insight_result(active_model)
    arrays = np.load(io.BytesIO(result.examples_npz))
    model = load_version(active_model)
    features, _ = evaluation_features(model.params)
    profile = result.layers["conv1"][3]
    example = profile["examples"][0]

    _, acts = model.run(features[example["row"]])

    stored = arrays["conv1/3/0"].astype(np.float32)
    assert stored.shape == acts["conv1"][3].shape
    np.testing.assert_allclose(stored, acts["conv1"][3], rtol=2e-3, atol=2e-3)
    assert stored.max() == pytest.approx(example["score"], rel=2e-3)


def test_connections_come_from_the_kernels_of_layers_that_read_the_previous_one(active_model):
    result = bundled_insight_result(active_model)

    assert set(result.connections) == {"conv2", "conv3"}
    assert np.shape(result.connections["conv2"]) == (16, 16)
    assert np.shape(result.connections["conv3"]) == (16, 32)


def test_the_method_averages_cover_every_map_and_the_random_reference(active_model):
    faithfulness = bundled_insight_result(active_model).faithfulness

    assert faithfulness["clips"] == FAITHFULNESS_CLIPS
    assert set(faithfulness["methods"]) == {"ig", "cam_conv1", "cam_conv2", "cam_conv3"}
    for values in faithfulness["methods"].values():
        assert 0 <= values["deletion_auc"] <= 1 and 0 <= values["insertion_auc"] <= 1
        assert values["deletion_auc"] < faithfulness["reference"]["deletion_auc"]
        assert len(values["deletion"]) == len(faithfulness["fractions"])


def test_the_subset_is_one_take_of_every_digit_by_every_speaker():
    from dsp.params import FeatureParams

    _, clips = evaluation_features(FeatureParams())
    rows = faithfulness_subset(clips)

    assert len(rows) == 50
    assert len({(clips[r].label, clips[r].speaker) for r in rows}) == 50


@pytest.mark.slow
@pytest.mark.usefixtures("validation_once")  # the same small file as the upload tests: validated once
def test_a_validated_version_gets_its_insight_from_a_job(settings, admin_user):
    """The hook in validation queues it; the job computes it for the version's own conv layers."""
    from modelzoo.services import model_version_upload
    from tests.modelzoo.keras_files import keras_file

    settings.FILTER_INSIGHT_ON_VALIDATION = True
    version = model_version_upload(name="tiny", data=keras_file("paper"), uploaded_by=admin_user)
    from jobs.runner import job_execute

    job_execute(job_id=str(version.validation_job_id))  # immediate backend: validation ran already
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.VALID

    insight = VersionInsight.objects.get(model_version=version)
    assert insight.job.status == Job.Status.DONE, insight.job.error
    assert list(insight.layers) == ["conv1"] and len(insight.layers["conv1"]) == 4
    assert insight.connections == {}
    assert insight.faithfulness["clips"] == 50
    assert set(insight.faithfulness["methods"]) == {"ig", "cam_conv1"}
    assert insight.examples.name


def test_asking_again_reuses_it_and_a_failed_one_is_retried(active_model):
    insight = stored_insight(active_model)

    again, created = version_insight_request(version=active_model)

    assert again.pk == insight.pk and not created
    Job.objects.filter(pk=insight.job_id).update(
        status=Job.Status.FAILED, error="The worker stopped.", payload={"faithfulness_clips": 1}
    )
    retried, created = version_insight_request(version=active_model)
    assert not created and retried.job.status == Job.Status.DONE, retried.job.error


def test_an_invalid_version_has_none(db):
    from core.errors import ServiceError
    from tests.factories import model_version_row

    with pytest.raises(ServiceError, match="not a valid"):
        version_insight_request(version=model_version_row())
    assert not VersionInsight.objects.exists()


def test_the_command_computes_it_for_a_version_that_predates_it(active_model):
    out = io.StringIO()

    call_command("compute_filter_insight", "--faithfulness-clips", "2", stdout=out)

    insight = VersionInsight.objects.get(model_version=active_model)
    assert insight.is_done
    text = out.getvalue()
    dead = [p["index"] for p in insight.layers["conv2"] if p["dead"]]
    assert f"conv2: {len(dead)} of 16 filters dead ({', '.join(map(str, dead))})" in text
    assert "Integrated gradients" in text and "random cell order" in text
    call_command("compute_filter_insight", "--missing", stdout=(out := io.StringIO()))
    assert "already" in out.getvalue()
