"""Forms of the lab's pages: an edit of the panel, a comparison, its title and notes, a course, a join code.

Bounds come from the specs (`dsp.operation_specs`) and the checks from the validation that
the API uses too (`dsp.operations.validate_operation`), so nothing is written twice.
"""

from typing import Any, cast

from django import forms
from django.contrib.auth.models import User

from dsp.errors import OperationError
from dsp.operation_specs import OPERATIONS, OperationSpec, ParamSpec
from dsp.operations import validate_operation
from experiments import selectors
from experiments.models import Recording
from modelzoo.models import ModelVersion
from modelzoo.selectors import model_versions_visible

# ----------------------------------------------------------------------------- the lab's edit panel


def _number(value: float) -> str:
    """A bound or a default as a page writes it: 0, 0.4028, -12."""
    return f"{value:.6g}"


def _param_field(op: str, param: ParamSpec, duration_s: float) -> forms.Field:
    """The field of one parameter: a number (whole for "int"), with the bounds the browser checks.

    The field only parses; validation judges ranges. The browser's maximum includes the
    half-millisecond margin past the clip's end, so an end rounded to the millisecond (a
    region dragged to the end) passes and is pulled onto the end.
    """
    low, high = param.bounds(duration_s)[0], param.accepted_bounds(duration_s)[1]
    attrs: dict[str, str | bool] = {
        "min": _number(low),
        "max": _number(high),
        "step": "any" if param.kind == "float" else "1",
    }
    if op in ("slice", "crossfade") and param.name in ("start", "end"):
        attrs |= {f"data-region-{param.name}": True, "data-region-for": "wf-main"}
    if param.required:
        attrs["required"] = True
    kind = forms.IntegerField if param.kind == "int" else forms.FloatField
    whole = "a whole number" if param.kind == "int" else "a number"
    return kind(
        label=param.label,
        required=False,  # validation says "is required" with the range expected
        initial=_number(param.default_for(duration_s)),
        widget=forms.NumberInput(attrs=attrs),
        error_messages={"invalid": f"{param.label} must be {whole}."},
    )


def _for_people(exc: OperationError, spec: OperationSpec) -> str:
    """The validation's sentence, naming the parameter by its label ("Fade in must be …")."""
    detail = exc.detail
    for param in spec.params:
        if exc.param == param.name and detail.startswith(param.name):
            return param.label + detail[len(param.name) :]
    return detail[:1].upper() + detail[1:]


class OperationForm(forms.Form):
    """One edit from the lab's panel: `op` and its parameters as ``param_<name>`` fields.

    Each parameter's field comes from its spec; `dsp.operations.validate_operation` judges
    the values against the clip (`duration_s`) and its message lands on the field it names.
    When the form is valid, `operation` is the normalised operation.
    """

    op = forms.ChoiceField(
        choices=[(name, spec.label) for name, spec in OPERATIONS.items()],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Choose one of the operations.", "required": "Choose an operation."},
    )

    def __init__(self, data: Any = None, *, duration_s: float, op: str | None = None, **kwargs: Any) -> None:
        name = op or (data.get("op") if data is not None else None)
        self.spec = OPERATIONS.get(name) if isinstance(name, str) else None
        prefix = self.spec.op if self.spec else "op"
        super().__init__(data, auto_id=f"op-{prefix}-%s", initial={"op": name}, **kwargs)
        self.duration_s = duration_s
        self.operation: dict | None = None
        if self.spec is not None:
            for param in self.spec.params:
                self.fields[f"param_{param.name}"] = _param_field(self.spec.op, param, duration_s)

    def params(self) -> list[tuple[dict, forms.BoundField]]:
        """Each parameter's spec (bounds in seconds on this clip) with its bound field."""
        if self.spec is None:
            return []
        specs = self.spec.to_dict(self.duration_s)["params"]
        return [(spec, self[f"param_{spec['name']}"]) for spec in specs]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.spec is None or self.errors:
            return cleaned
        given = {p.name: cleaned.get(f"param_{p.name}") for p in self.spec.params}
        try:
            self.operation = validate_operation(
                {"op": self.spec.op, "params": {k: v for k, v in given.items() if v is not None}},
                duration_s=self.duration_s,
            )
        except OperationError as exc:
            field = f"param_{exc.param}" if exc.param and f"param_{exc.param}" in self.fields else None
            self.add_error(field, _for_people(exc, self.spec))
        return cleaned


def operation_forms(*, duration_s: float, bound: OperationForm | None = None) -> list[OperationForm]:
    """The edit panel: a form per operation, `bound` (a refused one, with its errors) in its place."""
    return [
        bound
        if bound is not None and bound.spec is not None and bound.spec.op == name
        else OperationForm(duration_s=duration_s, op=name)
        for name in OPERATIONS
    ]


# ----------------------------------------------------------------------------- experiments


class RecordingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, recording: Recording) -> str:
        version = f" · edit of “{recording.root.title}”" if recording.root is not None else ""
        return f"{recording.title} · {recording.duration_s:.2f} s{version}"


class ExperimentForm(forms.Form):
    """A new comparison: two clips through one model, or one clip through two models."""

    MODES = [("recordings", "Two clips, one model"), ("models", "One clip, two model versions")]

    title = forms.CharField(max_length=200, required=False, help_text="Leave empty to name it after what it compares.")
    mode = forms.ChoiceField(choices=MODES, initial="recordings", widget=forms.RadioSelect)
    recording_a = RecordingChoiceField(queryset=Recording.objects.none(), label="Recording A")
    recording_b = RecordingChoiceField(queryset=Recording.objects.none(), required=False, label="Recording B")
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), required=False, label="Model version", empty_label="The active model"
    )
    model_version_b = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), required=False, label="Second model version"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20000)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recordings = selectors.recording_list(user=user)
        # The fields declared above are model choice fields; `fields` holds them as plain fields.
        cast(forms.ModelChoiceField, self.fields["recording_a"]).queryset = recordings
        cast(forms.ModelChoiceField, self.fields["recording_b"]).queryset = recordings
        # Versions the user may see and that can analyse a clip.
        usable = model_versions_visible(user=user).filter(status=ModelVersion.Status.VALID)
        cast(forms.ModelChoiceField, self.fields["model_version"]).queryset = usable
        cast(forms.ModelChoiceField, self.fields["model_version_b"]).queryset = usable
        self.model_choices = usable.count()


class ExperimentEditForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "The title cannot be empty."})
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=20000)


# ----------------------------------------------------------------------------- courses


class CourseForm(forms.Form):
    name = forms.CharField(
        max_length=120, widget=forms.TextInput(attrs={"placeholder": "e.g. Audio ML 101, spring term"})
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Optional: what students should explore, and when submissions are due.",
    )


class JoinForm(forms.Form):
    join_code = forms.CharField(
        max_length=32,
        label="Join code",
        error_messages={"required": "Type the join code your instructor gave you."},
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. K7QX 2MPA", "autocomplete": "off", "autocapitalize": "characters"}
        ),
    )
