"""Admin: upload a .keras model version, see its validation, activate a valid one."""

import hashlib
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html

from core.errors import ServiceError
from dsp.params import FeatureParams
from modelzoo.models import ModelVersion
from modelzoo.services import DEFAULT_LABELS, model_version_activate, model_version_upload
from modelzoo.validation import ModelConfigError, check_model_config


def _default_feature_params() -> dict[str, Any]:
    active = ModelVersion.objects.filter(is_active=True).first()
    return active.feature_params if active else FeatureParams().to_dict()


class ModelVersionUploadForm(forms.ModelForm):
    """A new version: the .keras file, and the feature parameters and labels it was trained with."""

    file = forms.FileField(help_text=f"A Keras 3 .keras file, at most {settings.MAX_MODEL_UPLOAD_MB:g} MB.")
    feature_params = forms.JSONField(
        help_text="How clips are turned into the model's input; defaults to the active version's."
    )
    labels = forms.JSONField(help_text="The output classes, in the order of the model's outputs.")

    class Meta:
        model = ModelVersion
        fields = ["name", "description", "file", "feature_params", "labels"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["feature_params"].initial = _default_feature_params()
        self.fields["labels"].initial = DEFAULT_LABELS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None or "feature_params" not in cleaned or "labels" not in cleaned:
            return cleaned
        if upload.size > settings.MAX_MODEL_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"The model file is larger than the {settings.MAX_MODEL_UPLOAD_MB:g} MB limit.")
        labels = cleaned["labels"]
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise forms.ValidationError({"labels": "Give the labels as a JSON list of strings."})
        try:
            params = FeatureParams.from_dict(cleaned["feature_params"])
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError({"feature_params": str(exc)}) from None
        data = upload.read()
        upload.seek(0)
        try:
            check_model_config(data, params=params, labels=labels)
        except ModelConfigError as exc:
            raise forms.ValidationError({"file": str(exc)}) from None
        existing = ModelVersion.objects.filter(sha256=hashlib.sha256(data).hexdigest()).first()
        if existing:
            raise forms.ValidationError({"file": f"This file is already registered as “{existing.name}”."})
        cleaned["data"] = data
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "status_badge", "is_active", "is_bundled", "sample_accuracy", "uploaded_by", "created_at"]
    list_filter = ["status", "is_active"]
    actions = ["activate"]
    readonly_fields = [
        "name",
        "description",
        "file",
        "sha256",
        "status",
        "validation_error",
        "is_active",
        "is_bundled",
        "uploaded_by",
        "validation_job",
        "created_at",
        "pretty_feature_params",
        "labels",
        "pretty_metrics",
        "pretty_hyperparameters",
        "pretty_training_data",
    ]
    exclude = ["feature_params", "metrics", "hyperparameters", "training_data", "layers", "weight_histograms"]

    def get_form(self, request: HttpRequest, obj: ModelVersion | None = None, **kwargs: Any):
        if obj is None:
            kwargs["form"] = ModelVersionUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ModelVersion | None = None):
        return self.readonly_fields if obj else []

    def get_exclude(self, request: HttpRequest, obj: ModelVersion | None = None):
        return self.exclude if obj else []

    def get_fields(self, request: HttpRequest, obj: ModelVersion | None = None):
        if obj is None:
            return ["name", "description", "file", "feature_params", "labels"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ModelVersion, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # versions are immutable once uploaded
        try:
            version = model_version_upload(
                name=form.cleaned_data["name"],
                data=form.cleaned_data["data"],
                uploaded_by=request.user,
                feature_params=form.cleaned_data["feature_params"],
                labels=form.cleaned_data["labels"],
                description=form.cleaned_data.get("description", ""),
            )
        except ServiceError as exc:
            # Raced with another upload of the same file or name: nothing was stored.
            messages.error(request, exc.message)
            raise
        obj.pk = version.pk
        obj.refresh_from_db()
        if version.status == ModelVersion.Status.INVALID:
            messages.error(request, f"The model did not pass validation: {version.validation_error}")
        elif version.status == ModelVersion.Status.PENDING:
            messages.info(request, "The worker is validating the model on the sample clips; refresh to see the result.")

    @admin.display(description="status")
    def status_badge(self, version: ModelVersion) -> str:
        colour = {"valid": "#14865b", "invalid": "#c0263a"}.get(version.status, "#a45d00")
        return format_html('<strong style="color:{}">{}</strong>', colour, version.get_status_display())

    @admin.display(description="sample clips")
    def sample_accuracy(self, version: ModelVersion) -> str:
        accuracy = version.metrics.get("sample_clips", {}).get("accuracy")
        return f"{accuracy:.0%}" if accuracy is not None else "—"

    @admin.action(description="Activate the selected version")
    def activate(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            version = model_version_activate(version=queryset.get())
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"“{version.name}” is now the active model.", messages.SUCCESS)

    def _pretty(self, value: Any) -> str:
        return format_html("<pre style='margin:0'>{}</pre>", json.dumps(value, indent=2))

    @admin.display(description="feature parameters")
    def pretty_feature_params(self, version: ModelVersion) -> str:
        return self._pretty(version.feature_params)

    @admin.display(description="metrics")
    def pretty_metrics(self, version: ModelVersion) -> str:
        return self._pretty(version.metrics)

    @admin.display(description="hyper-parameters")
    def pretty_hyperparameters(self, version: ModelVersion) -> str:
        return self._pretty(version.hyperparameters)

    @admin.display(description="training data")
    def pretty_training_data(self, version: ModelVersion) -> str:
        return self._pretty(version.training_data)
