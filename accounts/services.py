"""Writing accounts."""

from django.contrib.auth.models import User
from django.db import transaction

from accounts.roles import STUDENT, add_to_role


@transaction.atomic
def student_signup(*, username: str, email: str, password: str) -> User:
    """Create a student account."""
    user = User.objects.create_user(username=username, email=email, password=password)
    add_to_role(user, STUDENT)
    return user
