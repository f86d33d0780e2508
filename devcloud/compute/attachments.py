"""Volume attachments: `/servers/{id}/os-volume_attachments` (list, show, attach, detach)."""

from __future__ import annotations

from typing import Any

from devcloud.compute import servers
from devcloud.compute.common import UUID_RE, bad, body_of, check_unexpected, invalid, not_found, parse_bool
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import Request, Response, empty_response, json_response, router

API = "/compute/v2.1"
_ATTACH_STATES = ("active", "paused", "stopped", "suspended", "resized", "shelved", "shelved_offloaded")


def _view(req: Request, s: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    v = mv(req)
    out: dict[str, Any] = {"serverId": s["id"], "volumeId": b["volume_id"], "device": b.get("device")}
    if v < 89:
        out["id"] = b["volume_id"]
    if v >= 70:
        out["tag"] = b.get("tag")
    if v >= 79:
        out["delete_on_termination"] = bool(b.get("delete_on_termination"))
    if v >= 89:
        out["attachment_id"] = b.get("attachment_id")
        out["bdm_uuid"] = b.get("bdm_uuid")
    return out


def _attached(s: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in s.get("bdms", []) if b.get("attached")]


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
        raise not_found(f"Volume {volume_id} is not attached to {server_id}")


@router.route("POST", API + "/servers/{server_id}/os-volume_attachments")
def attach(req: Request, server_id: str) -> Response:
    import uuid

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
    dot = parse_bool(body.get("delete_on_termination", False), "delete_on_termination")
    with store.lock:
        s = servers.find(req, server_id)
        servers.check_locked(req, s)
        check_state(s, "attach_volume", _ATTACH_STATES)
        vol = volume_mod.get_volume(volume_id)
        if vol is None or (
            vol.get("project_id") not in (None, s["project_id"]) and not req.context["auth"]["is_admin"]
        ):
            raise not_found(f"Volume {volume_id} could not be found.")
        if any(b["volume_id"] == volume_id for b in _attached(s)):
            raise bad(f"Invalid volume: volume {volume_id} is already attached to this server")
        if vol.get("status") != "available":
            raise bad(
                f"Invalid volume: volume '{volume_id}' status must be 'available'. Currently in '{vol.get('status')}'"
            )
        used = {b.get("device") for b in _attached(s)}
        device = body.get("device") or next(
            f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in used
        )
        b = {
            "volume_id": volume_id,
            "boot_index": None,
            "delete_on_termination": dot,
            "attached": True,
            "device": device,
            "tag": body.get("tag"),
            "attachment_id": str(uuid.uuid4()),
            "bdm_uuid": str(uuid.uuid4()),
        }
        volume_mod.attach_volume(volume_id, s["id"], device, s.get("host"))
        s.setdefault("bdms", []).append(b)
        servers.start_action(req, s, "attach_volume", "compute_attach_volume")
        servers.finish_action(s)
        servers.touch(s)
        return json_response(200, {"volumeAttachment": _view(req, s, b)})


@router.route("DELETE", API + "/servers/{server_id}/os-volume_attachments/{volume_id}")
def detach(req: Request, server_id: str, volume_id: str) -> Response:
    from devcloud import volume as volume_mod
    from devcloud.compute.actions import check_state

    with store.lock:
        s = servers.find(req, server_id)
        servers.check_locked(req, s)
        check_state(s, "detach_volume", _ATTACH_STATES)
        for b in _attached(s):
            if b["volume_id"] == volume_id:
                if b.get("boot_index") == 0 and servers.volume_backed(s):
                    raise bad("Cannot detach a root device volume")
                volume_mod.detach_volume(volume_id)
                s["bdms"].remove(b)
                servers.start_action(req, s, "detach_volume", "compute_detach_volume")
                servers.finish_action(s)
                servers.touch(s)
                return empty_response(202)
        raise not_found(f"Volume {volume_id} is not attached to {server_id}")
