from django.apps import AppConfig


class DdevisSiteConfig(AppConfig):
    """The site package itself, installed for its management commands (serve)."""

    name = "ddevis_site"
    verbose_name = "d-DeVIS site"
