"""A task worker that warms up before taking work, so the first job is as fast as the rest."""

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(DbWorkerCommand):
    help = "Run a task worker: warm up (load the active model), then poll the queue every WORKER_POLL_INTERVAL s."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        # db_worker polls once a second; interactive analyses need a quicker pick-up.
        parser.set_defaults(interval=settings.WORKER_POLL_INTERVAL, reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        for path in settings.WORKER_WARMUP:
            self.stdout.write(f"Warming up: {path}")
            import_string(path)()
        super().handle(*args, **options)
