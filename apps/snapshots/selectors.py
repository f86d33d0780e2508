"""Reads for instance snapshots: Glance images with image_type=snapshot owned by the project.

A list render costs one call: the Glance list (filtered, sorted and paged by Glance itself). The names of the
servers the page's snapshots came from are read from a short per-project cache; those not in it follow the page
(`server_names`, an htmx `load`): one `GET /servers/{id}` per server of the page (at most PAGE_SIZE, all at once;
Nova lets a member filter its list by name but not by id), remembered for `NAME_CACHE_SECONDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils.dateparse import parse_datetime

from apps.cloud.connection import Credentials, connection_for, get_json, in_parallel, service_endpoint
from apps.cloud.errors import NotFound, cloud_errors
from dashboard.cache import optional

PAGE_SIZE = 50
NAME_CACHE_SECONDS = 300  # a server's name, or that it is gone ("")
SORT_KEYS = ("created_at", "name", "size", "status")
STATUSES = (
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "pending_delete",
    "deactivated",
    "uploading",
    "importing",
)
KINDS = ("snapshot", "backup")
TRANSITIONAL = frozenset({"queued", "saving", "uploading", "importing", "pending_delete"})
# Glance image fields shown as their own rows on the detail page, not among the properties.
CORE_FIELDS = {
    "id",
    "name",
    "status",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "owner",
    "visibility",
    "protected",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "tags",
    "file",
    "self",
    "schema",
    "locations",
    "direct_url",
    "os_hidden",
    "instance_uuid",
    "image_type",
}


@dataclass(frozen=True)
class Snapshot:
    id: str
    name: str
    status: str
    size: int | None
    created_at: datetime | None
    server_id: str
    server_name: str  # "" when the server is gone, or its name is not known yet (server_known)
    protected: bool
    server_known: bool = True  # False: the name follows the page (server_names)
    image_type: str = "snapshot"  # Glance's image_type: "snapshot", or "backup" (Nova's createBackup)
    backup_type: str = ""  # a backup's type ("daily", "weekly": the name Nova rotates backups by)

    @property
    def is_backup(self) -> bool:
        return self.image_type == "backup"

    @property
    def in_flux(self) -> bool:
        return self.status in TRANSITIONAL


@dataclass(frozen=True)
class SnapshotPage:
    snapshots: list[Snapshot]
    next_marker: str
    servers: dict[str, str]  # id → name of the servers this page's snapshots came from, where known ("": gone)

    @property
    def in_flux(self) -> bool:
        return any(s.in_flux for s in self.snapshots)

    @property
    def unnamed(self) -> list[str]:
        """The servers of this page whose names are not known yet (the page asks for them after it is shown)."""
        return sorted({s.server_id for s in self.snapshots if s.server_id and not s.server_known})


@dataclass(frozen=True)
class SnapshotDetail:
    snapshot: Snapshot
    visibility: str
    min_disk: int
    min_ram: int
    disk_format: str
    container_format: str
    checksum: str
    updated_at: datetime | None
    owner: str
    properties: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str


def _dt(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _snapshot(raw: dict[str, Any], servers: dict[str, str]) -> Snapshot:
    server_id = str(raw.get("instance_uuid") or "")
    return Snapshot(
        server_known=not server_id or server_id in servers,
        id=raw["id"],
        name=raw.get("name") or "",
        status=(raw.get("status") or "").lower(),
        size=raw.get("size"),
        created_at=_dt(raw.get("created_at")),
        server_id=server_id,
        server_name=servers.get(server_id, ""),
        protected=bool(raw.get("protected")),
        image_type=str(raw.get("image_type") or "snapshot"),
        backup_type=str(raw.get("backup_type") or ""),
    )


def _name_key(creds: Credentials, server_id: str) -> str:
    return f"snapshots:server-name:{creds.project_id}:{server_id}"


def cached_server_names(creds: Credentials, server_ids: list[str]) -> dict[str, str]:
    """id → name ("" when the server is gone) of those of these servers the cache knows; no cloud call."""
    ids = sorted(set(filter(None, server_ids)))
    if not ids:
        return {}
    found: dict[str, Any] = {}
    with optional("cached server names"):
        found = cache.get_many([_name_key(creds, i) for i in ids])
    return {i: found[_name_key(creds, i)] for i in ids if _name_key(creds, i) in found}


def server_names(creds: Credentials, server_ids: list[str]) -> dict[str, str]:
    """id → name ("" when Nova has no such server any more) of at most PAGE_SIZE servers: the cache, then one
    `GET /servers/{id}` for each it does not know, all at once."""
    ids = sorted(set(filter(None, server_ids)))[:PAGE_SIZE]
    names = cached_server_names(creds, ids)
    missing = [i for i in ids if i not in names]

    if not missing:
        return names
    conn = connection_for(creds)
    with cloud_errors("compute"):
        service_endpoint(conn, "compute")  # discovered here, once: the GETs share this connection

    def name_of(server_id: str) -> str:
        try:
            body = get_json(creds, "compute", f"/servers/{server_id}", conn=conn)
        except NotFound:
            return ""
        return str(body.get("server", {}).get("name") or "")

    found = dict(zip(missing, in_parallel(name_of, missing), strict=True))
    if found:
        with optional("caching server names"):
            cache.set_many({_name_key(creds, i): n for i, n in found.items()}, NAME_CACHE_SECONDS)
    return {**names, **found}


def list_snapshots(
    *,
    creds: Credentials,
    status: str = "",
    server_id: str = "",
    query: str = "",
    sort: str = "created_at",
    direction: str = "desc",
    marker: str = "",
    kind: str = "snapshot",
) -> SnapshotPage:
    """One page of the project's snapshots, or of its backups (`kind="backup"`: Glance filters an image property by
    one value only, so each kind is its own list)."""
    params: dict[str, Any] = {
        "image_type": kind if kind in KINDS else "snapshot",
        "owner": creds.project_id,
        "limit": PAGE_SIZE,
        "sort_key": sort if sort in SORT_KEYS else "created_at",
        "sort_dir": direction if direction in ("asc", "desc") else "desc",
    }
    if status in STATUSES:
        params["status"] = status
    if server_id:
        params["instance_uuid"] = server_id
    if marker:
        params["marker"] = marker
    body = get_json(creds, "image", "/images", params)
    raws = body.get("images", [])
    next_marker = raws[-1]["id"] if body.get("next") and raws else ""
    ids = [str(r.get("instance_uuid") or "") for r in raws] + [server_id]
    # A search matches the instances' names too: it waits for them (at most a page of servers, in the cache or at once).
    servers = server_names(creds, ids) if query else cached_server_names(creds, ids)
    snapshots = [_snapshot(r, servers) for r in raws]
    if query:
        needle = query.lower()
        snapshots = [s for s in snapshots if needle in s.name.lower() or needle in s.server_name.lower()]
    return SnapshotPage(snapshots=snapshots, next_marker=next_marker, servers=servers)


def get_snapshot(*, creds: Credentials, image_id: str) -> SnapshotDetail:
    conn = connection_for(creds)
    raw = get_json(creds, "image", f"/images/{image_id}", conn=conn)
    server_id = str(raw.get("instance_uuid") or "")
    servers: dict[str, str] = {}
    if server_id:
        try:
            servers[server_id] = get_json(creds, "compute", f"/servers/{server_id}", conn=conn)["server"]["name"]
        except NotFound:
            pass  # the server it was taken from is gone: the snapshot shows its id alone
    props = tuple(sorted((k, str(v)) for k, v in raw.items() if k not in CORE_FIELDS))
    return SnapshotDetail(
        snapshot=_snapshot(raw, servers),
        visibility=raw.get("visibility") or "",
        min_disk=int(raw.get("min_disk") or 0),
        min_ram=int(raw.get("min_ram") or 0),
        disk_format=raw.get("disk_format") or "",
        container_format=raw.get("container_format") or "",
        checksum=raw.get("checksum") or "",
        updated_at=_dt(raw.get("updated_at")),
        owner=raw.get("owner") or "",
        properties=props,
    )


def list_snapshottable_servers(*, creds: Credentials) -> list[Server]:
    """The project's servers that Nova can snapshot now (active, stopped, paused, suspended)."""
    conn = connection_for(creds)
    with cloud_errors("compute"):
        raws = list(conn.compute.servers(details=True, limit=1000, paginated=False))
    ok = {"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"}
    servers = [Server(id=s.id, name=s.name or s.id, status=(s.status or "").upper()) for s in raws]
    return sorted((s for s in servers if s.status in ok), key=lambda s: s.name.lower())
