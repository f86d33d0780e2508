"""Stratus console tokens in Redis: random, single use, short-lived, bound to a user, a server and an origin.

The web process issues one after resolving Nova's console token to the compute node's VNC endpoint; the
console proxy consumes it atomically (GETDEL), so a token opens at most one connection, ever.

Redis is not trusted with the target: whoever can write to Redis must not be able to point the proxy at a host of
their choosing. So the stored value is signed (Django's signing: HMAC-SHA256 with SECRET_KEY, which the web
processes and the console proxy share) and names the key it was stored under; and the key is an HMAC of the token,
so reading Redis yields no usable token. The proxy also checks the host against STRATUS_CONSOLE_ALLOWED_NETWORKS
(apps/consoles/networks.py) before it connects.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import asdict, dataclass
from functools import cache

import redis
from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

KEY_PREFIX = "stratus:console-token:"
_SALT = "apps.consoles.tokens.target"


class ForgedTarget(Exception):
    """A stored console target whose signature does not verify (written to Redis by someone else)."""


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
    address: str = ""  # set by the proxy: the address of `host` inside the allowed networks that it connects to


def session_hash(session_key: str | None) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def key_for(token: str) -> str:
    """The Redis key of a token: an HMAC of it, so that the keys in Redis give away no token."""
    return KEY_PREFIX + salted_hmac(_SALT, token, algorithm="sha256").hexdigest()


def sign_target(key: str, target: ConsoleTarget) -> str:
    """The value stored under `key`: the target and its key, signed."""
    return signing.dumps({"key": key, "target": asdict(target)}, salt=_SALT)


def issue_token(*, target: ConsoleTarget, ttl: int) -> str:
    """Store `target` (signed) under a new random token that expires after `ttl` seconds; returns the token."""
    token = secrets.token_urlsafe(32)
    key = key_for(token)
    client().set(key, sign_target(key, target), ex=max(1, ttl), nx=True)
    return token


def consume_token(token: str) -> ConsoleTarget | None:
    """The target of `token`, deleting it in the same step; None when unknown, already used or expired.

    Raises ForgedTarget when the stored value is not one that a Stratus web process signed for this token.
    """
    if not token or not _TOKEN_RE.match(token):
        return None
    key = key_for(token)
    raw = client().getdel(key)
    if raw is None:
        return None
    try:
        data = signing.loads(raw.decode() if isinstance(raw, bytes) else raw, salt=_SALT)
        if not isinstance(data, dict) or data.get("key") != key:
            raise ForgedTarget("signed for another token")
        target = ConsoleTarget(**data["target"])
    except (signing.BadSignature, UnicodeDecodeError) as exc:
        raise ForgedTarget("bad signature") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ForgedTarget("malformed") from exc
    if target.expires_at < time.time():
        return None
    return target
