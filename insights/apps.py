from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Looking past the layers: attribution, attacks, robustness sweeps and the dataset view."""

    name = "insights"

    def ready(self) -> None:
        # Register this app's job handlers (cheap: worker libraries load inside them).
        import insights.tasks  # noqa: F401
