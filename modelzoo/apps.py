from django.apps import AppConfig


class ModelzooConfig(AppConfig):
    """Model versions, features, inference, sonification and rendering."""

    name = "modelzoo"
    verbose_name = "Model zoo"
