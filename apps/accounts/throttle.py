"""Sign-in throttling per (domain, user name, client address) and per client address, kept in the cache (Redis).

Two counters, each taken *before* Keystone is asked (`begin` reserves a slot with an atomic increment), so N
parallel attempts count as N, and at most the limit of them ever reach Keystone:
- (domain, user name, address): STRATUS_LOGIN_MAX_FAILURES failures, then that user is refused *from that
  address*; the same user signs in from an address that has not failed, and the same name in another domain is
  another user. So nobody can lock `admin` out by guessing its password from their own machine.
- address (any user names): STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS (higher: many people may share an address).
A failed sign-in keeps its slots (`failed`); a successful one forgets the user's failures from that address and
gives the address its slot back (`succeeded`); an attempt Keystone never answered (it is down) gives both back
(`abandoned`). A refused attempt counts nothing. The counters expire STRATUS_LOGIN_BLOCK_SECONDS after the last
failure. No request ever waits (a sleeping request would hold a web worker: that is the attacker's win).

Guessing one account from many addresses is limited only per address here; an account-wide lockout belongs to
Keystone (`[security_compliance] lockout_failure_attempts`), which sees every client, not just this dashboard.

If the cache is down, sign-in still works (fail open) and the event is logged.

Behind a reverse proxy the client's address is the proxy's; STRATUS_TRUSTED_PROXIES (the number of proxies in
front of Stratus) makes `client_address` read it from X-Forwarded-For as the nearest trusted proxy saw it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from dashboard.cache import optional


def client_address(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "STRATUS_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            # Each trusted proxy appends the address it saw; anything further left was written by the client.
            address = forwarded[-min(proxies, len(forwarded))]
    return address


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _account_key(domain: str, username: str, address: str) -> str:
    # Keystone's SQL backend compares names without regard to case (MySQL's default collation): so do we.
    return "login-fail:account:" + _hash(domain.strip().lower(), username.strip().lower(), address)


def _address_key(address: str) -> str:
    return "login-fail:addr:" + _hash(address)


def _limits(domain: str, username: str, address: str) -> list[tuple[str, int]]:
    """The counters an attempt takes a slot in, with their limits; the address first."""
    limits = []
    if address:
        limits.append((_address_key(address), settings.STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS))
    limits.append((_account_key(domain, username, address), settings.STRATUS_LOGIN_MAX_FAILURES))
    return limits


@dataclass
class Attempt:
    """One sign-in attempt: whether it was refused, and the counters it holds a slot in."""

    blocked: bool
    account_key: str = ""
    slots: list[str] = field(default_factory=list)


def _take(key: str, limit: int) -> int:
    """Add one to a counter (atomic in Redis: INCR). A new counter gets a full block's expiry; a taken slot does not
    push it back (only `failed` does: the counters expire a block after the last *failure*, so steady sign-ins from
    a shared address do not keep its old typos alive, and knocking on a closed door does not keep it closed)."""
    timeout = settings.STRATUS_LOGIN_BLOCK_SECONDS
    cache.add(key, 0, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # it expired between add and incr
        cache.add(key, 0, timeout=timeout)
        count = cache.incr(key)
    if count <= 1:  # new (INCR may have made it afresh, without an expiry), or back from a give-back race
        cache.touch(key, timeout)
    return count


def _give_back(keys: list[str]) -> None:
    # Only a decrement: deleting a counter at 0 could delete a slot another request has just taken; it expires.
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:  # already expired
            pass


def begin(*, domain: str, username: str, address: str) -> Attempt:
    """Reserve this attempt's slots before Keystone is asked; `blocked` when a counter is full (nothing taken)."""
    limits = _limits(domain, username, address)
    taken: list[str] = []
    with optional("sign-in throttling"):
        for key, limit in limits:
            count = _take(key, limit)
            taken.append(key)
            if count > limit:
                _give_back(taken)
                return Attempt(blocked=True)
        return Attempt(blocked=False, account_key=limits[-1][0], slots=taken)
    return Attempt(blocked=False)


def failed(attempt: Attempt) -> None:
    """A wrong password: the slots stay taken (they were counted before the call), for a full block from now."""
    with optional("counting a failed sign-in"):
        for key in attempt.slots:
            cache.touch(key, settings.STRATUS_LOGIN_BLOCK_SECONDS)
    attempt.slots = []


def succeeded(attempt: Attempt) -> None:
    """Signed in: forget this user's failures from this address; the address gets its slot back."""
    with optional("forgetting the failures of a signed-in user"):
        _give_back([key for key in attempt.slots if key != attempt.account_key])
        if attempt.account_key:
            cache.delete(attempt.account_key)
    attempt.slots = []


def abandoned(attempt: Attempt) -> None:
    """Keystone gave no verdict (unreachable, an error): the attempt counts nothing."""
    with optional("giving back an abandoned sign-in's slots"):
        _give_back(attempt.slots)
    attempt.slots = []


def blocked_message() -> str:
    minutes = max(1, math.ceil(settings.STRATUS_LOGIN_BLOCK_SECONDS / 60))
    return ngettext(
        "Too many failed sign-in attempts from your address. Wait %(minutes)s minute, then try again.",
        "Too many failed sign-in attempts from your address. Wait %(minutes)s minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def reset(*, address: str, domain: str = "", username: str = "") -> None:
    """Forget the failures of an address, and of a user from it (operators; tests)."""
    with optional("resetting sign-in counters"):
        cache.delete_many([key for key, _limit in _limits(domain, username, address)])
