"""`/metrics` (dashboard/metrics.py): who may read it, and the series it lists after a page view, an operation run by a
real Celery worker, and a failing cloud service."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from apps.operations.models import Operation, State
from tests.cloudharness import free_port
from tests.operations.conftest import make_server, wait_op, wait_until

TOKEN = "metrics-test-token"


def scrape(client: Client | None = None) -> dict[tuple[str, frozenset], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(series: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in series.items() if n == name and wanted <= lbls)


def test_metrics_are_off_until_a_token_or_a_network_is_set(stratus, db, settings):
    settings.STRATUS_METRICS_TOKEN = ""
    settings.STRATUS_METRICS_ALLOWED_NETWORKS = []
    assert Client().get("/metrics").status_code == 404


def test_metrics_need_the_token_or_an_allowed_address(stratus, db, settings):
    settings.STRATUS_METRICS_TOKEN = TOKEN
    settings.STRATUS_METRICS_ALLOWED_NETWORKS = []
    refused = Client().get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert b"stratus_" not in refused.content
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert scrape()  # the right token
    # A scraper's network, without the token; other addresses are still refused.
    settings.STRATUS_METRICS_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    assert Client(REMOTE_ADDR="192.0.2.9").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.7").get("/metrics").status_code == 401
    settings.STRATUS_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="203.0.113.7").get("/metrics").status_code == 403
    assert Client(REMOTE_ADDR="192.0.2.9").get("/metrics").status_code == 200


@pytest.mark.worker
def test_metrics_after_a_page_view_and_an_operation(worker, member_client, sdk, boot, settings):
    settings.STRATUS_METRICS_TOKEN = TOKEN
    server = make_server(sdk, boot, "ops-metrics-1")
    before = scrape()

    assert member_client.get("/instances/").status_code == 200
    response = member_client.post(f"/instances/{server.id}/stop/")
    assert response.status_code in (200, 302), response.content[:2000]
    op = Operation.objects.get(kind="server.stop", target_id=server.id)
    assert wait_op(op.id).state == State.SUCCEEDED, worker.log()[-3000:]

    after = scrape()
    # Request latency per view: the list page, and the stop.
    name = "stratus_http_request_duration_seconds_count"
    assert value(after, name, view="instances:list", method="GET", status="200") >= (
        value(before, name, view="instances:list", method="GET", status="200") + 1
    )
    assert (
        value(after, name, view="instances:action", method="POST")
        >= value(before, name, view="instances:action", method="POST") + 1
    )
    assert value(after, "stratus_http_request_duration_seconds_bucket", view="instances:list", le="+Inf") >= 1
    # Cloud call latency per service: the list page asked Nova (compute) in this process.
    name = "stratus_cloud_request_duration_seconds_count"
    assert value(after, name, service="compute", method="GET") > value(before, name, service="compute", method="GET")
    assert value(after, "stratus_cloud_request_duration_seconds_sum", service="compute") > 0
    # Operations by kind and state, from the database the worker wrote.
    assert value(after, "stratus_operations", kind="server.stop", state="succeeded") >= 1
    assert value(after, "stratus_operations", kind="server.stop", state="succeeded") == (
        Operation.objects.filter(kind="server.stop", state=State.SUCCEEDED).count()
    )


def test_metrics_count_a_failing_service(devcloud, member_client, settings, clear_faults):
    settings.STRATUS_METRICS_TOKEN = TOKEN
    before = scrape()
    devcloud.control("faults", {"service": "compute", "method": "GET", "path": "/servers/detail", "status": 503})
    assert member_client.get("/instances/").status_code == 503  # the page says Nova failed
    after = scrape()
    name = "stratus_cloud_request_errors_total"
    assert (
        value(after, name, service="compute", error="HTTP 503")
        == value(before, name, service="compute", error="HTTP 503") + 1
    )
    assert value(after, "stratus_cloud_request_duration_seconds_count", service="compute", status="503") >= 1


def test_metrics_show_the_queue_length(stratus, db, settings):
    """What waits in the Celery queue for a worker (a Redis list, or a RabbitMQ queue): a queue of this test's own,
    filled by hand."""
    import uuid

    import amqp
    import kombu
    import redis

    settings.STRATUS_METRICS_TOKEN = TOKEN
    settings.CELERY_TASK_DEFAULT_QUEUE = queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    if settings.BROKER_IS_AMQP:
        with kombu.Connection(settings.CELERY_BROKER_URL) as conn:
            channel = conn.channel()
            channel.queue_declare(queue, durable=True, auto_delete=False)
            try:
                assert value(scrape(), "stratus_queue_length", queue=queue) == 0
                for body in ("a", "b", "c"):
                    channel.basic_publish(amqp.Message(body), exchange="", routing_key=queue)
                assert wait_until(lambda: value(scrape(), "stratus_queue_length", queue=queue) == 3)
            finally:
                channel.queue_delete(queue)
        settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    else:
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            assert value(scrape(), "stratus_queue_length", queue=queue) == 0
            client.rpush(queue, "a", "b", "c")
            assert value(scrape(), "stratus_queue_length", queue=queue) == 3
        finally:
            client.delete(queue)
            client.close()
    # The broker gone: the scrape still answers, without the series.
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    assert ("stratus_queue_length", frozenset({("queue", queue)})) not in scrape()


def test_the_grafana_dashboard_reads_only_series_stratus_exposes(devcloud, member_client, settings, clear_faults):
    """deploy/grafana/stratus.json: every series its queries name is in a real scrape (after a page view and a failing
    Nova call, so that the error counter exists)."""
    import json
    import re

    from tests.cloudharness import ROOT

    settings.STRATUS_METRICS_TOKEN = TOKEN
    assert member_client.get("/instances/").status_code == 200
    devcloud.control("faults", {"service": "compute", "method": "GET", "path": "/servers/detail", "status": 503})
    assert member_client.get("/instances/").status_code == 503
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    exposed = set()
    for family in text_string_to_metric_families(response.content.decode()):
        exposed.add(family.name)
        exposed.update(sample.name for sample in family.samples)
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "stratus.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    named = {name for query in queries for name in re.findall(r"\bstratus_[a-z_]+", query)}
    assert len(named) >= 5
    assert named <= exposed, f"not exposed: {sorted(named - exposed)}"


@pytest.mark.worker
def test_a_worker_serves_its_own_metrics(worker_factory, member_client, sdk, boot, monkeypatch):
    """STRATUS_WORKER_METRICS_PORT: a Celery worker (on a host without a web process) shows its own cloud calls, the
    operations and the queue, behind the same token."""
    import requests

    port = free_port()
    monkeypatch.setenv("STRATUS_WORKER_METRICS_PORT", str(port))
    monkeypatch.setenv("STRATUS_METRICS_TOKEN", TOKEN)
    worker = worker_factory()
    server = make_server(sdk, boot, "ops-metrics-2")
    assert member_client.post(f"/instances/{server.id}/stop/").status_code in (200, 302)
    op = Operation.objects.get(kind="server.stop", target_id=server.id)
    assert wait_op(op.id).state == State.SUCCEEDED, worker.log()[-3000:]

    url = f"http://127.0.0.1:{port}/metrics"
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 401 and "stratus_" not in refused.text
    response = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text[:500]
    series = {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(response.text)
        for s in f.samples
    }
    # The stop itself: Nova's server action, called by the worker.
    assert value(series, "stratus_cloud_request_duration_seconds_count", service="compute", method="POST") >= 1
    assert value(series, "stratus_operations", kind="server.stop", state="succeeded") >= 1
    assert ("stratus_queue_length", frozenset({("queue", settings.CELERY_TASK_DEFAULT_QUEUE)})) in series


def test_the_allowed_networks_go_by_the_peer_not_x_forwarded_for(stratus, db, settings):
    """Behind STRATUS_TRUSTED_PROXIES sign-in throttling reads X-Forwarded-For; the metrics allow-list must not: a
    client reaching gunicorn directly could name an allowed address in that header."""
    settings.STRATUS_METRICS_TOKEN = ""
    settings.STRATUS_METRICS_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    settings.STRATUS_TRUSTED_PROXIES = 1
    claimed = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert claimed.get("/metrics").status_code == 403
    assert Client(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="203.0.113.7").get("/metrics").status_code == 200


def test_made_up_request_methods_share_one_series(stratus, db, settings):
    """A client inventing methods must not create a series per method: anything but the usual ones is `other`."""
    settings.STRATUS_METRICS_TOKEN = TOKEN
    made_up = "BREW" + uuid.uuid4().hex[:8].upper()
    before = scrape()
    Client().generic(made_up, "/")
    Client().generic("PATCH", "/")
    after = scrape()
    name = "stratus_http_request_duration_seconds_count"
    assert not any(n == name and ("method", made_up) in labels for n, labels in after)
    assert value(after, name, method="other") == value(before, name, method="other") + 1
    assert value(after, name, method="PATCH") == value(before, name, method="PATCH") + 1


def test_a_slow_scraper_does_not_hold_up_the_worker_metrics(stratus, db, settings):
    """The worker's metrics server answers each client in its own thread: one that connects and sends nothing does
    not keep the next scrape waiting."""
    import requests

    from dashboard.metrics import serve_worker_metrics

    settings.STRATUS_METRICS_TOKEN = TOKEN
    server = serve_worker_metrics("127.0.0.1", free_port())
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=30) as slow:
            slow.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
            response = requests.get(
                f"http://127.0.0.1:{server.server_port}/metrics",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=20,
            )
            assert response.status_code == 200 and "stratus_" in response.text
    finally:
        server.shutdown()
        server.server_close()
