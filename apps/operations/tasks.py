"""Celery tasks: the operation runner (one task for every kind; the message carries the operation id only)
and the periodic reaper."""

from __future__ import annotations

import logging
import math
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings

from apps.cloud.errors import CloudError
from apps.operations import runner, services

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name=services.RUN_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # the runner decides (transient errors only, STRATUS_OPERATION_MAX_RETRIES)
    throws=(CloudError,),  # expected: recorded on the row and shown to the user, not logged as a crash
)
def run_operation_task(self: Task[[str], str | None], operation_id: str) -> str | None:
    outcome = runner.run(
        operation_id,
        task_id=self.request.id or "",
        worker=self.request.hostname or "",
        retries=self.request.retries,
    )
    if outcome.retry_in is not None:
        countdown = outcome.retry_in
        if settings.BROKER_IS_AMQP:
            # RabbitMQ holds a countdown in whole seconds (native delayed delivery refuses less than one).
            countdown = max(1, math.ceil(countdown))
        raise self.retry(countdown=countdown)
    return outcome.state


@shared_task(name="operations.reap", ignore_result=True)
def reap_stale_operations() -> int:
    return runner.reap_stale()


@worker_ready.connect
def _resume_orphans(sender: Any = None, **kwargs: Any) -> None:  # a Celery signal (the worker's consumer)
    hostname = getattr(sender, "hostname", "") or ""
    if hostname:
        try:
            services.resume_orphans(hostname)
        except Exception:  # a broken database must not stop the worker from serving
            log.exception("could not resume orphaned operations")
