"""Connections to the cloud, built from an explicit Keystone token (in a view or in a worker alike).

No call to Keystone is made to build one: the token body from sign-in (with its catalog) becomes an
`AccessInfoPlugin`. Version discovery documents are cached per process, so a page costs only its own calls.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import openstack.connection
from django.conf import settings
from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity.access import AccessInfoPlugin

from dashboard import metrics

# Shared by every session of this process: one GET of each service's version document per process.
_DISCOVERY_CACHE: dict[str, Any] = {}
_local = threading.local()
_CACHE_SIZE = 16


@dataclass(frozen=True)
class Credentials:
    """A scoped Keystone token and where to use it."""

    token: str
    body: dict[str, Any] = field(repr=False, hash=False, compare=False)
    auth_url: str
    region: str = ""
    interface: str = "public"

    @property
    def user_id(self) -> str:
        return self.body.get("user", {}).get("id", "")

    @property
    def user_name(self) -> str:
        return self.body.get("user", {}).get("name", "")

    @property
    def project_id(self) -> str:
        return (self.body.get("project") or {}).get("id", "")

    @property
    def project_name(self) -> str:
        return (self.body.get("project") or {}).get("name", "")

    @property
    def roles(self) -> list[str]:
        return sorted(role.get("name", "") for role in self.body.get("roles", []))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def expires_at(self) -> datetime | None:
        raw = self.body.get("expires_at")
        if not raw:
            return None
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))

    @property
    def expired(self) -> bool:
        expires = self.expires_at
        return expires is not None and expires <= datetime.now(timezone.utc)

    @property
    def regions(self) -> list[str]:
        found = {
            endpoint.get("region_id") or endpoint.get("region")
            for service in self.body.get("catalog", [])
            for endpoint in service.get("endpoints", [])
        }
        return sorted(r for r in found if r)

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "body": self.body,
            "auth_url": self.auth_url,
            "region": self.region,
            "interface": self.interface,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credentials:
        return cls(
            token=data["token"],
            body=data["body"],
            auth_url=data["auth_url"],
            region=data.get("region", ""),
            interface=data.get("interface", "public"),
        )


class CallClock:
    """The seconds this thread spends in cloud calls while the clock runs (an operation's `cloud_seconds`)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._previous: CallClock | None = None

    def start(self) -> CallClock:
        self._previous, _local.clock = getattr(_local, "clock", None), self
        return self

    def stop(self) -> None:
        if getattr(_local, "clock", None) is self:
            _local.clock = self._previous


class MeteredSession(ks_session.Session):
    """A keystoneauth session that times every call and counts the failed ones (dashboard/metrics.py), and adds
    its time to this thread's CallClock when one runs."""

    def request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        service, start = metrics.service_of(url, kwargs), time.perf_counter()
        status: int | None = None
        failure: str | None = None
        try:
            response = super().request(url, method, *args, **kwargs)
            status = response.status_code
            return response
        except ks_exceptions.HttpError as error:  # an answer with an error status (raise_exc)
            status = error.http_status
            raise
        except Exception as error:  # no answer: refused, timed out, TLS...
            failure = type(error).__name__
            raise
        finally:
            elapsed = time.perf_counter() - start
            metrics.record_cloud_call(service, method, elapsed, status, failure)
            clock = getattr(_local, "clock", None)
            if clock is not None:
                clock.seconds += elapsed


def keystone_session(*, auth: Any = None, timeout: float | None = None) -> ks_session.Session:
    sess = MeteredSession(
        auth=auth,
        timeout=timeout if timeout is not None else settings.STRATUS_CLOUD_TIMEOUT,
        verify=settings.OS_CACERT or _ca_bundle() or True,
        discovery_cache=_DISCOVERY_CACHE,
        app_name="stratus",
    )
    # Without a proxy to honour, requests need not read the environment on every call: it walks every variable
    # twice looking for proxies, a fifth of a cloud call's own time. (Its CA bundle variables are read above.)
    sess.session.trust_env = _proxy_configured()
    return sess


def _ca_bundle() -> str | None:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def _proxy_configured() -> bool:
    return any(name.lower().endswith("_proxy") for name in os.environ)


def _build(creds: Credentials, timeout: float | None) -> openstack.connection.Connection:
    auth_ref = access.create(body={"token": creds.body}, auth_token=creds.token)
    plugin = AccessInfoPlugin(auth_ref=auth_ref, auth_url=creds.auth_url)
    sess = keystone_session(auth=plugin, timeout=timeout)
    return openstack.connection.Connection(
        session=sess,
        region_name=creds.region or None,
        interface=creds.interface,
        app_name="stratus",
        # Fail fast: the page says which service did not answer instead of retrying for minutes.
        connect_retries=0,
        status_code_retries=0,
        image_status_code_retries=0,  # openstacksdk's defaults.json sets 5 for Glance (15 s of backoff on a 503)
    )


def connection_for(creds: Credentials, *, timeout: float | None = None) -> openstack.connection.Connection:
    """An openstacksdk Connection for these credentials; reused within a thread for the same token."""
    cache: OrderedDict[tuple[str, str, float | None], openstack.connection.Connection] = (
        getattr(_local, "connections", None) or OrderedDict()
    )
    _local.connections = cache
    key = (creds.token, creds.region, timeout)
    conn = cache.get(key)
    if conn is None:
        conn = _build(creds, timeout)
        cache[key] = conn
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return conn


def forget_connections(token: str) -> None:
    cache = getattr(_local, "connections", None)
    if cache:
        for key in [k for k in cache if k[0] == token]:
            del cache[key]


def service_connection() -> openstack.connection.Connection | None:
    """Stratus' own service credentials (STRATUS_SERVICE_CLOUD), for admin-only lookups; None when unset."""
    name = settings.STRATUS_SERVICE_CLOUD
    if not name:
        return None
    conn = getattr(_local, "service_connection", None)
    if conn is None or getattr(_local, "service_cloud", None) != name:
        conn = openstack.connect(cloud=name, api_timeout=settings.STRATUS_CLOUD_TIMEOUT)
        _local.service_connection = conn
        _local.service_cloud = name
    return conn


# The highest compute microversion Stratus understands (Nova 2025.x offers 2.100).
COMPUTE_MICROVERSION_MAX = "2.100"


def get_json(
    creds: Credentials | None,
    service: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    microversion_max: str | None = None,
    microversion: str | None = None,
    conn: openstack.connection.Connection | None = None,
) -> dict[str, Any]:
    """GET a service's JSON through the authenticated adapter, skipping openstacksdk's resource objects: the one
    door for every read of every service.

    For pages that only read a few fields of many records (building an SDK resource costs milliseconds each).
    `service` is "compute", "image", "placement", "block_storage" or "network"; compute is asked at the highest
    microversion both sides speak (at most `microversion_max`), unless `microversion` names the one to send (for
    any service: Placement's, or a compute version the caller negotiated). `conn` instead of `creds`: a connection
    the caller already holds. Errors leave as typed CloudErrors naming the service.
    """
    from openstack import exceptions as sdk_exceptions

    from apps.cloud.errors import cloud_errors

    if conn is None:
        if creds is None:
            raise TypeError("get_json needs creds or conn")
        conn = connection_for(creds)
    with cloud_errors(service):
        proxy = getattr(conn, service)
        if microversion is not None:
            endpoint = service_endpoint(conn, service)
        else:
            endpoint, microversion = _target(conn, proxy, service, microversion_max)
        response = proxy.get(endpoint + path, params=params or {}, raise_exc=False, microversion=microversion)
        sdk_exceptions.raise_from_response(response)
        return response.json()


# Facts about each live connection's cloud (endpoints, microversions), dropped with the connection. Kept beside it,
# not in it: openstacksdk's objects are not written into.
_MEMO: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
_memo_lock = threading.Lock()


def _remembered(conn: Any, key: tuple[Any, ...], find: Any) -> Any:
    """A fact about this connection's cloud, found on first use and then kept for the connection's life: each
    lookup through keystoneauth copies the whole catalog, about half a millisecond a call."""
    with _memo_lock:
        memo = _MEMO.setdefault(conn, {})
    if key not in memo:
        memo[key] = find()
    return memo[key]


def service_endpoint(conn: Any, service: str) -> str:
    """The service's endpoint URL (its first use discovers the service's versions and can fail)."""
    return _remembered(conn, ("endpoint", service), lambda: getattr(conn, service).get_endpoint().rstrip("/"))


def compute_max_microversion(conn: Any) -> str | None:
    """The highest compute microversion the cloud offers (None: microversions unsupported)."""
    return _remembered(conn, ("max",), lambda: getattr(conn.compute.get_endpoint_data(), "max_microversion", None))


def _target(conn: Any, proxy: Any, service: str, microversion_max: str | None) -> tuple[str, str | None]:
    """Where to send a GET and at which microversion: compute at the highest both sides speak, capped."""
    from openstack import utils as sdk_utils

    endpoint = service_endpoint(conn, service)
    if service != "compute":
        return endpoint, None
    wanted = microversion_max or getattr(settings, "STRATUS_COMPUTE_MICROVERSION_MAX", None) or COMPUTE_MICROVERSION_MAX
    version = _remembered(
        conn, ("microversion", wanted), lambda: sdk_utils.maximum_supported_microversion(proxy, wanted)
    )
    return endpoint, version


def get_json_many(creds: Credentials, gets: list[tuple[str, str, dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """Several `get_json(creds, service, path, params)` at once: the page waits for the slowest, not for the sum.

    Each service is discovered first, in this thread (a failing service fails here, once); the GETs then share
    this thread's connection. An error of any GET is raised (the first in `gets` order).
    """
    from apps.cloud.errors import cloud_errors

    conn = connection_for(creds)
    for service in dict.fromkeys(service for service, _, _ in gets):
        with cloud_errors(service):
            _target(conn, getattr(conn, service), service, None)
    return at_once(*(lambda g=g: get_json(creds, g[0], g[1], g[2], conn=conn) for g in gets))


# At most this many cloud calls of one process run at once on behalf of its pages.
PARALLEL = 8
_pool: ThreadPoolExecutor | None = None


def in_parallel(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """[fn(item) for item in items], run at once (up to PARALLEL) in one thread pool per process, started on first
    use so that it lives in the process that serves (a pool does not survive a fork). Not for fn that itself
    runs things in parallel: a full pool would wait for itself."""
    global _pool
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="stratus-cloud")
    return list(_pool.map(fn, items))


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    return in_parallel(lambda call: call(), calls)


def get_json_list(
    creds: Credentials,
    path: str,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    marker_of: Any = lambda item: str(item.get("id", "")),
    cap: int = 20_000,
    service: str = "compute",
    conn: openstack.connection.Connection | None = None,
) -> list[dict[str, Any]]:
    """Every item of a paged list (`{key: [...], key_links: [{"rel": "next", ...}]}`: Nova's, and Neutron's when
    its pagination_max_limit or a `limit` cuts it): follows the pages with `marker` (the last item's, by
    `marker_of`) while the service links a next page, stopping at a repeated marker or `cap` items."""
    params = dict(params or {})
    items: list[dict[str, Any]] = []
    while True:
        body = get_json(creds, service, path, params, conn=conn)
        page = body.get(key) or []
        items += page
        marker = marker_of(page[-1]) if page else ""
        more = any(isinstance(link, dict) and link.get("rel") == "next" for link in body.get(f"{key}_links") or [])
        if not marker or not more or marker == params.get("marker") or len(items) >= cap:
            return items
        params["marker"] = marker


def get_json_lists(
    creds: Credentials, lists: list[tuple[str, str, str, dict[str, Any] | None]]
) -> list[list[dict[str, Any]]]:
    """Several `get_json_list(creds, path, key, params, service=service)` for `(service, path, key, params)` at
    once (each follows its own pages): discovery first in this thread, as `get_json_many`."""
    from apps.cloud.errors import cloud_errors

    conn = connection_for(creds)
    for service in dict.fromkeys(service for service, _, _, _ in lists):
        with cloud_errors(service):
            _target(conn, getattr(conn, service), service, None)
    return at_once(*(lambda g=g: get_json_list(creds, g[1], g[2], g[3], service=g[0], conn=conn) for g in lists))
