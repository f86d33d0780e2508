"""POST /servers/{id}/action: power, reboot, pause/suspend, lock, snapshot, resize, rebuild, console output.

State checks follow Nova's compute API: a forbidden state answers 409
"Cannot '<action>' instance <id> while it is in vm_state <state>" (or task_state).
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from devcloud.compute import flavors, limits, networking, scheduler, servers, transitions
from devcloud.compute.common import (
    bad,
    check_int,
    check_string,
    check_unexpected,
    conflict,
    invalid,
    is_admin,
    not_found,
)
from devcloud.compute.microversions import mv
from devcloud.compute.servers import PAUSED, RUNNING, SHUTDOWN, SUSPENDED, console_started, console_stopped, touch
from devcloud.state import now_iso, store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"


def check_state(
    s: dict[str, Any],
    action: str,
    vm_states: tuple[str, ...] | None,
    task_states: tuple[str | None, ...] | None = (None,),
) -> None:
    if vm_states is not None and s["vm_state"] not in vm_states:
        raise conflict(f"Cannot '{action}' instance {s['id']} while it is in vm_state {s['vm_state']}")
    if task_states is not None and s.get("task_state") not in task_states:
        raise conflict(f"Cannot '{action}' instance {s['id']} while it is in task_state {s.get('task_state')}")


def _begin(
    req: Request, s: dict[str, Any], action: str, event: str, task: str | None, op: str, fraction: float = 1.0
) -> None:
    servers.start_action(req, s, action, event)
    s["task_state"] = task
    touch(s)
    transitions.set_pending(s, op, transitions.seconds(fraction))


@router.route("POST", API + "/servers/{server_id}/action")
def server_action(req: Request, server_id: str) -> Response:
    body = req.json_object()
    if not body:
        raise bad("Malformed request body")
    name = next(iter(body))
    handler = _HANDLERS.get(name)
    if handler is None:
        raise bad(f"There is no such action: {name}")
    args = body[name]
    with store.lock:
        s = servers.find(req, server_id)
        if name not in _NO_LOCK_CHECK:
            servers.check_locked(req, s)
        return handler(req, s, args)


# Actions a locked server still accepts from its owner (as in Nova, reads and the lock itself).
_NO_LOCK_CHECK = {
    "lock",
    "unlock",
    "createImage",
    "createBackup",
    "os-getConsoleOutput",
    "os-getVNCConsole",
    "os-getSPICEConsole",
    "os-getSerialConsole",
}


def _stop(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "stop", ("active", "error"))
    _begin(req, s, "stop", "compute_stop_instance", "powering-off", "power_off")
    return empty_response(202)


@transitions.step("power_off")
def _power_off(s: dict[str, Any]) -> None:
    s["vm_state"], s["task_state"], s["power_state"] = "stopped", None, SHUTDOWN
    touch(s)
    servers.finish_action(s)
    console_stopped(s)


def _start(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "start", ("stopped",))
    _begin(req, s, "start", "compute_start_instance", "powering-on", "power_on")
    return empty_response(202)


@transitions.step("power_on")
def _power_on(s: dict[str, Any]) -> None:
    s["vm_state"], s["task_state"], s["power_state"] = "active", None, RUNNING
    s["boot_count"] = s.get("boot_count", 0) + 1
    touch(s)
    servers.finish_action(s)
    console_started(s)


def _reboot(req: Request, s: dict[str, Any], args: Any) -> Response:
    if not isinstance(args, dict) or "type" not in args:
        raise invalid("reboot", args, "'type' is a required property")
    kind = args["type"]
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise invalid("type", kind, f"{kind!r} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']")
    hard = kind.upper() == "HARD"
    if hard:
        check_state(
            s,
            "reboot",
            ("active", "stopped", "paused", "suspended", "error"),
            (None, "rebooting", "reboot_pending", "reboot_started", "rebooting_hard", "reboot_pending_hard",
             "reboot_started_hard", "resuming", "unpausing", "pausing", "suspending"),
        )  # fmt: skip
    else:
        check_state(s, "reboot", ("active",), (None,))
    _begin(req, s, "reboot", "compute_reboot_instance", "rebooting_hard" if hard else "rebooting", "reboot")
    s["reboot_from"] = "hard" if hard else "soft"
    from devcloud.compute import consoles

    consoles.server_rebooting(s)
    return empty_response(202)


@transitions.step("reboot")
def _reboot_done(s: dict[str, Any]) -> None:
    s["vm_state"], s["task_state"], s["power_state"] = "active", None, RUNNING
    s["boot_count"] = s.get("boot_count", 0) + 1
    touch(s)
    servers.finish_action(s)
    console_started(s)


def _simple(action: str, event: str, vm_from: tuple[str, ...], task: str, op: str) -> Any:
    def handler(req: Request, s: dict[str, Any], args: Any) -> Response:
        check_state(s, action, vm_from)
        _begin(req, s, action, event, task, op, 0.5)
        return empty_response(202)

    return handler


def _settle(vm_state: str, power: int, running: bool) -> Any:
    def step_fn(s: dict[str, Any]) -> None:
        s["vm_state"], s["task_state"], s["power_state"] = vm_state, None, power
        touch(s)
        servers.finish_action(s)
        if running:
            console_started(s)
        elif vm_state == "suspended":
            console_stopped(s)

    return step_fn


transitions.STEPS["pause"] = _settle("paused", PAUSED, False)
transitions.STEPS["unpause"] = _settle("active", RUNNING, True)
transitions.STEPS["suspend"] = _settle("suspended", SUSPENDED, False)
transitions.STEPS["resume"] = _settle("active", RUNNING, True)


def _lock(req: Request, s: dict[str, Any], args: Any) -> Response:
    reason = None
    if isinstance(args, dict) and args.get("locked_reason") is not None:
        if mv(req) < 73:
            raise invalid("lock", args, "Additional properties are not allowed ('locked_reason' was unexpected)")
        reason = check_string(args["locked_reason"], "locked_reason", 0, 255)
    servers.start_action(req, s, "lock", None)
    s["locked"] = True
    s["locked_by"] = "admin" if is_admin(req) and s["project_id"] != req.context["auth"]["project_id"] else "owner"
    s["locked_reason"] = reason
    servers.finish_action(s)
    touch(s)
    return empty_response(202)


def _unlock(req: Request, s: dict[str, Any], args: Any) -> Response:
    if s.get("locked") and s.get("locked_by") == "admin" and not is_admin(req):
        raise HttpError(
            403,
            "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.",
            "forbidden",
        )
    servers.start_action(req, s, "unlock", None)
    s["locked"], s["locked_by"], s["locked_reason"] = False, None, None
    servers.finish_action(s)
    touch(s)
    return empty_response(202)


def glance_image_url(req: Request, image_id: str) -> str:
    """nova.image.glance.generate_image_url: Glance's endpoint with its version stripped to a trailing slash, then
    "/images/<id>" (so real Nova's URL has a double slash: "<endpoint>//images/<id>")."""
    from devcloud.identity import public_base

    return f"{public_base(req)}/image//images/{image_id}"


def snapshot_metadata(s: dict[str, Any], extra: dict[str, Any], image_type: str) -> dict[str, Any]:
    """The new image's attributes and properties Nova sets (compute.utils.create_image): the base image's inherited
    properties, user_id, image_type; a backup keeps the base image's disk and container formats."""
    from devcloud import image as image_mod

    meta = dict(extra)
    if s.get("image_id"):
        base = image_mod.get_image(s["image_id"]) or {}
        meta.setdefault("base_image_ref", s["image_id"])
        for key in ("os_distro", "os_version", "hw_disk_bus", "hw_vif_model"):
            if base.get(key) is not None:
                meta.setdefault(key, base[key])
        meta.setdefault("min_disk", max(int(base.get("min_disk") or 0), s["flavor"]["disk"]))
        meta.setdefault("min_ram", int(base.get("min_ram") or 0))
        if image_type == "backup":
            for key in ("disk_format", "container_format"):
                if base.get(key):
                    meta.setdefault(key, base[key])
    else:
        meta.setdefault("bdm_v2", "True")
        meta.setdefault("root_device_name", "/dev/vda")
    meta.setdefault("user_id", s["user_id"])
    meta["image_type"] = image_type
    return meta


def _create_image(req: Request, s: dict[str, Any], args: Any) -> Response:
    from devcloud import image as image_mod

    if not isinstance(args, dict) or "name" not in args:
        raise invalid("createImage", args, "'name' is a required property")
    name = check_string(args["name"], "name", 1, 255)
    metadata = args.get("metadata", {})
    if not isinstance(metadata, dict):
        raise invalid("metadata", metadata, f"{metadata!r} is not of type 'object'")
    check_state(s, "createImage", ("active", "stopped", "paused", "suspended"))
    meta = snapshot_metadata(s, metadata, "snapshot")
    img = image_mod.create_snapshot_image(name, s["id"], s["project_id"], meta)
    s["snapshot_image"] = img["id"]
    _begin(req, s, "createImage", "compute_snapshot_instance", "image_snapshot", "snapshot_pending", 0.3)
    if mv(req) >= 45:
        return json_response(202, {"image_id": img["id"]})
    return empty_response(202, {"Location": glance_image_url(req, img["id"])})


def _create_backup(req: Request, s: dict[str, Any], args: Any) -> Response:
    """createBackup (nova/api/openstack/compute/create_backup.py, compute.api.backup, manager._rotate_backups)."""
    from devcloud import image as image_mod
    from devcloud.compute import common

    if not isinstance(args, dict):
        raise invalid("createBackup", args, f"{args!r} is not of type 'object'")
    check_unexpected(args, "createBackup", {"name", "backup_type", "rotation", "metadata"})
    for key in ("name", "backup_type", "rotation"):
        if key not in args:
            raise invalid("createBackup", args, f"'{key}' is a required property")
    name = check_string(args["name"], "name", 1, 255)
    assert name is not None
    if name != name.strip():
        raise invalid("name", name, f"{name!r} does not match '^(?! )[^\\x00-\\x1f]*(?<! )$'")
    backup_type = check_string(args["backup_type"], "backup_type", 0, 2**31)
    rotation_raw = args["rotation"]
    if isinstance(rotation_raw, str) and not rotation_raw.isdigit():
        raise invalid("rotation", rotation_raw, f"{rotation_raw!r} does not match '^[0-9]*$'")
    rotation = check_int(rotation_raw, "rotation", 0)
    metadata = servers._check_metadata(args.get("metadata", {}))
    if mv(req) < 39 and metadata:  # from 2.39 Nova no longer checks the image metadata quota here
        quota = limits.project_quota(common.ctx(req)["project_id"])["metadata_items"]
        if 0 <= quota < len(metadata):
            raise HttpError(403, "Image metadata limit exceeded", "forbidden")
    check_state(s, "createBackup", ("active", "stopped", "paused", "suspended"))
    if servers.volume_backed(s):
        raise bad("Backup is not supported for volume-backed instances.")
    meta = snapshot_metadata(s, {**metadata, "backup_type": backup_type}, "backup")
    img = image_mod.create_snapshot_image(name, s["id"], s["project_id"], meta)
    s["snapshot_image"] = img["id"]
    s["backup_rotation"] = [backup_type, rotation]
    _begin(req, s, "createBackup", "compute_backup_instance", "image_backup", "snapshot_pending", 0.3)
    if mv(req) >= 45:
        return json_response(202, {"image_id": img["id"]})
    headers = {"Location": f"{common.base_url(req)}{API}/images/{img['id']}"} if rotation > 0 else {}
    return empty_response(202, headers)


def _rotate_backups(s: dict[str, Any], backup_type: str, rotation: int) -> None:
    """Delete this server's oldest backups of that type beyond `rotation` (the new one included, as Nova does)."""
    from devcloud import image as image_mod

    backups = image_mod.find_images(image_type="backup", backup_type=backup_type, instance_uuid=s["id"])
    for img in backups[rotation:]:
        image_mod.delete_image(img["id"])


@transitions.step("snapshot_pending")
def _snapshot_pending(s: dict[str, Any]) -> None:
    s["task_state"] = "image_pending_upload"
    touch(s)
    transitions.set_pending(s, "snapshot_upload", transitions.seconds(0.3))


@transitions.step("snapshot_upload")
def _snapshot_upload(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod

    s["task_state"] = "image_uploading"
    if s.get("snapshot_image"):
        image_mod.set_image_status(s["snapshot_image"], "saving")
    touch(s)
    transitions.set_pending(s, "snapshot_done", transitions.seconds(0.4))


@transitions.step("snapshot_done")
def _snapshot_done(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod

    image_id = s.pop("snapshot_image", None)
    if image_id:
        size = 0 if servers.volume_backed(s) else 21692416 + (hash(s["id"]) % 4096) * 1024
        image_mod.set_image_status(image_id, "active", size=size)
    rotation = s.pop("backup_rotation", None)
    if rotation is not None:
        _rotate_backups(s, rotation[0], rotation[1])
    s["task_state"] = None
    touch(s)
    servers.finish_action(s)


def _resize(req: Request, s: dict[str, Any], args: Any) -> Response:
    if not isinstance(args, dict) or "flavorRef" not in args:
        raise invalid("resize", args, "'flavorRef' is a required property")
    flavor_id = str(args["flavorRef"]).rstrip("/").rsplit("/", 1)[-1]
    flavor = flavors.table().get(flavor_id)
    if flavor is None or not flavors.visible(req, flavor):
        raise bad(f"Flavor {flavor_id} could not be found.")
    check_state(s, "resize", ("active", "stopped"))
    if flavor["id"] == s["flavor"]["id"]:
        raise bad("When resizing, instances must change flavor!")
    if not servers.volume_backed(s) and flavor["disk"] < s["flavor"]["disk"]:
        raise bad("Resize error: Unable to resize disk down.")
    limits.check_resize_quota(
        s["project_id"], flavor["vcpus"] - s["flavor"]["vcpus"], flavor["ram"] - s["flavor"]["ram"]
    )
    resources = scheduler.resources_for(flavor, servers.volume_backed(s))
    old = scheduler.resources_for(s["flavor"], servers.volume_backed(s))
    from devcloud.compute import hosts

    hv = hosts.by_host(s["host"]) if s.get("host") else None
    scheduler.release(s["id"])
    try:
        if hv is not None and hosts.host_usable(hv) and scheduler.fits(hv["id"], resources):
            target = hv
        else:
            target = scheduler.select(resources, s.get("requested_az"), server=s)
    except scheduler.NoValidHost:
        if hv is not None:
            scheduler.claim(s, hv, old)
        servers.start_action(req, s, "resize", "conductor_migrate_server")
        servers.finish_action(s, "Error", "No valid host was found.")
        touch(s)
        raise HttpError(400, "No valid host was found. No valid host found for resize", "badRequest") from None
    scheduler.claim(s, target, resources)
    s["old_flavor"] = s["flavor"]
    s["old_host"] = (s["host"], s["node"], s["az"])
    s["flavor"] = flavors.embedded(flavor)
    s["host"], s["node"], s["az"] = target["host"], target["hypervisor_hostname"], target["availability_zone"]
    networking.rebind(s)
    s["resize_power"] = s["power_state"]
    _begin(req, s, "resize", "compute_resize_instance", "resize_prep", "resize_migrating", 0.3)
    return empty_response(202)


@transitions.step("resize_migrating")
def _resize_migrating(s: dict[str, Any]) -> None:
    s["task_state"] = "resize_migrating"
    touch(s)
    transitions.set_pending(s, "resize_finish", transitions.seconds(0.4))


@transitions.step("resize_finish")
def _resize_finish(s: dict[str, Any]) -> None:
    s["task_state"] = "resize_finish"
    touch(s)
    transitions.set_pending(s, "resized", transitions.seconds(0.3))


@transitions.step("resized")
def _resized(s: dict[str, Any]) -> None:
    s["vm_state"], s["task_state"] = "resized", None
    s["power_state"] = s.get("resize_power", RUNNING)
    touch(s)
    servers.finish_action(s)
    if s["power_state"] == RUNNING:
        console_started(s)


def _confirm(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "confirmResize", ("resized",))
    servers.start_action(req, s, "confirmResize", "compute_confirm_resize")
    s["task_state"] = None
    s["vm_state"] = "active" if s.get("resize_power", RUNNING) == RUNNING else "stopped"
    s.pop("old_flavor", None)
    s.pop("old_host", None)
    servers.finish_action(s)
    touch(s)
    return empty_response(204)


def _revert(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "revertResize", ("resized",))
    _begin(req, s, "revertResize", "compute_revert_resize", "resize_reverting", "revert_done", 0.8)
    return empty_response(202)


@transitions.step("revert_done")
def _revert_done(s: dict[str, Any]) -> None:
    from devcloud.compute import hosts

    old_flavor = s.pop("old_flavor", None)
    old_host = s.pop("old_host", None)
    if old_flavor:
        scheduler.release(s["id"])
        s["flavor"] = old_flavor
        if old_host:
            s["host"], s["node"], s["az"] = old_host
            networking.rebind(s)
        hv = hosts.by_host(s["host"])
        if hv is not None:
            try:
                scheduler.claim(s, hv, scheduler.resources_for(old_flavor, servers.volume_backed(s)))
            except Exception:  # the old host filled up meanwhile: keep running there unaccounted
                pass
    s["vm_state"] = "active" if s.get("resize_power", RUNNING) == RUNNING else "stopped"
    s["task_state"] = None
    touch(s)
    servers.finish_action(s)


def _rebuild(req: Request, s: dict[str, Any], args: Any) -> Response:
    v = mv(req)
    if not isinstance(args, dict) or "imageRef" not in args:
        raise invalid("rebuild", args, "'imageRef' is a required property")
    image_ref = args["imageRef"]
    if not isinstance(image_ref, str):
        raise invalid("imageRef", image_ref, f"{image_ref!r} is not of type 'string'")
    image_id = image_ref.rstrip("/").rsplit("/", 1)[-1]
    check_state(s, "rebuild", ("active", "stopped", "error"))
    img = servers._image_for(req, image_id)
    if servers.volume_backed(s) and v < 93:
        raise bad("Unable to rebuild with a different image for a volume-backed server.")
    servers._check_image_fits(img, s["flavor"], None)
    access_ips = servers.parse_access_ips(args)
    if "name" in args:
        check_string(args["name"], "name", 1, 255)
        s["name"] = args["name"]
    if "metadata" in args:
        s["metadata"] = servers._check_metadata(args["metadata"])
    if "description" in args and v >= 19:
        s["description"] = check_string(args["description"], "description", 0, 255, nullable=True)
    if "key_name" in args and v >= 54:
        s["key_name"] = args["key_name"]
    s.update(access_ips)
    if not servers.volume_backed(s):
        s["image_id"] = img["id"]
    s["rebuild_power"] = s["power_state"]
    _begin(req, s, "rebuild", "compute_rebuild_instance", "rebuilding", "rebuild_spawning", 0.5)
    console_stopped(s)
    out = servers.update_view(servers._ViewCtx(req), s, keypair=v >= 54)
    if v >= 57:
        out["user_data"] = s.get("user_data")
    out["adminPass"] = args.get("adminPass") or "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(12)
    )
    return json_response(202, {"server": out})


@transitions.step("rebuild_spawning")
def _rebuild_spawning(s: dict[str, Any]) -> None:
    s["task_state"] = "rebuild_spawning"
    touch(s)
    transitions.set_pending(s, "rebuilt", transitions.seconds(0.5))


@transitions.step("rebuilt")
def _rebuilt(s: dict[str, Any]) -> None:
    stopped = s.get("rebuild_power") == SHUTDOWN or s["vm_state"] == "stopped"
    s["task_state"] = None
    s["vm_state"] = "stopped" if stopped else "active"
    s["power_state"] = SHUTDOWN if stopped else RUNNING
    s["fault"] = None
    s["launched_at"] = now_iso().replace("Z", ".000000")
    s["boot_count"] = 1
    touch(s)
    servers.finish_action(s)
    if not stopped:
        console_started(s)


def _shelve(req: Request, s: dict[str, Any], args: Any) -> Response:
    """Nova's shelve (shelved_offload_time 0): an image-backed server is snapshotted to `<name>-shelved` (the image
    unshelve boots from and then deletes), then offloaded; a volume-backed one is offloaded at once."""
    from devcloud import image as image_mod

    check_state(s, "shelve", ("active", "stopped", "paused", "suspended"))
    if servers.volume_backed(s):
        _begin(req, s, "shelve", "compute_shelve_offload_instance", "shelving", "shelve_offload", 0.5)
        return empty_response(202)
    meta = snapshot_metadata(s, {}, "snapshot")
    img = image_mod.create_snapshot_image(f"{s['name']}-shelved", s["id"], s["project_id"], meta)
    s["shelved_image_id"] = img["id"]
    _begin(req, s, "shelve", "compute_shelve_instance", "shelving", "shelve_image_pending", 0.2)
    return empty_response(202)


@transitions.step("shelve_image_pending")
def _shelve_image_pending(s: dict[str, Any]) -> None:
    s["task_state"] = "shelving_image_pending_upload"
    touch(s)
    transitions.set_pending(s, "shelve_image_uploading", transitions.seconds(0.2))


@transitions.step("shelve_image_uploading")
def _shelve_image_uploading(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod

    s["task_state"] = "shelving_image_uploading"
    s["power_state"] = SHUTDOWN
    console_stopped(s)
    image_mod.set_image_status(s["shelved_image_id"], "saving")
    touch(s)
    transitions.set_pending(s, "shelve_offload", transitions.seconds(0.2))


@transitions.step("shelve_offload")
def _shelve_offload(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod

    if s.get("shelved_image_id"):  # the snapshot is uploaded: SHELVED, then offloaded right away
        image_mod.set_image_status(s["shelved_image_id"], "active", size=21692416)
        s["vm_state"] = "shelved"
    s["task_state"] = "shelving_offloading"
    touch(s)
    transitions.set_pending(s, "shelved", transitions.seconds(0.3))


@transitions.step("shelved")
def _shelved(s: dict[str, Any]) -> None:
    console_stopped(s)
    scheduler.release(s["id"])
    s["vm_state"], s["task_state"], s["power_state"] = "shelved_offloaded", None, SHUTDOWN
    s["host"] = s["node"] = None
    networking.rebind(s)  # Nova unbinds the ports of an offloaded server (DOWN) and binds them again on unshelve
    touch(s)
    servers.finish_action(s)


def _shelve_offload_action(req: Request, s: dict[str, Any], args: Any) -> Response:
    if not is_admin(req):  # nova/policies/shelve.py: shelve_offload is ADMIN by default
        raise HttpError(
            403, "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.", "forbidden"
        )
    check_state(s, "shelveOffload", ("shelved",))
    _begin(req, s, "shelveOffload", "compute_shelve_offload_instance", "shelving_offloading", "shelved", 0.5)
    return empty_response(202)


def _unshelve(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "unshelve", ("shelved", "shelved_offloaded"))
    # Nova reads the zone from 2.77 on (before, the body is not even validated: ignored).
    zone = args.get("availability_zone") if isinstance(args, dict) and mv(req) >= 77 else None
    if zone is not None and s["vm_state"] != "shelved_offloaded":
        raise conflict(  # nova.exception.UnshelveInstanceInvalidState
            f'Specifying an availability zone or a host when unshelving server "{s["id"]}" with status '
            f'"{s["vm_state"]}" is not supported. The server status must be SHELVED_OFFLOADED.'
        )
    if zone is not None:
        from devcloud.compute import hosts

        if zone not in hosts.zone_names():
            raise bad("The requested availability zone is not available")
        s["requested_az"] = zone
    _begin(req, s, "unshelve", "compute_unshelve_instance", "unshelving", "unshelve_schedule", 0.4)
    return empty_response(202)


@transitions.step("unshelve_schedule")
def _unshelve_schedule(s: dict[str, Any]) -> None:
    resources = scheduler.resources_for(s["flavor"], servers.volume_backed(s))
    try:
        hv = scheduler.select(resources, s.get("requested_az"), server=s)
    except scheduler.NoValidHost as exc:
        s["task_state"] = None
        s["fault"] = {"code": 500, "created": now_iso(), "message": str(exc), "details": str(exc)}
        touch(s)
        servers.finish_action(s, "Error", str(exc))
        return
    scheduler.claim(s, hv, resources)
    s["host"], s["node"], s["az"] = hv["host"], hv["hypervisor_hostname"], hv["availability_zone"]
    networking.rebind(s)
    s["task_state"] = "spawning"
    touch(s)
    transitions.set_pending(s, "unshelved", transitions.seconds(0.6))


@transitions.step("unshelved")
def _unshelved(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod

    shelved_image = s.pop("shelved_image_id", None)
    if shelved_image:  # spawned from it: Nova deletes the shelved snapshot
        image_mod.delete_image(shelved_image)
    s["vm_state"], s["task_state"], s["power_state"] = "active", None, RUNNING
    s["boot_count"] = s.get("boot_count", 0) + 1
    touch(s)
    servers.finish_action(s)
    console_started(s)


def _rescue(req: Request, s: dict[str, Any], args: Any) -> Response:
    if args is not None and not isinstance(args, dict):
        raise invalid("rescue", args, f"{args!r} is not of type 'object', 'null'")
    args = args or {}
    if args.get("rescue_image_ref"):
        servers._image_for(req, str(args["rescue_image_ref"]))
    check_state(s, "rescue", ("active", "stopped", "error"))
    if servers.volume_backed(s) and mv(req) < 87:
        raise bad(f"Cannot rescue a volume-backed instance {s['id']}")
    _begin(req, s, "rescue", "compute_rescue_instance", "rescuing", "rescued", 0.5)
    password = args.get("adminPass") or "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    return json_response(200, {"adminPass": password})


@transitions.step("rescued")
def _rescued(s: dict[str, Any]) -> None:
    s["vm_state"], s["task_state"], s["power_state"] = "rescued", None, RUNNING
    touch(s)
    servers.finish_action(s)
    console_started(s)


def _unrescue(req: Request, s: dict[str, Any], args: Any) -> Response:
    check_state(s, "unrescue", ("rescued",))
    _begin(req, s, "unrescue", "compute_unrescue_instance", "unrescuing", "unrescued", 0.5)
    return empty_response(202)


transitions.STEPS["unrescued"] = _settle("active", RUNNING, True)


def _console_output(req: Request, s: dict[str, Any], args: Any) -> Response:
    from devcloud.compute import consoles

    length = None
    if isinstance(args, dict) and args.get("length") is not None:
        length = check_int(args["length"], "length", -1)
    elif args is not None and not isinstance(args, dict):
        raise invalid("os-getConsoleOutput", args, f"{args!r} is not of type 'object'")
    if not s.get("host") or s["vm_state"] == "building":
        raise conflict(f"Instance {s['id']} is not ready")
    output = "".join(line + "\n" for line in consoles.console_lines(s))
    if length is not None:
        # Nova's compute manager (_tail_log): the log split on "\n" (its last piece is the empty one after the final
        # newline), the last `length` pieces joined again; 0 is empty, and -1 (documented as "unlimited") is
        # pieces[1:], which drops the first line.
        output = "\n".join(output.split("\n")[-length:]) if length else ""
    return json_response(200, {"output": output})


def _legacy_console(kind: str) -> Any:
    def handler(req: Request, s: dict[str, Any], args: Any) -> Response:
        from devcloud.compute import consoles

        if mv(req) >= 6:
            raise not_found("The resource could not be found.")
        ctype = args.get("type") if isinstance(args, dict) else None
        protocol = {"os-getVNCConsole": "vnc", "os-getSPICEConsole": "spice", "os-getSerialConsole": "serial"}[kind]
        url = consoles.create_console(req, s, protocol, ctype or "")
        return json_response(200, {"console": {"type": ctype, "url": url}})

    return handler


_HANDLERS: dict[str, Any] = {
    "os-stop": _stop,
    "os-start": _start,
    "reboot": _reboot,
    "pause": _simple("pause", "compute_pause_instance", ("active",), "pausing", "pause"),
    "unpause": _simple("unpause", "compute_unpause_instance", ("paused",), "unpausing", "unpause"),
    "suspend": _simple("suspend", "compute_suspend_instance", ("active",), "suspending", "suspend"),
    "resume": _simple("resume", "compute_resume_instance", ("suspended",), "resuming", "resume"),
    "lock": _lock,
    "unlock": _unlock,
    "createImage": _create_image,
    "createBackup": _create_backup,
    "resize": _resize,
    "confirmResize": _confirm,
    "revertResize": _revert,
    "rebuild": _rebuild,
    "rescue": _rescue,
    "unrescue": _unrescue,
    "shelve": _shelve,
    "shelveOffload": _shelve_offload_action,
    "unshelve": _unshelve,
    "os-getConsoleOutput": _console_output,
    "os-getVNCConsole": _legacy_console("os-getVNCConsole"),
    "os-getSPICEConsole": _legacy_console("os-getSPICEConsole"),
    "os-getSerialConsole": _legacy_console("os-getSerialConsole"),
    "addSecurityGroup": networking.add_security_group,
    "removeSecurityGroup": networking.remove_security_group,
}
