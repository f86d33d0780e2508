"""Logs in production: a gunicorn web process and a Celery worker with a deployment's environment (JSON logs,
DEBUG log level) go through a full flow — password and application-credential sign-in, a key pair with its private
key, a launch and a stop through the worker, a cloud error, sign-out — and then their logs are searched.

Every Stratus record is one JSON object a line with Stratus' request id; a cloud error carries Nova's
`x-openstack-request-id`; no token, password, application credential secret, private key or key of ours appears.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
import uuid

import pytest
from django.conf import settings

from tests.deploy.procs import Person, deployment_env, manage, start_web, start_worker
from tests.security.helpers import Objects, create_other_project, filled_in, keystone, parse_page


def session_secrets(db_path, secret_key: str) -> list[str]:
    """The Keystone tokens held in the web process' sessions (decoded with the deployment's SECRET_KEY, unsealed with
    its STRATUS_FERNET_KEY, which is this process' own)."""
    from django.core import signing

    from apps.accounts.session import read

    found = []
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("select session_data from django_session").fetchall()
    for (data,) in rows:
        session = signing.loads(
            data, key=secret_key, salt="django.contrib.sessions.SessionStore", serializer=signing.JSONSerializer
        )
        creds = read(session)
        if creds:
            found.append(creds.token)
    return found


def wait_for_operations(db_path, count: int, timeout: float = 90) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(db_path) as conn:
            rows = conn.execute("select kind, state from operations_operation").fetchall()
        if len(rows) >= count and all(state in ("succeeded", "failed") for _, state in rows):
            return rows
        assert time.monotonic() < deadline, f"operations not done in {timeout} s: {rows}"
        time.sleep(0.3)


@pytest.mark.devcloud_only
def test_a_full_flow_logs_json_with_request_ids_and_no_secrets(devcloud, tmp_path):
    other = create_other_project(devcloud)  # a user whose password is long and random, so it can be searched for
    objects = Objects(conn=other.creds.connect())
    secret_key = "sk-" + secrets.token_urlsafe(40)
    db_path = tmp_path / "web.sqlite3"
    queue = f"stratus-logs-{uuid.uuid4().hex[:8]}"
    env = deployment_env(
        devcloud,
        tmp_path / "state",
        SECRET_KEY=secret_key,
        DATABASE_URL=f"sqlite:///{db_path}",
        REDIS_URL=settings.REDIS_URL,
        STRATUS_CELERY_QUEUE=queue,
        STRATUS_FERNET_KEY=settings.STRATUS_FERNET_KEY,
        LOG_LEVEL="DEBUG",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    web, base = start_web(env, tmp_path)
    worker = start_worker(env, tmp_path, "logworker", queue)
    tokens: list[str] = []
    try:
        # 1. Password sign-in, a key pair (its private key shown once), a launch and a stop through the worker.
        person = Person(base)
        person.sign_in(other.creds.username, other.creds.password)
        tokens += session_secrets(db_path, secret_key)
        keypair = "logs-key-" + uuid.uuid4().hex[:6]
        objects.cleanups.append(lambda: objects.conn.compute.delete_keypair(keypair, ignore_missing=True))
        response = person.post("/keypairs/create/", {"name": keypair, "algorithm": "ed25519"})
        assert response.status_code == 200, response.text[:2000]
        private = person.post(f"/keypairs/{keypair}/private-key/").text
        assert "PRIVATE KEY-----" in private
        private_body = "".join(private.strip().splitlines()[1:-1])

        forms = parse_page("/instances/launch/", person.get("/instances/launch/").text)[0]
        launch = next(f for f in forms if f.action.startswith("/instances/launch/") and "flavor_id" in f.fields)
        body = filled_in(launch) | {"name": "logs-probe", "count": "1", "key_name": keypair, "user_data": "#!/bin/sh"}
        assert person.post("/instances/launch/", body).status_code == 200
        wait_for_operations(db_path, 1)
        server = next(objects.conn.compute.servers(name="logs-probe"))
        objects.delete_server_later(objects.conn, server.id)
        assert person.post(f"/instances/{server.id}/stop/").status_code == 200
        assert ("server.stop", "succeeded") in wait_for_operations(db_path, 2)

        # 2. A cloud error: Nova answers 503 once; the page and the log carry its request id.
        devcloud.control("faults", {"service": "compute", "method": "GET", "status": 503, "count": 1})
        failed = person.get("/instances/")
        assert failed.status_code == 503
        stratus_request_id = failed.headers["X-Request-Id"]

        # 3. Application credential sign-in, then sign-out.
        cred = create_app_credential(devcloud, other.creds)
        person2 = Person(base)
        page = person2.get("/auth/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = person2.post(
            "/auth/login/",
            {
                "csrfmiddlewaretoken": token,
                "method": "application_credential",
                "credential_id": cred["id"],
                "secret": cred["secret"],
            },
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:1000]
        tokens += session_secrets(db_path, secret_key)
        assert person.post("/auth/logout/").status_code == 200
        assert person2.post("/auth/logout/").status_code == 200
    finally:
        worker.stop()
        web.stop()
        objects.cleanup()
        other.delete()

    logs = web.log() + worker.log()
    # Structured: Stratus' records are JSON lines with a request id.
    records = []
    for line in logs.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    assert len(records) >= 5
    web_lines = [line for line in web.log().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in web_lines), [x for x in web_lines if not x.startswith("{")][:5]
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert access and all("request_id=req-" in r["message"] for r in access if '"GET /auth/login/' in r["message"])
    assert all("request_id" in r and "level" in r and "logger" in r and "message" in r for r in records)
    cloud_error = [r for r in records if r.get("openstack_request_id")]
    assert cloud_error, "no record carries Nova's x-openstack-request-id"
    assert any(r["request_id"] == stratus_request_id for r in cloud_error)
    assert any(r.get("operation_id") for r in records), "the worker's records name no operation"
    answers = [r for r in records if r["logger"] == "django.request"]
    assert answers and all(r["request_id"].startswith("req-") for r in answers), answers
    # No secret of any kind.
    leaks = {
        "password": other.creds.password,
        "application credential secret": cred["secret"],
        "private key": private_body[10:60],
        "SECRET_KEY": secret_key,
        "STRATUS_FERNET_KEY": settings.STRATUS_FERNET_KEY,
    }
    leaks.update({f"token {i}": t for i, t in enumerate(tokens)})
    found = [what for what, value in leaks.items() if value and value in logs]
    assert not found, f"secrets in the logs: {found}"
    assert not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", logs)


def create_app_credential(cloud, creds) -> dict:
    from tests.cloudharness import password_token

    token = password_token(creds)
    info = keystone_subject(cloud, token)
    body = {"application_credential": {"name": "logs-" + uuid.uuid4().hex[:6]}}
    return keystone(cloud, "POST", f"/users/{info['user']['id']}/application_credentials", body, token)[
        "application_credential"
    ]


def keystone_subject(cloud, token: str) -> dict:
    import urllib.request

    req = urllib.request.Request(
        cloud.auth_url + "/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["token"]
