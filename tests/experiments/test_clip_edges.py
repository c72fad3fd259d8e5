"""The clip's own end is valid through the API: a region ending at the `duration_s` the API reports
(rounded, so up to half a millisecond past the exact length) ends at the clip's end."""

import io

import numpy as np
import pytest
import soundfile as sf

from experiments.models import Recording
from tests.experiments.lab_support import upload_file

SR, N = 16000, 6446  # 0.402875 s: reported rounded up, past the exact length


def _upload(client) -> dict:
    y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(N) / SR)
    buffer = io.BytesIO()
    sf.write(buffer, y, SR, format="WAV", subtype="FLOAT")
    file = upload_file(buffer.getvalue(), "odd-length.wav")
    response = client.post("/api/recordings/", {"file": file, "title": "Odd length"})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("op", ["slice", "crossfade"])
@pytest.mark.parametrize("decimals", [3, None])
def test_a_region_ending_at_the_reported_duration_is_accepted(alice_client, op, decimals):
    clip = _upload(alice_client)
    end = clip["duration_s"] if decimals is None else round(clip["duration_s"], decimals)
    assert end > N / SR  # the case that used to answer 400

    response = alice_client.post(
        f"/api/recordings/{clip['id']}/derive/",
        {"operations": [{"op": op, "params": {"start": 0.1, "end": end}}]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    derived = response.json()
    assert derived["operations"] == [{"op": op, "params": {"start": 0.1, "end": N / SR}}]
    expected = (N - round(0.1 * SR)) / SR if op == "slice" else N / SR
    assert derived["duration_s"] == pytest.approx(expected, abs=1e-4)


def test_a_region_further_past_the_end_is_refused_and_nothing_is_saved(alice_client):
    clip = _upload(alice_client)

    response = alice_client.post(
        f"/api/recordings/{clip['id']}/derive/",
        {"operations": [{"op": "slice", "params": {"start": 0.1, "end": round(N / SR + 0.001, 4)}}]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "end must be between 0 and 0.402875 s, the clip's duration" in response.json()["detail"]
    assert Recording.objects.count() == 1
