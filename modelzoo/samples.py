"""The bundled clips (FSDD): two sample clips per digit for demos and the benchmark, and the 250
held-out evaluation clips every model version is evaluated on (the dataset view)."""

from pathlib import Path

from modelzoo.evaluation import LabelledClip, labelled_clips

SAMPLES_DIR = Path(__file__).with_name("samples")
EVALUATION_DIR = Path(__file__).with_name("evaluation_clips")


def sample_clips() -> list[LabelledClip]:
    """The twenty sample clips, sorted by digit then speaker."""
    return labelled_clips(SAMPLES_DIR)


def evaluation_clips() -> list[LabelledClip]:
    """The 250 held-out evaluation clips, sorted by name."""
    return labelled_clips(EVALUATION_DIR)


def sample_clip(name: str) -> LabelledClip | None:
    """The bundled clip (sample or evaluation) called `name` (file stem), or None."""
    return next((clip for clip in [*sample_clips(), *evaluation_clips()] if clip.name == name), None)
