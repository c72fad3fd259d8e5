"""Model versions: a trained Keras file plus everything needed to feed and explain it."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    """One trained classifier; exactly one valid version is active at a time."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for validation"
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    file = models.FileField(upload_to="models/")
    sha256 = models.CharField(max_length=64, blank=True)
    feature_params = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=list, blank=True)
    layers = models.JSONField(default=list, blank=True)
    weight_histograms = models.JSONField(default=list, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    training_data = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    validation_error = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    is_bundled = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A version trained by a user in the model workshop belongs to them: only they (and, once they
    # share it, the people of their courses) see it. Versions without an owner are the site's.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="owned_model_versions"
    )
    shared_with_courses = models.BooleanField(default=False)
    validation_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_active", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def conv_layers(self) -> list[dict]:
        """The convolution layers of the layer table, in order."""
        return [layer for layer in self.layers if layer.get("type") == "Conv2D"]
