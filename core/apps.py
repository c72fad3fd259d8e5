from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Plumbing every feature shares and none owns: the service error, media responses, charts, figures."""

    name = "core"
