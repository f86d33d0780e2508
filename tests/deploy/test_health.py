"""`/healthz` and `/readyz` (dashboard/health.py): unauthenticated, never cached, outside sign-in, throttling and the
HTTPS redirect, within ALLOWED_HOSTS; `/readyz` names each dependency that is down — Redis stopped, Keystone failing
(devcloud's fault injection), stalled or on a closed port, the database unreachable (a web process on a PostgreSQL
port where nothing listens)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from django.test import Client

from apps.accounts import throttle
from dashboard import embedded_redis, health
from tests.cloudharness import free_port
from tests.deploy.procs import deployment_env, start_web


def probe(client: Client, path: str, **extra: str) -> tuple[int, dict]:
    health.reset_readiness()  # each probe here asks afresh (the per-process answer cache has a test of its own)
    response = client.get(path, **extra)
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response and not response.cookies
    return response.status_code, response.json()


def test_healthz_says_the_process_is_up(stratus, db):
    status, body = probe(Client(), "/healthz")
    assert (status, body) == (200, {"status": "ok"})


def test_readyz_when_everything_answers(stratus, db):
    status, body = probe(Client(), "/readyz")
    assert status == 200, body
    assert body == {
        "status": "ready",
        "failed": [],
        "checks": {"database": "ok", "redis": "ok", "keystone": "ok"},
    }


def test_probes_are_outside_sign_in_throttling_and_the_https_redirect(stratus, db, settings):
    address = "203.0.113.7"  # an address of this test's own: the block stays away from other tests
    client = Client(REMOTE_ADDR=address)
    try:
        probes_answer_a_blocked_address(stratus, client, settings)
    finally:
        throttle.reset(address=address, domain="Default", username=stratus.member.username)


def probes_answer_a_blocked_address(stratus, client: Client, settings) -> None:
    # Not signed in: a page sends the person to sign in; the probes answer.
    assert client.get("/overview/").status_code == 302
    # This address has failed too often: sign-in is refused; the probes answer.
    settings.STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS = 1
    for _ in range(2):
        response = client.post(
            "/auth/login/",
            {"method": "password", "username": stratus.member.username, "password": "wrong", "domain": "Default"},
        )
    assert "Too many failed sign-in attempts" in response.content.decode(), response.content.decode()[:2000]
    assert probe(client, "/healthz")[0] == 200
    assert probe(client, "/readyz")[0] == 200
    # HTTPS-only deployment: plain HTTP is redirected, except the probes (a load balancer's check of the backend).
    settings.SECURE_SSL_REDIRECT = True
    client = Client(REMOTE_ADDR=client.defaults["REMOTE_ADDR"])  # SecurityMiddleware reads the setting when built
    assert client.get("/auth/login/").status_code == 301
    assert probe(client, "/healthz")[0] == 200
    assert probe(client, "/readyz")[0] == 200
    # Only GET and HEAD; a host outside ALLOWED_HOSTS is refused as for any page.
    settings.SECURE_SSL_REDIRECT = False
    assert client.head("/healthz").status_code == 200
    assert client.post("/readyz").status_code == 405
    assert Client(HTTP_HOST="evil.example.org").get("/healthz").status_code == 400
    assert Client(HTTP_HOST="evil.example.org").get("/readyz").status_code == 400


def test_a_flood_of_readyz_asks_each_dependency_once(stratus, db, monkeypatch):
    """/readyz is unauthenticated: a flood must not open a database connection, a Redis connection and a Keystone
    call per request. Callers at once wait for the check in flight and share its answer; for READY_CACHE_SECONDS
    (about 1 s; long here, so the machine's speed does not matter) later callers get it too."""
    monkeypatch.setattr(health, "READY_CACHE_SECONDS", 600.0)
    asked: list[str] = []
    for name, check in list(health.CHECKS.items()):

        def counted(timeout: float, check=check, name=name) -> None:
            asked.append(name)
            check(timeout)

        monkeypatch.setitem(health.CHECKS, name, counted)
    health.reset_readiness()
    start = threading.Barrier(10)
    answers: list[tuple[int, dict]] = []

    def ask() -> None:
        start.wait(timeout=30)
        response = Client().get("/readyz")
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(answers) == 10
        assert all(
            answer
            == (200, {"status": "ready", "failed": [], "checks": {"database": "ok", "redis": "ok", "keystone": "ok"}})
            for answer in answers
        )
        assert sorted(asked) == ["database", "keystone", "redis"]  # once each, for all ten
        assert Client().get("/readyz").status_code == 200  # a later caller within the period: the same answer
        assert len(asked) == 3
        health.reset_readiness()  # the period over: asked again
        assert Client().get("/readyz").status_code == 200
        assert sorted(asked) == ["database", "database", "keystone", "keystone", "redis", "redis"]
    finally:
        health.reset_readiness()  # no long-lived answer left for the next test


def test_readyz_names_redis_when_it_stops(stratus, db, settings, tmp_path: Path):
    redis_dir = tmp_path / "redis"
    settings.REDIS_URL = embedded_redis.ensure(redis_dir, tied=True)  # a Redis of this test's own, to stop
    try:
        assert probe(Client(), "/readyz")[0] == 200
    finally:
        embedded_redis.stop(redis_dir)
    status, body = probe(Client(), "/readyz")
    assert status == 503, body
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"] == "ConnectionError"
    assert body["checks"]["database"] == body["checks"]["keystone"] == "ok"
    assert str(redis_dir) not in str(body)  # where it is stays in the log


@pytest.fixture
def faults(devcloud):
    """devcloud's fault injection, cleared after the test."""
    yield devcloud
    devcloud.control("faults", method="DELETE")


def test_readyz_names_keystone_when_it_fails(faults, db, settings):
    faults.control("faults", {"service": "identity", "method": "GET", "path": "^/v3/?$", "status": 503})
    status, body = probe(Client(), "/readyz")
    assert status == 503, body
    assert body["failed"] == ["keystone"]
    assert body["checks"] == {"database": "ok", "redis": "ok", "keystone": "HTTP 503"}
    assert probe(Client(), "/readyz")[0] == 200  # the fault was for one call


def test_readyz_names_keystone_when_it_does_not_answer_in_time(faults, db, settings):
    settings.STRATUS_READY_TIMEOUT = 0.5
    faults.control("faults", {"service": "identity", "method": "GET", "path": "^/v3/?$", "stall": 3})
    status, body = probe(Client(), "/readyz")
    assert status == 503, body
    # only Keystone is asserted on: under load the database or Redis may take more than 0.5 s as well
    assert "keystone" in body["failed"]
    assert body["checks"]["keystone"] in ("timed out", "no answer within 0.5 s")


def test_readyz_names_keystone_on_a_closed_port(stratus, db, settings):
    settings.OS_AUTH_URL = f"http://127.0.0.1:{free_port()}/identity/v3"  # nothing listens there
    status, body = probe(Client(), "/readyz")
    assert status == 503, body
    assert body["failed"] == ["keystone"]
    assert body["checks"]["keystone"] == "ConnectFailure"


def test_readyz_names_the_database_when_it_cannot_be_reached(stratus, tmp_path: Path):
    """A web process whose PostgreSQL is not there: alive (/healthz), not ready (/readyz names the database)."""
    env = deployment_env(
        stratus,
        tmp_path / "state",
        DATABASE_URL=f"postgres://stratus:secret@127.0.0.1:{free_port()}/stratus",  # nothing listens there
    )
    web, base = start_web(env, tmp_path)
    try:
        health = requests.get(base + "/healthz", timeout=30)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = requests.get(base + "/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert ready.headers["Cache-Control"] == "no-store"
        body = ready.json()
        assert body["failed"] == ["database"]
        assert body["checks"]["database"] == "OperationalError"
        assert body["checks"]["redis"] == body["checks"]["keystone"] == "ok"
        assert "secret" not in ready.text and "127.0.0.1" not in ready.text
    finally:
        web.stop()
    assert "readiness: database failed" in web.log()
