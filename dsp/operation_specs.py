"""What the audio operations are: their names, labels, parameters with bounds, and their error type.

The registry the lab's edit panel, the API and validation read
(:mod:`dsp.operations` validates and applies them).  No numpy, no Django.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from dsp.limits import INLINE_REPLAY_MAX_STEPS

MIN_DURATION_S = 0.01
MIN_SR, MAX_SR = 8000, 48000
SEED_MAX = 2**31 - 1

# A time up to half a millisecond past a clip's edge is that edge. Durations and region
# edges are shown and typed in milliseconds (three decimals), and a time rounded to the
# millisecond is at most half of one from the exact value; such a time is pulled onto the
# edge, so it never reaches past the last sample.
EDGE_TOLERANCE_S = 0.0005
# What the checks allow: 0.403 - 0.4025 is 0.0005000000000000004 in binary floating point.
EDGE_MARGIN_S = EDGE_TOLERANCE_S + 1e-9

# The history step an attack adds: only a worker with the model can compute it (insights.attacks).
ADVERSARIAL_OP = "adversarial"


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an operation, as the UI and the API describe it.

    ``default`` is the form's initial value and, when ``required`` is false, the
    value filled in for an omitted parameter.  When ``relative_to_duration`` is
    true, ``minimum``, ``maximum`` and ``default`` are fractions of the current
    clip's duration (``to_dict(duration_s)`` turns them into seconds).
    ``exclusive`` makes both bounds strict.  ``step`` is only a widget hint.
    """

    name: str
    label: str
    kind: Literal["float", "int"]
    minimum: float
    maximum: float
    default: float
    step: float
    unit: Literal["s", "dB", "semitones", "×", ""]
    help: str
    required: bool = True
    relative_to_duration: bool = False
    exclusive: bool = False

    def bounds(self, duration_s: float) -> tuple[float, float]:
        """The ``(minimum, maximum)`` allowed on a clip of ``duration_s`` seconds."""
        if self.relative_to_duration:
            return self.minimum * duration_s, self.maximum * duration_s
        return self.minimum, self.maximum

    def accepted_bounds(self, duration_s: float) -> tuple[float, float]:
        """What validation accepts: :meth:`bounds`, widened by ``EDGE_TOLERANCE_S`` at a clip's edges.

        Only inclusive times relative to the duration are widened; a value in the margin is
        pulled onto the bound by validation.
        """
        lo, hi = self.bounds(duration_s)
        if self.relative_to_duration and not self.exclusive:
            return lo - EDGE_MARGIN_S, hi + EDGE_MARGIN_S
        return lo, hi

    def default_for(self, duration_s: float) -> float | int:
        """The default on a clip of ``duration_s`` seconds, typed by ``kind``."""
        if self.kind == "int":
            return int(self.default)
        return float(self.default * duration_s if self.relative_to_duration else self.default)

    def to_dict(self, duration_s: float | None = None) -> dict[str, Any]:
        """JSON-ready fields; with ``duration_s``, duration-relative values become seconds."""
        d = asdict(self)
        if duration_s is not None and self.relative_to_duration:
            d["minimum"], d["maximum"] = self.bounds(duration_s)
            d["default"], d["relative_to_duration"] = self.default_for(duration_s), False
        return d


@dataclass(frozen=True)
class OperationSpec:
    """An operation as the UI and the API describe it: name, label, what it does, parameters."""

    op: str
    label: str
    description: str
    params: tuple[ParamSpec, ...] = ()

    def to_dict(self, duration_s: float | None = None) -> dict[str, Any]:
        """JSON-ready fields; ``duration_s`` as in :meth:`ParamSpec.to_dict`."""
        d = {"op": self.op, "label": self.label, "description": self.description}
        return d | {"params": [p.to_dict(duration_s) for p in self.params]}


def _time(name: str, label: str, default: float, help: str, **flags: Any) -> ParamSpec:
    """A time in seconds bounded by the clip's duration: ``minimum`` (default 0) to 1 duration."""
    lo = flags.pop("minimum", 0.0)
    return ParamSpec(name, label, "float", lo, 1.0, default, 0.001, "s", help, relative_to_duration=True, **flags)


