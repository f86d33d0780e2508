"""Redis down: a web process whose REDIS_URL answers nothing still signs people in and shows every list page;
a write says why it cannot start and leaves no operation behind."""

from __future__ import annotations

import sqlite3

from tests.cloudharness import free_port
from tests.deploy.procs import Person, deployment_env, manage, start_web
from tests.deploy.test_faults import list_pages
from tests.security.helpers import Objects, boot_server

QUEUE_DOWN = "The task queue (Redis) cannot be reached"


def test_reads_work_and_writes_say_why_without_redis(stratus, tmp_path, db):
    env = deployment_env(
        stratus,
        tmp_path / "state",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    web, base = start_web(env, tmp_path)
    objects = Objects(conn=stratus.member.connect())
    try:
        server = boot_server(objects, "redis-down-probe")
        person = Person(base)
        person.sign_in(stratus.member.username, stratus.member.password)
        for url in list_pages():
            response = person.get(url)
            assert response.status_code in (200, 286, 405), f"GET {url} -> {response.status_code}"
        response = person.post(f"/instances/{server.id}/stop/")
        assert response.status_code == 200 and QUEUE_DOWN in response.text, response.text[:3000]
        response = person.post(f"/instances/{server.id}/stop/", headers={"HX-Request": "true"})
        assert response.status_code < 500 and QUEUE_DOWN in response.text
        with sqlite3.connect(tmp_path / "web.sqlite3") as conn:
            assert conn.execute("select count(*) from operations_operation").fetchone()[0] == 0
        assert objects.conn.compute.get_server(server.id).status == "ACTIVE"
        assert '"level": "ERROR"' not in web.log(), web.log()[-3000:]
    finally:
        objects.cleanup()
        web.stop()
