"""Each pytest process' own state, made before the settings are first imported (tests/conftest.py imports this
first, and pytest-django is not told the settings module: conftest sets it up after this has run).

The settings only read (dashboard/settings.py); what a test process needs written is made here: its own state folder
(its SQLite test database, generated keys, its embedded Redis), prepared as `make demo` prepares one
(dashboard/devstate.py), and the embedded Redis started tied to this process, so that even a killed pytest leaves
no server behind. `finish()` (pytest_unconfigure) stops it and removes the folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dashboard import devstate, embedded_redis

_owned: Path | None = None


def prepare() -> None:
    global _owned
    owner = os.environ.get("STRATUS_TEST_STATE_PID")
    if not os.environ.get("STRATUS_STATE_DIR") or (owner and owner != str(os.getpid())):
        # xdist workers inherit the controller's environment: a state folder made by another pytest process is not
        # theirs (each process removes its own at exit, which would pull the database from under the others).
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        _owned = Path(tempfile.mkdtemp(prefix=f"stratus-test-{worker}-"))
        os.environ["STRATUS_STATE_DIR"] = str(_owned)
        os.environ["STRATUS_TEST_STATE_PID"] = str(os.getpid())
        os.environ["STRATUS_CELERY_QUEUE"] = f"stratus-test-{os.getpid()}"
        # devcloud answers in milliseconds; a real cloud under test (STRATUS_TEST_CLOUD) may take seconds per call.
        os.environ.setdefault("STRATUS_CLOUD_TIMEOUT", "30" if os.environ.get("STRATUS_TEST_CLOUD") else "5")
    # Playwright's sync API runs an event loop in the test thread; the Django calls made there are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The tests (and the processes they start, which inherit this) use keys generated in their state folder.
    os.environ.setdefault("STRATUS_DEV_KEYS", "true")
    state = devstate.prepare()
    if not os.environ.get("REDIS_URL"):
        embedded_redis.ensure(state / "redis", tied=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def finish() -> None:
    """Stop this process' embedded Redis and remove its state folder (only one this process made)."""
    if _owned is None or os.environ.get("STRATUS_TEST_STATE_PID") != str(os.getpid()):
        return
    embedded_redis.stop(_owned / "redis")
    shutil.rmtree(_owned, ignore_errors=True)
    _delete_queue()


def _delete_queue() -> None:
    """On a RabbitMQ broker (CELERY_BROKER_URL=amqp://…), this process' own queue, which outlives it there (a
    quorum queue is durable); an embedded Redis takes its queue with it."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    queue = os.environ.get("STRATUS_CELERY_QUEUE", "")
    if not url.startswith(("amqp://", "amqps://", "pyamqp://")) or not queue.startswith("stratus-test-"):
        return
    import kombu

    try:
        with kombu.Connection(url, connect_timeout=2) as conn:
            conn.default_channel.queue_delete(queue)
    except Exception as error:
        print(f"could not delete RabbitMQ queue {queue}: {error}")
