"""Prometheus metrics at `GET /metrics` (prometheus-client's text format).

Series:
- `stratus_http_request_duration_seconds{view, method, status}` (histogram): each request's time in the web
  process, by Django view name (`instances:list`; `unresolved` when no URL matched).
- `stratus_cloud_request_duration_seconds{service, method, status}` (histogram): each call to the cloud's APIs
  through apps.cloud's sessions (pages, sign-in, the worker's operations), by catalog service type (`compute`,
  `image`, `identity`…) and HTTP status (`error` when no answer came).
- `stratus_cloud_request_errors_total{service, error}` (counter): calls that failed: no answer (the exception's
  class, e.g. `ConnectFailure`, `ConnectTimeout`) or a server error (`HTTP 503`).
- `stratus_operations{kind, state}` (gauge): operations in the database by kind and state, counted when scraped
  (the same on every web process).
- `stratus_queue_length{queue}` (gauge): operations queued in the Celery queue (a Redis list, or a RabbitMQ queue)
  that no worker has taken yet, read when scraped; absent when the broker does not answer.

Recording never fails a request: a metric that cannot be written is logged once and skipped.

Who may read them: a request bearing `Authorization: Bearer <STRATUS_METRICS_TOKEN>`, or one from an address in
`STRATUS_METRICS_ALLOWED_NETWORKS` (the client address as sign-in throttling reads it, behind
`STRATUS_TRUSTED_PROXIES`). With neither set, /metrics does not exist (404).

A Celery worker serves the same series (its cloud calls, the operations, the queue) on a port of its own when
`STRATUS_WORKER_METRICS_PORT` is set (`STRATUS_WORKER_METRICS_HOST`, default 127.0.0.1), behind the same token or
networks (the address being the scraper's own: no proxy in between).

Several processes (gunicorn's workers, a Celery worker on the same host): set `PROMETHEUS_MULTIPROC_DIR` to an
empty folder they share (`make run` uses `$STRATUS_STATE_DIR/metrics`, emptied at start); /metrics then adds up
every process' series. Unset, each process reports its own.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import kombu
import redis
from amqp.exceptions import AMQPError, NotFound
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from kombu.exceptions import KombuError
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client writes its files there from the first value on, and fails every write when it is missing.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUEST_SECONDS = Histogram(
    "stratus_http_request_duration_seconds",
    "Time to answer a request in the web process, by Django view.",
    ["view", "method", "status"],
)
CLOUD_SECONDS = Histogram(
    "stratus_cloud_request_duration_seconds",
    "Time of one call to the cloud's APIs, by service type.",
    ["service", "method", "status"],
)
CLOUD_ERRORS = Counter(
    "stratus_cloud_request_errors_total",
    "Calls to the cloud that got no answer or a server error, by service type.",
    ["service", "error"],
)


class OperationsCollector(Collector):
    """`stratus_operations{kind, state}` from the database, at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from apps.operations.models import Operation

        family = GaugeMetricFamily(
            "stratus_operations", "Operations in the database, by kind and state.", labels=["kind", "state"]
        )
        rows = Operation.objects.values_list("kind", "state").annotate(n=Count("id")).order_by("kind", "state")
        for kind, state, count in rows:
            family.add_metric([kind, state], count)
        yield family


