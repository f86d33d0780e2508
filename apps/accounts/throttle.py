"""Sign-in throttling per user name and per client address, kept in the cache (Redis).

After a few failures each further attempt waits a little longer (`delay_for`); at STRATUS_LOGIN_MAX_FAILURES
failures for a user name, or STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS from one address (higher: many people
may share an address), further attempts are refused for STRATUS_LOGIN_BLOCK_SECONDS. A success clears the
user's count. If the cache is down, sign-in still works (fail open) and the event is logged.

Behind a reverse proxy the client's address is the proxy's; STRATUS_TRUSTED_PROXIES (the number of proxies in
front of Stratus) makes `client_address` read it from X-Forwarded-For as the nearest trusted proxy saw it.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "STRATUS_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            # Each trusted proxy appends the address it saw; anything further left was written by the client.
            address = forwarded[-min(proxies, len(forwarded))]
    return address


def _user_key(username: str) -> str:
    return "login-fail:user:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _address_key(address: str) -> str:
    return "login-fail:addr:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def _limits(username: str, address: str) -> dict[str, int]:
    limits = {_user_key(username): settings.STRATUS_LOGIN_MAX_FAILURES}
    if address:
        limits[_address_key(address)] = getattr(
            settings, "STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS", 4 * settings.STRATUS_LOGIN_MAX_FAILURES
        )
    return limits


def delay_for(failures: int) -> float:
    """Seconds a failed attempt waits before answering: none for the first two, then growing to 2 s."""
    return 0.0 if failures < 3 else min(0.5 * (failures - 2), 2.0)


def blocked(username: str, address: str) -> bool:
    limits = _limits(username, address)
    try:
        counts = cache.get_many(list(limits))
    except Exception:
        log.warning("sign-in throttling is off: the cache is unreachable")
        return False
    return any(count >= limits[key] for key, count in counts.items())


def failed(username: str, address: str) -> None:
    worst = 0
    try:
        for key in _limits(username, address):
            cache.add(key, 0, timeout=settings.STRATUS_LOGIN_BLOCK_SECONDS)
            count = cache.incr(key)
            cache.touch(key, settings.STRATUS_LOGIN_BLOCK_SECONDS)
            worst = max(worst, count if key.startswith("login-fail:user:") else count // 4)
    except Exception:
        log.warning("sign-in throttling is off: the cache is unreachable")
        return
    time.sleep(delay_for(worst))  # slows a guesser down; a person mistyping twice never notices


def succeeded(username: str) -> None:
    try:
        cache.delete(_user_key(username))
    except Exception:
        pass


def reset(username: str, address: str) -> None:
    """Forget the failures of a user name and an address (operators; tests)."""
    try:
        cache.delete_many(list(_limits(username, address)))
    except Exception:
        pass
