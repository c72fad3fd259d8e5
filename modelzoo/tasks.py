"""Job handlers of the model zoo (worker side; TensorFlow is imported inside them)."""

from typing import Any

from jobs.models import Job
from jobs.registry import JobError, Progress, job_handler


@job_handler("model_validate")
def model_validate_job(job: Job, progress: Progress) -> dict[str, Any]:
    """Validate an uploaded model version."""
    from modelzoo.introspection import ModelFileError
    from modelzoo.models import ModelVersion
    from modelzoo.worker import model_version_validate

    version = ModelVersion.objects.get(pk=job.payload["model_version"])
    try:
        version = model_version_validate(version=version, progress=progress)
    except ModelFileError as exc:
        raise JobError(str(exc)) from None
    return {"model_version": version.pk, "sample_accuracy": version.metrics["sample_clips"]["accuracy"]}
