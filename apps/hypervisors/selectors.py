"""Reads for the admin hypervisor pages: hypervisors and compute services from Nova, capacity from Placement.

Where the numbers come from depends on the negotiated compute microversion (`compute_microversion`):
- 2.88 and later: Nova's hypervisor API no longer reports usage, so each hypervisor's root resource provider
  (its UUID is the hypervisor's) is read from Placement: `/inventories` (total, reserved, allocation ratio) and
  `/usages`. That is 2 Placement calls per hypervisor, made concurrently and cached for a few seconds.
- before 2.88: the used figures and physical totals come from Nova's hypervisor details (already in the list
  answer), and Placement gives only the inventories (reserved amounts, allocation ratios): 1 call per hypervisor,
  as Skyline does. Without a working Placement the figures are Nova's own, without allocation ratios.
Either way capacity is Placement's: `(total - reserved) * allocation_ratio`, so both give the same overview.

The list of hypervisors is read at 2.87 at most (`LIST_MAX`: from 2.88 Nova asks every compute host for its uptime
while listing), which still gives each hypervisor's running_vms; where it does not, the server counts come from one
more Nova call, `GET /os-hypervisors?with_servers=true` (every server's id and name), kept with Placement's answers.

The list page does not wait for any of it: its first paint is one Nova call (the hypervisors) with the zones (from
the compute services), usage and server counts the cache holds, however old (up to `USAGE_KEEP_SECONDS`), and says
how old; when some are missing or older than `STRATUS_PLACEMENT_CACHE_SECONDS`, the page asks for them right after
it is shown (`usage="fresh"`, an htmx `load`), and that request refreshes them for every admin.

`STRATUS_COMPUTE_MICROVERSION_MAX` (settings, default None) caps the compute microversion, e.g. "2.87".
`STRATUS_PLACEMENT_CACHE_SECONDS` (settings, default 5) is how long Placement answers count as fresh; 0 turns the
cache off (every render then asks Placement itself, in the page).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from apps.cloud.connection import (
    Credentials,
    at_once,
    compute_max_microversion,
    connection_for,
    get_json,
    in_parallel,
)
from apps.cloud.errors import CloudError, NotFound, cloud_errors
from dashboard.cache import optional

log = logging.getLogger(__name__)

RESOURCES = ("VCPU", "MEMORY_MB", "DISK_GB")
STATS_REMOVED = (2, 88)  # hypervisor usage fields and /os-hypervisors/statistics are gone from here on
# The list of hypervisors is read at most at 2.87: from 2.88 Nova adds each hypervisor's uptime to the detailed
# list, asking every compute host for it over RPC (a call per hypervisor inside Nova, tens of ms each), which the
# list does not show; 2.87 also still carries each hypervisor's running_vms (the servers column).
LIST_MAX = (2, 87)
UUID_IDS = (2, 53)  # hypervisor and service IDs are UUIDs; ?with_servers= replaces /servers
FLAVOR_EMBEDDED = (2, 47)
PLACEMENT_TRAITS = "1.6"
PAGE_LIMIT = 1000
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


# --- data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One resource class on one provider (or summed over the cloud), in Placement's terms."""

    rc: str
    total: int = 0  # physical amount
    reserved: int = 0
    allocation_ratio: float = 1.0
    used: int = 0

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def percent(self) -> int:
        if self.capacity <= 0:
            return 100 if self.used > 0 else 0
        return round(self.used * 100 / self.capacity)

    @property
    def key(self) -> str:
        return {"VCPU": "vcpu", "MEMORY_MB": "ram", "DISK_GB": "disk"}.get(self.rc, self.rc.lower())


@dataclass(frozen=True)
class ComputeService:
    id: str
    binary: str
    host: str
    zone: str
    state: str  # up / down
    status: str  # enabled / disabled
    disabled_reason: str
    updated_at: datetime | None
    forced_down: bool = False

    @property
    def can_toggle(self) -> bool:
        return self.binary == "nova-compute"


