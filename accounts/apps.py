from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, roles (student, instructor, admin) and each role's dashboard."""

    name = "accounts"
