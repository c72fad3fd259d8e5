"""The design form: one field per choice, bounds from workshop.architecture, impossible designs refused per field."""

from typing import Any

from django import forms

from experiments.models import Course, Recording
from experiments.selectors import courses_attended, courses_taught, recording_list
from workshop import architecture as arch
from workshop.architecture import Design, Summary, summarise


class DesignForm(forms.Form):
    """A design of the three-block CNN; ``summary`` holds its shapes once it is valid."""

    name = forms.CharField(max_length=80, initial="my variant", help_text="So you can find it again.")
    dense = forms.IntegerField(
        label="Dense units", min_value=arch.DENSE_RANGE[0], max_value=arch.DENSE_RANGE[1], initial=128
    )
    dropout = forms.FloatField(
        label="Dropout before the output",
        min_value=arch.DROPOUT_RANGE[0],
        max_value=arch.DROPOUT_RANGE[1],
        initial=arch.DEFAULT_ARCHITECTURE["dropout"],
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    learning_rate = forms.FloatField(
        label="Learning rate",
        min_value=arch.LEARNING_RATE_RANGE[0],
        max_value=arch.LEARNING_RATE_RANGE[1],
        initial=arch.DEFAULT_LEARNING_RATE,
        widget=forms.NumberInput(attrs={"step": "0.0001"}),
        help_text="The peak; it decays to 0 over the epochs (cosine).",
    )
    epochs = forms.IntegerField(
        min_value=arch.EPOCHS_RANGE[0], max_value=arch.EPOCHS_RANGE[1], initial=arch.DEFAULT_EPOCHS
    )
    augment = forms.BooleanField(
        label="Augmentation",
        required=False,
        initial=True,
        help_text="Every epoch hears the clips with new noise, gain, speed, placement and colouring.",
    )
    seed = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, initial=0, help_text="Same settings and seed, same weights."
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and (taught := courses_taught(user=user)).exists():
            # An instructor may add the voices the students of a course gave it.
            self.fields["course"] = forms.ModelChoiceField(
                queryset=taught,
                required=False,
                label="Course voices",
                empty_label="FSDD clips only",
                help_text="Also train on the labelled recordings your students gave this course.",
            )
        # Layer fields go first, in the order people read the network.
        layer_fields = {}
        for n in range(1, arch.CONV_LAYERS + 1):
            default = n - 1
            layer_fields[f"filters_{n}"] = forms.IntegerField(
                label=f"Layer {n} filters",
                min_value=0,  # zero is refused by the architecture, with its reason
                max_value=arch.FILTERS_RANGE[1],
                initial=arch.DEFAULT_ARCHITECTURE["filters"][default],
            )
            layer_fields[f"kernels_{n}"] = forms.IntegerField(
                label=f"Layer {n} kernel",
                min_value=arch.KERNEL_RANGE[0],
                max_value=arch.KERNEL_RANGE[1],
                initial=arch.DEFAULT_ARCHITECTURE["kernels"][default],
                help_text="k × k",
            )
            layer_fields[f"pools_{n}"] = forms.IntegerField(
                label=f"Layer {n} pooling",
                min_value=arch.POOL_RANGE[0],
                max_value=arch.POOL_RANGE[1],
                initial=arch.DEFAULT_ARCHITECTURE["pools"][default],
                help_text="max-pool size (1: none)",
            )
        self.fields = {"name": self.fields.pop("name"), **layer_fields, **self.fields}
        self.summary: Summary | None = None

    def layer_rows(self) -> list[list[forms.BoundField]]:
        """The bound fields of each convolution layer: [filters, kernel, pooling]."""
        return [
            [self[f"{kind}_{n}"] for kind in ("filters", "kernels", "pools")] for n in range(1, arch.CONV_LAYERS + 1)
        ]

    def other_fields(self) -> list[forms.BoundField]:
        names = ["dense", "dropout", "learning_rate", "epochs", "augment", "seed"]
        return [self[name] for name in names + (["course"] if "course" in self.fields else [])]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if self.errors:
            return data
        design = self.design()
        self.summary = summarise(design)
        for field, reason in self.summary.problems.items():
            self.add_error(field, reason)
        return data

    def design(self) -> Design:
        data = self.cleaned_data
        n = range(1, arch.CONV_LAYERS + 1)
        return Design(
            filters=tuple(data[f"filters_{i}"] for i in n),
            kernels=tuple(data[f"kernels_{i}"] for i in n),
            pools=tuple(data[f"pools_{i}"] for i in n),
            dense=data["dense"],
            dropout=data["dropout"],
            learning_rate=data["learning_rate"],
            epochs=data["epochs"],
            augment=bool(data["augment"]),
        )

    @classmethod
    def from_api(cls, body: dict) -> "DesignForm":
        """The form over an API body: ``{name, architecture: {filters, kernels, pools?, dense, dropout}, epochs}``."""
        given = body.get("architecture")
        architecture: dict[str, Any] = given if isinstance(given, dict) else {}
        data: dict = {"name": body.get("name", "")}
        for kind in ("filters", "kernels", "pools"):
            values = architecture.get(kind, arch.DEFAULT_ARCHITECTURE[kind])
            values = values if isinstance(values, list) else []
            for i in range(arch.CONV_LAYERS):
                data[f"{kind}_{i + 1}"] = values[i] if i < len(values) else ""
        data["dense"] = architecture.get("dense", arch.DEFAULT_ARCHITECTURE["dense"])
        data["dropout"] = architecture.get("dropout", arch.DEFAULT_ARCHITECTURE["dropout"])
        data["learning_rate"] = body.get("learning_rate", arch.DEFAULT_LEARNING_RATE)
        data["epochs"] = body.get("epochs", "")
        data["seed"] = body.get("seed", 0)
        augment = body.get("augment", True)
        if augment:
            data["augment"] = "on"
        return cls(data=data)


class VoiceForm(forms.Form):
    """Give one of your recordings, labelled, to a course you attend."""

    course = forms.ModelChoiceField(queryset=Course.objects.none())
    recording = forms.ModelChoiceField(queryset=Recording.objects.none(), help_text="One of your recordings.")
    label = forms.ChoiceField(label="Digit it says", choices=[(str(d), str(d)) for d in range(10)])
    consent = forms.BooleanField(required=False, label="I agree")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        course_field = self.fields["course"]
        recording_field = self.fields["recording"]
        assert isinstance(course_field, forms.ModelChoiceField) and isinstance(recording_field, forms.ModelChoiceField)
        course_field.queryset = courses_attended(user=user)
        recording_field.queryset = recording_list(user=user)


class CourseLimitsForm(forms.Form):
    """An instructor's limits for one course's workshop."""

    trainings_at_once = forms.IntegerField(
        label="Trainings at once per person",
        min_value=1,
        help_text="How many trainings each student of the course may have waiting or running together.",
    )
