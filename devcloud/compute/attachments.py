"""Volume attachments: `/servers/{id}/os-volume_attachments` (list, show, attach, detach), as Nova 34 does them
(nova/api/openstack/compute/volume_attachments.py, nova/compute/api.py attach_volume/detach_volume).

Nova keeps a block device mapping (BDM) per attached volume: it exists from the attach call on (so Nova lists the
volume at once) and goes when the compute host has detached the volume. Cinder's side moves by time
(devcloud/volume.py: `reserved` → `attaching` → `in-use`; `detaching` → `available`); a BDM being detached carries
`detach_at`, the moment the compute host is done, after which it is gone (servers.settle_bdms).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from devcloud.compute import servers, transitions
from devcloud.compute.common import UUID_RE, bad, body_of, check_unexpected, invalid, not_found, parse_bool
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"
# nova/compute/api.py attach_volume / detach_volume: @check_instance_state(vm_state=[...]) (task_state None)
_ATTACH_STATES = ("active", "paused", "stopped", "resized", "soft-delete", "shelved", "shelved_offloaded")
# nova/block_device.py match_device
_DEVICE_RE = re.compile(r"^/dev/x{0,1}[a-z]{0,1}d{0,1}[a-z]+[0-9]*$")


def _view(req: Request, s: dict[str, Any], b: dict[str, Any], created: bool = False) -> dict[str, Any]:
    """An attachment; `created`: the attach answer, which keeps the pre-2.89 shape (id, no attachment_id/bdm_uuid)."""
    v = mv(req)
    out: dict[str, Any] = {"serverId": s["id"], "volumeId": b["volume_id"], "device": b.get("device")}
    if v < 89 or created:
        out["id"] = b["volume_id"]
    if v >= 70:
        out["tag"] = b.get("tag")
    if v >= 79:
        out["delete_on_termination"] = bool(b.get("delete_on_termination"))
    if v >= 89 and not created:
        out["attachment_id"] = b.get("attachment_id")
        out["bdm_uuid"] = b.get("bdm_uuid")
    return out


def _attached(s: dict[str, Any]) -> list[dict[str, Any]]:
    servers.settle_bdms(s)
    return [b for b in s.get("bdms", []) if b.get("attached")]


def _cinder_refused(message: str) -> str:
    """How Nova words a refusal of Cinder's (nova/volume/cinder.py translate_cinder_exception → InvalidInput, with
    cinderclient's text of the error: its message, the status and Cinder's request id)."""
    return f"Invalid input received: {message} (HTTP 400) (Request-ID: req-{uuid.uuid4()})"


def _volume(req: Request, s: dict[str, Any], volume_id: str) -> dict[str, Any]:
    from devcloud import volume as volume_mod

    vol = volume_mod.get_volume(volume_id)
    if vol is None or (vol.get("project_id") not in (None, s["project_id"]) and not req.context["auth"]["is_admin"]):
        raise not_found(f"Volume {volume_id} could not be found.")
    return vol


@router.route("GET", API + "/servers/{server_id}/os-volume_attachments")
def list_attachments(req: Request, server_id: str) -> Response:
    with store.lock:
        s = servers.find(req, server_id)
        return json_response(200, {"volumeAttachments": [_view(req, s, b) for b in _attached(s)]})


@router.route("GET", API + "/servers/{server_id}/os-volume_attachments/{volume_id}")
def show_attachment(req: Request, server_id: str, volume_id: str) -> Response:
    with store.lock:
        s = servers.find(req, server_id)
        for b in _attached(s):
            if b["volume_id"] == volume_id:
                return json_response(200, {"volumeAttachment": _view(req, s, b)})
        raise not_found(f"Instance {server_id} is not attached to volume {volume_id}")


@router.route("POST", API + "/servers/{server_id}/os-volume_attachments")
def attach(req: Request, server_id: str) -> Response:
    from devcloud import volume as volume_mod
    from devcloud.compute.actions import check_state

    v = mv(req)
    body = body_of(req, "volumeAttachment")
    allowed = {"volumeId", "device"}
    if v >= 49:
        allowed.add("tag")
    if v >= 79:
        allowed.add("delete_on_termination")
    check_unexpected(body, "volumeAttachment", allowed)
    if "volumeId" not in body:
        raise invalid("volumeAttachment", body, "'volumeId' is a required property")
    volume_id = body["volumeId"]
    if not isinstance(volume_id, str) or not UUID_RE.match(volume_id):
        raise invalid("volumeId", volume_id, f"{volume_id!r} is not a 'uuid'")
    requested = body.get("device")
    if requested is not None and (not isinstance(requested, str) or len(requested) > 255):
        raise invalid("device", requested, f"{requested!r} is not of type 'string', 'null'")
    dot = parse_bool(body.get("delete_on_termination", False), "delete_on_termination")
    with store.lock:
        s = servers.find(req, server_id)
        servers.check_locked(req, s)
        check_state(s, "attach_volume", _ATTACH_STATES)
        if requested and not _DEVICE_RE.match(requested):
            raise bad(f"The supplied device path ({requested}) is invalid.")
        vol = _volume(req, s, volume_id)
        # Nova's _check_volume_already_attached: its own BDMs of the volume, on any server
        holders = [
            other["id"]
            for other in servers.table().values()
            if not other.get("deleted") and any(b["volume_id"] == volume_id for b in _attached(other))
        ]
        if holders and not vol.get("multiattach"):
            raise bad(f"Invalid volume: volume {volume_id} is already attached to instances: {' '.join(holders)}")
        offloaded = s["vm_state"] == "shelved_offloaded"
        used = {b.get("device") for b in _attached(s)}
        if offloaded:
            device = None  # a local BDM: the device is chosen when the server is unshelved
        elif requested:
            # compute_utils.get_device_name_for_instance: the instance's prefix, the letters asked for
            device = "/dev/vd" + re.sub(r"^/dev/x?[a-z]?d?", "", requested)
            if device in used:
                raise HttpError(409, f"The supplied device path ({device}) is in use.", "conflict")
        else:
            device = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in used)
        try:
            if offloaded:
                # nova/compute/api.py _attach_volume_shelved_offloaded: attachment_complete at once (in-use)
                reserved = volume_mod.attach_volume(volume_id, s["id"], None, None)
            else:
                reserved = volume_mod.reserve_volume(volume_id, s["id"], device, s.get("host"))
        except ValueError as exc:
            raise bad(_cinder_refused(str(exc))) from exc
        b = {
            "volume_id": volume_id,
            "boot_index": None,
            "delete_on_termination": dot,
            "attached": True,
            "device": device,
            "tag": body.get("tag"),
            "attachment_id": reserved["attachments"][0]["attachment_id"],
            "bdm_uuid": str(uuid.uuid4()),
        }
        s.setdefault("bdms", []).append(b)
        servers.start_action(req, s, "attach_volume", "compute_attach_volume")
        servers.finish_action(s)
        servers.touch(s)
        return json_response(200, {"volumeAttachment": _view(req, s, b, created=True)})


@router.route("DELETE", API + "/servers/{server_id}/os-volume_attachments/{volume_id}")
def detach(req: Request, server_id: str, volume_id: str) -> Response:
    from devcloud import volume as volume_mod
    from devcloud.compute.actions import check_state

    with store.lock:
        s = servers.find(req, server_id)
        _volume(req, s, volume_id)
        b = next((b for b in _attached(s) if b["volume_id"] == volume_id), None)
        if b is None:
            raise not_found(f"Instance {server_id} is not attached to volume {volume_id}")
        if b.get("boot_index") == 0:
            raise bad("Cannot detach a root device volume")
        servers.check_locked(req, s)  # compute_api.detach_volume's @check_instance_lock, @check_instance_state
        check_state(s, "detach_volume", _ATTACH_STATES)
        if b.get("detach_at") is not None:  # already being detached: Cinder's volume is `detaching`
            raise bad(
                "Invalid volume: "
                + _cinder_refused(
                    "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status "
                    "must be 'attached' to detach."
                )
            )
        if s["vm_state"] == "shelved_offloaded":
            # _detach_volume_shelved_offloaded: the BDM and Cinder's attachment go at once
            volume_mod.detach_volume(volume_id, s["id"])
            s["bdms"].remove(b)
        else:
            try:
                volume_mod.begin_detaching(volume_id, s["id"])
            except ValueError as exc:
                raise bad("Invalid volume: " + _cinder_refused(str(exc))) from exc
            b["detach_at"] = time.time() + transitions.seconds()
        servers.start_action(req, s, "detach_volume", "compute_detach_volume")
        servers.finish_action(s)
        servers.touch(s)
        return empty_response(202)
