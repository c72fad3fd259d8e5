"""Time a workshop training of a design (default: the paper's, 10 epochs) on the shipped clips, and its accuracy."""

import os
import time
from typing import Any

from django.core.management.base import BaseCommand

from workshop.architecture import DEFAULT_ARCHITECTURE, Design, summarise


class Command(BaseCommand):
    help = (
        "Train a workshop design on the shipped FSDD clips exactly as the workshop's job does (takes 10-49, "
        "held-out takes 5-9), and print the time per epoch, the total and the held-out accuracy."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--epochs", type=int, default=10)
        parser.add_argument("--no-augment", action="store_true", help="Train on the clean features.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--filters", type=int, nargs=3, default=DEFAULT_ARCHITECTURE["filters"])
        parser.add_argument("--kernels", type=int, nargs=3, default=DEFAULT_ARCHITECTURE["kernels"])

    def handle(self, *args: Any, **options: Any) -> None:
        from modelzoo import training as recipe
        from modelzoo.inference import configure_tensorflow
        from workshop import worker

        design = Design(
            filters=tuple(options["filters"]),
            kernels=tuple(options["kernels"]),
            epochs=options["epochs"],
            augment=not options["no_augment"],
        )
        summary = summarise(design)
        if not summary.ok:
            self.stderr.write("; ".join(summary.problems.values()))
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        configure_tensorflow()
        train_ds, held_ds = worker.split()
        loaded = time.perf_counter() - started
        self.stdout.write(
            f"{len(train_ds)} training clips, {len(held_ds)} held out; {summary.parameters} parameters; "
            f"the design page expects {summary.seconds:.0f} s (validation included); load {os.getloadavg()[0]:.1f}"
        )

        def progress(epoch: int, epochs: int, logs: dict[str, float]) -> None:
            self.stdout.write(
                f"  epoch {epoch:2d}/{epochs}  loss {logs['loss']:.3f}  accuracy {logs['accuracy']:.3f}  "
                f"held-out {logs['monitor_accuracy']:.3f}  {logs['seconds']:.1f} s "
                f"(augmentation {logs['augment_seconds']:.1f} s)  load {os.getloadavg()[0]:.1f}"
            )
            self.stdout.flush()

        hyper = {**worker.WORKSHOP_AUGMENTATION, **design.hyperparameters()}
        trained = recipe.train(
            train_ds, recipe.recipe_features(), hyper, seed=options["seed"], progress=progress, monitor=held_ds
        )
        evaluation = recipe.evaluate(trained.model, held_ds, recipe.recipe_features())
        cpu = time.process_time() - cpu_started
        self.stdout.write(
            self.style.SUCCESS(
                f"Trained {design.epochs} epochs in {trained.seconds:.1f} s (plus {loaded:.1f} s loading the clips "
                f"and TensorFlow), {cpu:.0f} CPU-seconds in all; held-out accuracy {evaluation.accuracy:.3f} on "
                f"{evaluation.n} clips; "
                f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
            )
        )
