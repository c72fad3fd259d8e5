"""Reading model versions: which ones a user may see, and what their pages show."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.charts import histogram_bars
from modelzoo.models import ModelVersion


def model_versions_visible(*, user: User | AnonymousUser) -> QuerySet[ModelVersion]:
    """Model versions `user` may see and use: every one for admins, the valid ones for everyone else."""
    versions = ModelVersion.objects.select_related("uploaded_by")
    return versions if user.is_staff else versions.filter(status=ModelVersion.Status.VALID)


def model_version_get(*, user: User | AnonymousUser, version_id: int) -> ModelVersion:
    """A model version `user` may see, or 404."""
    return get_object_or_404(model_versions_visible(user=user), pk=version_id)


def weight_panels(version: ModelVersion) -> list[dict]:
    """One panel per layer weight (kernel, bias) with its histogram bars and statistics."""
    return [{**entry, "bars": histogram_bars(entry)} for entry in version.weight_histograms]
