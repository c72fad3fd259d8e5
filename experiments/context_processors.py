"""Template context every page's navigation needs from the experiments app."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from experiments.selectors import review_badges


def nav_badges(request: HttpRequest) -> dict[str, object]:
    """The navigation's badge counts as `nav_badges` (lazy: only pages that draw the navigation pay for them)."""
    user = request.user
    if not user.is_authenticated:
        return {"nav_badges": {}}
    return {"nav_badges": SimpleLazyObject(lambda: review_badges(user=user))}
