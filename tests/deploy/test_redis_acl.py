"""The ACL that docs/deployment.md gives for an external Redis is enough for Stratus and takes the dangerous commands
away: a Redis (the embedded valkey-server binary, on a loopback port) started with exactly the documented ACL lines
carries a real Celery worker's task, the cache and console tokens, and refuses CONFIG, KEYS and the default user."""

from __future__ import annotations

import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from dashboard import embedded_redis
from tests.cloudharness import ROOT, free_port
from tests.conftest import Worker


def documented_acl(password: str) -> str:
    text = (ROOT / "docs" / "deployment.md").read_text()
    lines = re.findall(r"^\s*(user (?:default|stratus) .+)$", text, flags=re.M)
    assert any(line.startswith("user default off") for line in lines), lines
    assert any(line.startswith("user stratus on >LONG-RANDOM-PASSWORD ") for line in lines), lines
    return "\n".join(line.replace("LONG-RANDOM-PASSWORD", password) for line in lines) + "\n"


@pytest.fixture
def acl_redis(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Redis with the documented ACL; yields (the URL of the stratus user, the port)."""
    password = secrets.token_urlsafe(24)
    port = free_port()
    (tmp_path / "users.acl").write_text(documented_acl(password))
    (tmp_path / "redis.conf").write_text(
        f'port {port}\nbind 127.0.0.1\naclfile "{tmp_path / "users.acl"}"\ndir "{tmp_path}"\nsave ""\n'
        f'appendonly no\nlogfile "{tmp_path / "redis.log"}"\n'
    )
    proc = subprocess.Popen([embedded_redis.redis_server_binary(), str(tmp_path / "redis.conf")])
    url = f"redis://stratus:{password}@127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, (tmp_path / "redis.log").read_text()
            time.sleep(0.05)
    yield url, port
    proc.terminate()
    proc.wait(10)


def test_the_documented_acl_refuses_what_stratus_does_not_need(acl_redis) -> None:
    url, port = acl_redis
    client = redis.Redis.from_url(url)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.config_get("port")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.keys("*")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.flushall()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).ping()  # the default user is off


def test_the_documented_acl_carries_the_cache_and_console_tokens(acl_redis, settings) -> None:
    from apps.consoles import tokens
    from apps.consoles.tokens import ConsoleTarget
    from dashboard.cache import RedisCache

    url, _port = acl_redis
    cache = RedisCache(url, {"KEY_PREFIX": "stratus"})
    cache.set("acl-probe", {"a": 1}, 30)
    assert cache.get("acl-probe") == {"a": 1}
    cache.add("acl-counter", 0, 30)
    assert cache.incr("acl-counter") == 1
    settings.REDIS_URL = url
    target = ConsoleTarget("s", "n", "127.0.0.1", 5900, "u", "user", "p", "http://x", time.time() + 30)
    token = tokens.issue_token(target=target, ttl=30)
    assert tokens.consume_token(token) == target


@pytest.mark.worker
def test_the_documented_acl_carries_celery(acl_redis, stratus, tmp_path, settings, db) -> None:
    url, _port = acl_redis
    queue = f"stratus-acl-{uuid.uuid4().hex[:8]}"
    settings.REDIS_URL = url  # the worker's REDIS_URL (tests/conftest.py's Worker reads it from the settings)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    worker = Worker(stratus, tmp_path, name="acl").start()
    try:
        producer = Celery("acl-probe", broker=url, set_as_current=False)  # not the app the suite's tasks use
        producer.send_task("operations.reap", queue=queue)
        deadline = time.monotonic() + 30
        while "operations.reap" not in worker.log_path.read_text() or "succeeded" not in worker.log_path.read_text():
            assert time.monotonic() < deadline, worker.log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert "NOPERM" not in worker.log_path.read_text()
    finally:
        worker.stop()
