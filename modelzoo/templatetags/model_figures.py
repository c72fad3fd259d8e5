"""Template filters for model figures."""

from django import template

register = template.Library()


@register.filter
def percent(fraction: float | None) -> str:
    """0.988 -> "98.8%", 1.0 -> "100%": one decimal, so 98.8 % is not shown as 99 %."""
    if fraction is None or fraction == "":
        return "—"
    text = f"{100 * float(fraction):.1f}".removesuffix(".0")
    return f"{text}%"


@register.filter
def plain(value: object) -> str:
    """A sidecar value as a person writes it: lists joined by commas, not Python's repr."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
