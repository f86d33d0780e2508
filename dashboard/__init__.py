"""The Stratus Django project: settings, URLs, the Celery app."""

from dashboard.celery import app as celery_app

__all__ = ["celery_app"]
