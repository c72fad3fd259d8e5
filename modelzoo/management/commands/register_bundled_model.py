"""Register the bundled model as a model version; activate it when none is active or an older bundled one is."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jobs.runner import job_execute
from modelzoo.models import ModelVersion
from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME, model_version_activate, model_version_register_file


class Command(BaseCommand):
    help = (
        "Register the bundled model, modelzoo/bundled/ddevis-cnn-v4.keras (idempotent); activate it when no "
        "version is active or the active one is an older bundled model (which stays registered)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path = BUNDLED_DIR / f"{BUNDLED_NAME}.keras"
        if not path.exists():
            raise CommandError(f"The bundled model is missing: {path}")
        version, created = model_version_register_file(path=path, bundled=True)
        if version.status == ModelVersion.Status.PENDING and version.validation_job_id:
            # Validate here rather than wait for a worker: make run must end with an active model.
            self.stdout.write(f"Validating {version.name} (loads TensorFlow once)…")
            job_execute(job_id=str(version.validation_job_id))
            version.refresh_from_db()
        if version.status != ModelVersion.Status.VALID:
            raise CommandError(f"The bundled model is not valid: {version.validation_error}")
        active = ModelVersion.objects.filter(is_active=True).first()
        # An older bundled model gives way to the one shipped now; an admin's own upload stays.
        if active is None or (active.is_bundled and active.pk != version.pk):
            model_version_activate(version=version)
            active = version
        accuracy = version.metrics.get("sample_clips", {}).get("accuracy")
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Registered' if created else 'Already registered'}: {version.name} "
                f"(sample clips accuracy {accuracy:.0%}); active model: {active.name}"
            )
        )
