"""The errors of the DSP package: each message is a sentence an end user can read."""

from __future__ import annotations


class AudioError(ValueError):
    """The one error raised for audio that cannot be used.

    Its message is a complete sentence that can be shown to the end user.
    """


class OperationError(ValueError):
    """The one error for an operation that cannot be applied.

    ``str(error)`` is a sentence for the end user, prefixed by the operation
    (``"gain: ..."``) or by its place in a list (``"step 2 (repeat): ..."``).
    ``detail`` is the sentence without the prefix; ``op``, ``param`` and
    ``step`` (1-based) say where the fault is, when known.
    """

    def __init__(self, detail: str, *, op: str | None = None, param: str | None = None, step: int | None = None):
        self.detail, self.op, self.param, self.step = detail, op, param, step
        prefix = f"{op}: " if op else ""
        if step is not None:
            prefix = f"step {step} ({op}): " if op else f"step {step}: "
        super().__init__(prefix + (detail if prefix else detail[:1].upper() + detail[1:]))

    def at_step(self, step: int) -> OperationError:
        """The same error, located at ``step`` of an operation list."""
        return OperationError(self.detail, op=self.op, param=self.param, step=step)