@dataclass(frozen=True)
class Hypervisor:
    id: str
    name: str
    type: str
    state: str
    status: str
    disabled_reason: str
    host_ip: str
    host: str
    zone: str
    service_id: str
    running_servers: int | None
    resources: dict[str, Resource] = field(default_factory=dict)  # by resource class; empty: unknown
    provider_id: str = ""

    @property
    def vcpu(self) -> Resource | None:
        return self.resources.get("VCPU")

    @property
    def ram(self) -> Resource | None:
        return self.resources.get("MEMORY_MB")

    @property
    def disk(self) -> Resource | None:
        return self.resources.get("DISK_GB")

    @property
    def hottest(self) -> int:
        return max((r.percent for r in self.resources.values()), default=0)


@dataclass(frozen=True)
class Summary:
    resources: list[Resource]
    hypervisors: int
    up: int
    down: int
    disabled: int
    running_servers: int | None


@dataclass(frozen=True)
class Overview:
    hypervisors: list[Hypervisor]
    summary: Summary
    zones: list[str]
    microversion: str
    source: str  # "placement" (2.88+) or "nova" (hypervisor statistics, ratios from Placement)
    placement_error: CloudError | None = None
    usage_read_at: float | None = None  # when the oldest usage figure shown was read (time.time()); None: none shown
    usage_missing: bool = False  # some usage figures (or server counts, zones) are not known yet
    usage_stale: bool = False  # some are older than STRATUS_PLACEMENT_CACHE_SECONDS

    @property
    def needs_refresh(self) -> bool:
        """The page asks for fresh usage right after it is shown."""
        return self.usage_missing or self.usage_stale

    @property
    def usage_age(self) -> int | None:
        """Seconds since the oldest usage figure shown was read."""
        return None if self.usage_read_at is None else max(0, int(time.time() - self.usage_read_at))


@dataclass(frozen=True)
class HostedServer:
    id: str
    name: str
    project_id: str
    project_name: str
    flavor: str
    status: str
    vcpus: int | None
    ram: int | None


@dataclass(frozen=True)
class Provider:
    uuid: str
    name: str
    generation: int | None
    resources: list[Resource]
    traits: list[str]


@dataclass(frozen=True)
class HypervisorDetail:
    hypervisor: Hypervisor
    provider: Provider | None
    servers: list[HostedServer]
    service: ComputeService | None
    microversion: str
    uptime: str = ""
    placement_error: CloudError | None = None


# --- microversions ----------------------------------------------------------------------------------------


def _parse_version(value: Any) -> tuple[int, int] | None:
    if value is None or value == "":
        return None
    if isinstance(value, tuple | list):
        return int(value[0]), int(value[1])
    match = re.match(r"^\s*(\d+)\.(\d+)\s*$", str(value))
    return (int(match.group(1)), int(match.group(2))) if match else None


def compute_microversion(conn: Any, *, capped: bool = True) -> tuple[int, int]:
    """The compute microversion to use: the server's maximum, capped by STRATUS_COMPUTE_MICROVERSION_MAX."""
    with cloud_errors("compute"):
        server_max = _parse_version(compute_max_microversion(conn)) or (2, 1)
    cap = _parse_version(getattr(settings, "STRATUS_COMPUTE_MICROVERSION_MAX", None)) if capped else None
    return min(server_max, cap) if cap else server_max


