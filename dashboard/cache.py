"""Django's Redis cache, with values stored as JSON and one client object per connection pool.

JSON, not pickle: Django's own Redis cache pickles values, so anyone who can write to Redis could make a web
process run code of their choosing when it reads the cache. Here a value that is not JSON is not unpickled (a
read of it fails, and the callers treat a failing cache as a miss). Integers stay plain integers, so `incr`
works. What Stratus caches is JSON by nature (counters, names, Placement's JSON answers).

One client per pool: Django builds a new `redis.Redis` around the pool on every cache call; constructing it (its
response callbacks, its retry policy) cost about 5 % of a page that reads the cache a few times. A client is
thread-safe and holds no connection of its own, so one per pool is enough.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            client = clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClient
        self._options = {"serializer": JSONSerializer, **self._options}
