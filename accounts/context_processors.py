"""Template context shared by every page."""

from django.http import HttpRequest

from accounts.roles import role_of


def roles(request: HttpRequest) -> dict[str, object]:
    """Expose the signed-in user's role as `role`."""
    return {"role": role_of(request.user)}
