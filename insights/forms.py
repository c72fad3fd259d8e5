"""Forms of the insight pages: an attack's bound and a sweep's range, with bounds from the specs."""

from typing import Any, cast

from django import forms

from dsp.operation_specs import SEED_MAX
from insights.attacks import SNR_RANGE_DB, STEPS_RANGE
from insights.robustness import MAX_POINTS, SWEEPS


class AttackForm(forms.Form):
    """Which digit to aim at, how loud the noise may be, how many gradient steps, and the seed."""

    target = forms.ChoiceField(label="Make it hear", required=False)
    snr_db = forms.FloatField(
        label="SNR at least",
        min_value=SNR_RANGE_DB[0],
        max_value=SNR_RANGE_DB[1],
        initial=30,
        help_text="Higher is quieter noise: 40 dB is barely audible, 20 dB clearly hissy.",
        error_messages={
            "invalid": "The SNR bound must be a number of dB.",
            "min_value": f"The SNR bound must be between {SNR_RANGE_DB[0]:g} and {SNR_RANGE_DB[1]:g} dB.",
            "max_value": f"The SNR bound must be between {SNR_RANGE_DB[0]:g} and {SNR_RANGE_DB[1]:g} dB.",
        },
    )
    steps = forms.IntegerField(
        label="Steps at most",
        min_value=STEPS_RANGE[0],
        max_value=STEPS_RANGE[1],
        initial=50,
        error_messages={
            "invalid": "The number of steps must be a whole number.",
            "min_value": f"The number of steps must be between {STEPS_RANGE[0]} and {STEPS_RANGE[1]}.",
            "max_value": f"The number of steps must be between {STEPS_RANGE[0]} and {STEPS_RANGE[1]}.",
        },
    )
    seed = forms.IntegerField(
        label="Seed",
        min_value=0,
        max_value=SEED_MAX,
        initial=0,
        help_text="The same seed, steps and bound replay the same attack bit for bit.",
        error_messages={
            "invalid": "The seed must be a whole number.",
            "min_value": f"The seed must be between 0 and {SEED_MAX}.",
            "max_value": f"The seed must be between 0 and {SEED_MAX}.",
        },
    )

    def __init__(self, *args: Any, labels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `target` is the ChoiceField declared above; `fields` holds it as a plain field.
        cast(forms.ChoiceField, self.fields["target"]).choices = [("", "any other digit (untargeted)")] + [
            (x, f"“{x}”") for x in labels
        ]
        self.fields["target"].error_messages["invalid_choice"] = (
            "“%(value)s” is not one of the model's labels (" + ", ".join(labels) + ")."
        )


class SweepForm(forms.Form):
    """One sweepable operation, the range of its parameter, and how many points."""

    op = forms.ChoiceField(choices=[(op, op) for op in SWEEPS], widget=forms.HiddenInput)
    start = forms.FloatField(label="From", error_messages={"invalid": "The start of the range must be a number."})
    stop = forms.FloatField(label="To", error_messages={"invalid": "The end of the range must be a number."})
    num = forms.IntegerField(
        label="Points",
        min_value=2,
        max_value=MAX_POINTS,
        error_messages={
            "invalid": "The number of points must be a whole number.",
            "min_value": f"A sweep has between 2 and {MAX_POINTS} points.",
            "max_value": f"A sweep has between 2 and {MAX_POINTS} points.",
        },
    )

    @classmethod
    def for_op(cls, op: str) -> "SweepForm":
        """An unbound form with the default range of `op`."""
        spec = SWEEPS[op]
        return cls(initial={"op": op, "start": spec.start, "stop": spec.stop, "num": spec.num})
