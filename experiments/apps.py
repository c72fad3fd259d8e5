from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Recordings, manipulations, analyses, experiments, courses and reviews."""

    name = "experiments"
