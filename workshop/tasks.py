"""The workshop's job handler (worker side; TensorFlow is imported inside it)."""

from typing import Any

from django.utils import timezone

from jobs.models import Job
from jobs.registry import JobCancelled, JobError, Progress, job_handler
from jobs.runner import UNEXPECTED_FAILURE
from workshop.models import Training

VALIDATION_FAILED = (
    "The training finished, but the trained model did not pass the validation every model goes through: {reason}"
)


@job_handler("workshop_train")
def workshop_train_job(job: Job, progress: Progress) -> dict[str, Any]:
    """Train a workshop design; the training row says how it ended, in words for people."""
    from modelzoo.introspection import ModelFileError
    from workshop.worker import training_run

    training = Training.objects.select_related("owner").get(pk=job.payload["training"])
    try:
        version = training_run(training=training, job=job, progress=progress)
    except JobCancelled:
        _end(training, Training.Status.CANCELLED)
        raise
    except ModelFileError as exc:
        message = VALIDATION_FAILED.format(reason=exc)
        _end(training, Training.Status.FAILED, error=message)
        raise JobError(message) from None
    except JobError as exc:
        _end(training, Training.Status.FAILED, error=exc.message)
        raise
    except Exception:
        _end(training, Training.Status.FAILED, error=UNEXPECTED_FAILURE)
        raise
    _end(training, Training.Status.DONE)
    accuracy = version.metrics.get("evaluation_clips", {}).get("accuracy")
    return {"training": training.pk, "model_version": version.pk, "heldout_accuracy": accuracy}


def _end(training: Training, status: str, *, error: str = "") -> None:
    Training.objects.filter(pk=training.pk).update(status=status, error=error, finished_at=timezone.now())
