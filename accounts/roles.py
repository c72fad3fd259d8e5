"""The three roles: students and instructors are Django groups, admins are staff users."""

from django.contrib.auth.models import AnonymousUser, Group, User

STUDENT = "student"
INSTRUCTOR = "instructor"
ADMIN = "admin"

# The attribute `is_instructor` caches its answer under, on the user object.
_INSTRUCTOR_CACHE = "_is_instructor"


def role_of(user: User | AnonymousUser) -> str | None:
    """The role a user's pages are built for: admin, instructor or student (None if anonymous)."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return ADMIN
    if is_instructor(user):
        return INSTRUCTOR
    return STUDENT


def is_instructor(user: User | AnonymousUser) -> bool:
    """True for members of the instructor group."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, _INSTRUCTOR_CACHE, None)
    if cached is None:
        cached = user.groups.filter(name=INSTRUCTOR).exists()
        # Kept on the user object for the rest of the request: every page asks several times.
        setattr(user, _INSTRUCTOR_CACHE, cached)
    return cached


def add_to_role(user: User, role: str) -> None:
    """Put `user` in the group of `role` (student or instructor), creating it if needed."""
    if role not in {STUDENT, INSTRUCTOR}:
        raise ValueError(f"Unknown group role {role!r}.")
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    user.__dict__.pop(_INSTRUCTOR_CACHE, None)
