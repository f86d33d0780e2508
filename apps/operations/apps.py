from typing import Any

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"

    def ready(self) -> None:
        # Register every app's handlers (`apps/<app>/operations.py`) in the web and the worker processes alike:
        # the web needs their titles, the worker runs them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("operations")

        # An operation made without dispatch() (bulk_create there wakes it itself) also wakes the user's tracker.
        from django.db import transaction
        from django.db.models.signals import post_save

        from apps.operations.models import Operation
        from apps.operations.services import wake_tracker

        def created(sender: type[Operation], instance: Operation, created: bool, **kwargs: Any) -> None:
            if created:  # now, and again after the commit (a page may have read before the row was visible)
                wake_tracker(instance.project_id)
                transaction.on_commit(lambda: wake_tracker(instance.project_id))

        post_save.connect(created, sender=Operation, weak=False, dispatch_uid="operations.wake_tracker")
