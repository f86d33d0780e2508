"""Reads for instance snapshots: Glance images with image_type=snapshot owned by the project.

A list render costs at most two calls: one Glance list (filtered by Glance itself) and one Nova `GET /servers`
for the names of the servers the snapshots came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from openstack import exceptions as sdk_exceptions

from apps.cloud.connection import Credentials, connection_for, get_json_many
from apps.cloud.errors import cloud_errors

PAGE_SIZE = 50
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
    server_name: str  # "" when the server is gone
    protected: bool

    @property
    def in_flux(self) -> bool:
        return self.status in TRANSITIONAL


@dataclass(frozen=True)
class SnapshotPage:
    snapshots: list[Snapshot]
    next_marker: str
    servers: dict[str, str]  # id → name of the project's servers

    @property
    def in_flux(self) -> bool:
        return any(s.in_flux for s in self.snapshots)


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
        id=raw["id"],
        name=raw.get("name") or "",
        status=(raw.get("status") or "").lower(),
        size=raw.get("size"),
        created_at=_dt(raw.get("created_at")),
        server_id=server_id,
        server_name=servers.get(server_id, ""),
        protected=bool(raw.get("protected")),
    )


def _glance_get(conn, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: ANN001
    with cloud_errors("image"):
        response = conn.image.get(path, params=params)
        sdk_exceptions.raise_from_response(response)
        return response.json()


def _names(brief: dict[str, Any]) -> dict[str, str]:
    """id → name of the project's servers, from Nova's brief list (`GET /servers`: exactly these fields)."""
    return {s["id"]: s.get("name") or "" for s in brief.get("servers", [])}


def list_snapshots(
    *,
    creds: Credentials,
    status: str = "",
    server_id: str = "",
    query: str = "",
    sort: str = "created_at",
    direction: str = "desc",
    marker: str = "",
) -> SnapshotPage:
    params: dict[str, Any] = {
        "image_type": "snapshot",
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
    # Glance's snapshots and Nova's server names at once
    body, brief = get_json_many(creds, [("image", "/images", params), ("compute", "/servers", {"limit": 1000})])
    raws = body.get("images", [])
    next_marker = raws[-1]["id"] if body.get("next") and raws else ""
    servers = _names(brief)
    snapshots = [_snapshot(r, servers) for r in raws]
    if query:
        needle = query.lower()
        snapshots = [s for s in snapshots if needle in s.name.lower() or needle in s.server_name.lower()]
    return SnapshotPage(snapshots=snapshots, next_marker=next_marker, servers=servers)


def get_snapshot(*, creds: Credentials, image_id: str) -> SnapshotDetail:
    conn = connection_for(creds)
    raw = _glance_get(conn, f"/images/{image_id}")
    server_id = str(raw.get("instance_uuid") or "")
    servers: dict[str, str] = {}
    if server_id:
        with cloud_errors("compute"):
            response = conn.compute.get(f"/servers/{server_id}")
        if response.status_code == 200:
            servers[server_id] = response.json().get("server", {}).get("name", "")
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
