"""Cinder v3 at /volume/v3/{project_id} (devstack's layout; the project-less form of 3.67+ works too).

Volumes (create blank, from an image or from a volume snapshot; list, detail, show, update, delete, extend and a
few other actions), volume snapshots (create, list, detail, show, update, delete), volume types, availability
zones, limits and quota sets, and an empty backup list. Errors use Cinder's fault shape
({"badRequest": {"code": 400, "message": ...}}), which is Nova's.

Status moves lazily, by time (config.transition_seconds, T): a `creating` volume or snapshot reads as `available`
after T, a `deleting` one disappears after T, an `extending` volume goes back to its previous status after T. An
attach made through Nova (os-volume_attachments) moves the volume as Cinder's attachment API does: `reserved` at
once (Nova's attachment_create), `attaching` after T/2 (the compute host's attachment_update), `in-use` after T
(attachment_complete); a detach: `detaching` at once (begin_detaching), `available` after T (attachment_delete).
Cinder's `attachments` list only the attachments whose attach_status is `attached` (cinder/api/v3/views/volumes.py),
so it is empty until the attach completes and keeps the attachment while detaching; `host_name` is shown to
admins only.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from devcloud.config import config
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, json_response, router

MIN_VERSION, MAX_VERSION = "3.0", "3.71"
DEFAULT_TYPE_NAME = "lvmdriver-1"
DEFAULT_TYPE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "devcloud:volume-type:" + DEFAULT_TYPE_NAME))
AZ = "nova"
BACKEND_HOST = "devcloud@lvmdriver-1#lvmdriver-1"
DEFAULT_QUOTAS = {
    "volumes": 10,
    "gigabytes": 1000,
    "snapshots": 10,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}
MAX_SIZE = 2**31 - 1


def _err(status: int, message: str) -> HttpError:
    return HttpError(status, message, style="nova")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _volumes() -> dict[str, Any]:
    return store.table("volumes")


# --------------------------------------------------------------------------- microversions


def _mv(req: Request) -> tuple[int, int]:
    raw = req.header("openstack-api-version") or ""
    m = re.search(r"volume\s+(latest|\d+\.\d+)", raw)
    if not m:
        return (3, 0)
    if m.group(1) == "latest":
        return _parse(MAX_VERSION)
    v = _parse(m.group(1))
    if not _parse(MIN_VERSION) <= v <= _parse(MAX_VERSION):
        raise HttpError(
            406,
            f"Version {m.group(1)} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}.",
            kind="computeFault",
        )
    return v


def _parse(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _headers(req: Request) -> dict[str, str]:
    major, minor = _mv(req)
    return {"OpenStack-API-Version": f"volume {major}.{minor}", "Vary": "OpenStack-API-Version"}


def _answer(req: Request, status: int, body: Any) -> Response:
    return json_response(status, body, _headers(req))


# --------------------------------------------------------------------------- state transitions


def _advance(vol: dict[str, Any], now: float | None = None) -> bool:
    """Move a volume along by time; returns False when it is gone."""
    now = now or time.time()
    flow = vol.get("flow")
    if flow:
        _advance_flow(vol, flow, now)
    due = vol.get("transition_at_epoch")
    if due is None or now < due:
        return True
    if vol["status"] == "creating":
        vol["status"] = "available"
        vol["updated_at"] = _now()
        vol["transition_at_epoch"] = None
        store.touch()
    elif vol["status"] == "extending":
        vol["status"] = vol.pop("previous_status", None) or "available"
        vol["updated_at"] = _now()
        vol["transition_at_epoch"] = None
        store.touch()
    elif vol["status"] == "deleting":
        _volumes().pop(vol["id"], None)
        store.touch()
        return False
    return True


def _advance_flow(vol: dict[str, Any], flow: dict[str, Any], now: float) -> None:
    """An attach or a detach made through Nova, moved along by time (see the module's docstring)."""
    started, span = float(flow["started"]), max(0.0, config.transition_seconds)
    if flow["kind"] == "attach":
        attachment = next((a for a in vol["attachments"] if a["id"] == flow["attachment_id"]), None)
        if attachment is None:  # detached (or the server deleted) meanwhile
            vol.pop("flow", None)
            return
        if now >= started + span:
            attachment["attach_status"] = "attached"
            attachment["attached_at"] = _now()
            vol["status"] = "in-use"
            vol.pop("flow", None)
        elif now >= started + span / 2 and vol["status"] == "reserved":
            attachment["attach_status"] = "attaching"
            vol["status"] = "attaching"
        else:
            return
    elif flow["kind"] == "detach":
        if now < started + span:
            return
        vol["attachments"] = [a for a in vol["attachments"] if a["server_id"] != flow["server_id"]]
        vol["status"] = "in-use" if vol["attachments"] else "available"
        vol.pop("flow", None)
    vol["updated_at"] = _now()
    store.touch()


def _advance_all() -> None:
    now = time.time()
    for vol in list(_volumes().values()):
        _advance(vol, now)


# --------------------------------------------------------------------------- contract API


def _new_volume(
    project_id: str,
    size_gb: int,
    name: str | None = "",
    image: dict[str, Any] | None = None,
    bootable: bool = False,
    user_id: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    availability_zone: str = AZ,
) -> dict[str, Any]:
    now = _now()
    vol: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "description": description,
        "size": int(size_gb),
        "status": "creating",
        "availability_zone": availability_zone,
        "created_at": now,
        "updated_at": None,
        "bootable": bool(bootable or image is not None),
        "encrypted": False,
        "multiattach": False,
        "attachments": [],
        "metadata": dict(metadata or {}),
        "project_id": project_id,
        "user_id": user_id,
        "snapshot_id": None,
        "source_volid": None,
        "volume_type": DEFAULT_TYPE_NAME,
        "volume_type_id": DEFAULT_TYPE_ID,
        "readonly": False,
        "image_metadata": None,
        "transition_at_epoch": time.time() + max(0.0, config.transition_seconds),
    }
    if image is not None:
        meta = {
            "image_id": image["id"],
            "image_name": image.get("name") or "",
            "checksum": image.get("checksum") or "",
            "container_format": image.get("container_format") or "",
            "disk_format": image.get("disk_format") or "",
            "min_disk": str(image.get("min_disk") or 0),
            "min_ram": str(image.get("min_ram") or 0),
            "size": str(image.get("size") or 0),
        }
        skip = {
            "id",
            "name",
            "status",
            "visibility",
            "protected",
            "owner",
            "created_at",
            "updated_at",
            "tags",
            "self",
            "file",
            "schema",
            "os_hidden",
            "virtual_size",
            "os_hash_algo",
            "os_hash_value",
        }
        for key, value in image.items():
            if key not in skip and key not in meta and value is not None:
                meta[key] = value if isinstance(value, str) else str(value)
        vol["image_metadata"] = meta
    return vol


