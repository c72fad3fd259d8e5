"""Create the demo accounts: students alice and bob, instructor ines, admin admin."""

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.roles import INSTRUCTOR, STUDENT, add_to_role

DEMO_ACCOUNTS = [
    ("alice", STUDENT),
    ("bob", STUDENT),
    ("ines", INSTRUCTOR),
    ("admin", "admin"),
]


class Command(BaseCommand):
    help = "Create the roles and the demo accounts (safe to run again; passwords are printed once)."

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