class QueueCollector(Collector):
    """`stratus_queue_length{queue}`: operations waiting in the Celery queue at scrape time (Redis: the list's
    length; RabbitMQ: the queue's ready messages, from a passive declare)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        family = GaugeMetricFamily(
            "stratus_queue_length", "Operations waiting in the Celery queue for a worker.", labels=["queue"]
        )
        try:
            family.add_metric([queue], _amqp_length(queue) if settings.BROKER_IS_AMQP else _redis_length(queue))
        except (RedisError, KombuError, AMQPError, OSError) as error:
            log.warning("metrics: the queue length is unknown: %s", error)
            return
        yield family


def _redis_length(queue: str) -> int:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


def _amqp_length(queue: str) -> int:
    with kombu.Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as connection:
        channel: Any = connection.default_channel  # py-amqp's Channel (kombu types it as its abstract StdChannel)
        try:
            return int(channel.queue_declare(queue, passive=True).message_count)
        except NotFound:  # no worker has declared it yet: nothing waits in it
            return 0


_collectors = [OperationsCollector(), QueueCollector()]
_registered = False


def registry() -> CollectorRegistry:
    """Every process' series with PROMETHEUS_MULTIPROC_DIR; this process' (and its own runtime's) otherwise."""
    global _registered
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
        for collector in _collectors:
            merged.register(collector)
        return merged
    if not _registered:
        for collector in _collectors:
            REGISTRY.register(collector)
        _registered = True
    return REGISTRY


_failed_once = False


def _safely(record: Callable[[], None]) -> None:
    """Run `record`; a failure (a multiprocess folder gone, a full disk) is logged once, never raised."""
    global _failed_once
    try:
        record()
    except Exception:
        if not _failed_once:
            _failed_once = True
            log.exception("metrics: a value could not be recorded (further failures are not logged)")


def record_cloud_call(service: str, method: str, seconds: float, status: int | None, error: str | None) -> None:
    def record() -> None:
        CLOUD_SECONDS.labels(service, method, str(status) if status is not None else "error").observe(seconds)
        if error is not None:
            CLOUD_ERRORS.labels(service, error).inc()
        elif status is not None and status >= 500:
            CLOUD_ERRORS.labels(service, f"HTTP {status}").inc()

    _safely(record)


def refusal(authorization: str, address: str) -> tuple[int, str] | None:
    """None when a scraper with this Authorization header and client address may read the metrics; else the status
    and text of the answer that says no."""
    token = settings.STRATUS_METRICS_TOKEN
    networks = settings.STRATUS_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return 404, "Not found"
    bearer = authorization[7:] if authorization.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return None
    if networks:
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            client = None
        if client is not None and any(client in ipaddress.ip_network(n, strict=False) for n in networks):
            return None
    return (401, "A bearer token is needed") if token else (403, "Forbidden")


def _allowed(request: HttpRequest) -> HttpResponse | None:
    """None when the request may read the metrics; else the answer that says no. The allow-list goes by the peer's
    address (REMOTE_ADDR), never X-Forwarded-For: a client reaching gunicorn directly could name any address there."""
    refused = refusal(request.headers.get("Authorization", ""), request.META.get("REMOTE_ADDR", ""))
    if refused is None:
        return None
    response = HttpResponse(refused[1] + "\n", status=refused[0], content_type="text/plain")
    if refused[0] == 401:
        response["WWW-Authenticate"] = 'Bearer realm="stratus-metrics"'
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    refused = _allowed(request)
    if refused is not None:
        return refused
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)  # every Prometheus reads it


def serve_worker_metrics(host: str, port: int) -> Any:
    """`/metrics` of this (Celery worker) process on host:port, in a daemon thread; returns the server."""
    import socketserver
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not worth a log line each
            pass

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found\n"]
        refused = refusal(environ.get("HTTP_AUTHORIZATION", ""), environ.get("REMOTE_ADDR", ""))
        if refused is not None:
            headers = [("Content-Type", "text/plain")]
            if refused[0] == 401:
                headers.append(("WWW-Authenticate", 'Bearer realm="stratus-metrics"'))
            start_response(f"{refused[0]} {'Unauthorized' if refused[0] == 401 else 'Refused'}", headers)
            return [refused[1].encode() + b"\n"]
        body = generate_latest(registry())
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4), ("Cache-Control", "no-store")])
        return [body]

    class Server(socketserver.ThreadingMixIn, WSGIServer):  # a thread per scrape: a slow client holds up no other
        daemon_threads = True

    server = make_server(host, port, app, server_class=Server, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    log.info("worker metrics on http://%s:%s/metrics", host, server.server_port)
    return server


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str | None) -> str:
    """The method as a label: a fixed set, so a client inventing methods cannot create a series for each."""
    return method if method in _METHODS else "other"


class MetricsMiddleware:
    """Times every request that reaches the views (the probes and /metrics are answered above it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unresolved"
        seconds = time.perf_counter() - start
        method = _method(request.method)
        _safely(lambda: REQUEST_SECONDS.labels(view, method, str(response.status_code)).observe(seconds))
        return response


def service_of(url: str, kwargs: dict[str, Any]) -> str:
    """The catalog service type a call is for; without one (sign-in, token checks, version discovery): `identity`
    when the URL is under Keystone's, else `other`."""
    service = (kwargs.get("endpoint_filter") or {}).get("service_type")
    if service:
        return str(service)
    keystone = settings.OS_AUTH_URL.rstrip("/").removesuffix("/v3")
    return "identity" if url.startswith(keystone) else "other"
