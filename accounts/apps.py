from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, roles (student, instructor, admin), API tokens and each role's dashboard."""

    name = "accounts"

    def ready(self) -> None:
        from accounts import signals

        signals.connect()
