"""`manage.py benchmark_api`: what it refuses up front, and the pieces it times with."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ddevis_site.benchmark_api import figures, multipart


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--runs", "0"], "--runs and --connections must be at least 1"),
        (["--connections", "0"], "--runs and --connections must be at least 1"),
        (["--clip", "no-such-clip.wav"], "No clip at no-such-clip.wav"),
        ([], "No active model version"),
    ],
)
def test_it_refuses_what_it_cannot_run_with_a_message(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark_api", *arguments, stdout=StringIO())


def test_its_upload_body_is_the_multipart_form_the_api_reads(alice_client):
    from tests.experiments.lab_support import sample_bytes

    body, content_type = multipart("seven.wav", sample_bytes())

    # The test client posts the raw body as it is, like http.client does.
    response = alice_client.post("/api/recordings/", data=body, content_type=content_type)

    assert response.status_code == 201, response.content
    assert response.json()["original_name"] == "seven.wav"


def test_its_figures_are_median_and_p95():
    assert figures([1.0, 2.0, 3.0, 4.0, 100.0]) == {"median": 3.0, "p95": 80.8}