def _db(name: str, label: str, lo: float, hi: float, default: float, help: str) -> ParamSpec:
    return ParamSpec(name, label, "float", lo, hi, default, 0.5, "dB", help)


_START, _END = "Region start, in seconds from the beginning.", "Region end, in seconds (not included)."

# fmt: off
OPERATIONS: dict[str, OperationSpec] = {spec.op: spec for spec in (
    OperationSpec("slice", "Slice (crop)",
        "Keeps only the chosen region and drops everything before and after it, so the clip gets shorter.",
        (_time("start", "Start", 0.0, _START), _time("end", "End", 1.0, _END))),
    OperationSpec("crossfade", "Cross-fade over a region",
        "Replaces the region with what surrounds it: the sound just before it fades out while the sound just "
        "after it fades in (equal-power curves), so the region's own content disappears.",
        (_time("start", "Start", 0.4, _START), _time("end", "End", 0.6, _END))),
    OperationSpec("loudness_ramp", "Loudness ramp",
        "Changes the loudness gradually, in dB, from one gain at the first sample to another at the last.",
        (_db("start_db", "Gain at the start", -60, 20, 0, "Gain applied to the first sample."),
         _db("end_db", "Gain at the end", -60, 20, -20, "Gain applied to the last sample."))),
    OperationSpec("gain", "Gain", "Makes the whole clip louder or quieter by the same amount.",
        (_db("db", "Gain", -60, 30, 6, "Positive is louder, negative quieter; +6 dB doubles the amplitude."),)),
    OperationSpec("repeat", "Repeat", "Plays the clip several times in a row.",
        (ParamSpec("times", "Times", "int", 2, 8, 2, 1, "×", "How many copies, back to back.", required=False),)),
    OperationSpec("reverse", "Reverse", "Plays the clip backwards, from the end to the beginning."),
    OperationSpec("fade", "Fade in / out",
        "Raises the volume linearly from silence over the beginning and lowers it linearly to silence over the end.",
        (_time("fade_in", "Fade in", 0.0, "Length of the fade-in in seconds (0 for none).", required=False),
         _time("fade_out", "Fade out", 0.0, "Length of the fade-out in seconds (0 for none).", required=False))),
    OperationSpec("pitch_shift", "Pitch shift",
        "Makes the voice higher or lower without changing how long the clip lasts.",
        (ParamSpec("semitones", "Pitch", "float", -12, 12, 4, 0.5, "semitones",
                   "Positive is higher; 12 semitones is one octave."),)),
    OperationSpec("time_stretch", "Time stretch",
        "Makes the clip faster and shorter, or slower and longer, without changing the pitch.",
        (ParamSpec("rate", "Speed", "float", 0.5, 2.0, 1.25, 0.05, "×",
                   "Above 1 is faster (shorter), below 1 slower (longer)."),)),
    OperationSpec("add_noise", "Add noise",
        "Adds white hiss at a chosen signal-to-noise ratio; the same seed always gives the same noise.",
        (ParamSpec("snr_db", "Signal-to-noise ratio", "float", -10, 60, 20, 1, "dB",
                   "How much stronger the clip is than the noise; lower is noisier."),
         ParamSpec("seed", "Seed", "int", 0, SEED_MAX, 0, 1, "", "Picks which random noise is added.",
                   required=False))),
    OperationSpec("time_shift", "Time shift",
        "Moves the sound later (positive) or earlier (negative), filling the gap with silence; what moves past "
        "an edge is lost and the length stays the same.",
        (_time("seconds", "Shift", 0.0, "Shift in seconds; positive moves the sound later.",
               minimum=-1.0, exclusive=True),)),
)}
# fmt: on


def history_needs_worker(operations: list[dict]) -> bool:
    """True when a history holds a step only a worker can compute (an attack's adversarial step)."""
    return any(step.get("op") == ADVERSARIAL_OP for step in operations)


def history_replays_on_worker(operations: list[dict]) -> bool:
    """True when replaying a history is a job: it needs the model, or it is too long for one web request."""
    return history_needs_worker(operations) or len(operations) > INLINE_REPLAY_MAX_STEPS
