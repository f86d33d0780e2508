"""Loaded with `-p tests.env` before Django's settings: gives each pytest process its own state directory,
hence its own embedded Redis (a real redis-server), secret keys and SQLite test database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_state = Path(tempfile.mkdtemp(prefix=f"stratus-test-{_worker}-"))
os.environ["STRATUS_STATE_DIR"] = str(_state)
os.environ.setdefault("STRATUS_CLOUD_TIMEOUT", "5")
os.environ.pop("REDIS_URL", None) if os.environ.get("STRATUS_TEST_EXTERNAL_REDIS") is None else None
os.environ.setdefault("STRATUS_CELERY_QUEUE", f"stratus-test-{_worker}")


def state_dir() -> Path:
    return _state


def pytest_unconfigure(config) -> None:  # noqa: ANN001 - pytest hook
    from dashboard import embedded_redis

    embedded_redis.stop(_state / "redis")
    shutil.rmtree(_state, ignore_errors=True)