def create_volume(
    project_id: str, size_gb: int, name: str = "", image_id: str | None = None, bootable: bool = False
) -> dict[str, Any]:
    """A new volume (status `creating`, `available` after the transition time). Raises ValueError on bad input."""
    image = None
    if image_id is not None:
        from devcloud import image as image_mod

        image = image_mod.get_image(image_id)
        if image is None:
            raise ValueError(f"Image {image_id} could not be found.")
    if int(size_gb) < 1:
        raise ValueError("Volume size must be greater than 0")
    with store.lock:
        vol = _new_volume(project_id, size_gb, name, image, bootable)
        _volumes()[vol["id"]] = vol
        store.touch()
        return _public(vol)


def get_volume(volume_id: str) -> dict[str, Any] | None:
    with store.lock:
        vol = _volumes().get(volume_id)
        if vol is None or not _advance(vol):
            return None
        return _public(vol)


def _attachment(volume_id: str, server_id: str, device: str | None, host_name: str | None, status: str) -> dict:
    attachment_id = str(uuid.uuid4())
    return {
        "id": attachment_id,
        "attachment_id": attachment_id,
        "volume_id": volume_id,
        "server_id": server_id,
        "host_name": host_name,
        "device": device,
        "attached_at": _now() if status == "attached" else None,
        "attach_status": status,
    }


def attach_volume(volume_id: str, server_id: str, device: str | None, host_name: str | None = None) -> dict:
    """Attach at once (`in-use`): what a boot from volume leaves once the server is built. KeyError if unknown."""
    with store.lock:
        vol = _volumes().get(volume_id)
        if vol is None or not _advance(vol):
            raise KeyError(volume_id)
        vol["attachments"] = [_attachment(volume_id, server_id, device, host_name, "attached")]
        vol["status"] = "in-use"
        vol["transition_at_epoch"] = None
        vol.pop("flow", None)
        vol["updated_at"] = _now()
        store.touch()
        return _public(vol)


def reserve_volume(volume_id: str, server_id: str, device: str | None, host_name: str | None = None) -> dict:
    """Nova's attach (os-volume_attachments): Cinder's attachment_create reserves the volume (`reserved`), the compute
    host then attaches it (`attaching`, then `in-use`; see the module's docstring). Raises KeyError if unknown, and
    ValueError with Cinder's reason when the volume cannot be reserved (it must be `available` or `downloading`)."""
    with store.lock:
        vol = _volumes().get(volume_id)
        if vol is None or not _advance(vol):
            raise KeyError(volume_id)
        if "error" in vol["status"]:
            raise ValueError(
                "Volume attachments can not be created if the volume is in an error state. The Volume "
                f"{volume_id} currently has a status of: {vol['status']} "
            )
        if vol["status"] not in ("available", "downloading"):
            raise ValueError(
                f"Invalid volume: Volume {volume_id} status must be available or downloading to reserve, but the "
                f"current status is {vol['status']}."
            )
        attachment = _attachment(volume_id, server_id, device, host_name, "reserved")
        vol["attachments"] = [attachment]
        vol["status"] = "reserved"
        vol["flow"] = {"kind": "attach", "attachment_id": attachment["id"], "started": time.time()}
        vol["updated_at"] = _now()
        store.touch()
        return _public(vol)


def begin_detaching(volume_id: str, server_id: str) -> dict:
    """Nova's detach: Cinder's begin_detaching (`detaching`), then the compute host's attachment_delete
    (`available` after the transition time). ValueError with Cinder's reason unless the volume is in-use and
    attached."""
    with store.lock:
        vol = _volumes().get(volume_id)
        if vol is None or not _advance(vol):
            raise KeyError(volume_id)
        attached = any(a["attach_status"] == "attached" for a in vol["attachments"])
        if vol["status"] != "in-use" or not attached:
            raise ValueError(
                "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must "
                "be 'attached' to detach."
            )
        vol["status"] = "detaching"
        vol["flow"] = {"kind": "detach", "server_id": server_id, "started": time.time()}
        vol["updated_at"] = _now()
        store.touch()
        return _public(vol)


def detach_volume(volume_id: str, server_id: str | None = None) -> dict[str, Any] | None:
    """Detach at once (the server's attachment, or every one): what deleting a server does to its volumes."""
    with store.lock:
        vol = _volumes().get(volume_id)
        if vol is None or not _advance(vol):
            return None
        vol["attachments"] = [a for a in vol["attachments"] if server_id is not None and a["server_id"] != server_id]
        vol.pop("flow", None)
        if vol["status"] in ("in-use", "attaching", "detaching", "reserved") and not vol["attachments"]:
            vol["status"] = "available"
        vol["updated_at"] = _now()
        store.touch()
        return _public(vol)


def delete_volume(volume_id: str) -> None:
    with store.lock:
        if _volumes().pop(volume_id, None) is not None:
            store.touch()


def _public(vol: dict[str, Any]) -> dict[str, Any]:
    """The contract view: the stored record without internal fields."""
    out = {k: v for k, v in vol.items() if not k.endswith("_epoch") and k not in ("flow", "previous_status")}
    out["attachments"] = [dict(a) for a in vol["attachments"]]
    return out


# --------------------------------------------------------------------------- representations


def _link(req: Request, vol: dict[str, Any]) -> list[dict[str, str]]:
    from devcloud.identity import public_base

    base = public_base(req)
    return [
        {"href": f"{base}/volume/v3/{vol['project_id']}/volumes/{vol['id']}", "rel": "self"},
        {"href": f"{base}/volume/{vol['project_id']}/volumes/{vol['id']}", "rel": "bookmark"},
    ]


def _summary(req: Request, vol: dict[str, Any]) -> dict[str, Any]:
    return {"id": vol["id"], "links": _link(req, vol), "name": vol["name"]}


