"""Admin: upload a .keras model version, see its validation, activate a valid one."""

import dataclasses
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.html import format_html

from core.errors import ServiceError
from dsp.params import FIELD_BOUNDS, FIELD_CHOICES, FeatureParams
from modelzoo.models import ModelVersion
from modelzoo.services import DEFAULT_LABELS, model_version_activate, model_version_upload

# Each feature parameter's label and what it means, next to its field in the upload form.
FEATURE_LABELS = {
    "sample_rate": "Sample rate (Hz)",
    "duration_s": "Duration (s)",
    "n_fft": "FFT size (n_fft)",
    "hop_length": "Hop length",
    "win_length": "Window length",
    "window": "Window",
    "fit_mode": "Fit mode",
    "trim_db": "Active-region threshold (dB)",
    "amin": "Power floor (amin)",
    "top_db": "Dynamic range (top_db)",
    "normalisation": "Normalisation",
    "silence_dbfs": "Silence level (dBFS)",
    "remove_dc": "Remove DC",
    "active_method": "Finding the word",
    "floor_margin_db": "Above the noise floor (dB)",
}
FEATURE_HELP = {
    "sample_rate": "Hz every clip is resampled to.",
    "duration_s": "Seconds of audio the model hears.",
    "n_fft": "FFT size; the spectrogram has n_fft / 2 + 1 frequency rows.",
    "hop_length": "Samples between spectrogram frames.",
    "win_length": "Window length in samples, at most n_fft.",
    "window": "Analysis window.",
    "fit_mode": "How a clip is brought to the duration: centred on its active region, or from its start.",
    "trim_db": "Frames this many dB below the loudest do not count as active.",
    "amin": "Power floor before the logarithm.",
    "top_db": "The log spectrogram is floored this many dB below its peak.",
    "normalisation": "Standardise per clip, per frequency row, or not at all.",
    "silence_dbfs": "A clip peaking below this level (dBFS) is silent.",
    "remove_dc": "Subtract the mean first.",
    "active_method": "peak: frames near the loudest one; noise_floor: frames clearly above the take's noise floor.",
    "floor_margin_db": "With noise_floor: how far above the estimated floor a frame must be to count as speech.",
}


def _default_feature_params() -> dict[str, Any]:
    """The active version's feature parameters (the defaults when there is none, or they no longer parse)."""
    active = ModelVersion.objects.filter(is_active=True).first()
    try:
        return FeatureParams.from_dict(active.feature_params).to_dict() if active else FeatureParams().to_dict()
    except ValueError:
        return FeatureParams().to_dict()


def _feature_field(spec: dataclasses.Field) -> forms.Field:
    """A form field for one FeatureParams field, bounded as FeatureParams.from_dict bounds it."""
    label, help_text = FEATURE_LABELS.get(spec.name, spec.name), FEATURE_HELP.get(spec.name, "")
    if spec.name in FIELD_CHOICES:
        choices = [(c, c) for c in FIELD_CHOICES[spec.name]]
        return forms.ChoiceField(choices=choices, label=label, help_text=help_text)
    if spec.type == "bool":
        return forms.BooleanField(required=False, label=label, help_text=help_text)
    lo, hi = FIELD_BOUNDS[spec.name]
    if spec.type == "int":
        return forms.IntegerField(min_value=int(lo), max_value=int(hi), label=label, help_text=help_text)
    return forms.FloatField(min_value=lo, max_value=hi, label=label, help_text=help_text)


FEATURE_FIELDS = [spec.name for spec in dataclasses.fields(FeatureParams)]
UPLOAD_FIELDS = ["version_name", "version_description", "keras_file", "label_names", *FEATURE_FIELDS]


class _UploadForm(forms.ModelForm):
    """A new version: the .keras file, its labels and the feature parameters it was trained with.

    Every check is the upload service's (modelzoo.services.model_version_upload), run in
    clean(): what it refuses becomes an error next to the field it is about, and nothing is
    stored.  The fields are not the model's own (the service writes the row), so Django's
    model validation has nothing to redo.
    """

    version_name = forms.CharField(
        label="Name", max_length=100, help_text="Letters, digits, dots, dashes, underscores."
    )
    version_description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    keras_file = forms.FileField(
        label="File", help_text=f"A Keras 3 .keras file, at most {settings.MAX_MODEL_UPLOAD_MB:g} MB."
    )
    label_names = forms.CharField(
        label="Labels", help_text="The output classes in the order of the model's outputs, separated by commas."
    )

    # Who uploads: ModelVersionAdmin.get_form sets it on the form class it builds for the request.
    uploaded_by: User | None = None

    class Meta:
        model = ModelVersion
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = _default_feature_params()
        for name in FEATURE_FIELDS:
            self.fields[name].initial = defaults[name]
        self.fields["label_names"].initial = ", ".join(DEFAULT_LABELS)
        self.version: ModelVersion | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        upload = cleaned["keras_file"]
        try:
            self.version = model_version_upload(
                name=cleaned["version_name"],
                data=upload.read(),
                uploaded_by=self.uploaded_by,
                feature_params={name: cleaned[name] for name in FEATURE_FIELDS},
                labels=[label.strip() for label in cleaned["label_names"].split(",")],
                description=cleaned.get("version_description", ""),
            )
        except ServiceError as exc:
            field = {"name": "version_name", "file": "keras_file", "labels": "label_names"}.get(exc.field or "")
            self.add_error(field, exc.message)
        return cleaned


# One field per feature parameter, declared on the class (the admin builds its form from the declared fields).
ModelVersionUploadForm = type(
    "ModelVersionUploadForm",
    (_UploadForm,),
    {spec.name: _feature_field(spec) for spec in dataclasses.fields(FeatureParams)},
)


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

    def get_form(
        self, request: HttpRequest, obj: ModelVersion | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ModelVersionUploadForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and issubclass(form, _UploadForm) and isinstance(request.user, User):
            form.uploaded_by = request.user  # the upload service records who uploaded the version
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: ModelVersion | None = None):
        return self.readonly_fields if obj else []

    def get_exclude(self, request: HttpRequest, obj: ModelVersion | None = None):
        return self.exclude if obj else []

    def get_fields(self, request: HttpRequest, obj: ModelVersion | None = None):
        if obj is None:
            return UPLOAD_FIELDS
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ModelVersion, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # versions are immutable once uploaded
        # The upload service stored the version while the form was cleaned.
        if not isinstance(form, _UploadForm) or form.version is None:
            raise RuntimeError("A new version is saved only through a cleaned upload form.")
        version = form.version
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
