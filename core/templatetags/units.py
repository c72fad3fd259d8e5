"""A number with its unit as a sentence says it: "1 semitone", "0.5 semitones", "3 dB", "1.25×"."""

from django import template

register = template.Library()

# Units written as words take the singular for exactly one; symbols (s, dB, ×) never change.
_SINGULAR = {"semitones": "semitone", "times": "time", "points": "point"}


@register.filter
def with_unit(value: float | int | str, unit: str) -> str:
    """``value`` (shortest form, ``%g``) followed by ``unit``, singular for ±1 where the unit is a word."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{value} {unit}".strip()
    text = f"{number:g}"
    if not unit:
        return text
    if unit == "×":
        return f"{text}×"
    if abs(number) == 1:
        unit = _SINGULAR.get(unit, unit)
    return f"{text} {unit}"
