"""Stratus console tokens in Redis: random, single use, short-lived, bound to a user, a server and an origin.

The web process issues one after resolving Nova's console token to the compute node's VNC endpoint; the
console proxy consumes it atomically (GETDEL), so a token opens at most one connection, ever.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from functools import cache

import redis
from django.conf import settings

KEY_PREFIX = "stratus:console-token:"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class ConsoleTarget:
    """Where a console token leads (the compute node's VNC server) and who may use it from where."""

    server_id: str
    server_name: str
    host: str
    port: int
    user_id: str
    user_name: str
    project_id: str
    origin: str
    expires_at: float
    session_hash: str = ""  # SHA-256 of the Django session key, when the proxy can see the session cookie


def session_hash(session_key: str | None) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def issue_token(*, target: ConsoleTarget, ttl: int) -> str:
    """Store `target` under a new random token that expires after `ttl` seconds; returns the token."""
    token = secrets.token_urlsafe(32)
    client().set(KEY_PREFIX + token, json.dumps(asdict(target)), ex=max(1, ttl), nx=True)
    return token


def consume_token(token: str) -> ConsoleTarget | None:
    """The target of `token`, deleting it in the same step; None when unknown, already used or expired."""
    if not token or not _TOKEN_RE.match(token):
        return None
    raw = client().getdel(KEY_PREFIX + token)
    if raw is None:
        return None
    target = ConsoleTarget(**json.loads(raw))
    if target.expires_at < time.time():
        return None
    return target
