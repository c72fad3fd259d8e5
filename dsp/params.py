"""The parameters that define a model's input features, stored with every model version."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

FIT_MODES = ("centre_active", "start")
ACTIVE_METHODS = ("peak", "noise_floor")
NORMALISATIONS = ("clip", "frequency", "none")
WINDOWS = ("hann", "hamming")


@dataclass(frozen=True)
class FeatureParams:
    """Everything that defines the model's input features.

    Stored next to every model version so inference reproduces training.

    Attributes
    ----------
    sample_rate : int
        Rate (Hz) every input is resampled to.
    duration_s : float
        Length of the analysed window in seconds.
    n_fft : int
        FFT size; ``n_freq = n_fft // 2 + 1``.
    hop_length : int
        Samples between successive frames.
    win_length : int
        Window length, ``<= n_fft`` (centred inside the FFT frame).
    window : str
        ``"hann"`` or ``"hamming"`` (periodic).
    fit_mode : str
        How a clip is brought to ``duration_s``; see :func:`fit_to_duration`.
    trim_db : float
        Frames quieter than the loudest frame minus ``trim_db`` are not
        "active" when locating the word (``fit_mode="centre_active"``).
    active_method : str
        How the word is found in the take: ``"peak"`` (every frame within
        ``trim_db`` of the loudest; in steady noise that is the whole take) or
        ``"noise_floor"`` (frames clearly above the take's estimated noise
        floor, the loudest group of them); see :func:`dsp.features.active_region`.
        The default reproduces the features of models made before the choice
        existed.
    floor_margin_db : float
        With ``active_method="noise_floor"``: a frame is speech when it is at
        least this far above the noise floor (and in the upper half of the
        floor-to-peak range).
    amin : float
        Power floor before the logarithm (avoids ``log(0)``).
    top_db : float
        The log spectrogram is clipped at its maximum minus ``top_db``, so the
        floor is relative to the clip's own level (loudness invariant).
    normalisation : str
        ``"clip"`` (standardise with the clip's mean and std),
        ``"frequency"`` (standardise each frequency row over time) or
        ``"none"``.
    silence_dbfs : float
        A clip whose peak is below this level (dB re full scale) is silent.
    remove_dc : bool
        Subtract the mean before anything else (cheap microphones add DC).
    """

    sample_rate: int = 8000
    duration_s: float = 1.0
    n_fft: int = 256
    hop_length: int = 128
    win_length: int = 256
    window: str = "hann"
    fit_mode: str = "centre_active"
    trim_db: float = 40.0
    active_method: str = "peak"
    floor_margin_db: float = 6.0
    amin: float = 1e-10
    top_db: float = 80.0
    normalisation: str = "clip"
    silence_dbfs: float = -60.0
    remove_dc: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate <= 0 or self.duration_s <= 0:
            problems.append("sample_rate and duration_s must be positive")
        if not 0 < self.win_length <= self.n_fft or self.hop_length <= 0:
            problems.append("need 0 < win_length <= n_fft and hop_length > 0")
        if self.window not in WINDOWS:
            problems.append(f"window must be one of {WINDOWS}")
        if self.fit_mode not in FIT_MODES:
            problems.append(f"fit_mode must be one of {FIT_MODES}")
        if self.active_method not in ACTIVE_METHODS:
            problems.append(f"active_method must be one of {ACTIVE_METHODS}")
        if not 0 <= self.floor_margin_db <= 60:
            problems.append("floor_margin_db must be between 0 and 60")
        if self.normalisation not in NORMALISATIONS:
            problems.append(f"normalisation must be one of {NORMALISATIONS}")
        if self.amin <= 0 or self.top_db <= 0 or self.trim_db <= 0:
            problems.append("amin, top_db and trim_db must be positive")
        if problems:
            raise ValueError("Invalid feature parameters: " + "; ".join(problems) + ".")

    @property
    def n_samples(self) -> int:
        """Samples in the analysed window."""
        return round(self.sample_rate * self.duration_s)

    @property
    def n_freq(self) -> int:
        """Frequency bins of the one-sided spectrum."""
        return self.n_fft // 2 + 1

    @property
    def n_frames(self) -> int:
        """STFT frames of a window of ``n_samples`` (centred frames)."""
        return 1 + self.n_samples // self.hop_length

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dictionary of all fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> FeatureParams:
        """Inverse of :meth:`to_dict`; missing keys take their defaults.

        What comes from outside (an upload's sidecar, the admin's form) is checked here:
        the kind of each value (a whole number, a number, a name, yes/no) and bounds that
        keep a model's input, hence a worker's memory, reasonable (``FIELD_BOUNDS``).

        Raises
        ------
        ValueError
            Not a mapping; unknown keys (a model saved by a newer pipeline must not be
            silently run with different features); a value of the wrong kind, out of
            bounds, or invalid together with the others.  The message names the field.
        """
        if not isinstance(d, Mapping):
            kind = "a list" if isinstance(d, list | tuple) else f"a {type(d).__name__}"
            raise ValueError(
                f'Feature parameters must be an object of names and values, like {{"sample_rate": 8000}} (got {kind}).'
            )
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(str(key) for key in d if key not in known)
        if unknown:
            raise ValueError(f"Unknown feature parameter(s): {', '.join(unknown)}.")
        for name, value in d.items():
            # `from __future__ import annotations`: a field's type is the name of its type ("int", "str"…).
            _check_field(name, str(known[name].type), value)
        return cls(**d)


# Bounds on what an uploaded model may ask for: a minute of audio at 48 kHz at most, an FFT
# of at most 16384 points.
FIELD_BOUNDS: dict[str, tuple[float, float]] = {
    "sample_rate": (1000, 48000),
    "duration_s": (0.01, 60.0),
    "n_fft": (8, 16384),
    "hop_length": (1, 16384),
    "win_length": (1, 16384),
    "trim_db": (0.1, 200.0),
    "amin": (1e-30, 1.0),
    "top_db": (0.1, 300.0),
    "silence_dbfs": (-300.0, 0.0),
    "floor_margin_db": (0.0, 60.0),
}
# The fields that take one of a few names.
FIELD_CHOICES = {
    "window": WINDOWS,
    "fit_mode": FIT_MODES,
    "normalisation": NORMALISATIONS,
    "active_method": ACTIVE_METHODS,
}


def _check_field(name: str, kind: str, value: Any) -> None:
    """Refuse a value of the wrong kind or out of ``FIELD_BOUNDS`` for field ``name``."""
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false (got {shown}).")
        return
    if kind == "str":
        if value not in FIELD_CHOICES[name]:
            raise ValueError(f"{name} must be one of {', '.join(FIELD_CHOICES[name])} (got {shown}).")
        return
    whole = kind == "int"
    if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not isinstance(value, int)):
        raise ValueError(f"{name} must be {'a whole number' if whole else 'a number'} (got {shown}).")
    lo, hi = FIELD_BOUNDS[name]
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g} (got {shown}).")
