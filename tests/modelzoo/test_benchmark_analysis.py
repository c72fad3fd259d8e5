"""`manage.py benchmark_analysis`: every stage timed, the medians written as JSON, bad options refused."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from modelzoo.samples import sample_clips

STAGES = ("features_ms", "forward_ms", "store_ms", "images_ms", "sonify_ms", "total_ms", "peak_rss_mb")


def test_it_times_every_stage_and_writes_the_medians(db, tmp_path):
    report = tmp_path / "bench.json"
    clip = sample_clips()[0].path
    out = StringIO()

    call_command("benchmark_analysis", "--clip", str(clip), "--runs", "1", "--json", str(report), stdout=out)

    figures = json.loads(report.read_text())
    assert all(figures[key] > 0 for key in STAGES)
    stages = ("features_ms", "forward_ms", "store_ms", "images_ms", "sonify_ms")
    assert figures["total_ms"] >= max(figures[key] for key in stages)
    assert figures["clips"] == 1 and figures["runs"] == 1
    assert "median" in out.getvalue() and "p95" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--runs", "0"], "--runs must be at least 1"),
        (["--clip", "no-such-clip.wav"], "No clip at no-such-clip.wav"),
        (["--e2e"], "No active model version"),
    ],
)
def test_it_refuses_what_it_cannot_run_with_a_message(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark_analysis", *arguments, stdout=StringIO())
