"""Who is asking, as the API sees it: the signed-in user of a request its permission let through."""

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request


def api_user(request: Request) -> User:
    """The signed-in user of an API request (every API view requires one: `IsAuthenticated` by default).

    Services and selectors take a `User`; an anonymous caller that got this far is refused
    the way the permission would refuse it, never passed on.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
