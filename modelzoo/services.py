"""Writing model versions: upload, activation, registering the bundled model."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction

from core.errors import ServiceError
from dsp.params import FeatureParams
from jobs.services import job_create
from modelzoo.models import ModelVersion
from modelzoo.validation import ModelConfigError, check_model_config

BUNDLED_DIR = Path(__file__).with_name("bundled")
BUNDLED_NAME = "ddevis-cnn-v4"
DEFAULT_LABELS = [str(digit) for digit in range(10)]


def model_version_upload(
    *,
    name: str,
    data: bytes,
    uploaded_by: User | None,
    feature_params: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    description: str = "",
    hyperparameters: dict[str, Any] | None = None,
    training_data: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> ModelVersion:
    """Check a .keras file's configuration, store it as a pending version and queue its validation.

    Raises
    ------
    ServiceError
        A name that cannot be a file name, too big, invalid labels or feature parameters,
        not a Keras file (a zip bomb, malformed JSON), unsafe layers, shapes that do not fit,
        a duplicate; ``field`` names the input at fault.
    """
    check_version_name(name)
    if len(data) > settings.MAX_MODEL_UPLOAD_MB * 1024 * 1024:
        raise ServiceError(
            f"The model file is larger than the {settings.MAX_MODEL_UPLOAD_MB:g} MB limit.", status=413, field="file"
        )
    labels = check_labels(DEFAULT_LABELS if labels is None else labels)
    try:
        params = FeatureParams.from_dict({} if feature_params is None else feature_params)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"The feature parameters are invalid: {exc}", field="feature_params") from None
    try:
        check_model_config(data, params=params, labels=labels)
    except ModelConfigError as exc:
        raise ServiceError(str(exc), field="file") from None
    sha256 = hashlib.sha256(data).hexdigest()
    if existing := ModelVersion.objects.filter(sha256=sha256).first():
        raise ServiceError(f"This file is already registered as “{existing.name}”.", status=409, field="file")
    if ModelVersion.objects.filter(name=name).exists():
        raise ServiceError(f"A model version called “{name}” exists already.", status=409, field="name")

    with transaction.atomic():
        version = ModelVersion(
            name=name,
            description=description,
            sha256=sha256,
            feature_params=params.to_dict(),
            labels=labels,
            hyperparameters=hyperparameters or {},
            training_data=training_data or {},
            metrics=metrics or {},
            uploaded_by=uploaded_by,
        )
        version.file.save(f"{name}.keras", ContentFile(data), save=False)
        version.save()
    job = job_create(kind="model_validate", owner=uploaded_by, payload={"model_version": version.pk})
    ModelVersion.objects.filter(pk=version.pk).update(validation_job=job)
    version.refresh_from_db()
    return version


VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_version_name(name: object) -> None:
    """Refuse a name that could not be a file name on every storage: it becomes the stored file's name."""
    if not isinstance(name, str) or not VERSION_NAME.fullmatch(name) or ".." in name:
        shown = str(name)[:40]
        raise ServiceError(
            f"“{shown}” cannot name a model version: use up to 100 letters, digits, dots, dashes and underscores, "
            "starting with a letter or digit (e.g. ddevis-cnn-v4).",
            field="name",
        )


def check_labels(labels: object) -> list[str]:
    """The output labels as a list of distinct, non-empty strings."""
    if (
        not isinstance(labels, list | tuple)
        or not labels
        or not all(isinstance(label, str) and label.strip() for label in labels)
    ):
        raise ServiceError("The labels must be a non-empty list of names, e.g. 0, 1, …, 9.", field="labels")
    if len(set(labels)) != len(labels):
        raise ServiceError("The labels must not repeat.", field="labels")
    return [label.strip() for label in labels]


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one active model; only a valid version can be."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.VALID:
        raise ServiceError(
            f"“{version.name}” cannot be activated: it is {version.get_status_display().lower()}"
            + (f" ({version.validation_error})" if version.validation_error else "")
            + ".",
            status=409,
        )
    ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    version.is_active = True
    version.save(update_fields=["is_active"])
    return version


def read_sidecar(model_path: Path) -> dict[str, Any]:
    """The JSON sidecar written next to a trained .keras file (`name.json`)."""
    sidecar = model_path.with_suffix(".json")
    if not sidecar.exists():
        raise ServiceError(f"No sidecar {sidecar.name} next to {model_path.name}.")
    return json.loads(sidecar.read_text())


def model_version_register_file(
    *, path: Path, name: str | None = None, bundled: bool = False, uploaded_by: User | None = None
) -> tuple[ModelVersion, bool]:
    """Register a trained .keras file and its sidecar; returns (version, created).

    Registering the same file again returns the existing version.
    """
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if existing := ModelVersion.objects.filter(sha256=sha256).first():
        return existing, False
    sidecar = read_sidecar(path)
    name = name or sidecar.get("name") or path.stem
    if bundled and ModelVersion.objects.filter(name=name).exists():
        name = f"{name}-{sha256[:8]}"  # a newer bundled file under the name an older one holds
    version = model_version_upload(
        name=name,
        data=data,
        uploaded_by=uploaded_by,
        feature_params=sidecar["feature_params"],
        labels=sidecar["labels"],
        description=sidecar.get("description", ""),
        hyperparameters=sidecar.get("hyperparameters", {}),
        training_data=sidecar.get("training_data", {}),
        metrics=sidecar.get("metrics", {}),
    )
    if bundled:
        ModelVersion.objects.filter(pk=version.pk).update(is_bundled=True)
        version.refresh_from_db()
    return version, True
