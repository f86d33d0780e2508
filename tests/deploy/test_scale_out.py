"""Scale-out: two gunicorn web processes and two Celery workers on one Redis and one PostgreSQL. Launches are made
through both web processes and run on both workers; one web process and one worker are killed (SIGKILL) mid-run.
No operation is lost (each ends, succeeded) and no server is created twice. The killed worker is started again
under the same node name, as systemd's Restart=on-failure does, and takes back what it left running; the other
worker meanwhile also gets the broker's redelivery of the unacknowledged messages (the runner sees duplicates).

Nova's create call is stalled 6 s (devcloud fault injection), so the killed worker dies while its
requests are in flight: the cloud still creates those servers, and the redelivered operations must find them by
their `op-<operation id>` tag instead of creating second ones.
"""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from django.conf import settings

from tests.deploy.procs import Person, deployment_env, manage, start_web, start_worker
from tests.security.helpers import Objects, create_other_project, filled_in, parse_page

PG = ("127.0.0.1", 5432)
LAUNCHES_PER_WEB = 4


def postgres_answers() -> bool:
    try:
        with socket.create_connection(PG, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def scale_database():
    if not postgres_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    import psycopg

    name = f"stratus_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def operations(url: str) -> list[tuple[str, str, str, str, str]]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(
            "select id::text, kind, state, worker, target_name from operations_operation order by created_at"
        ).fetchall()


def launch(person: Person, name: str) -> None:
    forms = parse_page("/instances/launch/", person.get("/instances/launch/").text)[0]
    form = next(f for f in forms if f.action.startswith("/instances/launch/") and "flavor_id" in f.fields)
    response = person.post("/instances/launch/", filled_in(form) | {"name": name, "count": "1"})
    assert response.status_code == 200 and "Traceback" not in response.text, response.text[:2000]


@pytest.mark.devcloud_only
def test_two_webs_two_workers_lose_nothing_when_one_of_each_is_killed(devcloud, scale_database, tmp_path):
    queue = f"stratus-scale-{uuid.uuid4().hex[:8]}"
    env = deployment_env(
        devcloud,
        tmp_path / "state",
        SECRET_KEY="scale-" + uuid.uuid4().hex,
        DATABASE_URL=scale_database,
        REDIS_URL=settings.REDIS_URL,
        STRATUS_CELERY_QUEUE=queue,
        STRATUS_FERNET_KEY=settings.STRATUS_FERNET_KEY,
        STRATUS_VISIBILITY_TIMEOUT="6",  # a dead worker's operations come back after 6 s
        STRATUS_OPERATION_STALE_SECONDS="10",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    prefix = "scale-" + uuid.uuid4().hex[:6]
    other = create_other_project(devcloud)  # its own quota: the rest of the suite keeps the demo project's
    objects = Objects(conn=other.creds.connect())
    procs = []
    try:
        web1, base1 = start_web(env, tmp_path, "web1")
        web2, base2 = start_web(env, tmp_path, "web2")
        procs += [web1, web2]
        worker1 = start_worker(env, tmp_path, "scale1", queue)
        worker2 = start_worker(env, tmp_path, "scale2", queue)
        procs += [worker1, worker2]
        alice, bob = Person(base1), Person(base2)
        alice.sign_in(other.creds.username, other.creds.password)
        bob.sign_in(other.creds.username, other.creds.password)

        # Nova takes 6 s to answer each create: operations are mid-call when their worker dies.
        devcloud.control(
            "faults", {"service": "compute", "method": "POST", "path": "/servers$", "stall": 6, "count": 100}
        )
        for i in range(LAUNCHES_PER_WEB):
            launch(alice, f"{prefix}-a{i}")
        web1.kill()  # the first web process dies; the second one carries on
        for i in range(LAUNCHES_PER_WEB):
            launch(bob, f"{prefix}-b{i}")

        # Kill worker 1 while it is running operations.
        deadline = time.monotonic() + 60
        while not any(state == "running" and "scale1" in (w or "") for _, _, state, w, _ in operations(scale_database)):
            assert time.monotonic() < deadline, operations(scale_database)
            time.sleep(0.1)
        worker1.kill()
        in_flight = [op for op in operations(scale_database) if op[2] == "running" and "scale1" in (op[3] or "")]
        assert in_flight
        # systemd (Restart=on-failure) starts it again under the same node name: it takes back what it left running.
        worker1 = start_worker(env, tmp_path, "scale1", queue)
        procs.append(worker1)

        deadline = time.monotonic() + 150
        while any(state in ("pending", "running") for _, _, state, _, _ in operations(scale_database)):
            assert time.monotonic() < deadline, f"operations still open: {operations(scale_database)}"
            time.sleep(0.5)
    finally:
        devcloud.control("faults", method="DELETE")
        for proc in procs:
            proc.stop()
        for server in objects.conn.compute.servers():
            if server.name.startswith(prefix):
                objects.delete_server_later(objects.conn, server.id)

    try:
        ops = operations(scale_database)
        assert len(ops) == 2 * LAUNCHES_PER_WEB, ops
        assert all(state == "succeeded" for _, _, state, _, _ in ops), ops
        workers = {w.split("@")[0] for _, _, _, w, _ in ops if w}
        assert "scale2" in workers
        assert "operations.run" in worker1.log() and "operations.run" in worker2.log()  # both took work
        names = sorted(s.name for s in objects.conn.compute.servers() if s.name.startswith(prefix))
        expected = sorted([f"{prefix}-a{i}" for i in range(LAUNCHES_PER_WEB)] + [f"{prefix}-b{i}" for i in range(4)])
        assert names == expected, f"servers: {names}"  # one each: none lost, none twice
    finally:
        objects.cleanup()
        other.delete()
