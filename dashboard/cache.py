"""Django's Redis cache, with values stored as JSON and one client object per connection pool.

JSON, not pickle: Django's own Redis cache pickles values, so anyone who can write to Redis could make a web
process run code of their choosing when it reads the cache. Here a value that is not JSON is not unpickled (a
read of it fails, and the callers treat a failing cache as a miss). Integers stay plain integers, so `incr`
works. What Stratus caches is JSON by nature (counters, names, Placement's JSON answers).

One client per pool: Django builds a new `redis.Redis` around the pool on every cache call; constructing it (its
response callbacks, its retry policy) cost about 5 % of a page that reads the cache a few times. A client is
thread-safe and holds no connection of its own, so one per pool is enough.

`optional()` is the one place that says what a cache failure means to Stratus: nothing. Every cache call goes
through it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# What a cache call raises when Redis is unreachable, slow or refuses (RedisError: its ConnectionError and
# TimeoutError too), or when a value in it is not JSON (ValueError: something else wrote it).
CACHE_ERRORS = (RedisError, ValueError)


@contextmanager
def optional(what: str) -> Iterator[None]:
    """Run cache calls whose failure is not an error, and carry on without them.

    Nothing Stratus keeps in the cache is the only copy of anything: names and Placement answers are read again
    from the cloud, a "calm" marker missing sends the tracker to the database, and sign-in counters that cannot
    be counted only mean no throttling until Redis is back (the password is still checked by Keystone). So a
    cache that is down makes a page slower, never wrong, and never an error page: the caller sets its fallback
    before the block and the block ends at the first failing call, with one warning saying what went without.
    Keep the block to the cache calls: a ValueError of the caller's own would be taken for a cache failure.
    """
    try:
        yield
    except CACHE_ERRORS as error:
        log.warning("cache unavailable, going without %s: %s: %s", what, type(error).__name__, error)


def cached_many(keys: list[str], what: str) -> dict[str, Any]:
    """The values the cache holds for these keys, in one round trip; {} when the cache fails (see optional)."""
    if not keys:
        return {}
    with optional(what):
        return cache.get_many(keys)
    return {}


def cache_many(values: dict[str, Any], timeout: float, what: str) -> None:
    """Keep these values a while, in one round trip; nothing when the cache fails (see optional)."""
    if not values:
        return
    with optional(what):
        cache.set_many(values, timeout)


class JSONSerializer:
    """Django's RedisSerializer with JSON in place of pickle."""

    def dumps(self, obj: Any) -> int | bytes:
        if type(obj) is int:  # stored as a Redis integer, so INCR/DECR work on it
            return obj
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return int(data)
        except ValueError:
            return json.loads(data)


class ReusedClient(RedisCacheClient):
    # The private members of Django's client it reuses are not in django-stubs (hence the ignores).
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClient
        self._options = {"serializer": JSONSerializer, **self._options}  # type: ignore[has-type]
