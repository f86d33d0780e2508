"""The console proxy's token plugin: consume a Stratus console token, check the WebSocket Origin, log who connects.

Shaped like websockify's `TokenRedis` plugin, with two differences: a token is consumed in the same step as it
is read (GETDEL, so a replayed token finds nothing), and the decision needs the request's Origin and server,
so the proxy's handler calls `authorize()` instead of websockify's `lookup()`.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
from dataclasses import dataclass
from typing import NoReturn

import redis
from django.conf import settings
from websockify.token_plugins import BasePlugin

from apps.consoles.networks import allowed_address
from apps.consoles.tokens import ConsoleTarget, ForgedTarget, consume_token, session_hash

log = logging.getLogger("apps.consoles.proxy")


class Refused(Exception):
    """A console connection that must not be made; `reason` is logged and sent back in the HTTP 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attempt:
    token: str
    server_id: str
    origin: str
    peer: str
    session_key: str = ""  # the dashboard's session cookie, when the browser sent it


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origins(target: ConsoleTarget) -> set[str]:
    """STRATUS_CONSOLE_ALLOWED_ORIGINS when set; otherwise the origin of the dashboard page that asked for it."""
    configured = {_normal(o) for o in settings.STRATUS_CONSOLE_ALLOWED_ORIGINS if o.strip()}
    return configured or {_normal(target.origin)}


class StratusTokenPlugin(BasePlugin):
    def __init__(self, src: str = "") -> None:
        super().__init__(src)

    def lookup(self, token: str) -> None:
        # websockify's own lookup cannot see the Origin; Stratus' handler calls authorize() instead.
        return None

    def authorize(self, attempt: Attempt) -> ConsoleTarget:
        """Consume the token and return its target, or raise Refused (and log why)."""
        try:
            target = consume_token(attempt.token)
        except redis.RedisError as exc:
            log.error("console refused: the token store (Redis) is unreachable: %s", exc)
            raise Refused("the token store is unreachable") from exc
        except ForgedTarget as exc:
            # Someone wrote this value to Redis: a Stratus web process did not sign it for this token.
            log.error("console refused: a forged console target in Redis (%s); peer=%s", exc, attempt.peer)
            raise Refused("forged console target") from exc
        if target is None:
            self._refuse(attempt, "unknown, used or expired token")
        if attempt.server_id != target.server_id:
            self._refuse(attempt, "token issued for another server", target)
        if _normal(attempt.origin) not in allowed_origins(target):
            self._refuse(attempt, "origin not allowed", target)
        if target.session_hash and not hmac.compare_digest(session_hash(attempt.session_key), target.session_hash):
            self._refuse(attempt, "not the browser session the token was issued to", target)
        address = allowed_address(target.host, target.port)
        if address is None:
            log.error("console refused: VNC host %s is outside STRATUS_CONSOLE_ALLOWED_NETWORKS", target.host)
            self._refuse(attempt, "the VNC host is outside the allowed networks", target)
        log.info(
            "console connect: user=%s (%s) project=%s server=%s (%s) vnc=%s:%s peer=%s origin=%s",
            target.user_name,
            target.user_id,
            target.project_id,
            target.server_name,
            target.server_id,
            target.host,
            target.port,
            attempt.peer,
            attempt.origin,
        )
        return dataclasses.replace(target, address=address)

    @staticmethod
    def _refuse(attempt: Attempt, reason: str, target: ConsoleTarget | None = None) -> NoReturn:
        log.warning(
            "console refused: %s; server=%s user=%s peer=%s origin=%s",
            reason,
            attempt.server_id or "-",
            f"{target.user_name} ({target.user_id})" if target else "-",
            attempt.peer,
            attempt.origin or "-",
        )
        raise Refused(reason)
