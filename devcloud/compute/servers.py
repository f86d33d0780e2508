"""Servers: create (image or volume), list/detail with Nova's filters and paging, show, update, delete,
metadata, tags, instance actions, and the state steps the transition thread runs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import string
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from devcloud.compute import flavors, hosts, limits, networking, scheduler, transitions
from devcloud.compute.common import (
    API,
    UUID_RE,
    access_ip,
    bad,
    body_of,
    check_int,
    check_string,
    check_unexpected,
    conflict,
    ctx,
    invalid,
    is_admin,
    next_link,
    not_found,
    page,
    parse_bool,
    parse_time,
    require,
)
from devcloud.compute.microversions import mv
from devcloud.state import now_iso, store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

PRIVATE_NET_NAME = "private"

# power states
NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED = 0, 1, 3, 4, 6, 7

_TASK_STATUS = {
    "rebooting": "REBOOT",
    "reboot_pending": "REBOOT",
    "reboot_started": "REBOOT",
    "rebooting_hard": "HARD_REBOOT",
    "reboot_pending_hard": "HARD_REBOOT",
    "reboot_started_hard": "HARD_REBOOT",
    "rebuilding": "REBUILD",
    "rebuild_block_device_mapping": "REBUILD",
    "rebuild_spawning": "REBUILD",
    "migrating": "MIGRATING",
    "resize_prep": "RESIZE",
    "resize_migrating": "RESIZE",
    "resize_migrated": "RESIZE",
    "resize_finish": "RESIZE",
    "resize_reverting": "REVERT_RESIZE",
}
_VM_STATUS = {
    "active": "ACTIVE",
    "building": "BUILD",
    "stopped": "SHUTOFF",
    "resized": "VERIFY_RESIZE",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "rescued": "RESCUE",
    "error": "ERROR",
    "deleted": "DELETED",
    "soft-delete": "SOFT_DELETED",
    "shelved": "SHELVED",
    "shelved_offloaded": "SHELVED_OFFLOADED",
}
# statuses a `status=` filter accepts, mapped to (vm_states)
_STATUS_FILTER = {
    "ACTIVE": {"active"},
    "BUILD": {"building"},
    "SHUTOFF": {"stopped"},
    "VERIFY_RESIZE": {"resized"},
    "PAUSED": {"paused"},
    "SUSPENDED": {"suspended"},
    "RESCUE": {"rescued"},
    "ERROR": {"error"},
    "DELETED": {"deleted"},
    "SOFT_DELETED": {"soft-delete"},
    "SHELVED": {"shelved"},
    "SHELVED_OFFLOADED": {"shelved_offloaded"},
    "REBOOT": {"active"},
    "HARD_REBOOT": {"active"},
    "REBUILD": {"active", "stopped", "error"},
    "RESIZE": {"active", "stopped"},
    "REVERT_RESIZE": {"resized"},
    "MIGRATING": {"active"},
}


def table() -> dict[str, Any]:
    return store.table("servers")


def actions_table() -> dict[str, Any]:
    return store.table("instance_actions")


def status_of(s: dict[str, Any]) -> str:
    task = s.get("task_state")
    vm = s["vm_state"]
    if task in _TASK_STATUS and vm in ("active", "stopped", "error", "resized"):
        mapped = _TASK_STATUS[task]
        if vm == "resized" and mapped != "REVERT_RESIZE":
            return "VERIFY_RESIZE"
        if vm == "error" and mapped != "REBUILD":
            return "ERROR"
        if vm == "stopped" and mapped in ("REBOOT", "HARD_REBOOT", "MIGRATING"):
            return "SHUTOFF"
        return mapped
    return _VM_STATUS.get(vm, "UNKNOWN")


def _host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def volume_backed(s: dict[str, Any]) -> bool:
    return not s.get("image_id")


# --- view --------------------------------------------------------------------------------------------------


class _ViewCtx:
    """What every server view of one request shares (computed once per request for fast lists)."""

    def __init__(self, req: Request) -> None:
        from devcloud.compute.common import base_url

        self.v = mv(req)
        self.admin = is_admin(req)
        base = base_url(req)
        self.self_prefix = base + API + "/servers/"
        self.book_prefix = base + "/compute/servers/"
        self.flavor_self = base + API + "/flavors/"
        self.flavor_book = base + "/compute/flavors/"
        self.image_book = base + "/compute/images/"
        self.host_ids: dict[tuple[str, str | None], str] = {}
        self.image_props: dict[str, dict[str, Any]] = {}
        self._ports: Any = None

    @property
    def ports(self) -> Any:
        """Every server's ports and floating IPs (devcloud.network), read once per request."""
        if self._ports is None:
            from devcloud.compute import networking

            self._ports = networking.PortIndex()
        return self._ports

    def host_id(self, project_id: str, host: str | None) -> str:
        key = (project_id, host)
        if key not in self.host_ids:
            self.host_ids[key] = _host_id(project_id, host)
        return self.host_ids[key]


def _image_properties(vc: _ViewCtx, image_id: str) -> dict[str, Any]:
    if image_id not in vc.image_props:
        props: dict[str, Any] = {}
        try:
            from devcloud import image as image_mod

            img = image_mod.get_image(image_id)
        except Exception:
            img = None
        if img:
            base_keys = {
                "id", "name", "status", "visibility", "owner", "size", "min_disk", "min_ram", "checksum",
                "created_at", "updated_at", "file", "schema", "self", "tags", "protected", "os_hidden",
                "disk_format", "container_format", "virtual_size", "locations", "direct_url", "os_hash_algo",
                "os_hash_value", "stores", "properties", "data", "member_status",
            }  # fmt: skip
            extra = img.get("properties") if isinstance(img.get("properties"), dict) else {}
            props = {
                k: v
                for k, v in {**img, **extra}.items()
                if k not in base_keys and isinstance(v, (str, int, float, bool))
            }
        vc.image_props[image_id] = props
    return vc.image_props[image_id]


