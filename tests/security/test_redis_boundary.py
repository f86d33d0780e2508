"""Redis as a trust boundary: the embedded server admits only its owner, and what Stratus reads back from Redis
is never unpickled. The embedded server here is the one this pytest process runs (dashboard/settings.py)."""

from __future__ import annotations

import os
import pickle
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from dashboard import embedded_redis

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")), reason="REDIS_URL names an external Redis, not the embedded one"
)


def directory() -> Path:
    return Path(settings.STATE_DIR) / "redis"


def raw(command: bytes) -> bytes:
    """Send one inline command to the embedded server's socket as a client that has not authenticated."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(embedded_redis.socket_path(directory())))
        s.sendall(command + b"\r\n")
        return s.recv(256)


def test_the_embedded_redis_refuses_an_unauthenticated_client() -> None:
    assert raw(b"PING").startswith(b"-NOAUTH")
    assert raw(b"SET stratus:forged 1").startswith(b"-NOAUTH")
    assert raw(b"AUTH not-the-password").startswith((b"-WRONGPASS", b"-ERR invalid password"))
    # With the password from REDIS_URL (only its owner can read it) the same server answers.
    assert redis.Redis.from_url(settings.REDIS_URL).ping()


def test_the_embedded_redis_listens_on_no_tcp_port() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.config_get("port") == {"port": "0"}
    pid = int(client.info("server")["process_id"])
    listening = [c for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening == []


def test_its_socket_password_and_configuration_are_its_owners_alone() -> None:
    d = directory()
    sock = embedded_redis.socket_path(d)
    assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sock).st_mode) & 0o077 == 0
    for name in ("password", "redis.conf"):
        assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o600, name
    # The password is on no command line (`ps` shows every process' arguments to every user).
    pid = int(redis.Redis.from_url(settings.REDIS_URL).info("server")["process_id"])
    assert (d / "password").read_text().strip() not in " ".join(psutil.Process(pid).cmdline())


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_reach_the_socket() -> None:
    sock = embedded_redis.socket_path(directory())
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(sock)!r})\n"
        "except PermissionError:\n"
        "    print('EACCES')\n"
        "else:\n"
        "    print('CONNECTED')\n"
    )
    nobody = 65534
    out = subprocess.run(
        ["/usr/bin/python3", "-I", "-c", probe], user=nobody, group=nobody, capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == "EACCES", out.stdout + out.stderr


def test_the_cache_stores_json_not_pickles() -> None:
    cache.set("boundary-probe", {"name": "Ubuntu 24.04", "ids": [1, 2]}, 30)
    stored = redis.Redis.from_url(settings.REDIS_URL).get(cache.make_key("boundary-probe"))
    assert stored == b'{"name":"Ubuntu 24.04","ids":[1,2]}'
    assert cache.get("boundary-probe") == {"name": "Ubuntu 24.04", "ids": [1, 2]}
    counter = "boundary-counter-" + uuid.uuid4().hex  # its own key: a rerun in this process starts from nothing
    cache.add(counter, 0, 30)
    assert cache.incr(counter) == 1  # counters stay Redis integers
    cache.delete(counter)


class _Payload:
    """A pickle that, when loaded, creates a file: what a Redis write could make a web process run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.mkdir, (str(self.marker),))


def test_a_pickle_written_to_redis_is_not_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    redis.Redis.from_url(settings.REDIS_URL).set(cache.make_key("boundary-pickle"), pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError):
        cache.get("boundary-pickle")
    assert not marker.exists()


def test_an_old_unauthenticated_embedded_redis_is_stopped(tmp_path: Path) -> None:
    """An older Stratus left a passwordless Redis on a loopback port for its state folder: the new one stops it."""
    from tests.cloudharness import free_port

    directory = tmp_path / "redis"
    directory.mkdir()
    port = free_port()
    old = subprocess.Popen(
        [embedded_redis.redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        (directory / "port").write_text(str(port))
        url = embedded_redis.ensure(directory, tied=True)
        assert old.wait(10) == 0  # shut down
        assert not (directory / "port").exists()
        assert redis.Redis.from_url(url).ping()
    finally:
        if old.poll() is None:
            old.kill()
        embedded_redis.stop(directory)
