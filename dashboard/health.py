"""Health and readiness for load balancers and Kubernetes: `GET /healthz` and `GET /readyz`.

- `/healthz`: the process is up and answers (liveness). It touches nothing: no database, no Redis, no cloud.
- `/readyz`: the process can serve pages: the database, Redis (and RabbitMQ when it is the Celery broker) and the
  cloud's Keystone each answer within
  `STRATUS_READY_TIMEOUT` seconds (asked at once, each on a connection of its own). 200 when all do; 503 naming the
  ones that did not. The answer says only what failed and how (timeout, refused, HTTP status); the details (host
  names, driver messages) go to the log, not to an unauthenticated client. Each process keeps its answer for about a
  second (`READY_CACHE_SECONDS`) and probes at once share the one in flight, so a flood of `/readyz` does not open a
  database connection, a Redis connection and a Keystone call per request.

Both are answered by a middleware near the top of the stack, before the session, the locale, CSRF, the sign-in
handling and the HTTPS redirect: a probe carries no cookie and may come over plain HTTP from the load balancer, and
what a probe measures must not depend on the parts it checks. The host is still checked against `ALLOWED_HOSTS`
(400 otherwise), and both answers carry `Cache-Control: no-store`. Sign-in throttling never sees them.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

log = logging.getLogger(__name__)


def check_database(timeout: float) -> None:
    """`SELECT 1` on a connection of its own (closed after), so a probe never holds a request's connection."""
    params = dict(connections.settings["default"])
    if params["ENGINE"] == "django.db.backends.postgresql":
        # libpq waits for an unreachable server as long as TCP does (minutes) unless told otherwise; 2 s at least.
        params["OPTIONS"] = {**params.get("OPTIONS", {}), "connect_timeout": max(2, math.ceil(timeout))}
    connection = load_backend(params["ENGINE"]).DatabaseWrapper(params, "default")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def check_redis(timeout: float) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_broker(timeout: float) -> None:
    """The Celery broker, when it is not the Redis above (RabbitMQ: CELERY_BROKER_URL=amqp://…): a connection."""
    import kombu

    with kombu.Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=max(1, math.ceil(timeout)))


class NotReady(Exception):
    """A dependency answered, but not as one that works does (the reason is safe to show)."""


def check_keystone(timeout: float) -> None:
    """Keystone's version document at `OS_AUTH_URL` (no token needed), through the one door to the cloud."""
    from apps.cloud.connection import keystone_session

    response = keystone_session(timeout=timeout).get(settings.OS_AUTH_URL, authenticated=False, raise_exc=False)
    if response.status_code >= 400:
        raise NotReady(f"HTTP {response.status_code}")


CHECKS: dict[str, Callable[[float], None]] = {
    "database": check_database,
    "redis": check_redis,
    **({"rabbitmq": check_broker} if settings.BROKER_IS_AMQP else {}),
    "keystone": check_keystone,
}


def _reason(error: Exception) -> str:
    if isinstance(error, NotReady):
        return str(error)
    if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
        return "timed out"
    return type(error).__name__


def readiness(timeout: float) -> dict[str, str]:
    """Every check at once; each name maps to "ok" or why it failed. A check still running at the deadline failed
    ("no answer within N s"); its thread ends on its own timeout, its result unused."""
    results: dict[str, str] = {}
    lock = threading.Lock()

    def run(name: str, check: Callable[[float], None]) -> None:
        try:
            check(timeout)
            outcome = "ok"
        except Exception as error:  # any failure is the answer: not ready, and why
            outcome = _reason(error)
            log.warning("readiness: %s failed: %s: %s", name, type(error).__name__, error)
        with lock:
            results[name] = outcome

    threads = [
        threading.Thread(target=run, args=(name, check), name=f"readyz-{name}", daemon=True)
        for name, check in CHECKS.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        answered = dict(results)
    for name in CHECKS:
        if name not in answered:
            log.warning("readiness: %s did not answer within %g s", name, timeout)
    return {name: answered.get(name, f"no answer within {timeout:g} s") for name in CHECKS}


# /readyz is unauthenticated: each answer is kept this long per process, so a flood of probes cannot open a database
# connection, a Redis connection and a Keystone call per request. Callers at once wait for the check in flight.
READY_CACHE_SECONDS = 1.0
_ready_lock = threading.Lock()
_ready_last: tuple[float, float, dict[str, str]] | None = None  # (when it was answered, its timeout, the checks)


def cached_readiness(timeout: float) -> dict[str, str]:
    """`readiness`, asked at most once per READY_CACHE_SECONDS in this process; concurrent callers share one answer."""
    global _ready_last
    with _ready_lock:  # held while the checks run (at most `timeout`): the others wait for this answer
        last = _ready_last
        if last is not None and last[1] == timeout and time.monotonic() - last[0] < READY_CACHE_SECONDS:
            return dict(last[2])
        checks = readiness(timeout)
        _ready_last = (time.monotonic(), timeout, checks)
        return dict(checks)


def reset_readiness() -> None:
    """Forget the kept answer: the next /readyz asks afresh (tests)."""
    global _ready_last
    with _ready_lock:
        _ready_last = None


def _json(body: dict[str, Any], status: int) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def healthz(request: HttpRequest) -> HttpResponse:
    return _json({"status": "ok"}, 200)


def readyz(request: HttpRequest) -> HttpResponse:
    checks = cached_readiness(settings.STRATUS_READY_TIMEOUT)
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    return _json(
        {"status": "not ready" if failed else "ready", "failed": failed, "checks": checks}, 503 if failed else 200
    )


def _metrics(request: HttpRequest) -> HttpResponse:
    from dashboard.metrics import metrics

    return metrics(request)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": _metrics,
}


class HealthMiddleware:
    """Answers `/healthz`, `/readyz` and `/metrics` (dashboard/metrics.py: a scraper, like a probe, has no cookie
    and may use plain HTTP) itself; every other request goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS, as for any request: DisallowedHost answers 400
        allowed = request.method in ("GET", "HEAD")
        response = probe(request) if allowed else HttpResponseNotAllowed(["GET", "HEAD"])
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
