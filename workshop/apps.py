from django.apps import AppConfig


class WorkshopConfig(AppConfig):
    name = "workshop"
    verbose_name = "Model workshop"

    def ready(self) -> None:
        from modelzoo.selectors import register_sharing_peers
        from workshop import tasks  # noqa: F401  (registers the job handler)
        from workshop.selectors import course_peers

        register_sharing_peers(course_peers)
