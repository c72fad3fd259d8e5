"""Create the demo accounts: students alice and bob, instructor ines, admin admin."""

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.roles import INSTRUCTOR, STUDENT, add_to_role
from experiments.models import Course

DEMO_COURSE = "Audio ML 101 (demo)"
DEMO_ACCOUNTS = [
    ("alice", STUDENT),
    ("bob", STUDENT),
    ("ines", INSTRUCTOR),
    ("admin", "admin"),
]


class Command(BaseCommand):
    help = "Create the roles, the demo accounts and a demo course (safe to run again; passwords are printed once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Give the demo accounts new passwords and print them."
        )

    @transaction.atomic
    def handle(self, *args: Any, reset_passwords: bool = False, **options: Any) -> None:
        for name in (STUDENT, INSTRUCTOR):
            Group.objects.get_or_create(name=name)

        printed: list[tuple[str, str, str]] = []
        for username, role in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username)
            if created or reset_passwords:
                password = secrets.token_urlsafe(9)
                user.set_password(password)
                printed.append((username, role, password))
            if role == "admin":
                user.is_staff = user.is_superuser = True
            else:
                add_to_role(user, role)
            user.save()

        course, created_course = Course.objects.get_or_create(
            name=DEMO_COURSE,
            defaults={
                "description": "A demo course: alice and bob attend, ines teaches. Submit an experiment to try it.",
                "created_by": User.objects.get(username="ines"),
            },
        )
        if created_course:
            course.instructors.add(User.objects.get(username="ines"))
            course.students.add(*User.objects.filter(username__in=["alice", "bob"]))
            self.stdout.write(
                f"Demo course “{course.name}” (join code {course.join_code}): ines teaches alice and bob."
            )

        if printed:
            self.stdout.write(self.style.SUCCESS("Demo accounts (these passwords are shown only now):"))
            for username, role, password in printed:
                self.stdout.write(f"  {username:<8} {role:<11} {password}")
            self.stdout.write("")
        else:
            self.stdout.write(
                "Demo accounts already exist; their passwords were printed when they were created. "
                "New ones: python manage.py seed_demo --reset-passwords"
            )
