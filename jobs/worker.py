"""The worker loop: take the next task, run it; when the queue is empty, wait to be woken (or poll).

It is django-tasks-db's worker with two changes: an idle worker waits on
:class:`jobs.wakeup.WakeListener` instead of sleeping, and a :class:`jobs.leases.Heartbeat`
renews the lease of the job it runs and fails the jobs of workers that stopped.
"""

import logging
import random
import time

from django.db import close_old_connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker as DbWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from jobs.leases import Heartbeat
from jobs.wakeup import WakeListener

logger = logging.getLogger("django_tasks_db")


class Worker(DbWorker):
    def run(self) -> None:
        listener = WakeListener()  # before the first look at the queue: nothing queued after it is missed
        heartbeat = Heartbeat(worker=self.worker_id)
        heartbeat.start()
        logger.info(
            "Starting worker worker_id=%s queues=%s wake-up=%s", self.worker_id, ",".join(self.queue_names),
            listener.kind,
        )  # fmt: skip
        try:
            if self.startup_delay and self.interval:
                time.sleep(random.random())
            while self.running:
                close_old_connections()
                task_result, retrieved = self._take_next()
                if task_result is not None:
                    self.run_task(task_result)
                    close_old_connections()
                    if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                        logger.info("Ran the maximum of %d tasks; exiting.", self._run_tasks)
                        return
                    continue
                if self.batch and retrieved:
                    logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                    return
                close_old_connections()
                if self.running:
                    listener.wait(self.interval)
        finally:
            heartbeat.stop()
            listener.close()

    def _take_next(self) -> tuple[DBTaskResult | None, bool]:
        """Claim the next ready task (None when there is none); and whether the queue could be read."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)  # no other worker runs it now
                return task_result, True
            except OperationalError as error:
                if is_locked_database_exception(error):
                    return None, False  # it unlocks soon; look again after the wait
                raise
