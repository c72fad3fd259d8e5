"""Replaying a recording's whole history from its original, including steps only a worker can compute."""

from collections.abc import Callable

from django.conf import settings

from dsp.canonical import CanonicalAudio, canonical
from dsp.operation_specs import ADVERSARIAL_OP
from dsp.operations import apply_operations


def replay_history(
    original: CanonicalAudio, operations: list[dict], *, progress: Callable[[int, str], None] | None = None
) -> CanonicalAudio:
    """Apply every step of `operations` to `original`, running adversarial steps with their model version.

    Worker side when the history holds an adversarial step (it loads the model);
    pure numpy otherwise.
    """
    y, sr = original.y, original.sample_rate
    pending: list[dict] = []

    def flush() -> None:
        nonlocal y
        if pending:
            y, _ = apply_operations(y, sr, pending, max_duration_s=settings.MAX_AUDIO_SECONDS)
            pending.clear()

    for index, step in enumerate(operations, start=1):
        if step.get("op") != ADVERSARIAL_OP:
            pending.append(step)
            continue
        flush()
        from insights.attacks import apply_adversarial
        from modelzoo.inference import load_version
        from modelzoo.models import ModelVersion

        if progress:
            progress(10 + 80 * index // len(operations), f"Replaying the attack (step {index})")
        version = ModelVersion.objects.get(pk=step["params"]["model_version"])
        model = load_version(version)
        y, _ = apply_adversarial(model, y, sr, step["params"])
        sr = model.params.sample_rate
    flush()
    return canonical(y, sr)
