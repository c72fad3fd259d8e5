from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.roles import ADMIN, INSTRUCTOR, STUDENT, role_of
from experiments.models import Course


def test_it_creates_the_demo_accounts_once(db):
    first, second = StringIO(), StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    roles = {user.username: role_of(user) for user in User.objects.all()}
    assert roles == {"alice": STUDENT, "bob": STUDENT, "ines": INSTRUCTOR, "admin": ADMIN}
    lines = [line.split() for line in first.getvalue().splitlines() if line.startswith("  ")]
    passwords = {fields[0]: fields[2] for fields in lines}
    assert User.objects.get(username="alice").check_password(passwords["alice"])
    assert "already exist" in second.getvalue()
    course = Course.objects.get()
    assert [u.username for u in course.instructors.all()] == ["ines"]
    assert sorted(u.username for u in course.students.all()) == ["alice", "bob"]
    assert passwords["alice"] not in second.getvalue()


def test_it_resets_passwords_on_request(db):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()

    call_command("seed_demo", "--reset-passwords", stdout=out)

    lines = [line.split() for line in out.getvalue().splitlines() if line.startswith("  ")]
    assert User.objects.get(username="ines").check_password(dict((f[0], f[2]) for f in lines)["ines"])