def _detail(req: Request, vol: dict[str, Any], extended: bool = True) -> dict[str, Any]:
    """Cinder's detail view. `extended`: the keys Cinder's API extensions add to show and detail (list) answers
    only (volume_image_metadata, os-vol-tenant-attr, os-vol-host-attr, os-vol-mig-status-attr): create and update
    answer the plain view. Admin-only keys follow cinder/api/v3/views/volumes.py."""
    ctx = req.context.get("auth") or {}
    mv = _mv(req)
    out: dict[str, Any] = {
        "id": vol["id"],
        "name": vol["name"],
        "description": vol["description"],
        "size": vol["size"],
        "status": vol["status"],
        "availability_zone": vol["availability_zone"],
        "created_at": vol["created_at"],
        "updated_at": vol["updated_at"],
        "bootable": "true" if vol["bootable"] else "false",
        "encrypted": vol["encrypted"],
        "multiattach": vol["multiattach"],
        "attachments": [
            {
                "id": a["volume_id"],
                "attachment_id": a["attachment_id"],
                "volume_id": a["volume_id"],
                "server_id": a["server_id"],
                "host_name": a["host_name"] if ctx.get("is_admin") else None,
                "device": a["device"],
                "attached_at": a["attached_at"],
            }
            for a in vol["attachments"]
            if a.get("attach_status", "attached") == "attached"
        ],
        "metadata": dict(vol["metadata"]),
        "links": _link(req, vol),
        "user_id": vol["user_id"],
        "snapshot_id": vol["snapshot_id"],
        "source_volid": vol["source_volid"],
        "volume_type": vol["volume_type"],
        "replication_status": None,
        "consistencygroup_id": None,
    }
    admin = bool(ctx.get("is_admin"))
    if admin:
        out["migration_status"] = None
    # the volume manager records the image's metadata when it has copied the image (the end of the create flow)
    if extended and vol.get("image_metadata") and vol["status"] != "creating":
        out["volume_image_metadata"] = dict(vol["image_metadata"])
    if extended:  # volume_tenant_attribute: any reader of the project; the host and migration ones: admins
        out["os-vol-tenant-attr:tenant_id"] = vol["project_id"]
    if extended and admin:
        out["os-vol-host-attr:host"] = BACKEND_HOST if vol["status"] != "creating" else None
        out["os-vol-mig-status-attr:migstat"] = None
        out["os-vol-mig-status-attr:name_id"] = None
    if mv >= (3, 13):
        out["group_id"] = None
    if mv >= (3, 21) and admin:
        out["provider_id"] = None
    if mv >= (3, 48):
        out["service_uuid"] = None
        out["shared_targets"] = False
    if mv >= (3, 61) and admin:
        out["cluster_name"] = None
    if mv >= (3, 63):
        out["volume_type_id"] = vol["volume_type_id"]
    if mv >= (3, 65):
        out["consumes_quota"] = True
    return out


# --------------------------------------------------------------------------- routing helpers