def view(vc: _ViewCtx, s: dict[str, Any], listed: bool = False) -> dict[str, Any]:
    """GET /servers/{id}; `listed`: an item of /servers/detail (which has no server_groups)."""
    v = vc.v
    sid = s["id"]
    status = status_of(s)
    flavor = s["flavor"]
    if v >= 47:
        fl: dict[str, Any] = {
            "vcpus": flavor["vcpus"],
            "ram": flavor["ram"],
            "disk": flavor["disk"],
            "ephemeral": flavor["ephemeral"],
            "swap": flavor["swap"],
            "original_name": flavor["name"],
            "extra_specs": dict(flavor.get("extra_specs") or {}),
        }
    else:
        fl = {
            "id": flavor["id"],
            "links": [{"rel": "bookmark", "href": vc.flavor_book + flavor["id"]}],
        }
    image: Any = ""
    if s.get("image_id"):
        image = {"id": s["image_id"], "links": [{"rel": "bookmark", "href": vc.image_book + s["image_id"]}]}
        if v >= 98:
            image["properties"] = _image_properties(vc, s["image_id"])
    out: dict[str, Any] = {
        "id": sid,
        "name": s["name"],
        "status": status,
        "tenant_id": s["project_id"],
        "user_id": s["user_id"],
        "metadata": dict(s["metadata"]),
        "hostId": vc.host_id(s["project_id"], s.get("host")),
        "image": image,
        "flavor": fl,
        "created": s["created"],
        "updated": s["updated"],
        "addresses": networking.addresses(s, vc.ports),
        "accessIPv4": s.get("access_ipv4", ""),
        "accessIPv6": s.get("access_ipv6", ""),
        "links": [
            {"rel": "self", "href": vc.self_prefix + sid},
            {"rel": "bookmark", "href": vc.book_prefix + sid},
        ],
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": s.get("az") or "",
        "config_drive": "True" if s.get("config_drive") else "",
        "key_name": s.get("key_name"),
        "OS-SRV-USG:launched_at": s.get("launched_at"),
        "OS-SRV-USG:terminated_at": s.get("terminated_at"),
        "OS-EXT-STS:task_state": s.get("task_state"),
        "OS-EXT-STS:vm_state": s["vm_state"],
        "OS-EXT-STS:power_state": s["power_state"],
        "os-extended-volumes:volumes_attached": [
            (
                {"id": b["volume_id"], "delete_on_termination": b["delete_on_termination"]}
                if v >= 3
                else {"id": b["volume_id"]}
            )
            for b in s.get("bdms", [])
            if b.get("attached") and not _detached(b)
        ],
    }
    if status in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"):
        out["progress"] = s.get("progress", 0)
    groups = networking.security_group_names(s, vc.ports)
    if groups is not None:
        out["security_groups"] = groups
    if s.get("fault") and status in ("ERROR", "DELETED"):
        fault = dict(s["fault"])
        if not vc.admin and fault.get("code") == 500:
            fault.pop("details", None)
        out["fault"] = fault
    if vc.admin:
        out["OS-EXT-SRV-ATTR:host"] = s.get("host")
        out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s.get("node")
        out["OS-EXT-SRV-ATTR:instance_name"] = s["instance_name"]
        if v >= 3:
            out["OS-EXT-SRV-ATTR:reservation_id"] = s["reservation_id"]
            out["OS-EXT-SRV-ATTR:launch_index"] = s["launch_index"]
            out["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
            out["OS-EXT-SRV-ATTR:kernel_id"] = ""
            out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            out["OS-EXT-SRV-ATTR:user_data"] = s.get("user_data")
    elif v >= 90:
        out["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
    if v >= 9:
        out["locked"] = bool(s.get("locked"))
    if v >= 73:
        out["locked_reason"] = s.get("locked_reason")
    if v >= 16 and vc.admin:
        host_status = ""
        if s.get("host"):
            hv = hosts.by_host(s["host"])
            if hv is not None:
                svc = hosts.compute_service(hv)
                host_status = "UP" if hosts.service_up(svc) else "DOWN"
                if svc["status"] == "disabled" and host_status == "UP":
                    host_status = "MAINTENANCE"
        out["host_status"] = host_status
    if v >= 19:
        out["description"] = s.get("description")
    if v >= 26:
        out["tags"] = list(s.get("tags", []))
    if v >= 63:
        out["trusted_image_certificates"] = None
    if v >= 71 and not listed:
        from devcloud.compute import servergroups

        out["server_groups"] = servergroups.groups_of(sid)
    if v >= 96:
        out["pinned_availability_zone"] = s.get("requested_az")
    if v >= 100:
        out["scheduler_hints"] = dict(s.get("scheduler_hints") or {})
    return out


_UPDATE_HIDDEN = (
    "OS-EXT-AZ:availability_zone", "config_drive", "key_name", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
    "security_groups", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
    "os-extended-volumes:volumes_attached", "host_status", "pinned_availability_zone",
)  # fmt: skip


def update_view(vc: _ViewCtx, s: dict[str, Any], keypair: bool = False) -> dict[str, Any]:
    """The server in a PUT /servers/{id} or rebuild answer: below 2.75 Nova leaves out the zone, config drive,
    key name (rebuild shows it from 2.54: `keypair`), usage, security group, extended server, status and volume
    attributes, and the addresses' type and MAC; from 2.75 the whole view."""
    out = view(vc, s)
    if vc.v >= 75:
        return out
    for key in [k for k in out if k in _UPDATE_HIDDEN or k.startswith("OS-EXT-SRV-ATTR:")]:
        if not (keypair and key == "key_name"):
            del out[key]
    out["addresses"] = {
        net: [{"version": a["version"], "addr": a["addr"]} for a in addrs] for net, addrs in out["addresses"].items()
    }
    return out


def brief(vc: _ViewCtx, s: dict[str, Any]) -> dict[str, Any]:
    sid = s["id"]
    return {
        "id": sid,
        "name": s["name"],
        "links": [
            {"rel": "self", "href": vc.self_prefix + sid},
            {"rel": "bookmark", "href": vc.book_prefix + sid},
        ],
    }


# --- lookup ------------------------------------------------------------------------------------------------


def find(req: Request, server_id: str, allow_deleted: bool = False) -> dict[str, Any]:
    s = table().get(server_id)
    if s is None or (s.get("deleted") and not allow_deleted):
        raise not_found(f"Instance {server_id} could not be found.")
    if not is_admin(req) and s["project_id"] != ctx(req)["project_id"]:
        raise not_found(f"Instance {server_id} could not be found.")
    settle_bdms(s)
    return s


def _detached(b: dict[str, Any]) -> bool:
    """A volume being detached (os-volume_attachments) whose detach the compute host has finished by now."""
    return b.get("detach_at") is not None and time.time() >= b["detach_at"]


def settle_bdms(s: dict[str, Any]) -> None:
    """Drop the block device mappings of volumes whose detach has finished (devcloud/compute/attachments.py)."""
    if any(_detached(b) for b in s.get("bdms", [])):
        s["bdms"] = [b for b in s["bdms"] if not _detached(b)]
        store.touch()


def touch(s: dict[str, Any]) -> None:
    s["updated"] = now_iso()
    store.touch()


# --- list --------------------------------------------------------------------------------------------------

_SORT_FIELDS = {
    "access_ip_v4": "access_ipv4",
    "availability_zone": "az",
    "config_drive": "config_drive",
    "created_at": "created",
    "display_description": "description",
    "display_name": "name",
    "host": "host",
    "hostname": "hostname",
    "image_ref": "image_id",
    "instance_type_id": "flavor_id",
    "key_name": "key_name",
    "launch_index": "launch_index",
    "launched_at": "launched_at",
    "locked": "locked",
    "locked_by": "locked_by",
    "node": "node",
    "power_state": "power_state",
    "progress": "progress",
    "project_id": "project_id",
    "root_device_name": "hostname",
    "task_state": "task_state",
    "terminated_at": "terminated_at",
    "updated_at": "updated",
    "user_id": "user_id",
    "uuid": "id",
    "vm_state": "vm_state",
    "kernel_id": "id",
    "ramdisk_id": "id",
    "vm_mode": "id",
}
_ADMIN_SORT = {"host", "node"}


def _sort_value(s: dict[str, Any], field: str) -> Any:
    val = s["flavor"]["id"] if field == "flavor_id" else s.get(field)
    if isinstance(val, bool):
        val = int(val)
    return (val is not None, val if val is not None else "")


_LIST_QUERY = {
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id",
    "hostname", "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor", "reservation_id",
    "launched_at", "terminated_at", "availability_zone", "name", "display_name", "description",
    "display_description", "locked_by", "uuid", "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6",
    "auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
    "changes-since", "ip", "ip6", "created_at", "limit", "marker", "block_device_mapping", "services", "metadata",
    "system_metadata", "info_cache", "security_groups", "pci_devices", "tags", "tags-any", "not-tags",
    "not-tags-any", "changes-before", "locked",
}  # fmt: skip
_JOINED = {"block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups",
           "pci_devices"}  # fmt: skip


def _check_query(req: Request, v: int) -> None:
    for key in req.query:
        if key in _JOINED or key.startswith("_"):
            raise bad(f"Invalid filter field: {key}.")
    if v >= 75:
        extra = sorted(k for k in req.query if k not in _LIST_QUERY)
        if extra:
            listed = ", ".join(repr(k) for k in extra)
            verb = "was" if len(extra) == 1 else "were"
            raise bad(f"Additional properties are not allowed ({listed} {verb} unexpected)")


def _filters(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    v = mv(req)
    admin = is_admin(req)
    caller = ctx(req)
    _check_query(req, v)

    # deleted servers appear only with changes-since/changes-before or an admin's deleted=true / status=DELETED
    changes_since = req.arg("changes-since")
    changes_before = req.arg("changes-before") if v >= 66 else None
    deleted_arg = req.arg("deleted") if admin else None
    status_args = [a.upper() for a in req.args("status")]
    include_deleted = bool(changes_since or changes_before)
    if admin and ((deleted_arg or "").lower() in ("true", "1", "yes") or "DELETED" in status_args):
        include_deleted = True
    if not include_deleted or deleted_arg is not None and deleted_arg.lower() in ("false", "0", "no"):
        items = [s for s in items if not s.get("deleted")]

    # project scope: only all_tenants (admin) widens it; project_id/tenant_id then narrow it again
    all_tenants = False
    if "all_tenants" in req.query:
        raw_all = (req.arg("all_tenants") or "").lower()
        all_tenants = raw_all in ("", "1", "true", "t", "yes", "y", "on")
        if raw_all not in ("", "1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off"):
            raise bad(f"Unrecognized value '{req.arg('all_tenants')}', acceptable values are: '0', '1', 'f', "
                      "'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")  # fmt: skip
    if all_tenants:
        if not admin:
            rule = "detail" if req.path.endswith("/detail") else "index"
            raise HttpError(
                403, f"Policy doesn't allow os_compute_api:servers:{rule}:get_all_tenants to be performed.", "forbidden"
            )
        project = req.arg("project_id") or req.arg("tenant_id")
        if project:
            items = [s for s in items if s["project_id"] == project]
    else:
        pid = caller["project_id"]
        items = [s for s in items if s["project_id"] == pid]

    if status_args:
        wanted = {st for st in status_args if st in _STATUS_FILTER}
        if not wanted:
            if v >= 38:
                raise bad("Invalid status value")
            return []
        if "DELETED" in wanted and not admin:
            raise HttpError(403, "Only administrators may list deleted instances", "forbidden")
        items = [s for s in items if status_of(s) in wanted]

    uuid_arg = req.arg("uuid")
    if uuid_arg:
        items = [s for s in items if s["id"] == uuid_arg]
    name = req.arg("name") or req.arg("display_name")
    if name:
        try:
            rx = re.compile(name)
        except re.error:
            rx = re.compile(re.escape(name))
        items = [s for s in items if rx.search(s["name"])]
    reservation = req.arg("reservation_id")
    if reservation:
        items = [s for s in items if s.get("reservation_id") == reservation]
    image = req.arg("image") or req.arg("image_ref")
    if image:
        image_id = image.rstrip("/").rsplit("/", 1)[-1]
        items = [s for s in items if s.get("image_id") == image_id]
    flavor = req.arg("flavor")
    if flavor:
        flavor_id = flavor.rstrip("/").rsplit("/", 1)[-1]
        items = [s for s in items if s["flavor"]["id"] == flavor_id]
    if req.arg("ip") or req.arg("ip6"):
        items = networking.ip_filter(items, [req.arg("ip") or "", req.arg("ip6") or ""])
    if changes_since:
        since = parse_time(changes_since, "changes-since").strftime("%Y-%m-%dT%H:%M:%SZ")
        items = [s for s in items if s["updated"] >= since]
    if changes_before:
        before = parse_time(changes_before, "changes-before").strftime("%Y-%m-%dT%H:%M:%SZ")
        items = [s for s in items if s["updated"] <= before]
        if changes_since and changes_before < changes_since:
            raise bad("The value of changes-since must be less than or equal to changes-before.")
    if v >= 26:
        for arg, mode in (("tags", "all"), ("tags-any", "any"), ("not-tags", "not-all"), ("not-tags-any", "not-any")):
            raw = req.arg(arg)
            if not raw:
                continue
            want_tags = {t for t in raw.split(",") if t}
            if mode == "all":
                items = [s for s in items if want_tags <= set(s.get("tags", []))]
            elif mode == "any":
                items = [s for s in items if want_tags & set(s.get("tags", []))]
            elif mode == "not-all":
                items = [s for s in items if not want_tags <= set(s.get("tags", []))]
            else:
                items = [s for s in items if not want_tags & set(s.get("tags", []))]
    if v >= 73:
        locked = req.arg("locked")
        if locked is not None:
            want = parse_bool(locked, "locked")
            items = [s for s in items if bool(s.get("locked")) == want]
    member_extra = v >= 83
    for arg, field in (
        ("availability_zone", "az"),
        ("key_name", "key_name"),
        ("user_id", "user_id"),
        ("vm_state", "vm_state"),
        ("task_state", "task_state"),
    ):
        raw = req.arg(arg)
        if raw is None or not (admin or member_extra):
            continue
        items = [s for s in items if str(s.get(field)) == raw]
    raw_power = req.arg("power_state")
    if raw_power is not None and (admin or member_extra):
        items = [s for s in items if str(s["power_state"]) == raw_power]
    if admin:
        for arg, field in (("host", "host"), ("node", "node"), ("hostname", "hostname")):
            raw = req.arg(arg)
            if raw is not None:
                items = [s for s in items if s.get(field) == raw]
        raw_desc = req.arg("description")
        if raw_desc:
            items = [s for s in items if raw_desc in (s.get("description") or "")]
    return items


def _sorted(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    admin = is_admin(req)
    keys = req.args("sort_key")
    dirs = req.args("sort_dir")
    pairs: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        if key not in _SORT_FIELDS:
            raise invalid("sort_key", key, f"{key!r} is not one of the valid sort keys")
        d = dirs[i] if i < len(dirs) else (dirs[0] if dirs else "desc")
        if d not in ("asc", "desc"):
            raise invalid("sort_dir", d, f"{d!r} is not one of ['asc', 'desc']")
        if key in _ADMIN_SORT and not admin:
            continue
        pairs.append((_SORT_FIELDS[key], d))
    if not pairs:
        pairs = [("created", "desc")]
    if not any(f == "id" for f, _ in pairs):
        pairs.append(("id", pairs[0][1]))
    for field, d in reversed(pairs):
        items.sort(key=lambda s, f=field: _sort_value(s, f), reverse=d == "desc")
    return items


def _list(req: Request, detail: bool) -> Response:
    with store.lock:
        items = _filters(req, list(table().values()))
        items = _sorted(req, items)
        chunk, nxt = page(req, items)
        vc = _ViewCtx(req)
        out = [view(vc, s, listed=True) for s in chunk] if detail else [brief(vc, s) for s in chunk]
    body: dict[str, Any] = {"servers": out}
    if nxt:
        body["servers_links"] = next_link(req, "servers/detail" if detail else "servers", nxt)
    return json_response(200, body)


@router.route("GET", API + "/servers")
def list_servers(req: Request) -> Response:
    return _list(req, False)


@router.route("GET", API + "/servers/detail")
def list_servers_detail(req: Request) -> Response:
    return _list(req, True)


@router.route("GET", API + "/servers/{server_id}")
def show_server(req: Request, server_id: str) -> Response:
    with store.lock:
        s = find(req, server_id)
        return json_response(200, {"server": view(_ViewCtx(req), s)})


# --- instance actions --------------------------------------------------------------------------------------


def start_action(req: Request | None, s: dict[str, Any], action: str, event: str | None) -> dict[str, Any]:
    now = now_iso()
    caller = ctx(req) if req is not None else {"user_id": s["user_id"], "project_id": s["project_id"]}
    record: dict[str, Any] = {
        "action": action,
        "instance_uuid": s["id"],
        "request_id": (req.context.get("request_id") if req is not None else None) or ("req-" + s["id"]),
        "user_id": caller["user_id"],
        "project_id": caller["project_id"],
        "start_time": now,
        "updated_at": now,
        "message": None,
        "events": [],
    }
    if event:
        record["events"].append(
            {
                "event": event,
                "start_time": now,
                "finish_time": None,
                "result": None,
                "traceback": None,
                "host": s.get("host"),
            }
        )
    actions_table().setdefault(s["id"], []).append(record)
    s["current_action"] = record["request_id"]
    return record


def finish_action(
    s: dict[str, Any], result: str = "Success", message: str | None = None, tb: str | None = None
) -> None:
    request_id = s.get("current_action")
    if not request_id:
        return
    for record in reversed(actions_table().get(s["id"], [])):
        if record["request_id"] == request_id:
            now = now_iso()
            record["updated_at"] = now
            if result != "Success":
                record["message"] = message or "Error"
            for ev in record["events"]:
                if ev["finish_time"] is None:
                    ev["finish_time"] = now
                    ev["result"] = result
                    ev["host"] = s.get("host")
                    if tb:
                        ev["traceback"] = tb
            break
    s["current_action"] = None


def _action_view(req: Request, record: dict[str, Any], with_events: bool) -> dict[str, Any]:
    v = mv(req)
    out = {
        k: record[k]
        for k in ("action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message")
    }
    if v >= 58:
        out["updated_at"] = record["updated_at"]
    if with_events:
        admin = is_admin(req)
        if admin or v >= 51:
            events = []
            for ev in record["events"]:
                e = {k: ev[k] for k in ("event", "start_time", "finish_time", "result")}
                if admin:
                    e["traceback"] = ev.get("traceback")
                if v >= 62:
                    server = table().get(record["instance_uuid"])
                    e["hostId"] = _host_id(record["project_id"], ev.get("host"))
                    if admin:
                        e["host"] = ev.get("host")
                    _ = server
                events.append(e)
            out["events"] = events
    return out


@router.route("GET", API + "/servers/{server_id}/os-instance-actions")
def list_instance_actions(req: Request, server_id: str) -> Response:
    with store.lock:
        find(req, server_id, allow_deleted=True)
        records = list(reversed(actions_table().get(server_id, [])))
        body: dict[str, Any] = {}
        if mv(req) >= 58:
            since = req.arg("changes-since")
            if since:
                cut = parse_time(since, "changes-since").strftime("%Y-%m-%dT%H:%M:%SZ")
                records = [r for r in records if r["updated_at"] >= cut]
            before = req.arg("changes-before") if mv(req) >= 66 else None
            if before:
                cut = parse_time(before, "changes-before").strftime("%Y-%m-%dT%H:%M:%SZ")
                records = [r for r in records if r["updated_at"] <= cut]
            records, nxt = page(req, records, key="request_id")
            if nxt:
                body["links"] = next_link(req, f"servers/{server_id}/os-instance-actions", nxt)
        body = {"instanceActions": [_action_view(req, r, False) for r in records], **body}
        return json_response(200, body)


@router.route("GET", API + "/servers/{server_id}/os-instance-actions/{request_id}")
def show_instance_action(req: Request, server_id: str, request_id: str) -> Response:
    with store.lock:
        find(req, server_id, allow_deleted=True)
        for record in actions_table().get(server_id, []):
            if record["request_id"] == request_id:
                return json_response(200, {"instanceAction": _action_view(req, record, True)})
        raise not_found(f"Action for request_id {request_id} on instance {server_id} not found")


# --- create ------------------------------------------------------------------------------------------------

_CREATE_KEYS = {
    "name", "imageRef", "flavorRef", "networks", "key_name", "user_data", "metadata", "availability_zone",
    "min_count", "max_count", "return_reservation_id", "block_device_mapping_v2", "block_device_mapping",
    "security_groups", "config_drive", "adminPass", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig",
    "personality", "description", "tags", "trusted_image_certificates", "host", "hypervisor_hostname",
    "hostname",
}  # fmt: skip
_BDM_KEYS = {
    "uuid", "source_type", "destination_type", "boot_index", "volume_size", "delete_on_termination",
    "device_name", "device_type", "disk_bus", "guest_format", "tag", "volume_type", "no_device",
    "volume_id", "snapshot_id", "image_id",
}  # fmt: skip


def _allowed_create_keys(v: int) -> set[str]:
    keys = set(_CREATE_KEYS)
    if v < 19:
        keys.discard("description")
    if v < 52:
        keys.discard("tags")
    if v < 63:
        keys.discard("trusted_image_certificates")
    if v < 74:
        keys -= {"host", "hypervisor_hostname"}
    if v < 90:
        keys.discard("hostname")
    if v >= 57:
        keys.discard("personality")
    return keys


# Nova's parameter_types.metadata: keys of these characters only, 1 to 255 of them; string values up to 255.
_META_KEY = re.compile(r"[a-zA-Z0-9-_:. ]{1,255}")


def _check_metadata(meta: Any, field: str = "metadata") -> dict[str, str]:
    if not isinstance(meta, dict):
        raise invalid(field, meta, f"{meta!r} is not of type 'object'")
    for k, val in meta.items():
        if not isinstance(k, str) or not _META_KEY.fullmatch(k):
            raise invalid(field, meta, f"{k!r} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'")
        if not isinstance(val, str):
            raise invalid(k, val, f"{val!r} is not of type 'string'")
        if len(val) > 255:
            raise invalid(k, val, f"{val!r} is too long")
    return dict(meta)


def check_metadata_quota(project_id: str, meta: dict[str, Any]) -> None:
    allowed = limits.project_quota(project_id)["metadata_items"]
    if 0 <= allowed < len(meta):
        # nova.exception.MetadataLimitExceeded (compute/api.py _check_metadata_properties_quota), a QuotaError: 403
        raise HttpError(403, f"Maximum number of metadata items exceeds {allowed}", "forbidden")


def check_tags(tags: Any, field: str = "tags") -> list[str]:
    if not isinstance(tags, list):
        raise invalid(field, tags, f"{tags!r} is not of type 'array'")
    if len(tags) > 50:
        raise invalid(field, tags, f"{tags!r} is too long")
    out: list[str] = []
    for t in tags:
        _check_tag(t)
        if t not in out:
            out.append(t)
    return out


def _check_tag(t: Any) -> None:
    if not isinstance(t, str):
        raise invalid("tags", t, f"{t!r} is not of type 'string'")
    if not (1 <= len(t) <= 60):
        raise invalid("tags", t, f"{t!r} is too long" if t else f"{t!r} is too short")
    if "/" in t or "," in t:
        raise invalid("tags", t, f"{t!r} does not match '^[^,/]*$'")


def _image_for(req: Request, image_id: str) -> dict[str, Any]:
    from devcloud import image as image_mod

    if not UUID_RE.match(image_id):
        raise bad("Invalid imageRef provided.")
    img = image_mod.get_image(image_id)
    if img is None:
        raise bad(f"Image {image_id} could not be found.")
    if not image_mod.image_visible(image_id, ctx(req)["project_id"], is_admin(req)):
        raise bad(f"Image {image_id} could not be found.")
    if img.get("status") != "active":
        raise bad(f"Image {image_id} is not active.")
    return img


def _check_image_fits(img: dict[str, Any], flavor: dict[str, Any], volume_gb: int | None) -> None:
    min_ram = int(img.get("min_ram") or 0)
    if min_ram > flavor["ram"]:
        raise bad("Flavor's memory is too small for requested image.")
    disk_gb = volume_gb if volume_gb is not None else flavor["disk"]
    if volume_gb is None and disk_gb == 0:
        return
    size = int(img.get("size") or 0)
    if volume_gb is None and size > disk_gb * 1024**3:
        raise bad(
            f"Flavor's disk is too small for requested image. Flavor disk is {disk_gb * 1024**3} bytes, "
            f"image is {size} bytes."
        )
    min_disk = int(img.get("min_disk") or 0)
    if min_disk > disk_gb:
        if volume_gb is not None:
            raise bad(
                "Volume is smaller than the minimum size specified in image metadata. Volume size is "
                f"{volume_gb * 1024**3} bytes, minimum size is {min_disk * 1024**3} bytes."
            )
        raise bad("Flavor's disk is too small for requested image.")


def _parse_bdms(req: Request, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("block_device_mapping_v2", raw, f"{raw!r} is not of type 'array'")
    out = []
    for bdm in raw:
        if not isinstance(bdm, dict):
            raise invalid("block_device_mapping_v2", bdm, f"{bdm!r} is not of type 'object'")
        check_unexpected(bdm, "block_device_mapping_v2", _BDM_KEYS)
        src = bdm.get("source_type", "blank" if "uuid" not in bdm else None)
        if src not in ("volume", "image", "snapshot", "blank"):
            raise invalid("source_type", src, f"{src!r} is not one of ['volume', 'image', 'snapshot', 'blank']")
        dst = bdm.get("destination_type", "volume" if src in ("volume", "snapshot") else "local")
        if dst not in ("local", "volume"):
            raise invalid("destination_type", dst, f"{dst!r} is not one of ['local', 'volume']")
        boot_index = bdm.get("boot_index")
        if boot_index is not None:
            boot_index = check_int(boot_index, "boot_index", None)
        size = bdm.get("volume_size")
        if size is not None:
            size = check_int(size, "volume_size", 0)
        dot = bdm.get("delete_on_termination", False)
        dot = parse_bool(dot, "delete_on_termination") if dot is not None else False
        uuid_ = bdm.get("uuid") or bdm.get("volume_id") or bdm.get("image_id") or bdm.get("snapshot_id")
        if src != "blank" and not uuid_:
            raise bad("Block Device Mapping is Invalid: Missing device UUID.")
        if uuid_ is not None and not UUID_RE.match(str(uuid_)):
            raise invalid("uuid", uuid_, f"{uuid_!r} does not match '^[a-zA-Z0-9-_]*$'")
        out.append(
            {
                "source_type": src,
                "destination_type": dst,
                "boot_index": boot_index,
                "volume_size": size,
                "delete_on_termination": dot,
                "uuid": uuid_,
            }
        )
    return out


def _parse_networks(v: int, raw: Any, body: dict[str, Any]) -> Any:
    """The request's shape only ("auto", "none" or [{"uuid"|"port", "fixed_ip"}]); Neutron checks come later."""
    if raw is None:
        if v >= 37:
            raise invalid("server", body, "'networks' is a required property")
        return "default"
    if isinstance(raw, str):
        if raw not in ("auto", "none") or v < 37:
            raise invalid("networks", raw, f"{raw!r} is not one of ['none', 'auto']")
        return raw
    if not isinstance(raw, list):
        raise invalid("networks", raw, f"{raw!r} is not of type 'array'")
    nets = []
    for net in raw:
        if not isinstance(net, dict):
            raise invalid("networks", net, f"{net!r} is not of type 'object'")
        check_unexpected(net, "networks", {"uuid", "port", "fixed_ip", "tag"})
        if net.get("port"):
            nets.append({"port": str(net["port"])})
            continue
        uid = net.get("uuid")
        if uid is None:
            raise bad("Bad networks format: network uuid is not in proper format (None)")
        if v >= 37 and not UUID_RE.match(str(uid)):
            raise invalid("uuid", uid, f"{uid!r} is not a 'uuid'")
        nets.append({"uuid": str(uid), "fixed_ip": net.get("fixed_ip")})
    return nets if nets else ("default" if v < 37 else "none")


def _allocate_ip() -> tuple[str, str]:
    used = store.table("compute_meta")
    n = used.get("next_ip", 10) + 0
    used["next_ip"] = n + 1
    mac = f"fa:16:3e:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
    return f"10.0.{(n // 250) % 250}.{n % 250 + 2}", mac


def addresses_for(networks: Any) -> dict[str, Any]:
    if networks == "none":
        return {}
    ip, mac = _allocate_ip()
    if isinstance(networks, list) and networks and networks[0].get("fixed_ip"):
        ip = networks[0]["fixed_ip"]
    return {
        PRIVATE_NET_NAME: [
            {"version": 4, "addr": ip, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mac},
        ]
    }


def _next_instance_number() -> int:
    meta = store.table("compute_meta")
    n = meta.get("next_instance", 1)
    meta["next_instance"] = n + 1
    return n


def new_record(
    *,
    name: str,
    project_id: str,
    user_id: str,
    flavor: dict[str, Any],
    image_id: str,
    networks: Any,
    key_name: str | None = None,
    metadata: dict[str, str] | None = None,
    tags: list[str] | None = None,
    description: str | None = None,
    requested_az: str | None = None,
    user_data: str | None = None,
    config_drive: bool = False,
    reservation_id: str = "",
    launch_index: int = 0,
    bdms: list[dict[str, Any]] | None = None,
    scheduler_hints: dict[str, Any] | None = None,
    access_ipv4: str = "",
    access_ipv6: str = "",
    hostname: str | None = None,
) -> dict[str, Any]:
    import uuid

    now = now_iso()
    n = _next_instance_number()
    sid = str(uuid.uuid4())
    return {
        "id": sid,
        "name": name,
        "project_id": project_id,
        "user_id": user_id,
        "flavor": flavors.embedded(flavor),
        "image_id": image_id,
        "networks": networks,
        "addresses": {},
        "key_name": key_name,
        "metadata": metadata or {},
        "tags": tags or [],
        "description": description,
        "requested_az": requested_az,
        "az": requested_az,
        "host": None,
        "node": None,
        "vm_state": "building",
        "task_state": "scheduling",
        "power_state": NOSTATE,
        "created": now,
        "updated": now,
        "launched_at": None,
        "terminated_at": None,
        "deleted": False,
        "locked": False,
        "locked_by": None,
        "locked_reason": None,
        "fault": None,
        "user_data": user_data,
        "config_drive": config_drive,
        "reservation_id": reservation_id,
        "launch_index": launch_index,
        "instance_name": f"instance-{n:08x}",
        "hostname": hostname or re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or f"server-{n}",
        "bdms": bdms or [],
        "scheduler_hints": scheduler_hints or {},
        "access_ipv4": access_ipv4,
        "access_ipv6": access_ipv6,
        "progress": 0,
        "pending": None,
        "current_action": None,
        "boot_count": 0,
    }


@router.route("POST", API + "/servers")
def create_server(req: Request) -> Response:
    v = mv(req)
    full_body = req.json_object()
    if "server" not in full_body:
        raise bad("'server' is a required property")
    body = full_body["server"]
    if not isinstance(body, dict):
        raise invalid("server", body, f"{body!r} is not of type 'object'")
    check_unexpected(body, "server", _allowed_create_keys(v))
    caller = ctx(req)
    admin = is_admin(req)

    name = check_string(require(body, "server", "name"), "name", 1, 255, strip_check=v < 1)
    assert name is not None
    if name.strip() != name and v >= 1:
        raise invalid("name", name, f"{name!r} does not match '^(?! )[^\\x00-\\x1f]*(?<! )$'")
    flavor_ref = require(body, "server", "flavorRef")
    if not isinstance(flavor_ref, (str, int)) or isinstance(flavor_ref, bool) or str(flavor_ref) == "":
        raise invalid("flavorRef", flavor_ref, f"{flavor_ref!r} is not of type 'string', 'integer'")
    flavor_id = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
    image_ref = body.get("imageRef", "")
    if image_ref is None:
        image_ref = ""
    if not isinstance(image_ref, str):
        raise invalid("imageRef", image_ref, f"{image_ref!r} is not of type 'string'")
    image_ref = image_ref.rstrip("/").rsplit("/", 1)[-1] if image_ref else ""
    networks = _parse_networks(v, body.get("networks"), body)
    min_count = check_int(body.get("min_count", 1), "min_count", 1)
    max_count = check_int(body.get("max_count", min_count), "max_count", 1)
    if min_count > max_count:
        raise bad("min_count must be <= max_count")
    metadata = _check_metadata(body.get("metadata", {}))
    tags = check_tags(body["tags"]) if "tags" in body else []
    description = (
        check_string(body.get("description"), "description", 0, 255, nullable=True) if "description" in body else None
    )
    user_data = body.get("user_data")
    if user_data is not None:
        if not isinstance(user_data, str):
            raise invalid("user_data", user_data, f"{user_data!r} is not of type 'string'")
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("user_data", user_data, f"{user_data!r} is not a 'base64'") from None
        if len(user_data) > 65535:
            raise invalid("user_data", "...", "user_data is too long")
    key_name = body.get("key_name")
    if key_name is not None:
        check_string(key_name, "key_name", 1, 255)
    az = body.get("availability_zone")
    requested_host = None
    if az is not None:
        check_string(az, "availability_zone", 1, 255)
        if ":" in az:
            az, _, requested_host = az.partition(":")
            requested_host = requested_host.split(":")[0] or None
            if requested_host and not admin:
                raise HttpError(403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.",
                                "forbidden")  # fmt: skip
            az = az or None
    if body.get("host"):
        if not admin:
            raise HttpError(403, "Policy doesn't allow compute:servers:create:requested_destination to be performed.",
                            "forbidden")  # fmt: skip
        requested_host = body["host"]
    config_drive = bool(body.get("config_drive")) and str(body.get("config_drive")).lower() not in ("false", "0", "")
    bdms = _parse_bdms(req, body["block_device_mapping_v2"]) if "block_device_mapping_v2" in body else []
    hints = full_body.get("OS-SCH-HNT:scheduler_hints") or full_body.get("os:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise invalid("OS-SCH-HNT:scheduler_hints", hints, f"{hints!r} is not of type 'object'")
    access_ips = parse_access_ips(body)
    security_groups = body.get("security_groups")
    if security_groups is not None and not isinstance(security_groups, list):
        raise invalid("security_groups", security_groups, f"{security_groups!r} is not of type 'array'")

    from devcloud import volume as volume_mod

    with store.lock:
        flavor = flavors.table().get(flavor_id)
        if flavor is None or not flavors.visible(req, flavor):
            raise bad(f"Flavor {flavor_id} could not be found.")
        if flavor.get("disabled"):
            raise bad("Flavor is disabled.")
        if az is not None and az not in hosts.zone_names():
            raise bad("The requested availability zone is not available")
        if requested_host and hosts.by_host(requested_host) is None:
            raise bad(f"Compute host {requested_host} could not be found.")
        if key_name is not None:
            from devcloud.compute import keypairs

            if keypairs.get_keypair(caller["user_id"], key_name) is None:
                raise bad("Invalid key_name provided.")
        check_metadata_quota(caller["project_id"], metadata)

        # the boot source
        boot = [b for b in bdms if b["boot_index"] == 0]
        image_id = ""
        new_volumes: list[dict[str, Any]] = []  # image->volume mappings to create
        attach: list[dict[str, Any]] = []  # existing volumes to attach
        for b in bdms:
            if b["source_type"] == "image" and b["destination_type"] == "local":
                if b["boot_index"] != 0:
                    raise bad("Block Device Mapping is Invalid: Mapping image to local is not supported.")
                if image_ref and image_ref != b["uuid"]:
                    raise bad(
                        "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
                        "mapping combination is not valid."
                    )
                image_ref = b["uuid"]
            elif b["source_type"] == "image" and b["destination_type"] == "volume":
                img = _image_for(req, b["uuid"])
                size = b["volume_size"]
                if not size:
                    raise bad("Images with destination_type 'volume' need to have a non-zero size specified")
                _check_image_fits(img, flavor, size)
                new_volumes.append(b)
            elif b["source_type"] == "volume":
                vol = volume_mod.get_volume(b["uuid"])
                if vol is None or (not admin and vol.get("project_id", caller["project_id"]) != caller["project_id"]):
                    raise bad(f"Volume {b['uuid']} could not be found.")
                if vol.get("status") != "available":
                    raise bad(
                        f"Invalid volume: volume '{b['uuid']}' status must be 'available'. "
                        f"Currently in '{vol.get('status')}'"
                    )
                attach.append(b)
            elif b["source_type"] == "snapshot":
                raise bad(
                    "Block Device Mapping is Invalid: booting from volume snapshots is not supported by devcloud."
                )
            elif b["source_type"] == "blank" and b["destination_type"] == "volume":
                if not b["volume_size"]:
                    raise bad("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size")
                new_volumes.append(b)
        boot_from_volume = any(b["destination_type"] == "volume" for b in boot)
        if not boot_from_volume and not image_ref:
            raise bad("Missing imageRef attribute")
        if image_ref and not boot_from_volume:
            img = _image_for(req, image_ref)
            _check_image_fits(img, flavor, None)
            image_id = img["id"]
        if (new_volumes or attach) and max_count > 1 and attach:
            raise bad("Cannot attach one or more volumes to multiple instances")

        nic_requests = networking.resolve_requests(caller["project_id"], admin, networks, max_count)
        sg_ids = networking.resolve_security_groups(caller["project_id"], security_groups)
        count = limits.check_quota(caller["project_id"], max_count, flavor["vcpus"], flavor["ram"], min_count)
        from devcloud.compute import servergroups

        group = servergroups.check_hint(req, hints, count)
        reservation_id = "r-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
        created: list[dict[str, Any]] = []
        for i in range(count):
            srv_name = name if count == 1 else f"{name}-{i + 1}"
            server_bdms: list[dict[str, Any]] = []
            for b in attach:
                server_bdms.append(
                    {
                        "volume_id": b["uuid"],
                        "boot_index": b["boot_index"],
                        "delete_on_termination": b["delete_on_termination"],
                        "attached": False,
                    }
                )
            for b in new_volumes:
                vol = volume_mod.create_volume(
                    caller["project_id"],
                    b["volume_size"],
                    name="",
                    image_id=b["uuid"] if b["source_type"] == "image" else None,
                    bootable=b["source_type"] == "image",
                )
                server_bdms.append(
                    {
                        "volume_id": vol["id"],
                        "boot_index": b["boot_index"],
                        "delete_on_termination": b["delete_on_termination"],
                        "attached": False,
                    }
                )
            server_bdms.sort(key=lambda b: (b["boot_index"] is None or b["boot_index"] < 0, b["boot_index"] or 0))
            s = new_record(
                name=srv_name,
                project_id=caller["project_id"],
                user_id=caller["user_id"],
                flavor=flavor,
                image_id=image_id,
                networks=networks,
                key_name=key_name,
                metadata=metadata,
                tags=tags,
                description=description,
                requested_az=az,
                user_data=user_data,
                config_drive=config_drive,
                reservation_id=reservation_id,
                launch_index=i,
                bdms=server_bdms,
                scheduler_hints=hints,
                access_ipv4=access_ips.get("access_ipv4", ""),
                access_ipv6=access_ips.get("access_ipv6", ""),
                hostname=body.get("hostname"),
            )
            s["requested_host"] = requested_host
            s["nic_requests"] = nic_requests
            s["security_group_ids"] = sg_ids
            s["nics"] = []
            table()[s["id"]] = s
            if group is not None:
                group["members"].append(s["id"])
            start_action(req, s, "create", None)
            transitions.set_pending(s, "schedule", transitions.seconds(0.25))
            created.append(s)
        store.touch()
        first = created[0]
        if body.get("return_reservation_id"):
            return json_response(202, {"reservation_id": reservation_id})
        vc = _ViewCtx(req)
        out: dict[str, Any] = {
            "id": first["id"],
            "links": brief(vc, first)["links"],
            "OS-DCF:diskConfig": "MANUAL",
        }
        # Nova echoes the request's security groups, or its default group, whatever the NICs (views/servers.py)
        out["security_groups"] = body.get("security_groups", [{"name": "default"}])
        out["adminPass"] = body.get("adminPass") or "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(12)
        )
        return json_response(202, {"server": out}, headers={"Location": vc.self_prefix + first["id"]})


# --- build steps -------------------------------------------------------------------------------------------


def set_error(s: dict[str, Any], message: str, code: int = 500, details: str = "") -> None:
    s["vm_state"] = "error"
    s["task_state"] = None
    s["fault"] = {"code": code, "created": now_iso(), "message": message, "details": details or message}
    touch(s)


@transitions.step("schedule")
def _step_schedule(s: dict[str, Any]) -> None:
    from devcloud import control

    failure = None
    try:
        failure = control.take_build_failure()
    except Exception:
        failure = None
    if failure:
        start_event(s, "compute__do_build_and_run_instance")
        set_error(s, failure, 500, f"devcloud injected build failure: {failure}")
        finish_action(s, "Error", failure, failure)
        return
    start_event(s, "conductor_schedule_and_build_instances")
    resources = scheduler.resources_for(s["flavor"], volume_backed(s))
    try:
        hv = scheduler.select(resources, s.get("requested_az"), s.get("requested_host"), s)
    except scheduler.NoValidHost as exc:
        set_error(
            s,
            str(exc),
            500,
            'Traceback (most recent call last):\n  File "nova/conductor/manager.py", in schedule_and_build_instances\n'
            f"nova.exception.NoValidHost: {exc}\n",
        )
        finish_action(s, "Error", str(exc), str(exc))
        return
    scheduler.claim(s, hv, resources)
    s["host"] = hv["host"]
    s["node"] = hv["hypervisor_hostname"]
    s["az"] = hv["availability_zone"]
    s["task_state"] = "spawning" if not s["bdms"] else "block_device_mapping"
    try:
        networking.allocate(s)
    except HttpError as exc:  # Neutron refused a port (no free IP, over quota...): the build fails as in Nova
        scheduler.release(s["id"])
        message = f"Build of instance {s['id']} aborted: {exc.message}"
        set_error(s, message, 500, message)
        finish_action(s, "Error", message, message)
        return
    start_event(s, "compute__do_build_and_run_instance")
    touch(s)
    transitions.set_pending(s, "spawn", transitions.seconds(0.75))


def start_event(s: dict[str, Any], event: str) -> None:
    request_id = s.get("current_action")
    if not request_id:
        return
    for record in reversed(actions_table().get(s["id"], [])):
        if record["request_id"] == request_id:
            now = now_iso()
            for ev in record["events"]:
                if ev["finish_time"] is None:
                    ev["finish_time"], ev["result"] = now, "Success"
            record["events"].append(
                {
                    "event": event,
                    "start_time": now,
                    "finish_time": None,
                    "result": None,
                    "traceback": None,
                    "host": s.get("host"),
                }
            )
            record["updated_at"] = now
            return


@transitions.step("spawn")
def _step_spawn(s: dict[str, Any]) -> None:
    from devcloud import volume as volume_mod

    waited = s.setdefault("spawn_waits", 0)
    for b in s["bdms"]:
        if b.get("attached"):
            continue
        vol = volume_mod.get_volume(b["volume_id"])
        if vol is None:
            set_error(s, f"Volume {b['volume_id']} could not be found.", 500)
            finish_action(s, "Error", "Build of instance aborted: volume missing")
            return
        if vol.get("status") in ("creating", "downloading") and waited < 50:
            s["spawn_waits"] = waited + 1
            transitions.set_pending(s, "spawn", max(0.05, transitions.seconds(0.25)))
            return
        if vol.get("status") == "error":
            set_error(s, f"Build of instance {s['id']} aborted: Volume {b['volume_id']} did not finish being created.")
            finish_action(s, "Error", "Build failed")
            return
    for i, b in enumerate(s["bdms"]):
        if not b.get("attached"):
            device = "/dev/vd" + "abcdefghijklmnop"[i + (0 if volume_backed(s) else 1)]
            volume_mod.attach_volume(b["volume_id"], s["id"], device)
            b["attached"] = True
            b["device"] = device
    s.pop("spawn_waits", None)
    s["vm_state"] = "active"
    s["task_state"] = None
    s["power_state"] = RUNNING
    s["launched_at"] = now_iso().replace("Z", ".000000")
    s["progress"] = 0  # the libvirt driver never reports build progress
    s["boot_count"] = s.get("boot_count", 0) + 1
    touch(s)
    finish_action(s)
    console_started(s)


def console_started(s: dict[str, Any]) -> None:
    from devcloud.compute import consoles

    consoles.server_running(s)


def console_stopped(s: dict[str, Any]) -> None:
    from devcloud.compute import consoles

    consoles.server_stopped(s["id"])


# --- update / delete ---------------------------------------------------------------------------------------


@router.route("PUT", API + "/servers/{server_id}")
def update_server(req: Request, server_id: str) -> Response:
    v = mv(req)
    body = body_of(req, "server")
    allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
    if v >= 19:
        allowed.add("description")
    if v >= 90:
        allowed.add("hostname")
    check_unexpected(body, "server", allowed)
    if "name" in body:
        check_string(body["name"], "name", 1, 255)
        if body["name"].strip() != body["name"]:
            raise invalid("name", body["name"], f"{body['name']!r} does not match '^(?! )[^\\x00-\\x1f]*(?<! )$'")
    if "description" in body:
        check_string(body["description"], "description", 0, 255, nullable=True)
    access_ips = parse_access_ips(body)
    with store.lock:
        s = find(req, server_id)  # Nova does not check the lock for a rename
        if "name" in body:
            s["name"] = body["name"]
        if "description" in body:
            s["description"] = body["description"]
        s.update(access_ips)
        if "hostname" in body:
            s["hostname"] = body["hostname"]
        touch(s)
        return json_response(200, {"server": update_view(_ViewCtx(req), s)})


def parse_access_ips(body: dict[str, Any]) -> dict[str, str]:
    """The record fields for a create, update or rebuild body's accessIPv4/accessIPv6 (Nova's 'ipv4'/'ipv6')."""
    fields = (("accessIPv4", "access_ipv4"), ("accessIPv6", "access_ipv6"))
    return {key: access_ip(body[name], name) for name, key in fields if name in body}


def check_locked(req: Request, s: dict[str, Any]) -> None:
    if s.get("locked") and not is_admin(req):
        raise conflict(f"Instance {s['id']} is locked")


@router.route("DELETE", API + "/servers/{server_id}")
def delete_server(req: Request, server_id: str) -> Response:
    with store.lock:
        s = find(req, server_id)
        check_locked(req, s)
        if s.get("task_state") == "deleting":
            return empty_response(204)
        start_action(req, s, "delete", "compute_terminate_instance")
        s["task_state"] = "deleting"
        touch(s)
        transitions.set_pending(s, "delete", transitions.seconds(1.0))
    return empty_response(204)


@transitions.step("delete")
def _step_delete(s: dict[str, Any]) -> None:
    from devcloud import image as image_mod
    from devcloud import volume as volume_mod

    if s.get("shelved_image_id") and s["vm_state"] in ("shelved", "shelved_offloaded"):
        image_mod.delete_image(s.pop("shelved_image_id"))  # Nova deletes a shelved server's snapshot with it

    console_stopped(s)
    scheduler.release(s["id"])
    networking.release(s)
    from devcloud.compute import servergroups

    servergroups.remove_member(s["id"])
    settle_bdms(s)
    for b in s.get("bdms", []):
        try:
            if b.get("attached"):
                volume_mod.detach_volume(b["volume_id"], s["id"])
            b["attached"] = False
            if b.get("delete_on_termination"):
                volume_mod.delete_volume(b["volume_id"])
        except Exception:
            pass
    s["vm_state"] = "deleted"
    s["task_state"] = None
    s["power_state"] = NOSTATE
    s["deleted"] = True
    now = now_iso()
    s["terminated_at"] = now.replace("Z", ".000000")
    s["deleted_at"] = now
    touch(s)
    finish_action(s)
    # drop long-deleted records so the table does not grow forever
    _purge_old_deleted()


def _purge_old_deleted(keep_seconds: float = 3600.0) -> None:
    cutoff = datetime.fromtimestamp(time.time() - keep_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = [sid for sid, s in table().items() if s.get("deleted") and s.get("deleted_at", "") < cutoff]
    for sid in old:
        del table()[sid]
        actions_table().pop(sid, None)


# --- metadata ----------------------------------------------------------------------------------------------


_META_WRITABLE = ("active", "paused", "suspended", "stopped")


def _meta_server(req: Request, server_id: str, write: bool, action: str = "update metadata") -> dict[str, Any]:
    """Nova's update_instance_metadata/delete_instance_metadata: check_instance_lock, then check_instance_state
    (vm_state active, paused, suspended or stopped, task_state None), refused as 409 "Cannot '<action>' ..."."""
    s = find(req, server_id)
    if write:
        check_locked(req, s)
        if s["vm_state"] not in _META_WRITABLE:
            raise conflict(f"Cannot '{action}' instance {server_id} while it is in vm_state {s['vm_state']}")
        if s.get("task_state"):
            raise conflict(f"Cannot '{action}' instance {server_id} while it is in task_state {s['task_state']}")
    return s


@router.route("GET", API + "/servers/{server_id}/metadata")
def list_metadata(req: Request, server_id: str) -> Response:
    with store.lock:
        return json_response(200, {"metadata": dict(find(req, server_id)["metadata"])})


@router.route("POST", API + "/servers/{server_id}/metadata")
def merge_metadata(req: Request, server_id: str) -> Response:
    meta = _check_metadata(body_of(req, "metadata"))
    with store.lock:
        s = _meta_server(req, server_id, True)
        merged = {**s["metadata"], **meta}
        check_metadata_quota(s["project_id"], merged)
        s["metadata"] = merged
        touch(s)
        return json_response(200, {"metadata": dict(merged)})


@router.route("PUT", API + "/servers/{server_id}/metadata")
def replace_metadata(req: Request, server_id: str) -> Response:
    meta = _check_metadata(body_of(req, "metadata"))
    with store.lock:
        s = _meta_server(req, server_id, True)
        check_metadata_quota(s["project_id"], meta)
        s["metadata"] = meta
        touch(s)
        return json_response(200, {"metadata": dict(meta)})


@router.route("GET", API + "/servers/{server_id}/metadata/{key}")
def show_metadata_item(req: Request, server_id: str, key: str) -> Response:
    with store.lock:
        s = find(req, server_id)
        if key not in s["metadata"]:
            raise not_found("Metadata item was not found")
        return json_response(200, {"meta": {key: s["metadata"][key]}})


@router.route("PUT", API + "/servers/{server_id}/metadata/{key}")
def set_metadata_item(req: Request, server_id: str, key: str) -> Response:
    meta = _check_metadata(body_of(req, "meta"), "meta")
    if key not in meta:
        raise bad("Request body and URI mismatch")
    if len(meta) > 1:
        raise bad("Request body contains too many items")
    with store.lock:
        s = _meta_server(req, server_id, True)
        merged = {**s["metadata"], **meta}
        check_metadata_quota(s["project_id"], merged)
        s["metadata"] = merged
        touch(s)
        return json_response(200, {"meta": meta})


@router.route("DELETE", API + "/servers/{server_id}/metadata/{key}")
def delete_metadata_item(req: Request, server_id: str, key: str) -> Response:
    with store.lock:
        if key not in find(req, server_id)["metadata"]:  # Nova looks for the item before the state
            raise not_found("Metadata item was not found")
        s = _meta_server(req, server_id, True, "delete metadata")
        del s["metadata"][key]
        touch(s)
    return empty_response(204)


# --- tags (2.26+) ------------------------------------------------------------------------------------------


def _tags_server(req: Request, server_id: str, action: str | None = None) -> dict[str, Any]:
    """The server, for a tag write (`action`) only in the vm_states Nova's server_tags controller allows (active,
    paused, suspended, stopped; anything else 409 "Cannot '<action>' instance ..."). Below 2.26: 404."""
    if mv(req) < 26:
        raise not_found("The resource could not be found.")
    s = find(req, server_id)
    if action and s["vm_state"] not in ("active", "paused", "suspended", "stopped"):
        raise conflict(f"Cannot '{action}' instance {server_id} while it is in vm_state {s['vm_state']}")
    return s


@router.route("GET", API + "/servers/{server_id}/tags")
def list_tags(req: Request, server_id: str) -> Response:
    with store.lock:
        return json_response(200, {"tags": list(_tags_server(req, server_id)["tags"])})


@router.route("PUT", API + "/servers/{server_id}/tags")
def replace_tags(req: Request, server_id: str) -> Response:
    body = req.json_object()
    if "tags" not in body:
        raise bad("'tags' is a required property")
    tags = check_tags(body["tags"])
    with store.lock:
        s = _tags_server(req, server_id, "update tags")
        s["tags"] = tags
        touch(s)
        return json_response(200, {"tags": list(tags)})


@router.route("DELETE", API + "/servers/{server_id}/tags")
def delete_tags(req: Request, server_id: str) -> Response:
    with store.lock:
        s = _tags_server(req, server_id, "delete tags")
        s["tags"] = []
        touch(s)
    return empty_response(204)


@router.route("GET", API + "/servers/{server_id}/tags/{tag}")
def check_tag(req: Request, server_id: str, tag: str) -> Response:
    with store.lock:
        s = _tags_server(req, server_id)
        if tag not in s["tags"]:
            raise not_found(f"Server {server_id} has no tag '{tag}'")
    return empty_response(204)


@router.route("PUT", API + "/servers/{server_id}/tags/{tag}")
def add_tag(req: Request, server_id: str, tag: str) -> Response:
    """As Nova's server_tags update: the state, the tag, the count (50 at most, counted before the tag is looked
    for), then 204 when the server has it already, else 201; both with the tag's Location."""
    with store.lock:
        s = _tags_server(req, server_id, "update tag")
        if not (1 <= len(tag) <= 60) or "/" in tag or "," in tag:
            if len(tag) > 60:
                why = f"{tag!r} is too long"
            else:
                why = f"{tag!r} does not match '^[^,/]*$'" if tag else f"{tag!r} is too short"
            raise bad(
                f"Tag '{tag}' is invalid. It must be a non empty string without characters '/' and ','. "
                f"Validation error message: {why}"
            )
        if len(s["tags"]) >= 50:
            raise bad("The number of tags exceeded the per-server limit 50")
        location = {"Location": f"{_ViewCtx(req).self_prefix}{server_id}/tags/{quote(tag, safe='')}"}
        if tag in s["tags"]:
            return empty_response(204, location)
        s["tags"].append(tag)
        touch(s)
    return empty_response(201, location)


@router.route("DELETE", API + "/servers/{server_id}/tags/{tag}")
def delete_tag(req: Request, server_id: str, tag: str) -> Response:
    with store.lock:
        s = _tags_server(req, server_id, "delete tag")
        if tag not in s["tags"]:
            raise not_found(f"Instance {server_id} has no tag '{tag}'")
        s["tags"].remove(tag)
        touch(s)
    return empty_response(204)
