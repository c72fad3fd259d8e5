"""The bundled sample clips (two per digit, FSDD): demos, upload checks and the benchmark."""

import re
from dataclasses import dataclass
from pathlib import Path

SAMPLES_DIR = Path(__file__).with_name("samples")
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


def sample_clips() -> list[SampleClip]:
    """Every bundled clip, sorted by digit then speaker."""
    clips = []
    for path in sorted(SAMPLES_DIR.glob("*.wav")):
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


def sample_clip(name: str) -> SampleClip | None:
    """The bundled clip called `name` (file stem), or None."""
    return next((clip for clip in sample_clips() if clip.name == name), None)
