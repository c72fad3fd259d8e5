"""What the training page shows: curves, the weights of an epoch, the model card (numbers, no HTML)."""

from typing import Any
from urllib.parse import urlencode

from core.charts import epoch_chart, histogram_bars
from modelzoo.models import ModelVersion
from workshop.models import Training

TRAIN_COLOUR, HELD_OUT_COLOUR = "#4e79a7", "#e15759"
POLL_MS = 1000


def curves(training: Training) -> dict[str, Any] | None:
    """The loss and accuracy charts (training and held-out), or None before the first epoch."""
    history = training.history
    if not history:
        return None
    epochs = [row["epoch"] for row in history]

    def pair(key: str) -> list[dict]:
        return [
            {"name": "training", "values": [row[key] for row in history], "colour": TRAIN_COLOUR},
            {
                "name": "held-out",
                "values": [row[f"val_{key}"] for row in history],
                "colour": HELD_OUT_COLOUR,
                "dashed": True,
            },
        ]

    last = history[-1]
    return {
        "loss": epoch_chart(epochs, pair("loss"), total_epochs=training.epochs),
        "accuracy": epoch_chart(epochs, pair("accuracy"), total_epochs=training.epochs, high=1.0, percent=True),
        "legend": pair("loss"),
        "last": last,
        "rows": history,
    }


def weight_epoch(training: Training, epoch: int | None = None) -> dict[str, Any] | None:
    """Every layer's kernel histogram after `epoch` (default: the last one finished)."""
    snapshots = training.weight_histograms
    if not snapshots:
        return None
    by_epoch = {snapshot["epoch"]: snapshot for snapshot in snapshots}
    chosen = by_epoch.get(epoch) if epoch is not None else None
    chosen = chosen or snapshots[-1]
    return {
        "epoch": chosen["epoch"],
        "first": snapshots[0]["epoch"],
        "last": snapshots[-1]["epoch"],
        "layers": [
            {**layer, "bars": histogram_bars(layer), "low": layer["edges"][0], "high": layer["edges"][-1]}
            for layer in chosen["layers"]
        ],
    }


def model_card(training: Training) -> list[tuple[str, str]]:
    """Every choice the training made, in words: the design, the recipe, the data, the seed, the result."""
    arch, hyper = training.architecture, training.hyperparameters
    rows = [
        ("Convolution filters", " · ".join(str(f) for f in arch["filters"])),
        ("Kernels", " · ".join(f"{k} × {k}" for k in arch["kernels"])),
        ("Max-pooling", " · ".join(str(p) for p in arch["pools"])),
        ("Dense units", str(arch["dense"])),
        ("Dropout", f"{arch['dropout']:g}"),
        ("Learning rate", f"{hyper['learning_rate']:g} (peak, cosine decay to 0, AdamW)"),
        ("Epochs", str(hyper["epochs"])),
        ("Augmentation", "on" if hyper.get("augment", True) else "off"),
        ("Seed", str(training.seed)),
    ]
    version: ModelVersion | None = training.model_version
    if version is not None:
        recipe = version.hyperparameters
        rows += [
            ("Batch size", str(recipe.get("batch_size"))),
            ("Weight decay", f"{recipe.get('weight_decay', 0):g}"),
            ("Label smoothing", f"{recipe.get('label_smoothing', 0):g}"),
        ]
        if hyper.get("augment", True):
            rows.append(
                (
                    "Augmentation details",
                    f"speed ±{recipe.get('speed', 0) * 100:g} %, gain ±{recipe.get('gain_db', 0):g} dB, "
                    f"noise p {recipe.get('noise_p', 0):g} at {recipe.get('snr_db')} dB SNR, "
                    f"shift ±{recipe.get('shift_s', 0):g} s, equaliser ±{recipe.get('eq_db', 0):g} dB, "
                    f"{recipe.get('freq_masks', 0)} frequency and {recipe.get('time_masks', 0)} time mask",
                )
            )
        data = version.training_data
        rows += [
            (
                "Data",
                f"{data.get('clips')} clips of {', '.join(data.get('speakers', []))} (takes 10–49); "
                f"{data.get('held_out_clips')} held out (takes 5–9)",
            ),
            ("Licence", data.get("attribution", "")),
        ]
        if voices := data.get("course_voices"):
            rows.append(
                (
                    "Course voices",
                    f"{voices['clips']} labelled recordings the students of {voices['course']} gave, each with consent",
                )
            )
        evaluation = version.metrics.get("evaluation_clips", {})
        if "accuracy" in evaluation:
            rows.append(
                ("Held-out accuracy", f"{evaluation['accuracy'] * 100:.1f} % on {evaluation.get('n', '?')} clips")
            )
    if training.train_seconds is not None:
        rows.append(("Training time", f"{training.train_seconds:.0f} s"))
    return rows


def retrain_query(training: Training) -> str:
    """The design page's query for the same design and seed (the "train again" link)."""
    arch, hyper = training.architecture, training.hyperparameters
    data: dict[str, Any] = {"name": training.name}
    for kind in ("filters", "kernels", "pools"):
        for n, value in enumerate(arch[kind], start=1):
            data[f"{kind}_{n}"] = value
    data |= {
        "dense": arch["dense"],
        "dropout": arch["dropout"],
        "learning_rate": hyper["learning_rate"],
        "epochs": hyper["epochs"],
        "seed": training.seed,
    }
    if hyper.get("augment", True):
        data["augment"] = "on"
    return urlencode(data)
