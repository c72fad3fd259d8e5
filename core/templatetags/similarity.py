"""How a similarity between two maps reads on a page: its value, or "undefined" when both maps are flat (all zeros).

Comparison tables (experiments) and the sanity check of explanations (insights) both show one.
"""

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def similarity(value: float | None, digits: int = 3) -> str:
    """``0.912`` for a value; "undefined" for two all-zero maps, which have no pattern to compare."""
    if value is None:
        return "undefined"
    return floatformat(value, digits)
