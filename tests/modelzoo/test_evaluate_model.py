"""`manage.py evaluate_model`: labels from file names, accuracy, per-digit accuracy, confusion matrix."""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from modelzoo.samples import SAMPLES_DIR
from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME

BUNDLED = BUNDLED_DIR / f"{BUNDLED_NAME}.keras"


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """Six sample clips, plus a file whose name carries no label (skipped)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for path in sorted(SAMPLES_DIR.glob("*.wav"))[:6]:
        shutil.copy(path, folder / path.name)
    (folder / "notes.txt").write_text("not a clip")
    return folder


@pytest.mark.slow
def test_it_reports_accuracy_per_digit_and_the_confusion_matrix(clips, tmp_path):
    out, report = StringIO(), tmp_path / "report.json"

    call_command("evaluate_model", "--model", str(BUNDLED), "--data", str(clips), "--json", str(report), stdout=out)

    figures = json.loads(report.read_text())
    assert figures["n"] == 6 and figures["unreadable"] == 0
    confusion = figures["confusion"]
    assert sum(map(sum, confusion)) == 6
    correct = sum(confusion[i][i] for i in range(len(confusion)))
    assert figures["accuracy"] == pytest.approx(correct / 6, abs=1e-4)  # stored with four decimals
    text = out.getvalue()
    assert f"accuracy: {100 * correct / 6:.2f}% on 6 clips" in text
    assert "per-digit accuracy:" in text and "true\\pred" in text
    assert "Skipped 1 file(s) not named {digit}_{speaker}_{take}.wav, such as notes.txt" in text


@pytest.mark.slow
def test_it_reads_speakers_whose_names_have_digits_and_hyphens(clips, tmp_path):
    """The training data's convention (synthetic voices are named like "synthEspeak-en-us-m3")."""
    for i, path in enumerate(sorted(clips.glob("*.wav"))):
        digit, _, take = path.stem.split("_")
        path.rename(clips / f"{digit}_{['speaker2', 'synth-en-us-m3'][i % 2]}_{take}.wav")
    report = tmp_path / "report.json"

    call_command(
        "evaluate_model", "--model", str(BUNDLED), "--data", str(clips), "--json", str(report), stdout=StringIO()
    )

    figures = json.loads(report.read_text())
    assert figures["n"] == 6
    assert {clip["file"].split("_")[1] for clip in figures["clips"]} == {"speaker2", "synth-en-us-m3"}


@pytest.mark.slow
def test_it_keeps_only_the_speakers_asked_for(clips, tmp_path):
    report = tmp_path / "report.json"
    speaker = sorted(clips.glob("*.wav"))[0].stem.split("_")[1]

    call_command(
        "evaluate_model", "--model", str(BUNDLED), "--data", str(clips), "--speaker", speaker,
        "--json", str(report), stdout=StringIO(),
    )  # fmt: skip

    figures = json.loads(report.read_text())
    assert 0 < figures["n"] < 6
    assert {clip["file"].split("_")[1] for clip in figures["clips"]} == {speaker}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "missing-folder"], "missing-folder"),
        (["--speaker", "nobody"], "No clips by nobody"),
        (["--model", "no-such-model"], "No model version called 'no-such-model'"),
    ],
)
def test_it_refuses_bad_arguments_with_a_message(db, clips, arguments, message):
    defaults = {"--data": str(clips), "--model": str(BUNDLED)}
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    argv = [item for key, value in {**defaults, **given}.items() for item in (key, value)]

    with pytest.raises(CommandError, match=message):
        call_command("evaluate_model", *argv, stdout=StringIO())


@pytest.mark.slow
def test_it_evaluates_degraded_copies_per_condition(clips, tmp_path):
    out, report = StringIO(), tmp_path / "report.json"

    call_command(
        "evaluate_model", "--model", str(BUNDLED), "--data", str(clips), "--conditions", "clean", "noise_10db",
        "--json", str(report), stdout=out,
    )  # fmt: skip

    figures = json.loads(report.read_text())
    assert list(figures["conditions"]) == ["clean", "noise_10db"] and figures["conditions_seed"] == 0
    clean = figures["conditions"]["clean"]
    assert clean["n"] == 6 and clean["accuracy"] == figures["accuracy"]  # clean is the clips as they are
    assert figures["conditions"]["noise_10db"]["title"] == "room noise at 10 dB SNR"
    text = out.getvalue()
    assert "Conditions (seed 0), 6 clips each" in text and "noise_10db" in text


@pytest.mark.slow
def test_it_keeps_only_the_takes_asked_for(clips, tmp_path):
    report = tmp_path / "report.json"

    call_command(
        "evaluate_model", "--model", str(BUNDLED), "--data", str(clips), "--takes", "5", "--json", str(report),
        stdout=StringIO(),
    )  # fmt: skip

    assert {clip["file"].rsplit("_", 1)[1] for clip in json.loads(report.read_text())["clips"]} == {"5.wav"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--conditions", "underwater"], "Unknown condition"), (["--takes", "99"], "No clips of takes 99")],
)
def test_it_refuses_unknown_conditions_and_takes(clips, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("evaluate_model", "--model", str(BUNDLED), "--data", str(clips), *arguments, stdout=StringIO())
