"""Operation settings: Django settings win, else the environment, else these defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from dashboard.env import env_float, env_int


def _get(name: str, reader: Callable[[str, Any], Any], default: Any) -> Any:
    value = getattr(settings, name, None)
    return value if value is not None else reader(name, default)


def stale_seconds() -> int:
    """A running operation whose heartbeat is older than this has lost its worker."""
    return int(_get("STRATUS_OPERATION_STALE_SECONDS", env_int, 120))


def pending_timeout() -> int:
    """A pending operation no worker picked up for this long is failed by the reaper."""
    return int(_get("STRATUS_OPERATION_PENDING_TIMEOUT", env_int, 1800))


def retry_base() -> float:
    """First retry delay after a transient cloud error; doubles each time (with jitter), capped at 120 s."""
    return float(_get("STRATUS_OPERATION_RETRY_BASE", env_float, 2.0))


def max_retries() -> int:
    return int(_get("STRATUS_OPERATION_MAX_RETRIES", env_int, 6))


def max_attempts() -> int:
    """How many times a worker may (re)start an operation after crashes before it is failed."""
    return int(_get("STRATUS_OPERATION_MAX_ATTEMPTS", env_int, 4))


def poll_seconds() -> float:
    """First interval when waiting for the cloud; grows by 1.5× up to 5 s."""
    return float(_get("STRATUS_OPERATION_POLL_SECONDS", env_float, 0.5))
