"""The recipe check's command line on the 20 sample clips (one fold, one epoch: no real training)."""

import json

from modelzoo import recipe_check
from modelzoo.samples import SAMPLES_DIR


def test_it_saves_each_folds_model_and_reports_the_warm_up_it_was_asked_for(tmp_path, capsys):
    report = tmp_path / "report.json"

    recipe_check.main(
        [
            *("--data", str(SAMPLES_DIR), "--folds", "loso", "--only", "theo", "--epochs", "2", "--threads", "1"),
            *("--set", "augment=False", "warmup_epochs=1", "--json", str(report)),
            *("--save-models", str(tmp_path / "models")),
        ]
    )

    assert [p.name for p in (tmp_path / "models").iterdir()] == ["loso-theo.keras"]  # saved and reloaded safely
    written = json.loads(report.read_text())
    assert written["hyper"] == {"augment": False, "warmup_epochs": 1, "epochs": 2}
    assert list(written["protocols"]["loso"]["folds"]) == ["loso theo"]
    assert "saved " in capsys.readouterr().out
