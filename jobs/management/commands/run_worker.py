"""A task worker that warms up before taking work, is woken the moment a job is queued, and heart-beats."""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from jobs.worker import Worker


class Command(DbWorkerCommand):
    help = (
        "Run a task worker: warm up (load the active model), then take jobs as soon as they are queued "
        "(woken by the database or a local pipe; WORKER_POLL_INTERVAL s is the fallback poll)."
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(interval=settings.WORKER_POLL_INTERVAL, reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        """db_worker's options, our Worker (wake-up and heart-beat); no auto-reload."""
        self.configure_logging(options["verbosity"])
        for path in settings.WORKER_WARMUP:
            self.stdout.write(f"Warming up: {path}")
            import_string(path)()
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
