"""Celery tasks of the accounts app: expired sessions (and the sealed tokens in them) leave the database."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="accounts.clearsessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """What `manage.py clearsessions` does, on Celery beat's schedule (dashboard/celery.py)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
