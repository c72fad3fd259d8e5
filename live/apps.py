from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live mode: the network listens while you speak, through a warm engine process beside the web tier."""

    name = "live"
