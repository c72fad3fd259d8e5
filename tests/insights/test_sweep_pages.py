"""Robustness sweeps: every digit's probability across a range of one edit; any point opens in the lab."""

import math

import pytest

from experiments.models import Recording
from insights.models import Sweep
from jobs.models import Job
from tests.conftest import login
from tests.experiments.lab_support import analysed


@pytest.fixture
def recording(alice, active_model):
    return analysed(alice).recording


@pytest.mark.parametrize(
    ("op", "start", "stop", "num"),
    [
        ("pitch_shift", -6, 6, 13),
        ("add_noise", 40, 0, 5),
        ("gain", -30, 30, 3),
        ("time_stretch", 0.8, 1.2, 3),
        ("time_shift", -0.1, 0.1, 3),
    ],
)
def test_a_sweep_plots_every_digit_at_every_point(alice_client, recording, op, start, stop, num):
    response = alice_client.post(
        f"/recordings/{recording.pk}/sweep/", {"op": op, "start": start, "stop": stop, "num": num}
    )

    assert response.status_code == 302
    sweep = Sweep.objects.get()
    assert response.url == f"/sweeps/{sweep.pk}/"
    assert sweep.job.status == Job.Status.DONE, sweep.job.error
    points = sweep.result["points"]
    assert len(points) == num
    assert points[0]["value"] == pytest.approx(start) and points[-1]["value"] == pytest.approx(stop)
    for point in points:
        assert math.isclose(sum(point["probabilities"]), 1.0, abs_tol=1e-4)
    page = alice_client.get(response.url)
    assert page.status_code == 200
    assert page.content.count(b"<polyline") == 10
    assert page.content.count(b"data-point-form=") == num


def test_the_identity_point_agrees_with_the_analysis(alice_client, recording):
    alice_client.post(f"/recordings/{recording.pk}/sweep/", {"op": "pitch_shift", "start": -2, "stop": 2, "num": 5})
    result = Sweep.objects.get().result
    analysis = recording.analyses.get()

    identity = next(p for p in result["points"] if p["value"] == 0)

    assert identity["predicted_label"] == analysis.predicted_label
    for label, p in zip(result["labels"], identity["probabilities"], strict=True):
        assert p == pytest.approx(analysis.probabilities[label], abs=1e-5)


def test_a_point_opens_as_a_new_version_in_the_lab(alice_client, recording):
    alice_client.post(f"/recordings/{recording.pk}/sweep/", {"op": "pitch_shift", "start": -6, "stop": 6, "num": 13})
    sweep = Sweep.objects.get()

    response = alice_client.post(f"/sweeps/{sweep.pk}/points/9/")

    variant = Recording.objects.exclude(pk=recording.pk).get()
    assert response.url == f"/recordings/{variant.pk}/"
    assert variant.parent == recording
    assert variant.operations == [{"op": "pitch_shift", "params": {"semitones": 3.0}}]
    assert alice_client.post(f"/sweeps/{sweep.pk}/points/13/").status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"op": "pitch_shift", "start": -20, "stop": 6, "num": 5}, b"between -12 and 12"),
        ({"op": "time_shift", "start": -5, "stop": 5, "num": 3}, b"time_shift"),
        ({"op": "pitch_shift", "start": 1, "stop": 1, "num": 5}, b"must differ"),
        ({"op": "pitch_shift", "start": -1, "stop": 1, "num": 500}, b"between 2 and 41 points"),
    ],
)
def test_it_refuses_bad_ranges(alice_client, recording, form, message):
    response = alice_client.post(f"/recordings/{recording.pk}/sweep/", form)

    assert response.status_code == 400
    assert message in response.content
    assert not Sweep.objects.exists()
    assert not Job.objects.filter(kind="sweep_run").exists()


def test_it_rejects_other_users(client, alice_client, recording, charlie):
    alice_client.post(f"/recordings/{recording.pk}/sweep/", {"op": "gain", "start": -6, "stop": 6, "num": 3})
    sweep = Sweep.objects.get()
    login(client, charlie)

    assert client.get(f"/recordings/{recording.pk}/sweep/").status_code == 404
    assert client.get(f"/sweeps/{sweep.pk}/").status_code == 404
    assert client.post(f"/sweeps/{sweep.pk}/points/0/").status_code == 404
    assert client.get(f"/api/sweeps/{sweep.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/recordings/{recording.pk}/sweeps/", {"op": "gain"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_the_api_runs_a_sweep(alice_client, recording):
    response = alice_client.post(
        f"/api/recordings/{recording.pk}/sweeps/",
        {"op": "add_noise", "start": 40, "stop": 0, "num": 3},
        content_type="application/json",
    )

    assert response.status_code == 202
    sweep = alice_client.get(f"/api/sweeps/{response.json()['id']}/").json()
    assert sweep["status"] == "done"
    assert sweep["values"] == [40.0, 20.0, 0.0]
    assert sweep["result"]["values"] == [40.0, 20.0, 0.0]
    assert set(sweep["result"]["probabilities_by_label"]) == {str(d) for d in range(10)}
    assert alice_client.get(f"/api/jobs/{sweep['job']}/").json()["status"] == "done"


def test_pitch_reads_in_semitones_and_one_semitone_is_singular(alice_client, recording):
    form = alice_client.get(f"/recordings/{recording.pk}/sweep/", {"op": "pitch_shift"}).content.decode()
    assert "— pitch in semitones" in form and "semitones in semitones" not in form

    alice_client.post(f"/recordings/{recording.pk}/sweep/", {"op": "pitch_shift", "start": -1, "stop": 1, "num": 3})
    page = alice_client.get(f"/sweeps/{Sweep.objects.get().pk}/").content.decode()

    assert "goes from -1 semitone to 1 semitone (3 points)" in page
    assert '<td class="num">0 semitones</td>' in page and '<td class="num">1 semitone</td>' in page
    assert "1 semitones" not in page