def _mv(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


# --- raw calls through openstacksdk's adapters (exact URLs and microversions, typed errors) -----------------


def _get(conn: Any, service: str, url: str, microversion: str | None = None, **params: Any) -> dict[str, Any]:
    """One GET through the one door, at the microversion this module negotiated (`params` as keywords)."""
    return get_json(None, service, url, params or None, microversion=microversion, conn=conn)


def _cache_ttl() -> int:
    return int(getattr(settings, "STRATUS_PLACEMENT_CACHE_SECONDS", 5))


# How long a usage answer is kept to be shown (with its age) on a first paint while a fresh one is asked for.
USAGE_KEEP_SECONDS = 600


def _placement_key(creds: Credentials, url: str, microversion: str | None = None) -> str:
    return f"hv:placement:{creds.auth_url}:{creds.region}:{microversion}:{url}"


def _stamped_many(keys: list[str]) -> dict[str, tuple[float, Any]]:
    """The cached answers among these keys with when each was read: {key: (read_at, body)}, one cache round trip."""
    if _cache_ttl() <= 0 or not keys:
        return {}
    found: dict[str, Any] = {}
    with optional("cached Placement answers"):
        found = cache.get_many(keys)
    return {k: (v["at"], v["body"]) for k, v in found.items() if isinstance(v, dict) and "at" in v}


def _stamp_many(answers: dict[str, Any]) -> None:
    if _cache_ttl() <= 0 or not answers:
        return
    now = time.time()
    with optional("caching Placement answers"):
        cache.set_many({k: {"at": now, "body": v} for k, v in answers.items()}, max(USAGE_KEEP_SECONDS, _cache_ttl()))


def _cached_placement(
    conn: Any, creds: Credentials, url: str, microversion: str | None = None, *, fetch: bool = True
) -> dict[str, Any] | None:
    """A Placement GET, shared by every admin for a few seconds (Placement data is cloud-wide, not per user).
    `fetch=False`: only what the cache holds, however old (None when nothing)."""
    key = _placement_key(creds, url, microversion)
    hit = _stamped_many([key]).get(key)
    if hit is not None and (not fetch or time.time() - hit[0] < _cache_ttl()):
        return hit[1]
    if not fetch:
        return None
    data = _get(conn, "placement", url, microversion)
    _stamp_many({key: data})
    return data


def _provider_part(conn: Any, uuid: str, part: str) -> dict[str, Any] | None:
    """A provider's inventories or usages; None when Placement has no such provider (a host not reporting yet)."""
    try:
        body = _get(conn, "placement", f"/resource_providers/{uuid}/{part}")
    except NotFound:
        return None
    return body if isinstance(body.get(part), dict) else None


# --- parsing ---------------------------------------------------------------------------------------------


def _service_from(raw: dict[str, Any]) -> ComputeService:
    return ComputeService(
        id=str(raw.get("id", "")),
        binary=raw.get("binary") or "",
        host=raw.get("host") or "",
        zone=raw.get("zone") or "",
        state=raw.get("state") or "",
        status=raw.get("status") or "",
        disabled_reason=raw.get("disabled_reason") or "",
        updated_at=_parse_time(raw.get("updated_at")),
        forced_down=bool(raw.get("forced_down")),
    )


def _parse_time(value: Any) -> datetime | None:
    """Nova's timestamps: ISO 8601, often without a zone (UTC) and with microseconds."""
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _inventory_resources(inventories: dict[str, Any], usages: dict[str, Any] | None) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for rc, inv in inventories.items():
        out[rc] = Resource(
            rc=rc,
            total=int(inv.get("total") or 0),
            reserved=int(inv.get("reserved") or 0),
            allocation_ratio=float(inv.get("allocation_ratio") or 1.0),
            used=int((usages or {}).get(rc) or 0),
        )
    return out


def _stats_resources(raw: dict[str, Any], inventories: dict[str, Any] | None) -> dict[str, Resource]:
    """Nova's hypervisor statistics (before 2.88) with Placement's reserved amounts and allocation ratios.

    Nova counts the host's reserved memory and disk in `memory_mb_used` / `local_gb_used`; Placement's usages
    do not, so the reserved amount is taken off to give the same "used" as Placement.
    """
    fields = {
        "VCPU": ("vcpus", "vcpus_used"),
        "MEMORY_MB": ("memory_mb", "memory_mb_used"),
        "DISK_GB": ("local_gb", "local_gb_used"),
    }
    out: dict[str, Resource] = {}
    for rc, (total_key, used_key) in fields.items():
        if raw.get(total_key) is None:
            continue
        inv = (inventories or {}).get(rc) or {}
        reserved = int(inv.get("reserved") or 0)
        used = int(raw.get(used_key) or 0)
        if inventories is not None and rc != "VCPU":
            used = max(0, used - reserved)
        out[rc] = Resource(
            rc=rc,
            total=int(raw.get(total_key) or 0),
            reserved=reserved,
            allocation_ratio=float(inv.get("allocation_ratio") or 1.0),
            used=used,
        )
    return out


def _summary(hypervisors: list[Hypervisor]) -> Summary:
    resources = []
    for rc in RESOURCES:
        items = [h.resources[rc] for h in hypervisors if rc in h.resources]
        if not items:
            continue
        total = sum(r.total for r in items)
        reserved = sum(r.reserved for r in items)
        capacity = sum(r.capacity for r in items)
        used = sum(r.used for r in items)
        # One Resource whose capacity is the sum of the hosts' capacities (ratios can differ per host).
        ratio = capacity / (total - reserved) if total - reserved > 0 else 1.0
        resources.append(Resource(rc=rc, total=total, reserved=reserved, allocation_ratio=ratio, used=used))
    counts = [h.running_servers for h in hypervisors]
    return Summary(
        resources=resources,
        hypervisors=len(hypervisors),
        up=sum(1 for h in hypervisors if h.state == "up"),
        down=sum(1 for h in hypervisors if h.state != "up"),
        disabled=sum(1 for h in hypervisors if h.status == "disabled"),
        running_servers=None if any(c is None for c in counts) else sum(c or 0 for c in counts),
    )


# --- reads -----------------------------------------------------------------------------------------------


def _hypervisor_list(
    conn: Any, version: tuple[int, int], *, url: str = "/os-hypervisors/detail", with_servers: bool = False
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {}
    if with_servers and version >= UUID_IDS:
        params["with_servers"] = "true"
    if version >= (2, 33):
        params["limit"] = PAGE_LIMIT
    items: list[dict[str, Any]] = []
    while True:
        body = _get(conn, "compute", url, _mv(version), **params)
        page = body.get("hypervisors") or []
        items.extend(page)
        if version < (2, 33) or len(page) < PAGE_LIMIT or not body.get("hypervisors_links"):
            return items
        params["marker"] = page[-1]["id"]


def _server_counts(conn: Any, version: tuple[int, int]) -> dict[str, int]:
    """Hypervisor id -> number of servers on it, from Nova's brief list with its servers (2.53+; Nova omits the
    key on a hypervisor without servers)."""
    listed = _hypervisor_list(conn, version, url="/os-hypervisors", with_servers=True)
    return {str(h.get("id", "")): len(h.get("servers") or []) for h in listed}


def _compute_services_raw(conn: Any, version: tuple[int, int], **query: Any) -> list[dict[str, Any]]:
    body = _get(conn, "compute", "/os-services", _mv(min(version, (2, 69))), **query)
    return list(body.get("services") or [])


def _compute_services(conn: Any, version: tuple[int, int], **query: Any) -> list[ComputeService]:
    return [_service_from(s) for s in _compute_services_raw(conn, version, **query)]


def _provider_uuids(conn: Any, creds: Credentials, raws: list[dict[str, Any]], *, fetch: bool = True) -> dict[str, str]:
    """Hypervisor id -> resource provider UUID. From 2.53 they are equal; before, match by hostname (Placement's
    provider list, cached; `fetch=False`: only from the cache)."""
    out: dict[str, str] = {}
    missing = []
    for raw in raws:
        hid = str(raw.get("id", ""))
        if UUID_RE.match(hid):
            out[hid] = hid
        else:
            missing.append(raw)
    if missing:
        body = _cached_placement(conn, creds, "/resource_providers", fetch=fetch) or {}
        by_name = {p.get("name"): p.get("uuid") for p in body.get("resource_providers") or []}
        for raw in missing:
            uuid = by_name.get(raw.get("hypervisor_hostname"))
            if uuid:
                out[str(raw["id"])] = uuid
    return out


def _build_hypervisor(
    raw: dict[str, Any],
    zones: dict[str, str],
    services: dict[str, ComputeService],
    resources: dict[str, Resource],
    provider_id: str,
) -> Hypervisor:
    svc_raw = raw.get("service") or {}
    host = svc_raw.get("host") or raw.get("hypervisor_hostname") or ""
    service = services.get(host)
    servers = raw.get("servers")
    if "running_vms" in raw:
        running: int | None = int(raw.get("running_vms") or 0)
    elif "servers" in raw:
        running = len(servers or [])
    else:
        running = None
    return Hypervisor(
        id=str(raw.get("id", "")),
        name=raw.get("hypervisor_hostname") or "",
        type=raw.get("hypervisor_type") or "",
        state=raw.get("state") or "",
        status=raw.get("status") or "",
        disabled_reason=svc_raw.get("disabled_reason") or (service.disabled_reason if service else ""),
        host_ip=raw.get("host_ip") or "",
        host=host,
        zone=zones.get(host, ""),
        service_id=str(svc_raw.get("id", "")) or (service.id if service else ""),
        running_servers=running,
        resources=resources,
        provider_id=provider_id,
    )


def list_hypervisors(
    *, creds: Credentials, usage: str = "fresh", servers: bool = True, zones_now: bool = False
) -> Overview:
    """Every hypervisor with its usage, the cloud-wide summary, and the zones (for filters).

    Calls: Nova `GET /os-hypervisors/detail` (one page per 1000), and `GET /os-services?binary=nova-compute` at once
    with it when usage is fresh, `zones_now` (the page filters by zone) or before 2.53 (else the zones are the
    cached ones). Usage (`usage="fresh"`): Placement 2 per hypervisor from 2.88 (inventories, usages), else 1
    (inventories), and with `servers`, where Nova gives no running_vms, one `GET /os-hypervisors?with_servers=true`;
    each answer is reused while younger than STRATUS_PLACEMENT_CACHE_SECONDS. `usage="cached"`: no call for usage,
    only what the cache holds, however old (the Overview says how old, and whether some is missing); with the cache
    off, as "fresh".
    """
    conn = connection_for(creds)
    version = compute_microversion(conn)
    ttl = _cache_ttl()
    fetch = usage == "fresh" or ttl <= 0
    # The compute services give the zones (and, before 2.53, each host's service): cached with the usage, asked for
    # in the page only when fresh usage is, when the page filters by zone, or before 2.53.
    services_key = f"hv:services:{creds.auth_url}:{creds.region}:{_mv(version)}"
    list_version = min(version, LIST_MAX)
    services_now = fetch or zones_now or version < UUID_IDS
    services_read: tuple[float, Any] | None = None
    if services_now:
        # The two Nova calls at once: the page waits for the slower, not for both.
        raws, listed = at_once(
            lambda: _hypervisor_list(conn, list_version),
            lambda: _compute_services_raw(conn, version, binary="nova-compute"),
        )
        _stamp_many({services_key: listed})  # Nova's JSON as it came (the cache stores JSON)
        services_read = (time.time(), listed)
    else:
        raws = _hypervisor_list(conn, list_version)
        services_read = _stamped_many([services_key]).get(services_key)
        listed = services_read[1] if services_read else []
    services = {s.host: s for s in map(_service_from, listed)}
    zones = {host: s.zone for host, s in services.items()}
    use_stats = version < STATS_REMOVED
    # Server counts: Nova's running_vms (up to 2.87, which the list is read at); else one more call (with_servers).
    counts_wanted = servers and any("running_vms" not in raw for raw in raws)
    counts_key = f"hv:servers:{creds.auth_url}:{creds.region}:{_mv(version)}"
    placement_error: CloudError | None = None
    inventories: dict[str, dict[str, Any]] = {}
    usages: dict[str, dict[str, Any]] = {}
    providers: dict[str, str] = {}
    known: set[str] = set()  # providers whose inventories are known (Placement answered, maybe "no such provider")
    counts: dict[str, int] | None = None
    read_at: list[float] = [services_read[0]] if services_read else []
    missing_any = services_read is None
    stale_any = services_read is not None and time.time() - services_read[0] >= ttl
    try:
        providers = _provider_uuids(conn, creds, raws, fetch=fetch)
        missing_any = len(providers) < len(raws)
        uuids = sorted(set(providers.values()))
        parts = ["inventories"] if use_stats else ["inventories", "usages"]
        wanted = {_placement_key(creds, f"/resource_providers/{u}/{part}"): (u, part) for u in uuids for part in parts}
        stamped = _stamped_many(list(wanted) + ([counts_key] if counts_wanted else []))
        now = time.time()
        if fetch:
            missing = [k for k in wanted if k not in stamped or now - stamped[k][0] >= ttl]
            refresh_counts = counts_wanted and (counts_key not in stamped or now - stamped[counts_key][0] >= ttl)
            calls: list[Callable[[], Any]] = [partial(_provider_part, conn, *wanted[k]) for k in missing]
            if refresh_counts:
                calls.append(lambda: _server_counts(conn, version))
            answers = at_once(*calls)
            if refresh_counts:
                counts = answers.pop()
                _stamp_many({counts_key: counts})
            fetched = dict(zip(missing, answers, strict=True))
            _stamp_many(fetched)
            stamped.update({k: (time.time(), v) for k, v in fetched.items()})
            if refresh_counts:
                stamped[counts_key] = (time.time(), counts)
        known = {u for key, (u, part) in wanted.items() if part == "inventories" and key in stamped}
        for key, (u, part) in wanted.items():
            if key not in stamped:
                missing_any = True
                continue
            at, body = stamped[key]
            read_at.append(at)
            stale_any = stale_any or now - at >= ttl
            if body and isinstance(body.get(part), dict):
                (inventories if part == "inventories" else usages)[u] = body[part]
        if counts_wanted:
            if counts_key in stamped:
                at, counts = stamped[counts_key]
                read_at.append(at)
                stale_any = stale_any or now - at >= ttl
            else:
                missing_any = True
    except CloudError as exc:
        if exc.service != "placement":
            raise
        placement_error = exc
    hypervisors = []
    for raw in raws:
        uuid = providers.get(str(raw.get("id", "")), "")
        if use_stats and (placement_error or uuid in known or (fetch and not uuid)):
            resources = _stats_resources(raw, inventories.get(uuid) if not placement_error else None)
        elif uuid in inventories:
            resources = _inventory_resources(inventories[uuid], usages.get(uuid))
        else:
            resources = {}
        hypervisor = _build_hypervisor(raw, zones, services, resources, uuid)
        if counts is not None:
            hypervisor = replace(hypervisor, running_servers=counts.get(hypervisor.id, 0))
        hypervisors.append(hypervisor)
    hypervisors.sort(key=lambda h: h.name)
    return Overview(
        hypervisors=hypervisors,
        summary=_summary(hypervisors),
        zones=sorted({z for z in zones.values() if z}),
        microversion=_mv(version),
        source="nova" if use_stats else "placement",
        placement_error=placement_error,
        usage_read_at=min(read_at) if read_at and ttl > 0 else None,
        usage_missing=missing_any and not placement_error,
        usage_stale=stale_any,
    )


def list_services(*, creds: Credentials) -> list[ComputeService]:
    """Every compute service (nova-compute, nova-scheduler, ...): one Nova call."""
    conn = connection_for(creds)
    version = compute_microversion(conn)
    services = _compute_services(conn, version)
    return sorted(services, key=lambda s: (s.binary != "nova-compute", s.host, s.binary))


def get_service(*, creds: Credentials, service_id: str) -> ComputeService:
    for service in list_services(creds=creds):
        if service.id == service_id:
            return service
    raise NotFound(gettext("Compute service %(id)s could not be found.") % {"id": service_id}, service="compute")


def service_on_host(*, creds: Credentials, host: str, binary: str = "nova-compute") -> ComputeService:
    """The service as openstacksdk's writes see it (uncapped microversion: UUID ids from 2.53), for operations."""
    conn = connection_for(creds)
    version = compute_microversion(conn, capped=False)
    for service in _compute_services(conn, version, binary=binary, host=host):
        if service.host == host and service.binary == binary:
            return service
    message = gettext("Compute service %(id)s could not be found.") % {"id": f"{binary}@{host}"}
    raise NotFound(message, service="compute")


def _project_names(conn: Any) -> dict[str, str]:
    try:
        with cloud_errors("identity"):
            return {p.id: p.name for p in conn.identity.projects()}
    except CloudError:
        return {}


def _servers_on(conn: Any, version: tuple[int, int], host: str) -> list[HostedServer]:
    server_version = min(version, (2, 100))
    body = _get(
        conn,
        "compute",
        "/servers/detail",
        _mv(server_version),
        all_tenants="true",
        host=host,
        limit=PAGE_LIMIT,
    )
    names = _project_names(conn)
    out = []
    for s in body.get("servers") or []:
        flavor = s.get("flavor") or {}
        if server_version >= FLAVOR_EMBEDDED:
            flavor_name = flavor.get("original_name") or ""
        else:
            flavor_name = str(flavor.get("id") or "")
        project_id = s.get("tenant_id") or s.get("project_id") or ""
        out.append(
            HostedServer(
                id=s.get("id") or "",
                name=s.get("name") or "",
                project_id=project_id,
                project_name=names.get(project_id, ""),
                flavor=flavor_name,
                status=s.get("status") or "",
                vcpus=flavor.get("vcpus"),
                ram=flavor.get("ram"),
            )
        )
    return sorted(out, key=lambda s: (s.name.lower(), s.id))


def get_hypervisor(*, creds: Credentials, hypervisor_id: str) -> HypervisorDetail:
    """One hypervisor: its resource provider (inventories, usages, traits), its servers, its compute service."""
    conn = connection_for(creds)
    version = compute_microversion(conn)
    if version >= UUID_IDS and not UUID_RE.match(hypervisor_id):
        raise NotFound(gettext("Hypervisor %(id)s could not be found.") % {"id": hypervisor_id}, service="compute")
    raw = _get(conn, "compute", f"/os-hypervisors/{hypervisor_id}", _mv(version)).get("hypervisor") or {}
    host = (raw.get("service") or {}).get("host") or raw.get("hypervisor_hostname") or ""
    services = _compute_services(conn, version, binary="nova-compute", host=host) if host else []
    service = services[0] if services else None
    servers = _servers_on(conn, version, host) if host else []
    placement_error: CloudError | None = None
    provider: Provider | None = None
    resources: dict[str, Resource] = {}
    inventories: dict[str, Any] | None = None
    uuid = ""
    try:
        uuid = _provider_uuids(conn, creds, [raw]).get(str(raw.get("id", "")), "")
        if uuid:
            inv_body, use_body, trait_body = in_parallel(
                lambda url: _get(conn, "placement", url, PLACEMENT_TRAITS),
                [
                    f"/resource_providers/{uuid}/inventories",
                    f"/resource_providers/{uuid}/usages",
                    f"/resource_providers/{uuid}/traits",
                ],
            )
            inventories = inv_body.get("inventories") or {}
            resources = _inventory_resources(inventories, use_body.get("usages") or {})
            provider = Provider(
                uuid=uuid,
                name=raw.get("hypervisor_hostname") or "",
                generation=inv_body.get("resource_provider_generation"),
                resources=[resources[rc] for rc in sorted(resources, key=_rc_order)],
                traits=sorted(trait_body.get("traits") or []),
            )
    except CloudError as exc:
        if exc.service != "placement":
            raise
        placement_error = exc
    if version < STATS_REMOVED:
        # Nova's own figures where it still gives them (the provider section shows Placement's).
        resources = _stats_resources(raw, inventories)
    zones = {service.host: service.zone} if service else {}
    hypervisor = _build_hypervisor(raw, zones, {service.host: service} if service else {}, resources, uuid)
    if hypervisor.running_servers is None:
        hypervisor = replace(hypervisor, running_servers=len(servers))
    return HypervisorDetail(
        hypervisor=hypervisor,
        provider=provider,
        servers=servers,
        service=service,
        microversion=_mv(version),
        uptime=raw.get("uptime") or "",
        placement_error=placement_error,
    )


def _rc_order(rc: str) -> tuple[int, str]:
    return (RESOURCES.index(rc) if rc in RESOURCES else len(RESOURCES), rc)


# --- listing helpers for the views -----------------------------------------------------------------------

SORT_KEYS = {
    "name": lambda h: h.name.lower(),
    "type": lambda h: (h.type.lower(), h.name.lower()),
    "state": lambda h: (h.state, h.name.lower()),
    "status": lambda h: (h.status, h.name.lower()),
    "ip": lambda h: (tuple(int(p) if p.isdigit() else 0 for p in h.host_ip.split(".")), h.host_ip),
    "zone": lambda h: (h.zone, h.name.lower()),
    "servers": lambda h: (h.running_servers or 0, h.name.lower()),
    "vcpu": lambda h: (h.vcpu.percent if h.vcpu else -1, h.vcpu.used if h.vcpu else -1, h.name.lower()),
    "ram": lambda h: (h.ram.percent if h.ram else -1, h.ram.used if h.ram else -1, h.name.lower()),
    "disk": lambda h: (h.disk.percent if h.disk else -1, h.disk.used if h.disk else -1, h.name.lower()),
}


def filter_and_sort(
    hypervisors: list[Hypervisor], *, zone: str = "", state: str = "", sort: str = "name"
) -> list[Hypervisor]:
    items = [h for h in hypervisors if (not zone or h.zone == zone) and (not state or h.state == state)]
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key, sort = "name", "name"
    return sorted(items, key=SORT_KEYS[key], reverse=sort.startswith("-"))
