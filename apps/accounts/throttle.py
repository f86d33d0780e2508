"""Sign-in throttling per user name and per client address, kept in the cache (Redis).

After a few failures each further attempt waits a little longer; at STRATUS_LOGIN_MAX_FAILURES the
user name or address is blocked for STRATUS_LOGIN_BLOCK_SECONDS. A success clears the user's count.
If the cache is down, sign-in still works (fail open) and the event is logged.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _keys(username: str, address: str) -> list[str]:
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{user}", f"login-fail:addr:{address}"]


def blocked(username: str, address: str) -> bool:
    try:
        counts = cache.get_many(_keys(username, address))
    except Exception:
        log.warning("sign-in throttling is off: the cache is unreachable")
        return False
    return any(count >= settings.STRATUS_LOGIN_MAX_FAILURES for count in counts.values())


def failed(username: str, address: str) -> None:
    worst = 0
    try:
        for key in _keys(username, address):
            cache.add(key, 0, timeout=settings.STRATUS_LOGIN_BLOCK_SECONDS)
            count = cache.incr(key)
            cache.touch(key, settings.STRATUS_LOGIN_BLOCK_SECONDS)
            worst = max(worst, count)
    except Exception:
        log.warning("sign-in throttling is off: the cache is unreachable")
        return
    if worst >= 3:  # slow down repeated failures before blocking outright
        time.sleep(min(0.25 * (worst - 2), 1.0))


def succeeded(username: str) -> None:
    try:
        cache.delete(_keys(username, "")[0])
    except Exception:
        pass
