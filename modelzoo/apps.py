from django.apps import AppConfig


class ModelzooConfig(AppConfig):
    """Model versions, features, inference, sonification and rendering."""

    name = "modelzoo"
    verbose_name = "Model zoo"

    def ready(self) -> None:
        # Register this app's job handlers (cheap: worker libraries load inside them).
        import modelzoo.tasks  # noqa: F401
