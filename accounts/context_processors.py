"""Template context shared by every page."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.roles import role_of


def roles(request: HttpRequest) -> dict[str, object]:
    """Expose the signed-in user's role as `role`, and the navigation's badge counts as `nav_badges`."""
    return {"role": role_of(request.user), "nav_badges": SimpleLazyObject(lambda: _nav_badges(request))}


def _nav_badges(request: HttpRequest) -> dict[str, int]:
    # Lazy: only pages that draw the navigation pay for the two queries.
    if not request.user.is_authenticated:
        return {}
    from experiments.selectors import review_badges

    return review_badges(user=request.user)
