"""Writing courses: instructors create them, students join them by code."""

import re

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from accounts.roles import is_instructor
from core.errors import ServiceError
from core.throttles import JOIN_CODE_LIMIT
from experiments.models import Course, _join_code
from experiments.selectors import is_course_instructor


def normalise_join_code(code: str) -> str:
    """Codes are read out loud and typed by hand: ignore case, spaces and dashes."""
    return re.sub(r"[\s-]+", "", code or "").upper()


def course_create(*, instructor: User, name: str, description: str = "") -> Course:
    """A new course taught by `instructor`, with a fresh join code."""
    if not (is_instructor(instructor) or instructor.is_staff):
        raise ServiceError("Only instructors can create courses.", status=403)
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("Give the course a name.")
    if len(name) > 120:
        raise ServiceError("A course name is limited to 120 characters.")
    description = (description or "").strip()
    if len(description) > 2000:
        raise ServiceError("A course description is limited to 2000 characters.")
    with transaction.atomic():
        course = Course.objects.create(name=name, description=description, created_by=instructor)
        course.instructors.add(instructor)
    return course


def course_join(*, student: User, join_code: str) -> tuple[Course, bool]:
    """Join the course whose code is `join_code`; returns (course, joined now).

    Joining twice is harmless (joined now is False).
    """
    who = str(student.pk)
    if wait := JOIN_CODE_LIMIT.wait(who):
        raise ServiceError(
            f"Too many wrong join codes; try again in {wait}, or ask your instructor for the link.",
            status=429,
            field="join_code",
        )
    code = normalise_join_code(join_code)
    if not code:
        raise ServiceError("Type the join code your instructor gave you.")
    course = Course.objects.filter(join_code=code).first()
    if course is None:
        # Counted per user: a code is short enough to guess, so guesses must be few. A mistyped code is
        # a wrong value in a form (400, next to the field), not a missing page.
        JOIN_CODE_LIMIT.hit(who)
        raise ServiceError(f"No course has the join code “{code}”. Check it with your instructor.")
    if is_course_instructor(user=student, course=course):
        raise ServiceError(f"You teach “{course.name}”; students join it with its code.", status=409)
    if course.students.filter(pk=student.pk).exists():
        return course, False
    course.students.add(student)
    return course, True


def course_leave(*, student: User, course: Course) -> None:
    """Leave a course; experiments already submitted to it stay with its instructors."""
    course.students.remove(student)


def course_new_join_code(*, course: Course, instructor: User) -> Course:
    """Give a course a new join code (the old one stops working; members stay)."""
    if not is_course_instructor(user=instructor, course=course):
        raise ServiceError("Only an instructor of the course can change its join code.", status=403)
    for _ in range(5):
        try:
            with transaction.atomic():
                course.join_code = _join_code()
                course.save(update_fields=["join_code"])
            return course
        except IntegrityError:
            continue  # Another course holds this code: draw again.
    raise ServiceError("Could not draw a new join code; try again.", status=503)
