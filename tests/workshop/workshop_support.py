"""Trainings for the page, API and permission tests: what a finished (or running) training leaves in the database.

The finished one's version is the bundled model's file and description, owned by its author
(the training itself is tested for real in test_training_job and test_cancel).
"""

import hashlib

from django.core.files.base import ContentFile

from jobs.models import Job
from modelzoo.models import ModelVersion
from workshop.architecture import Design
from workshop.models import Training

HISTORY = [
    {"epoch": 1, "loss": 1.9, "accuracy": 0.31, "val_loss": 1.7, "val_accuracy": 0.42, "seconds": 6.1},
    {"epoch": 2, "loss": 1.2, "accuracy": 0.62, "val_loss": 1.1, "val_accuracy": 0.7, "seconds": 6.0},
]


def _histograms(epochs: int) -> list[dict]:
    return [
        {
            "epoch": epoch,
            "layers": [
                {"layer": name, "counts": [epoch] * 30, "edges": [i / 100 for i in range(31)], "mean": 0.1, "std": 0.2}
                for name in ("conv1", "conv2", "conv3", "dense", "probabilities")
            ],
        }
        for epoch in range(1, epochs + 1)
    ]


def running_training(owner, *, name: str = "running one", history: list | None = None) -> Training:
    job = Job.objects.create(kind="workshop_train", owner=owner, status=Job.Status.RUNNING, progress=30)
    history = HISTORY[:1] if history is None else history
    return Training.objects.create(
        owner=owner,
        name=name,
        architecture=Design().architecture(),
        hyperparameters=Design(epochs=4).hyperparameters(),
        status=Training.Status.RUNNING,
        history=history,
        weight_histograms=_histograms(len(history)),
        job=job,
    )


def finished_training(owner, description: dict, *, name: str = "finished one") -> Training:
    version = ModelVersion(
        name=f"workshop-{owner.username}-trained",
        sha256=hashlib.sha256(description["data"] + b"workshop").hexdigest(),
        feature_params=description["feature_params"],
        labels=description["labels"],
        layers=description["layers"],
        weight_histograms=description["weight_histograms"],
        hyperparameters={**description["hyperparameters"], "seed": 0},
        training_data={
            "clips": 2000,
            "held_out_clips": 250,
            "speakers": ["george"],
            "attribution": "FSDD CC BY-SA 4.0",
        },
        metrics={**description["metrics"], "evaluation_clips": {"accuracy": 0.9, "n": 250}},
        status=ModelVersion.Status.VALID,
        owner=owner,
        uploaded_by=owner,
    )
    version.file.save(f"{version.name}.keras", ContentFile(description["data"]), save=False)
    version.save()
    job = Job.objects.create(kind="workshop_train", owner=owner, status=Job.Status.DONE, progress=100)
    return Training.objects.create(
        owner=owner,
        name=name,
        architecture=Design().architecture(),
        hyperparameters=Design(epochs=2).hyperparameters(),
        status=Training.Status.DONE,
        history=HISTORY,
        weight_histograms=_histograms(2),
        train_seconds=12.1,
        model_version=version,
        job=job,
    )
