from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:  # models are not imported while the app registry loads
    from modelzoo.models import ModelVersion


class InsightsConfig(AppConfig):
    """Looking past the layers: attribution, attacks, robustness sweeps, the dataset view, filter insight,
    concept labels, ablations and the network overview."""

    name = "insights"

    def ready(self) -> None:
        # Register this app's job handlers (cheap: worker libraries load inside them).
        import insights.tasks  # noqa: F401
        from modelzoo.signals import version_validated

        version_validated.connect(_version_validated, dispatch_uid="insights.version_validated")


def _version_validated(sender: type, *, version: "ModelVersion", **kwargs: object) -> None:
    """A version just became valid: queue what its filters like (unless settings say not to)."""
    from django.conf import settings

    from insights.services import version_insight_after_validation

    if getattr(settings, "FILTER_INSIGHT_ON_VALIDATION", True):
        version_insight_after_validation(version=version)
