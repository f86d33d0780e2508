"""Redis is not trusted with console targets: a value written to Redis by anyone but a Stratus web process, or a
target outside the compute networks, makes the console proxy refuse (HTTP 403) and open no TCP connection.

Each forged target points at a listener of this test on loopback (the "sentinel"), so a proxy that obeyed would be
seen connecting to it. No test here sends anything to a link-local address: the metadata case is refused before
any connection, and the test first checks that the allow-list refuses that address.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, replace

import pytest

from apps.consoles import networks, tokens
from apps.consoles.tokens import ConsoleTarget
from tests.consoles.test_console import ORIGIN, page_ws_url
from tests.consoles.wsclient import Refused, WebSocketClient, rfb_handshake

SERVER_ID = "7d1c7c8e-0d55-4d5e-9a55-3f1c2b8e9a01"


class Sentinel:
    """A TCP listener on loopback that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    s = Sentinel()
    yield s
    s.close()


def target_at(host: str, port: int, **changes: object) -> ConsoleTarget:
    return ConsoleTarget(
        server_id=SERVER_ID,
        server_name="victim",
        host=host,
        port=port,
        user_id="u",
        user_name="mallory",
        project_id="p",
        origin=ORIGIN,
        expires_at=time.time() + 60,
        **changes,
    )


def plant(token: str, value: str | bytes) -> None:
    """What an attacker with write access to Redis does: store a value where the proxy looks for `token`."""
    for key in {tokens.KEY_PREFIX + token, tokens.key_for(token)}:
        tokens.client().set(key, value, ex=60)


def connect(port: int, token: str) -> Refused:
    with pytest.raises(Refused) as refused:
        WebSocketClient(f"ws://127.0.0.1:{port}/?token={token}&server={SERVER_ID}", origin=ORIGIN)
    return refused.value


def test_an_unsigned_target_written_to_redis_is_refused(console_proxy, sentinel, caplog) -> None:
    token = secrets.token_urlsafe(32)
    plant(token, json.dumps(asdict(target_at("127.0.0.1", sentinel.port))))  # the format Redis used to hold
    assert connect(console_proxy, token).status == 403
    assert "forged console target" in caplog.text
    time.sleep(0.3)  # the sentinel's accept loop polls every 0.2 s
    assert sentinel.connections == 0


def test_a_target_signed_with_another_key_is_refused(console_proxy, sentinel, settings, caplog) -> None:
    token = secrets.token_urlsafe(32)
    key = tokens.key_for(token)
    real_key = settings.SECRET_KEY
    settings.SECRET_KEY = "not-the-key-of-this-installation-" + secrets.token_hex(16)
    forged = tokens.sign_target(key, target_at("127.0.0.1", sentinel.port))
    settings.SECRET_KEY = real_key
    plant(token, forged)
    assert connect(console_proxy, token).status == 403
    assert "forged console target" in caplog.text
    time.sleep(0.3)
    assert sentinel.connections == 0


def test_a_signed_target_moved_to_another_token_is_refused(console_proxy, sentinel, caplog) -> None:
    # A genuine signed value (as a web process stores it for one token), copied under another token's key.
    issued = tokens.issue_token(target=target_at("127.0.0.1", sentinel.port), ttl=60)
    value = tokens.client().get(tokens.key_for(issued))
    assert value is not None
    other = secrets.token_urlsafe(32)
    plant(other, value)
    assert connect(console_proxy, other).status == 403
    assert "forged console target" in caplog.text
    time.sleep(0.3)
    assert sentinel.connections == 0


def test_redis_keys_give_away_no_token(member_client, console_proxy, servers) -> None:
    import re

    token = re.search(r"token=([^&]+)", page_ws_url(member_client, servers.a.id)).group(1)
    keys = [k.decode() for k in tokens.client().scan_iter(match=tokens.KEY_PREFIX + "*")]
    assert tokens.key_for(token) in keys
    assert not [k for k in keys if token in k]


def test_a_target_outside_the_compute_networks_is_refused(console_proxy, sentinel, settings, caplog) -> None:
    # Signed as a web process signs what Nova answered, but loopback is not a compute network here.
    settings.STRATUS_CONSOLE_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    token = tokens.issue_token(target=target_at("127.0.0.1", sentinel.port), ttl=60)
    refused = connect(console_proxy, token)
    assert refused.status == 403
    assert "VNC host 127.0.0.1 is outside STRATUS_CONSOLE_ALLOWED_NETWORKS" in caplog.text
    time.sleep(0.3)
    assert sentinel.connections == 0
    # The same target with loopback allowed reaches the sentinel: the refusal above was the allow-list's.
    settings.STRATUS_CONSOLE_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    token = tokens.issue_token(target=target_at("127.0.0.1", sentinel.port), ttl=60)
    try:
        ws = WebSocketClient(f"ws://127.0.0.1:{console_proxy}/?token={token}&server={SERVER_ID}", origin=ORIGIN)
        ws.close()
    except Refused as exc:
        pytest.fail(f"refused with loopback allowed: {exc}")
    deadline = time.monotonic() + 5
    while sentinel.connections == 0:
        assert time.monotonic() < deadline, "the proxy did not connect to an allowed target"
        time.sleep(0.05)


def test_the_metadata_service_is_never_a_console_by_default(console_proxy, settings, caplog) -> None:
    settings.STRATUS_CONSOLE_ALLOWED_NETWORKS = _settings_default()
    for address in ("169.254.169.254", "fe80::a9fe:a9fe", "::ffff:169.254.169.254", "8.8.8.8"):
        assert not networks.is_allowed(address), address
    for address in ("127.0.0.1", "::1", "10.1.2.3", "172.16.0.5", "192.168.1.1"):
        assert networks.is_allowed(address), address
    # A target signed for the metadata address (as if Nova had named it) is refused before any connection.
    token = tokens.issue_token(target=target_at("169.254.169.254", 80), ttl=60)
    assert connect(console_proxy, token).status == 403
    assert "VNC host 169.254.169.254 is outside STRATUS_CONSOLE_ALLOWED_NETWORKS" in caplog.text


def _settings_default() -> list[str]:
    """STRATUS_CONSOLE_ALLOWED_NETWORKS as the settings module sets it when the variable is unset."""
    import os
    import subprocess
    import sys

    from tests.cloudharness import ROOT

    env = {k: v for k, v in os.environ.items() if k != "STRATUS_CONSOLE_ALLOWED_NETWORKS"}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # never reached: only the settings are read
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; from django.conf import settings; django.setup();"
            "print(json.dumps(settings.STRATUS_CONSOLE_ALLOWED_NETWORKS))",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_legitimate_console_still_connects(member_client, console_proxy, servers) -> None:
    from tests.consoles.test_console import cookie

    ws = WebSocketClient(page_ws_url(member_client, servers.a.id), origin=ORIGIN, cookie=cookie(member_client))
    try:
        width, height, _name = rfb_handshake(ws)
    finally:
        ws.close()
    assert width > 0 and height > 0


def test_an_expired_signed_target_is_refused(console_proxy, sentinel) -> None:
    token = tokens.issue_token(
        target=replace(target_at("127.0.0.1", sentinel.port), expires_at=time.time() - 1), ttl=60
    )
    assert connect(console_proxy, token).status == 403
    time.sleep(0.3)
    assert sentinel.connections == 0
