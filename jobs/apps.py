from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: the record pages poll, and the task that runs every kind of job."""

    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"