def _route(method: str, suffix: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a handler under /volume/v3/{project_id}<suffix> and the project-less /volume/v3<suffix>."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        def projectless(req: Request, **kw: str) -> Response:
            return fn(req, None, **kw)

        router.route(method, "/volume/v3" + suffix)(projectless)
        router.route(method, "/volume/v3/{project_id}" + suffix)(fn)
        return fn

    return register


def _ctx(req: Request, project_id: str | None) -> dict[str, Any]:
    ctx = req.context.get("auth")
    if ctx is None:
        raise _err(401, "The request you have made requires authentication.")
    if project_id is not None and project_id != ctx["project_id"] and not ctx["is_admin"]:
        raise _err(400, "Malformed request url")
    _mv(req)
    return ctx


def _scope_project(ctx: dict[str, Any], project_id: str | None) -> str:
    return project_id or ctx["project_id"]


def _find(req: Request, ctx: dict[str, Any], volume_id: str, project_id: str | None) -> dict[str, Any]:
    vol = _volumes().get(volume_id)
    if vol is not None and not _advance(vol):
        vol = None
    if vol is None or (not ctx["is_admin"] and vol["project_id"] != _scope_project(ctx, project_id)):
        raise _err(404, f"Volume {volume_id} could not be found.")
    return vol


def _body(req: Request, key: str) -> dict[str, Any]:
    body = req.json_object(style="nova")
    inner = body.get(key)
    if not isinstance(inner, dict):
        raise _err(400, f"Invalid input for field/attribute {key}. Value: {body}. '{key}' is a required property")
    return inner


# --------------------------------------------------------------------------- versions


def _version_entry(req: Request) -> dict[str, Any]:
    from devcloud.identity import public_base

    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2023-08-31T00:00:00Z",
        "links": [
            {"href": "https://docs.openstack.org/", "type": "text/html", "rel": "describedby"},
            {"href": public_base(req) + "/volume/v3/", "rel": "self"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@router.route("GET", "/volume")
def versions_root(req: Request) -> Response:
    return json_response(300, {"versions": [_version_entry(req)]})


@router.route("GET", "/volume/v3")
def version_v3(req: Request) -> Response:
    return json_response(200, {"versions": [_version_entry(req)]})


# --------------------------------------------------------------------------- volumes


def _quota(project_id: str) -> dict[str, int]:
    quotas = dict(DEFAULT_QUOTAS)
    quotas.update(store.table("volume_quotas").get(project_id, {}))
    return quotas


def _usage(project_id: str) -> dict[str, int]:
    _advance_all()
    vols = [v for v in _volumes().values() if v["project_id"] == project_id]
    snaps = [n for n in _snapshots().values() if n["project_id"] == project_id]
    return {
        "volumes": len(vols),
        # Cinder counts snapshots in `gigabytes` too (unless no_snapshot_gb_quota is set)
        "gigabytes": sum(v["size"] for v in vols) + sum(n["size"] for n in snaps),
        "snapshots": len(snaps),
        "backups": 0,
        "backup_gigabytes": 0,
        "groups": 0,
        "per_volume_gigabytes": 0,
    }


def _parse_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _err(
            400,
            f"Invalid input for field/attribute size. Value: {value}. {value} is not of type "
            "'integer', 'string', 'null'",
        )
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]+", value):
            raise _err(
                400, f"Invalid input for field/attribute size. Value: {value}. '{value}' does not match '^[0-9]+$'"
            )
        value = int(value)
    if not isinstance(value, int):
        raise _err(
            400,
            f"Invalid input for field/attribute size. Value: {value}. {value!r} is not of type "
            "'integer', 'string', 'null'",
        )
    if value < 1:
        raise _err(
            400, f"Invalid input for field/attribute size. Value: {value}. {value} is less than the minimum of 1"
        )
    if value > MAX_SIZE:
        raise _err(
            400,
            f"Invalid input for field/attribute size. Value: {value}. {value} is greater than the "
            f"maximum of {MAX_SIZE}",
        )
    return value


def _check_str(body: dict[str, Any], key: str, max_len: int = 255) -> str | None:
    """Cinder's `name`/`description` parameter types: a string or null of at most 255 characters, refused with
    jsonschema's words (cinder/api/validation: "Invalid input for field/attribute …. Value: …. <why>")."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _err(
            400, f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is not of type 'string', 'null'"
        )
    if value is not None and len(value) > max_len:
        raise _err(400, f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is too long")
    return value


def _check_metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and 0 < len(k) <= 255 and isinstance(v, str) and len(v) <= 255 for k, v in value.items()
    ):
        raise _err(
            400,
            f"Invalid input for field/attribute metadata. Value: {value}. Metadata keys and values "
            "must be strings of at most 255 characters",
        )
    return dict(value)


@_route("POST", "/volumes")
def create(req: Request, project_id: str | None) -> Response:
    ctx = _ctx(req, project_id)
    body = _body(req, "volume")
    size = _parse_size(body.get("size"))
    name = _check_str(body, "name")
    description = _check_str(body, "description")
    metadata = _check_metadata(body.get("metadata"))
    az = body.get("availability_zone") or AZ
    if az != AZ:
        raise _err(400, f"Invalid input received: Availability zone '{az}' is invalid.")
    vtype = body.get("volume_type")
    if vtype not in (None, DEFAULT_TYPE_NAME, DEFAULT_TYPE_ID, "__DEFAULT__"):
        raise _err(404, f"Volume type with name {vtype} could not be found.")
    for unsupported in ("source_volid", "backup_id", "consistencygroup_id", "group_id"):
        if body.get(unsupported):
            raise _err(400, f"Invalid input received: devcloud does not support creating volumes from {unsupported}.")
    image = None
    image_ref = body.get("imageRef") or body.get("image_id")
    snapshot = None
    if body.get("snapshot_id") is not None:
        # cinder/api/v3/volumes.py: the snapshot is looked up (404), then the create flow checks its status and
        # the size (at least the snapshot's; the snapshot's when not given); the volume takes the source volume's
        # availability zone, type and bootable flag
        with store.lock:
            snapshot = _find_snapshot(ctx, str(body["snapshot_id"]), project_id)
            if snapshot["status"] != "available":
                raise _err(400, "Invalid snapshot: Originating snapshot status must be one of 'available' values")
            source = _volumes().get(snapshot["volume_id"])
            snapshot = {**snapshot, "source": dict(source) if source else None}
        if size is None:
            size = snapshot["size"]
        if size < snapshot["size"]:
            raise _err(
                400,
                f"Invalid input received: Volume size '{size}'GB cannot be smaller than the snapshot size "
                f"{snapshot['size']}GB. They must be >= original snapshot size.",
            )
        if snapshot["source"] is not None:
            az = body.get("availability_zone") or snapshot["source"]["availability_zone"]
    if image_ref is not None and snapshot is None:
        from devcloud import image as image_mod

        if not isinstance(image_ref, str) or not image_mod.image_visible(image_ref, ctx["project_id"], ctx["is_admin"]):
            raise _err(400, "Invalid image identifier or unable to access requested image.")
        image = image_mod.get_image(image_ref)
        assert image is not None
        if image.get("status") != "active":
            raise _err(400, f"Invalid input received: Image {image_ref} is not active.")
        image_gb = math.ceil((image.get("size") or 0) / 2**30)
        min_disk = int(image.get("min_disk") or 0)
        if size is None:
            # Real Cinder (measured on ../shared/realcloud) refuses an image without a size, with webob's generic
            # 400; only a snapshot (or a source volume) gives the new volume its size.
            raise _err(
                400, "The server could not comply with the request since it is either malformed or otherwise incorrect."
            )
        if size < image_gb:
            raise _err(
                400,
                f"Invalid input received: Size of specified image {image_gb}GB is larger than volume size {size}GB.",
            )
        if size < min_disk:
            raise _err(
                400,
                f"Invalid input received: Volume size {size}GB cannot be smaller than the image minDisk "
                f"size {min_disk}GB.",
            )
    if size is None:
        raise _err(400, "Invalid input for field/attribute size. Value: None. None is not of type 'integer'")
    target = _scope_project(ctx, project_id)
    with store.lock:
        quota, used = _quota(target), _usage(target)
        if quota["per_volume_gigabytes"] >= 0 and size > quota["per_volume_gigabytes"]:
            raise _err(
                413,
                f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum allowed "
                f"limit {quota['per_volume_gigabytes']}G.",
            )
        if quota["volumes"] >= 0 and used["volumes"] + 1 > quota["volumes"]:
            raise _err(
                413,
                f"VolumeLimitExceeded: Maximum number of volumes allowed ({quota['volumes']}) exceeded "
                "for quota 'volumes'.",
            )
        if quota["gigabytes"] >= 0 and used["gigabytes"] + size > quota["gigabytes"]:
            raise _err(
                413,
                f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                f"gigabytes quota. Requested {size}G, quota is {quota['gigabytes']}G and "
                f"{used['gigabytes']}G has been consumed.",
            )
        vol = _new_volume(target, size, name, image, False, ctx["user_id"], description, metadata, az)
        if snapshot is not None:
            vol["snapshot_id"] = snapshot["id"]
            source = snapshot["source"]
            if source is not None:
                vol["bootable"] = source["bootable"]
                vol["image_metadata"] = dict(source["image_metadata"]) if source.get("image_metadata") else None
                vol["volume_type"], vol["volume_type_id"] = source["volume_type"], source["volume_type_id"]
        _volumes()[vol["id"]] = vol
        store.touch()
        return _answer(req, 202, {"volume": _detail(req, vol, extended=False)})


def _listing(req: Request, ctx: dict[str, Any], project_id: str | None) -> list[dict[str, Any]]:
    all_tenants = (req.arg("all_tenants") or "").lower() in ("1", "true", "yes", "on")
    _advance_all()
    vols = list(_volumes().values())
    if not (ctx["is_admin"] and all_tenants):
        vols = [v for v in vols if v["project_id"] == _scope_project(ctx, project_id)]
    elif req.arg("project_id"):
        vols = [v for v in vols if v["project_id"] == req.arg("project_id")]
    for key in ("name", "status", "availability_zone"):
        value = req.arg(key)
        if value is not None:
            vols = [v for v in vols if str(v.get(key)) == value]
    for key in ("name~", "status~"):
        value = req.arg(key)
        if value is not None:
            vols = [v for v in vols if value.lower() in str(v.get(key[:-1]) or "").lower()]
    if req.arg("bootable") is not None:
        want = req.arg("bootable", "").lower() in ("1", "true", "yes")
        vols = [v for v in vols if v["bootable"] == want]
    if req.arg("metadata") is not None:
        import ast

        try:
            wanted = ast.literal_eval(req.arg("metadata", ""))
        except (ValueError, SyntaxError):
            raise _err(400, "Invalid input received: metadata filter must be a dict.")
        if not isinstance(wanted, dict):
            raise _err(400, "Invalid input received: metadata filter must be a dict.")
        vols = [v for v in vols if all(v["metadata"].get(k) == val for k, val in wanted.items())]
    # sort
    spec: list[tuple[str, str]] = []
    if req.arg("sort"):
        for part in req.arg("sort", "").split(","):
            key, _, direction = part.strip().partition(":")
            spec.append((key, direction or "desc"))
    else:
        spec = [(req.arg("sort_key", "created_at") or "created_at", req.arg("sort_dir", "desc") or "desc")]
    allowed = {"id", "name", "status", "size", "created_at", "updated_at", "availability_zone", "bootable"}
    for key, direction in spec:
        if key not in allowed:
            raise _err(400, f"Invalid input received: Invalid sort key {key}")
        if direction not in ("asc", "desc"):
            raise _err(400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'")
    for key, direction in reversed([*spec, ("id", spec[-1][1])]):
        vols.sort(
            key=lambda v, k=key: (v.get(k) is not None, v.get(k) if v.get(k) is not None else ""),
            reverse=direction == "desc",
        )
    return vols


def _page(req: Request, vols: list[dict[str, Any]], path: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    marker = req.arg("marker")
    if marker is not None:
        ids = [v["id"] for v in vols]
        if marker not in ids:
            raise _err(400, f"Invalid input received: marker [{marker}] not found")
        vols = vols[ids.index(marker) + 1 :]
    limit_arg = req.arg("limit")
    limit = 1000
    if limit_arg is not None:
        try:
            limit = int(limit_arg)
        except ValueError:
            raise _err(400, "limit param must be an integer")
        if limit < 0:
            raise _err(400, "limit param must be positive")
        limit = min(limit, 1000)
    page = vols[:limit]
    links = []
    # Like Cinder: a full page (limit, or osapi_max_limit 1000) always carries a next link.
    if page and len(page) == limit:
        from devcloud.identity import public_base

        params = [(k, v) for k, vs in req.query.items() for v in vs if k != "marker"]
        params.append(("marker", page[-1]["id"]))
        links.append({"href": f"{public_base(req)}{path}?{urlencode(params)}", "rel": "next"})
    return page, links


def _list(req: Request, project_id: str | None, detail: bool) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        vols = _listing(req, ctx, project_id)
        total = len(vols)
        page, links = _page(req, vols, req.path)
        items = [_detail(req, v) if detail else _summary(req, v) for v in page]
    body: dict[str, Any] = {"volumes": items}
    if links:
        body["volumes_links"] = links
    if _mv(req) >= (3, 45) and (req.arg("with_count") or "").lower() in ("1", "true", "yes"):
        body["count"] = total
    return _answer(req, 200, body)


@_route("GET", "/volumes")
def list_volumes(req: Request, project_id: str | None) -> Response:
    return _list(req, project_id, detail=False)


@_route("GET", "/volumes/detail")
def list_volumes_detail(req: Request, project_id: str | None) -> Response:
    return _list(req, project_id, detail=True)


@_route("GET", "/volumes/summary")
def summary(req: Request, project_id: str | None) -> Response:
    ctx = _ctx(req, project_id)
    if _mv(req) < (3, 12):
        raise _err(404, "The resource could not be found.")
    with store.lock:
        vols = _listing(req, ctx, project_id)
        body: dict[str, Any] = {"total_size": sum(v["size"] for v in vols), "total_count": len(vols)}
        if _mv(req) >= (3, 36):
            meta: dict[str, list[str]] = {}
            for v in vols:
                for k, val in v["metadata"].items():
                    if val not in meta.setdefault(k, []):
                        meta[k].append(val)
            body["metadata"] = meta
    return _answer(req, 200, {"volume-summary": body})


@_route("GET", "/volumes/{volume_id}")
def show(req: Request, project_id: str | None, volume_id: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        return _answer(req, 200, {"volume": _detail(req, _find(req, ctx, volume_id, project_id))})


@_route("PUT", "/volumes/{volume_id}")
def update(req: Request, project_id: str | None, volume_id: str) -> Response:
    ctx = _ctx(req, project_id)
    body = _body(req, "volume")
    allowed = {"name", "description", "metadata", "display_name", "display_description"}
    if not body or set(body) - allowed:
        raise _err(
            400,
            f"Invalid input for field/attribute volume. Value: {body}. Additional properties are not "
            "allowed or none given",
        )
    name = _check_str(body, "name")
    description = _check_str(body, "description")
    metadata = _check_metadata(body.get("metadata")) if "metadata" in body else None
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        if "name" in body:
            vol["name"] = name
        if "description" in body:
            vol["description"] = description
        if metadata is not None:
            vol["metadata"] = metadata
        vol["updated_at"] = _now()
        store.touch()
        return _answer(req, 200, {"volume": _detail(req, vol, extended=False)})


@_route("DELETE", "/volumes/{volume_id}")
def delete(req: Request, project_id: str | None, volume_id: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        has_snapshots = any(n["volume_id"] == vol["id"] for n in _snapshots().values())
        if (
            vol["attachments"]
            or has_snapshots
            or vol["status"]
            not in (
                "available",
                "error",
                "error_restoring",
                "error_extending",
                "error_managing",
            )
        ):
            raise _err(
                400,
                "Invalid volume: Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, belong to a group, "
                "have snapshots, awaiting a transfer, or be disassociated from snapshots after volume "
                "transfer.",
            )
        vol["status"] = "deleting"
        vol["updated_at"] = _now()
        vol["transition_at_epoch"] = time.time() + max(0.0, config.transition_seconds)
        store.touch()
    return Response(202, b"", _headers(req))


@_route("POST", "/volumes/{volume_id}/action")
def action(req: Request, project_id: str | None, volume_id: str) -> Response:
    ctx = _ctx(req, project_id)
    body = req.json_object(style="nova")
    if len(body) != 1:
        raise _err(400, "There is no such action or more than one action was given.")
    name, args = next(iter(body.items()))
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        if name == "os-extend":
            new_size = _parse_size((args or {}).get("new_size") if isinstance(args, dict) else None)
            if new_size is None or new_size <= vol["size"]:
                raise _err(
                    400,
                    f"Invalid input received: New size for extend must be greater than current size. "
                    f"(current: {vol['size']}, extended: {new_size}).",
                )
            # cinder/api/contrib/volume_actions.py: an in-use volume is extended while attached from 3.42
            # (VOLUME_EXTEND_INUSE); below, or in any other status, it must be available
            expected = "in-use" if _mv(req) >= (3, 42) and vol["status"] == "in-use" else "available"
            if vol["status"] != expected:
                raise _err(
                    400,
                    f"Invalid volume: Volume {vol['id']} status must be '{{'status': '{expected}'}}' to extend, "
                    f"currently {vol['status']}.",
                )
            quota, used = _quota(vol["project_id"]), _usage(vol["project_id"])
            if quota["per_volume_gigabytes"] >= 0 and new_size > quota["per_volume_gigabytes"]:
                raise _err(
                    413,
                    f"VolumeSizeExceedsLimit: Requested volume size {new_size}G is larger than maximum allowed "
                    f"limit {quota['per_volume_gigabytes']}G.",
                )
            increase = new_size - vol["size"]
            if quota["gigabytes"] >= 0 and used["gigabytes"] + increase > quota["gigabytes"]:
                raise _err(
                    413,
                    f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes "
                    f"quota. Requested {increase}G, quota is {quota['gigabytes']}G and {used['gigabytes']}G has "
                    "been consumed.",
                )
            vol["size"] = new_size
            vol["previous_status"] = vol["status"]
            vol["status"] = "extending"
            vol["transition_at_epoch"] = time.time() + max(0.0, config.transition_seconds)
        elif name == "os-set_bootable":
            value = args.get("bootable") if isinstance(args, dict) else None
            if not isinstance(value, (bool, str)):
                raise _err(400, "Must specify bootable")
            vol["bootable"] = value is True or str(value).lower() in ("true", "1", "yes")
        elif name == "os-update_readonly_flag":
            value = args.get("readonly") if isinstance(args, dict) else None
            if not isinstance(value, (bool, str)):
                raise _err(400, "Must specify readonly")
            vol["readonly"] = value is True or str(value).lower() in ("true", "1", "yes")
            vol["metadata"]["readonly"] = "True" if vol["readonly"] else "False"
        elif name == "os-reset_status":
            if not ctx["is_admin"]:
                raise _err(
                    403, "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed."
                )
            status = args.get("status") if isinstance(args, dict) else None
            if status not in (
                "available",
                "error",
                "in-use",
                "creating",
                "deleting",
                "error_deleting",
                "attaching",
                "detaching",
                "maintenance",
            ):
                raise _err(400, f"Invalid input received: Invalid status: {status}")
            vol["status"] = status
            vol["transition_at_epoch"] = None
        else:
            raise _err(400, f"There is no such action: {name}")
        vol["updated_at"] = _now()
        store.touch()
    return Response(202, b"", _headers(req))


# --------------------------------------------------------------------------- metadata


@_route("GET", "/volumes/{volume_id}/metadata")
def show_metadata(req: Request, project_id: str | None, volume_id: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        return _answer(req, 200, {"metadata": dict(_find(req, ctx, volume_id, project_id)["metadata"])})


def _write_metadata(req: Request, project_id: str | None, volume_id: str, replace: bool) -> Response:
    ctx = _ctx(req, project_id)
    body = req.json_object(style="nova")
    if "metadata" not in body:
        raise _err(400, f"Invalid input for field/attribute metadata. Value: {body}. 'metadata' is a required property")
    meta = _check_metadata(body["metadata"])
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        if replace:
            vol["metadata"] = meta
        else:
            vol["metadata"].update(meta)
        vol["updated_at"] = _now()
        store.touch()
        return _answer(req, 200, {"metadata": dict(vol["metadata"])})


@_route("POST", "/volumes/{volume_id}/metadata")
def merge_metadata(req: Request, project_id: str | None, volume_id: str) -> Response:
    return _write_metadata(req, project_id, volume_id, replace=False)


@_route("PUT", "/volumes/{volume_id}/metadata")
def replace_metadata(req: Request, project_id: str | None, volume_id: str) -> Response:
    return _write_metadata(req, project_id, volume_id, replace=True)


@_route("GET", "/volumes/{volume_id}/metadata/{key}")
def show_metadata_key(req: Request, project_id: str | None, volume_id: str, key: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        if key not in vol["metadata"]:
            raise _err(404, f"Volume {volume_id} has no metadata with key {key}.")
        return _answer(req, 200, {"meta": {key: vol["metadata"][key]}})


@_route("PUT", "/volumes/{volume_id}/metadata/{key}")
def set_metadata_key(req: Request, project_id: str | None, volume_id: str, key: str) -> Response:
    ctx = _ctx(req, project_id)
    body = req.json_object(style="nova")
    meta = body.get("meta")
    if not isinstance(meta, dict) or len(meta) != 1:
        raise _err(400, "Request body contains too many items or none: 'meta' must hold exactly one key.")
    if key not in meta:
        raise _err(400, "Request body and URI mismatch")
    meta = _check_metadata(meta)
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        vol["metadata"].update(meta)
        vol["updated_at"] = _now()
        store.touch()
        return _answer(req, 200, {"meta": meta})


@_route("DELETE", "/volumes/{volume_id}/metadata/{key}")
def delete_metadata_key(req: Request, project_id: str | None, volume_id: str, key: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        vol = _find(req, ctx, volume_id, project_id)
        if vol["metadata"].pop(key, None) is None:
            raise _err(404, f"Volume {volume_id} has no metadata with key {key}.")
        vol["updated_at"] = _now()
        store.touch()
    return Response(200, b"", _headers(req))


# --------------------------------------------------------------------------- types, zones, limits, quotas


def _type_view() -> dict[str, Any]:
    return {
        "id": DEFAULT_TYPE_ID,
        "name": DEFAULT_TYPE_NAME,
        "description": "Default Volume Type",
        "is_public": True,
        "extra_specs": {"volume_backend_name": "lvmdriver-1"},
        "os-volume-type-access:is_public": True,
        "qos_specs_id": None,
    }


@_route("GET", "/types")
def list_types(req: Request, project_id: str | None) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"volume_types": [_type_view()]})


@_route("GET", "/types/default")
def default_type(req: Request, project_id: str | None) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"volume_type": _type_view()})


@_route("GET", "/types/{type_id}")
def show_type(req: Request, project_id: str | None, type_id: str) -> Response:
    _ctx(req, project_id)
    if type_id not in (DEFAULT_TYPE_ID, DEFAULT_TYPE_NAME):
        raise _err(404, f"Volume type {type_id} could not be found.")
    return _answer(req, 200, {"volume_type": _type_view()})


@_route("GET", "/os-availability-zone")
def zones(req: Request, project_id: str | None) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"availabilityZoneInfo": [{"zoneName": AZ, "zoneState": {"available": True}}]})


# --------------------------------------------------------------------------- volume snapshots
# cinder/api/v3/snapshots.py and views/snapshots.py; the os-extended-snapshot-attributes extension adds the project
# and the progress to show and detail (list) answers. A snapshot is `creating`, then `available` after the
# transition time; `deleting`, then gone.


def _snapshots() -> dict[str, Any]:
    return store.table("volume_snapshots")


def _advance_snapshot(snap: dict[str, Any], now: float | None = None) -> bool:
    now = now or time.time()
    due = snap.get("transition_at_epoch")
    if due is None or now < due:
        return True
    if snap["status"] == "creating":
        snap["status"], snap["progress"], snap["transition_at_epoch"] = "available", "100%", None
        snap["updated_at"] = _now()
        store.touch()
    elif snap["status"] == "deleting":
        _snapshots().pop(snap["id"], None)
        store.touch()
        return False
    return True


def _find_snapshot(ctx: dict[str, Any], snapshot_id: str, project_id: str | None) -> dict[str, Any]:
    snap = _snapshots().get(snapshot_id)
    if snap is not None and not _advance_snapshot(snap):
        snap = None
    if snap is None or (not ctx["is_admin"] and snap["project_id"] != _scope_project(ctx, project_id)):
        raise _err(404, f"Snapshot {snapshot_id} could not be found.")
    return snap


def _snapshot_view(req: Request, snap: dict[str, Any], extended: bool = True) -> dict[str, Any]:
    mv = _mv(req)
    out: dict[str, Any] = {
        "id": snap["id"],
        "created_at": snap["created_at"],
        "updated_at": snap["updated_at"],
        "name": snap["name"],
        "description": snap["description"],
        "volume_id": snap["volume_id"],
        "status": snap["status"],
        "size": snap["size"],
        "metadata": dict(snap["metadata"]),
    }
    if mv >= (3, 14):
        out["group_snapshot_id"] = None
    if mv >= (3, 41):
        out["user_id"] = snap["user_id"]
    if mv >= (3, 65):
        out["consumes_quota"] = True
    if extended:
        out["os-extended-snapshot-attributes:project_id"] = snap["project_id"]
        out["os-extended-snapshot-attributes:progress"] = snap["progress"]
    return out


def _snapshot_listing(req: Request, ctx: dict[str, Any], project_id: str | None) -> list[dict[str, Any]]:
    all_tenants = (req.arg("all_tenants") or "").lower() in ("1", "true", "yes", "on")
    now = time.time()
    snaps = [n for n in list(_snapshots().values()) if _advance_snapshot(n, now)]
    if not (ctx["is_admin"] and all_tenants):
        snaps = [n for n in snaps if n["project_id"] == _scope_project(ctx, project_id)]
    elif req.arg("project_id"):
        snaps = [n for n in snaps if n["project_id"] == req.arg("project_id")]
    for key in ("name", "status", "volume_id"):
        value = req.arg(key)
        if value is not None:
            snaps = [n for n in snaps if str(n.get(key)) == value]
    snaps.sort(key=lambda n: (n["created_at"], n["id"]), reverse=True)
    return snaps


def _snapshot_list(req: Request, project_id: str | None, detail: bool) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        snaps = _snapshot_listing(req, ctx, project_id)
        total = len(snaps)
        page, links = _page(req, snaps, req.path)
        items = [_snapshot_view(req, n, extended=detail) for n in page]
    body: dict[str, Any] = {"snapshots": items}
    if links:
        body["snapshots_links"] = links
    if _mv(req) >= (3, 45) and (req.arg("with_count") or "").lower() in ("1", "true", "yes"):
        body["count"] = total
    return _answer(req, 200, body)


@_route("GET", "/snapshots")
def list_snapshots(req: Request, project_id: str | None) -> Response:
    return _snapshot_list(req, project_id, detail=False)


@_route("GET", "/snapshots/detail")
def list_snapshots_detail(req: Request, project_id: str | None) -> Response:
    return _snapshot_list(req, project_id, detail=True)


@_route("POST", "/snapshots")
def create_snapshot(req: Request, project_id: str | None) -> Response:
    ctx = _ctx(req, project_id)
    body = _body(req, "snapshot")
    allowed = {"volume_id", "force", "name", "description", "metadata", "display_name", "display_description"}
    if set(body) - allowed:
        raise _err(
            400,
            f"Invalid input for field/attribute snapshot. Value: {body}. Additional properties are not allowed "
            f"({', '.join(repr(k) for k in sorted(set(body) - allowed))} were unexpected)",
        )
    if "volume_id" not in body:
        raise _err(
            400, f"Invalid input for field/attribute snapshot. Value: {body}. 'volume_id' is a required property"
        )
    name = _check_str(body, "name")
    description = _check_str(body, "description")
    metadata = _check_metadata(body.get("metadata"))
    force = body.get("force")
    if force is not None and str(force).lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise _err(400, f"Invalid input for field/attribute force. Value: {force}. {force!r} is not a 'boolean'")
    forced = force is not None and str(force).lower() in ("true", "1", "yes", "on")
    if force is not None and not forced and _mv(req) >= (3, 66):
        raise _err(
            400,
            "Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatability, "
            "however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.",
        )
    with store.lock:
        vol = _find(req, ctx, str(body["volume_id"]), project_id)
        valid = ("available", "in-use") if forced or _mv(req) >= (3, 66) else ("available",)
        if vol["status"] not in valid:
            raise _err(
                400,
                f"Invalid volume: Volume {vol['id']} status must be {', '.join(valid)}, but current status is: "
                f"{vol['status']}.",
            )
        quota, used = _quota(vol["project_id"]), _usage(vol["project_id"])
        if quota["snapshots"] >= 0 and used["snapshots"] + 1 > quota["snapshots"]:
            raise _err(
                413,
                f"SnapshotLimitExceeded: Maximum number of snapshots allowed ({quota['snapshots']}) exceeded",
            )
        if quota["gigabytes"] >= 0 and used["gigabytes"] + vol["size"] > quota["gigabytes"]:
            raise _err(
                413,
                f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
                f"Requested {vol['size']}G, quota is {quota['gigabytes']}G and {used['gigabytes']}G has been "
                "consumed.",
            )
        now = _now()
        snap = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": description,
            "volume_id": vol["id"],
            "status": "creating",
            "size": vol["size"],
            "metadata": metadata,
            "created_at": now,
            "updated_at": None,
            "project_id": vol["project_id"],
            "user_id": ctx["user_id"],
            "progress": "0%",
            "transition_at_epoch": time.time() + max(0.0, config.transition_seconds),
        }
        _snapshots()[snap["id"]] = snap
        store.touch()
        return _answer(req, 202, {"snapshot": _snapshot_view(req, snap, extended=False)})


@_route("GET", "/snapshots/{snapshot_id}")
def show_snapshot(req: Request, project_id: str | None, snapshot_id: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        return _answer(req, 200, {"snapshot": _snapshot_view(req, _find_snapshot(ctx, snapshot_id, project_id))})


@_route("PUT", "/snapshots/{snapshot_id}")
def update_snapshot(req: Request, project_id: str | None, snapshot_id: str) -> Response:
    ctx = _ctx(req, project_id)
    body = _body(req, "snapshot")
    allowed = {"name", "description", "display_name", "display_description"}
    if not body or set(body) - allowed:
        raise _err(
            400,
            f"Invalid input for field/attribute snapshot. Value: {body}. Additional properties are not allowed "
            "or none given",
        )
    name, description = _check_str(body, "name"), _check_str(body, "description")
    with store.lock:
        snap = _find_snapshot(ctx, snapshot_id, project_id)
        if "name" in body:
            snap["name"] = name
        if "description" in body:
            snap["description"] = description
        snap["updated_at"] = _now()
        store.touch()
        return _answer(req, 200, {"snapshot": _snapshot_view(req, snap, extended=False)})


@_route("DELETE", "/snapshots/{snapshot_id}")
def delete_snapshot(req: Request, project_id: str | None, snapshot_id: str) -> Response:
    ctx = _ctx(req, project_id)
    with store.lock:
        snap = _find_snapshot(ctx, snapshot_id, project_id)
        if snap["status"] not in ("available", "error"):
            raise _err(
                400, "Invalid snapshot: Snapshot status must be available or error and must not be part of a group."
            )
        snap["status"] = "deleting"
        snap["updated_at"] = _now()
        snap["transition_at_epoch"] = time.time() + max(0.0, config.transition_seconds)
        store.touch()
    return Response(202, b"", _headers(req))


@_route("GET", "/backups")
def list_backups(req: Request, project_id: str | None) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"backups": []})


@_route("GET", "/backups/detail")
def list_backups_detail(req: Request, project_id: str | None) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"backups": []})


@_route("GET", "/limits")
def limits(req: Request, project_id: str | None) -> Response:
    ctx = _ctx(req, project_id)
    target = _scope_project(ctx, project_id)
    with store.lock:
        quota, used = _quota(target), _usage(target)
    absolute = {
        "maxTotalVolumes": quota["volumes"],
        "maxTotalSnapshots": quota["snapshots"],
        "maxTotalVolumeGigabytes": quota["gigabytes"],
        "maxTotalBackups": quota["backups"],
        "maxTotalBackupGigabytes": quota["backup_gigabytes"],
        "totalVolumesUsed": used["volumes"],
        "totalGigabytesUsed": used["gigabytes"],
        "totalSnapshotsUsed": used["snapshots"],
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }
    return _answer(req, 200, {"limits": {"rate": [], "absolute": absolute}})


def _quota_set(target: str, usage: bool) -> dict[str, Any]:
    quota = _quota(target)
    if not usage:
        return {"id": target, **quota}
    used = _usage(target)
    return {
        "id": target,
        **{k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0, "allocated": 0} for k, v in quota.items()},
    }


@_route("GET", "/os-quota-sets/{target_id}")
def show_quota(req: Request, project_id: str | None, target_id: str) -> Response:
    ctx = _ctx(req, project_id)
    if target_id != ctx["project_id"] and not ctx["is_admin"]:
        raise _err(403, "Policy doesn't allow volume_extension:quotas:show to be performed.")
    usage = (req.arg("usage") or "").lower() in ("1", "true", "yes")
    with store.lock:
        return _answer(req, 200, {"quota_set": _quota_set(target_id, usage)})


@_route("GET", "/os-quota-sets/{target_id}/defaults")
def default_quota(req: Request, project_id: str | None, target_id: str) -> Response:
    _ctx(req, project_id)
    return _answer(req, 200, {"quota_set": {"id": target_id, **DEFAULT_QUOTAS}})


@_route("PUT", "/os-quota-sets/{target_id}")
def update_quota(req: Request, project_id: str | None, target_id: str) -> Response:
    ctx = _ctx(req, project_id)
    if not ctx["is_admin"]:
        raise _err(403, "Policy doesn't allow volume_extension:quotas:update to be performed.")
    body = _body(req, "quota_set")
    changes = {}
    for key, value in body.items():
        if key not in DEFAULT_QUOTAS:
            raise _err(400, f"Bad key(s) in quota set: {key}")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise _err(400, f"Invalid input received: Quota limit {value} for {key} must be -1 or greater.")
        changes[key] = value
    with store.lock:
        store.table("volume_quotas").setdefault(target_id, {}).update(changes)
        store.touch()
        return _answer(req, 200, {"quota_set": {k: v for k, v in _quota_set(target_id, False).items() if k != "id"}})


@_route("DELETE", "/os-quota-sets/{target_id}")
def reset_quota(req: Request, project_id: str | None, target_id: str) -> Response:
    ctx = _ctx(req, project_id)
    if not ctx["is_admin"]:
        raise _err(403, "Policy doesn't allow volume_extension:quotas:delete to be performed.")
    with store.lock:
        store.table("volume_quotas").pop(target_id, None)
        store.touch()
    return Response(200, b"", _headers(req))


@router.route("GET", "/volume/v3/{project_id}")
def version_with_project(req: Request, project_id: str) -> Response:
    return json_response(200, {"versions": [_version_entry(req)]})


def seed(fresh: bool) -> None:
    if fresh:
        _volumes().clear()
        _snapshots().clear()
        store.table("volume_quotas").clear()
