"""The bundled clips (FSDD): two sample clips per digit for demos and the benchmark, and the 250
held-out evaluation clips every model version is evaluated on (the dataset view)."""

import re
from dataclasses import dataclass
from pathlib import Path

SAMPLES_DIR = Path(__file__).with_name("samples")
EVALUATION_DIR = Path(__file__).with_name("evaluation_clips")
NAME_PATTERN = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<take>\d+)\.wav$")


@dataclass(frozen=True)
class SampleClip:
    """One bundled clip and what its file name says about it."""

    name: str
    path: Path
    label: str
    speaker: str
    take: int

    @property
    def title(self) -> str:
        return f"Sample: “{self.label}” by {self.speaker} (take {self.take})"


def _clips(folder: Path) -> list[SampleClip]:
    clips = []
    for path in sorted(folder.glob("*.wav")):
        match = NAME_PATTERN.match(path.name)
        if match:
            clips.append(
                SampleClip(
                    name=path.stem,
                    path=path,
                    label=match["digit"],
                    speaker=match["speaker"],
                    take=int(match["take"]),
                )
            )
    return clips


def sample_clips() -> list[SampleClip]:
    """The twenty sample clips, sorted by digit then speaker."""
    return _clips(SAMPLES_DIR)


def evaluation_clips() -> list[SampleClip]:
    """The 250 held-out evaluation clips, sorted by name."""
    return _clips(EVALUATION_DIR)


def sample_clip(name: str) -> SampleClip | None:
    """The bundled clip (sample or evaluation) called `name` (file stem), or None."""
    return next((clip for clip in [*sample_clips(), *evaluation_clips()] if clip.name == name), None)
