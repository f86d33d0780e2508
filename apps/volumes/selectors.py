"""Reads of Block Storage (Cinder), through the one door (`apps.cloud`): the Volumes page, the create form's choices,
the volumes an instance has (the ids Nova gives with the server, with Cinder's name, size, status and device of each)
and those it can be given. Every function returns frozen dataclasses.

The Volumes page costs one Cinder call (`/volumes/detail`, paged by Cinder's own `limit`/`marker`), plus the names
of the instances its volumes are attached to (apps.snapshots.selectors.server_names: a short per-project cache, else
one `GET /servers/{id}` each). Nothing here is asked when the catalog has no volume service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apps.cloud.connection import Credentials, connection_for, get_json, get_json_many, in_parallel, service_endpoint
from apps.cloud.errors import NotFound, cloud_errors

SERVICE = "block_storage"
PAGE_SIZE = 50
# Cinder's statuses that move on by themselves (cinder/objects/fields.py VolumeStatus): the page follows them live.
TRANSITIONAL = frozenset(
    {
        "creating",
        "extending",
        "deleting",
        "attaching",
        "detaching",
        "reserved",
        "downloading",
        "uploading",
        "retyping",
        "backing-up",
        "restoring-backup",
        "awaiting-transfer",
    }
)
BADGES = {"available": "ok", "in-use": "info"}


def has_volume_service(creds: Credentials) -> bool:
    """Whether the catalog (in the token) has Cinder v3 (`block-storage`, or the older `volumev3`)."""
    return any(s.get("type") in ("block-storage", "volumev3") for s in creds.body.get("catalog", []))


def status_badge(status: str) -> str:
    """The badge of a Cinder volume status: moving, failed, or its settled kind."""
    if status in TRANSITIONAL:
        return "transition"
    if "error" in status:
        return "danger"
    return BADGES.get(status, "warn")


@dataclass(frozen=True)
class Attachment:
    server_id: str
    device: str
    server_name: str = ""


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size: int
    status: str
    bootable: bool
    volume_type: str
    availability_zone: str
    description: str
    created_at: str
    attachments: tuple[Attachment, ...]
    image_name: str = ""
    snapshot_id: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def in_flux(self) -> bool:
        return self.status in TRANSITIONAL

    @property
    def badge(self) -> str:
        return status_badge(self.status)

    @property
    def extendable(self) -> bool:
        """Cinder extends an available volume, and an in-use one from microversion 3.42 (openstacksdk asks 3.71)."""
        return self.status in ("available", "in-use")

    @property
    def deletable(self) -> bool:
        return not self.attachments and self.status in ("available", "error", "error_restoring", "error_extending")


def _volume(raw: dict[str, Any], names: dict[str, str] | None = None) -> Volume:
    names = names or {}
    attachments = tuple(
        Attachment(
            server_id=str(a.get("server_id") or ""),
            device=str(a.get("device") or ""),
            server_name=names.get(str(a.get("server_id") or ""), ""),
        )
        for a in raw.get("attachments") or []
        if isinstance(a, dict)
    )
    image = raw.get("volume_image_metadata") or {}
    return Volume(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        size=int(raw.get("size") or 0),
        status=str(raw.get("status") or ""),
        bootable=str(raw.get("bootable")).lower() == "true",
        volume_type=str(raw.get("volume_type") or ""),
        availability_zone=str(raw.get("availability_zone") or ""),
        description=str(raw.get("description") or ""),
        created_at=str(raw.get("created_at") or ""),
        attachments=attachments,
        image_name=str(image.get("image_name") or "") if isinstance(image, dict) else "",
        snapshot_id=str(raw.get("snapshot_id") or ""),
    )


@dataclass(frozen=True)
class VolumePage:
    volumes: list[Volume]
    next_marker: str
    marker: str

    @property
    def in_flux(self) -> bool:
        return any(v.in_flux for v in self.volumes)


def list_volumes(creds: Credentials, *, marker: str = "") -> VolumePage:
    """One page of the project's volumes, newest first, with the names of the instances they are attached to."""
    from apps.snapshots.selectors import server_names

    params: dict[str, Any] = {"limit": PAGE_SIZE, "sort": "created_at:desc"}
    if marker:
        params["marker"] = marker
    body = get_json(creds, SERVICE, "/volumes/detail", params)
    raw = body.get("volumes") or []
    more = any(isinstance(link, dict) and link.get("rel") == "next" for link in body.get("volumes_links") or [])
    ids = [str(a.get("server_id")) for v in raw for a in v.get("attachments") or [] if a.get("server_id")]
    names = server_names(creds, ids) if ids else {}
    volumes = [_volume(v, names) for v in raw]
    return VolumePage(volumes=volumes, next_marker=volumes[-1].id if more and volumes else "", marker=marker)


