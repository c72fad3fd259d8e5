from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Recordings, manipulations, analyses, experiments, courses and reviews."""

    name = "experiments"

    def ready(self) -> None:
        # Register this app's job handlers (cheap: worker libraries load inside them).
        import experiments.tasks  # noqa: F401
