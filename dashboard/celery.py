"""The Celery app: `celery -A dashboard worker`. Configuration lives in settings under CELERY_*."""

from __future__ import annotations

import os
import sys

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

_path = list(sys.path)
app = Celery("dashboard")
# Celery's Django fixup puts the working directory first on sys.path. Run from an app directory (as
# `../../manage.py makemessages` is), that shadows the `apps` package with the app's own apps.py: undo it.
_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if (
    len(sys.path) == len(_path) + 1
    and sys.path[0] == os.getcwd()
    and sys.path[1:] == _path
    and os.path.abspath(os.getcwd()) != _root
):
    sys.path.pop(0)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# `--beat` runs these. The reaper fails operations whose worker went quiet (see apps/operations/runner.py);
# clearsessions deletes expired sessions, so their sealed tokens do not linger in the database.


@worker_init.connect
def _serve_metrics(**kwargs: object) -> None:
    """STRATUS_WORKER_METRICS_PORT: this worker's /metrics (dashboard/metrics.py), for a worker on a host of its own."""
    from django.conf import settings

    if settings.STRATUS_WORKER_METRICS_PORT:
        from dashboard.metrics import serve_worker_metrics

        serve_worker_metrics(settings.STRATUS_WORKER_METRICS_HOST, settings.STRATUS_WORKER_METRICS_PORT)


app.conf.beat_schedule = {
    "operations-reap-stale": {"task": "operations.reap", "schedule": 60.0},
    "accounts-clearsessions": {"task": "accounts.clearsessions", "schedule": 3600.0},
}