def get_volume(creds: Credentials, volume_id: str) -> Volume:
    """The volume (NotFound, naming Cinder, when the project has no such volume)."""
    return _volume(get_json(creds, SERVICE, f"/volumes/{volume_id}").get("volume") or {"id": volume_id})


def available_volumes(creds: Credentials) -> list[Volume]:
    """The project's volumes that can be attached or booted from (status `available`), by name."""
    body = get_json(creds, SERVICE, "/volumes/detail", {"status": "available", "limit": 1000})
    return sorted((_volume(v) for v in body.get("volumes") or []), key=lambda v: v.label.lower())


@dataclass(frozen=True)
class SnapshotChoice:
    id: str
    name: str
    size: int


@dataclass(frozen=True)
class CreateChoices:
    images: list[Any]  # apps.instances.launch.ImageChoice
    snapshots: list[SnapshotChoice]
    types: list[str]
    zones: list[str]


def create_choices(creds: Credentials) -> CreateChoices:
    """What the create form offers: Glance's active images, the project's available volume snapshots, Cinder's
    volume types and availability zones (Cinder's three calls at once)."""
    from apps.instances.launch import list_images

    snaps, types, zones = get_json_many(
        creds,
        [
            (SERVICE, "/snapshots/detail", {"status": "available", "limit": 1000}),
            (SERVICE, "/types", None),
            (SERVICE, "/os-availability-zone", None),
        ],
    )
    return CreateChoices(
        images=list_images(creds),
        snapshots=sorted(
            (
                SnapshotChoice(id=str(s["id"]), name=str(s.get("name") or s["id"]), size=int(s.get("size") or 0))
                for s in snaps.get("snapshots") or []
            ),
            key=lambda s: s.name.lower(),
        ),
        types=sorted(str(t.get("name")) for t in types.get("volume_types") or [] if t.get("name")),
        zones=sorted(
            str(z.get("zoneName"))
            for z in zones.get("availabilityZoneInfo") or []
            if z.get("zoneName") and (z.get("zoneState") or {}).get("available", True)
        ),
    )


# --- an instance's volumes (the server's volumes_attached, Cinder's records) -------------------------------------


@dataclass(frozen=True)
class ServerVolume:
    volume_id: str
    device: str
    name: str
    size: int
    status: str
    found: bool = True  # False: Nova lists it, Cinder does not show it (another project's, or gone)

    @property
    def label(self) -> str:
        return self.name or self.volume_id

    @property
    def in_flux(self) -> bool:
        return self.status in TRANSITIONAL

    @property
    def badge(self) -> str:
        return status_badge(self.status)


def server_volumes(creds: Credentials, server_id: str, volume_ids: Sequence[str]) -> list[ServerVolume]:
    """The server's attached volumes (the ids Nova gives with the server, `volumes_attached`, in its order), each with
    Cinder's name, size, status and the device it has on this server: one `GET /volumes/{id}` per volume, all at
    once; no call at all for a server without volumes."""
    ids = [i for i in volume_ids if i]
    if not ids:
        return []
    conn = connection_for(creds)
    if len(ids) > 1:
        with cloud_errors(SERVICE):
            service_endpoint(conn, SERVICE)  # discovered here, once: the GETs share this connection

    def one(volume_id: str) -> ServerVolume:
        try:
            vol = get_json(creds, SERVICE, f"/volumes/{volume_id}", conn=conn).get("volume") or {}
        except NotFound:
            return ServerVolume(volume_id=volume_id, device="", name="", size=0, status="", found=False)
        here = [a for a in vol.get("attachments") or [] if isinstance(a, dict) and a.get("server_id") == server_id]
        return ServerVolume(
            volume_id=volume_id,
            device=str(here[0].get("device") or "") if here else "",
            name=str(vol.get("name") or ""),
            size=int(vol.get("size") or 0),
            status=str(vol.get("status") or ""),
        )

    return in_parallel(one, ids)
