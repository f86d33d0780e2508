"""os-hypervisors, os-services and os-availability-zone (admin views of the fake compute hosts).

Hosts are `compute-1` ... `compute-N` (config.hypervisors, 4 by default). The first half is in availability
zone `nova` (Nova's default zone name), the second half in `az2`. Each hypervisor's UUID is also its
Placement resource provider UUID; the compute services get their own UUIDs. nova-scheduler and
nova-conductor run on host `controller` in the `internal` zone.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from devcloud.compute.common import (
    bad,
    check_string,
    next_link,
    not_found,
    page,
    require_admin,
)
from devcloud.compute.microversions import mv
from devcloud.config import config
from devcloud.state import now_iso, store
from devcloud.web import HttpError, Request, Response, json_response, router

API = "/compute/v2.1"
ZONES = ("nova", "az2")
INTERNAL_ZONE = "internal"

# Capacity of every fake host (Placement inventories).
VCPUS, VCPU_RATIO = 16, 4.0
MEMORY_MB, MEMORY_RESERVED, MEMORY_RATIO = 32768, 512, 1.5
DISK_GB, DISK_RATIO = 200, 1.0
_STARTED = time.time()


def hv_table() -> dict[str, Any]:
    return store.table("hypervisors")


def svc_table() -> dict[str, Any]:
    return store.table("services")


def inventories() -> dict[str, dict[str, Any]]:
    def inv(total: int, reserved: int, ratio: float) -> dict[str, Any]:
        return {
            "total": total,
            "reserved": reserved,
            "allocation_ratio": ratio,
            "min_unit": 1,
            "max_unit": total,
            "step_size": 1,
        }

    return {
        "VCPU": inv(VCPUS, 0, VCPU_RATIO),
        "MEMORY_MB": inv(MEMORY_MB, MEMORY_RESERVED, MEMORY_RATIO),
        "DISK_GB": inv(DISK_GB, 0, DISK_RATIO),
    }


def seed(fresh: bool) -> None:
    hvs = hv_table()
    services = svc_table()
    if fresh or not hvs:
        hvs.clear()
        services.clear()
        n = max(1, config.hypervisors)
        for i in range(1, n + 1):
            host = f"compute-{i}"
            zone = ZONES[0] if i <= (n + 1) // 2 else ZONES[1]
            hv_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{host}.devcloud.hypervisor"))
            svc_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{host}.devcloud.nova-compute"))
            hvs[hv_uuid] = {
                "id": hv_uuid,
                "int_id": i,
                "hypervisor_hostname": host,
                "host": host,
                "availability_zone": zone,
                "host_ip": f"192.168.100.{10 + i}",
                "hypervisor_type": "QEMU",
                "hypervisor_version": 8002000,
                "service_id": svc_uuid,
            }
            services[svc_uuid] = _service(svc_uuid, i, "nova-compute", host, zone)
        for j, binary in enumerate(("nova-scheduler", "nova-conductor"), start=n + 1):
            sid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"controller.devcloud.{binary}"))
            services[sid] = _service(sid, j, binary, "controller", INTERNAL_ZONE)
    from devcloud import placement

    for hv in hvs.values():
        placement.ensure_provider(hv["id"], hv["hypervisor_hostname"], inventories())
        try:
            placement.set_traits(hv["id"], ["COMPUTE_NODE", "HW_CPU_X86_AVX2", "COMPUTE_NET_ATTACH_INTERFACE"])
        except Exception:
            pass


def _service(sid: str, int_id: int, binary: str, host: str, zone: str) -> dict[str, Any]:
    return {
        "id": sid,
        "int_id": int_id,
        "binary": binary,
        "host": host,
        "zone": zone,
        "status": "enabled",
        "disabled_reason": None,
        "forced_down": False,
        "updated_at": now_iso(),
    }


def hypervisors() -> list[dict[str, Any]]:
    """The README contract: id (UUID), hypervisor_hostname, service_host, availability_zone."""
    with store.lock:
        return [
            {
                "id": hv["id"],
                "hypervisor_hostname": hv["hypervisor_hostname"],
                "service_host": hv["host"],
                "availability_zone": hv["availability_zone"],
            }
            for hv in sorted(hv_table().values(), key=lambda h: h["int_id"])
        ]


def compute_service(hv: dict[str, Any]) -> dict[str, Any]:
    return svc_table()[hv["service_id"]]


def service_up(svc: dict[str, Any]) -> bool:
    return not svc["forced_down"]


def host_usable(hv: dict[str, Any]) -> bool:
    svc = compute_service(hv)
    return svc["status"] == "enabled" and service_up(svc)


def zone_names() -> list[str]:
    return sorted({hv["availability_zone"] for hv in hv_table().values()})


def by_host(host: str) -> dict[str, Any] | None:
    for hv in hv_table().values():
        if hv["host"] == host:
            return hv
    return None


# --- hypervisors -------------------------------------------------------------------------------------------


def _servers_on(hv: dict[str, Any]) -> list[dict[str, Any]]:
    from devcloud.compute import servers

    return [s for s in servers.table().values() if s.get("host") == hv["host"] and not s.get("deleted")]


def _hv_view(req: Request, hv: dict[str, Any], detail: bool, with_servers: bool = False) -> dict[str, Any]:
    v = mv(req)
    svc = compute_service(hv)
    out: dict[str, Any] = {
        "id": hv["id"] if v >= 53 else hv["int_id"],
        "hypervisor_hostname": hv["hypervisor_hostname"],
        "state": "up" if service_up(svc) else "down",
        "status": svc["status"],
    }
    if detail:
        out.update(
            {
                "host_ip": hv["host_ip"],
                "hypervisor_type": hv["hypervisor_type"],
                "hypervisor_version": hv["hypervisor_version"],
                "service": {
                    "host": hv["host"],
                    "id": svc["id"] if v >= 53 else svc["int_id"],
                    "disabled_reason": svc["disabled_reason"],
                },
            }
        )
        if v < 88:
            out.update(_stats(hv))
            cpu = {
                "arch": "x86_64",
                "model": "Haswell-noTSX-IBRS",
                "vendor": "Intel",
                "topology": {"cores": 8, "threads": 2, "sockets": 1},
                "features": ["avx2", "sse4.2", "vmx"],
            }
            import json

            out["cpu_info"] = cpu if v >= 28 else json.dumps(cpu)
        else:
            out["uptime"] = _uptime()
    if with_servers:
        servers = [{"name": s["instance_name"], "uuid": s["id"]} for s in _servers_on(hv)]
        if servers or v < 53:
            out["servers"] = servers
    return out


def _uptime() -> str:
    up = int(time.time() - _STARTED)
    return f" {time.strftime('%H:%M:%S')} up {up // 60} min,  0 users,  load average: 0.08, 0.05, 0.01"


def _stats(hv: dict[str, Any]) -> dict[str, Any]:
    from devcloud import placement

    used = placement.usages(hv["id"])
    vcpus_used = int(used.get("VCPU", 0))
    mem_used = int(used.get("MEMORY_MB", 0)) + MEMORY_RESERVED
    disk_used = int(used.get("DISK_GB", 0))
    return {
        "vcpus": VCPUS,
        "memory_mb": MEMORY_MB,
        "local_gb": DISK_GB,
        "vcpus_used": vcpus_used,
        "memory_mb_used": mem_used,
        "local_gb_used": disk_used,
        "free_ram_mb": MEMORY_MB - mem_used,
        "free_disk_gb": DISK_GB - disk_used,
        "current_workload": 0,
        "running_vms": len(_servers_on(hv)),
        "disk_available_least": DISK_GB - disk_used,
    }


def _find_hv(req: Request, hypervisor_id: str) -> dict[str, Any]:
    v = mv(req)
    for hv in hv_table().values():
        if (v >= 53 and hv["id"] == hypervisor_id) or (v < 53 and str(hv["int_id"]) == hypervisor_id):
            return hv
    if v >= 53 and not re.match(r"^[0-9a-fA-F-]{32,36}$", hypervisor_id):
        raise bad(f"Invalid uuid {hypervisor_id}")
    raise not_found(f"Hypervisor with ID '{hypervisor_id}' could not be found.")


def _list(req: Request, detail: bool) -> Response:
    require_admin(req, "os_compute_api:os-hypervisors:list" + ("-detail" if detail else ""))
    v = mv(req)
    with store.lock:
        items = sorted(hv_table().values(), key=lambda h: h["int_id"])
        pattern = req.arg("hypervisor_hostname_pattern") if v >= 53 else None
        with_servers = v >= 53 and (req.arg("with_servers", "false").lower() in ("true", "1", "yes"))
        if pattern is not None:
            items = [h for h in items if pattern in h["hypervisor_hostname"]]
            if not items:
                raise not_found(f"No hypervisor matching '{pattern}' could be found.")
        body: dict[str, Any] = {}
        if v >= 33 and pattern is None:
            if v >= 53:
                items, nxt = page(req, items, key="id")
            else:
                for h in items:
                    h.setdefault("int_id", 0)
                items, nxt = page(req, items, key="int_id")
            if nxt:
                body["hypervisors_links"] = next_link(req, "os-hypervisors/detail" if detail else "os-hypervisors", nxt)
        body = {"hypervisors": [_hv_view(req, h, detail, with_servers) for h in items], **body}
        return json_response(200, body)


@router.route("GET", API + "/os-hypervisors")
def list_hypervisors(req: Request) -> Response:
    return _list(req, False)


@router.route("GET", API + "/os-hypervisors/detail")
def list_hypervisors_detail(req: Request) -> Response:
    return _list(req, True)


@router.route("GET", API + "/os-hypervisors/statistics")
def hypervisor_statistics(req: Request) -> Response:
    if mv(req) >= 88:
        raise not_found("The resource could not be found.")
    require_admin(req, "os_compute_api:os-hypervisors:statistics")
    with store.lock:
        total: dict[str, int] = {}
        count = 0
        for hv in hv_table().values():
            count += 1
            for k, val in _stats(hv).items():
                total[k] = total.get(k, 0) + val
        total["count"] = count
        return json_response(200, {"hypervisor_statistics": total})


@router.route("GET", API + "/os-hypervisors/{hypervisor_id}")
def show_hypervisor(req: Request, hypervisor_id: str) -> Response:
    require_admin(req, "os_compute_api:os-hypervisors:show")
    v = mv(req)
    with_servers = v >= 53 and (req.arg("with_servers", "false").lower() in ("true", "1", "yes"))
    with store.lock:
        hv = _find_hv(req, hypervisor_id)
        return json_response(200, {"hypervisor": _hv_view(req, hv, True, with_servers)})


@router.route("GET", API + "/os-hypervisors/{hypervisor_id}/uptime")
def hypervisor_uptime(req: Request, hypervisor_id: str) -> Response:
    if mv(req) >= 88:
        raise not_found("The resource could not be found.")
    require_admin(req, "os_compute_api:os-hypervisors:uptime")
    with store.lock:
        hv = _find_hv(req, hypervisor_id)
        out = _hv_view(req, hv, False)
        out["uptime"] = _uptime()
        return json_response(200, {"hypervisor": out})


@router.route("GET", API + "/os-hypervisors/{pattern}/search")
def search_hypervisors(req: Request, pattern: str) -> Response:
    if mv(req) >= 53:
        raise not_found("The resource could not be found.")
    require_admin(req, "os_compute_api:os-hypervisors:search")
    with store.lock:
        items = [
            h for h in sorted(hv_table().values(), key=lambda h: h["int_id"]) if pattern in h["hypervisor_hostname"]
        ]
        if not items:
            raise not_found(f"No hypervisor matching '{pattern}' could be found.")
        return json_response(200, {"hypervisors": [_hv_view(req, h, False) for h in items]})


@router.route("GET", API + "/os-hypervisors/{pattern}/servers")
def hypervisor_servers(req: Request, pattern: str) -> Response:
    if mv(req) >= 53:
        raise not_found("The resource could not be found.")
    require_admin(req, "os_compute_api:os-hypervisors:servers")
    with store.lock:
        items = [
            h for h in sorted(hv_table().values(), key=lambda h: h["int_id"]) if pattern in h["hypervisor_hostname"]
        ]
        if not items:
            raise not_found(f"No hypervisor matching '{pattern}' could be found.")
        return json_response(200, {"hypervisors": [_hv_view(req, h, False, True) for h in items]})


# --- services ----------------------------------------------------------------------------------------------


def _svc_view(req: Request, svc: dict[str, Any]) -> dict[str, Any]:
    v = mv(req)
    out: dict[str, Any] = {
        "id": svc["id"] if v >= 53 else svc["int_id"],
        "binary": svc["binary"],
        "disabled_reason": svc["disabled_reason"],
        "host": svc["host"],
        "state": "up" if service_up(svc) else "down",
        "status": svc["status"],
        "updated_at": now_iso().replace("Z", ".000000"),
        "zone": svc["zone"],
    }
    if v >= 11:
        out["forced_down"] = svc["forced_down"]
    return out


@router.route("GET", API + "/os-services")
def list_services(req: Request) -> Response:
    require_admin(req, "os_compute_api:os-services:list")
    with store.lock:
        items = sorted(svc_table().values(), key=lambda s: s["int_id"])
        if req.arg("binary"):
            items = [s for s in items if s["binary"] == req.arg("binary")]
        if req.arg("host"):
            items = [s for s in items if s["host"] == req.arg("host")]
        return json_response(200, {"services": [_svc_view(req, s) for s in items]})


def _find_by_host_binary(host: Any, binary: Any) -> dict[str, Any]:
    for svc in svc_table().values():
        if svc["host"] == host and svc["binary"] == binary:
            return svc
    raise not_found(f"Service {binary} on host {host} could not be found.")


@router.route("PUT", API + "/os-services/{service_id}")
def update_service(req: Request, service_id: str) -> Response:
    v = mv(req)
    require_admin(req, "os_compute_api:os-services:update")
    body = req.json_object()
    with store.lock:
        if v < 53:
            # legacy: PUT /os-services/{enable,disable,disable-log-reason,force-down} {host, binary, ...}
            if service_id not in ("enable", "disable", "disable-log-reason", "force-down"):
                raise not_found(f"Unknown action {service_id}")
            svc = _find_by_host_binary(body.get("host"), body.get("binary"))
            out: dict[str, Any] = {"host": svc["host"], "binary": svc["binary"]}
            if service_id == "enable":
                svc["status"], svc["disabled_reason"] = "enabled", None
                out["status"] = "enabled"
            elif service_id in ("disable", "disable-log-reason"):
                svc["status"] = "disabled"
                if service_id == "disable-log-reason":
                    reason = check_string(body.get("disabled_reason"), "disabled_reason", 1, 255)
                    svc["disabled_reason"] = reason
                    out["disabled_reason"] = reason
                out["status"] = "disabled"
            else:
                svc["forced_down"] = bool(body.get("forced_down"))
                out["forced_down"] = svc["forced_down"]
            store.touch()
            return json_response(200, {"service": out})
        svc = svc_table().get(service_id)
        if svc is None:
            raise not_found(f"Service {service_id} could not be found.")
        allowed = {"status", "disabled_reason", "forced_down"}
        extra = set(body) - allowed
        if extra or not body:
            raise bad("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
        status = body.get("status")
        if status is not None and status not in ("enabled", "disabled"):
            raise bad(
                f"Invalid input for field/attribute status. Value: {status}. "
                f"'{status}' is not one of ['enabled', 'disabled']"
            )
        reason = body.get("disabled_reason")
        if reason is not None:
            check_string(reason, "disabled_reason", 1, 255)
            if status != "disabled":
                raise bad("Specifying 'disabled_reason' with status 'enabled' is invalid.")
        if svc["binary"] != "nova-compute" and status is not None:
            raise bad(
                f"Updating a {svc['binary']} service is not supported. Only nova-compute services can be updated."
            )
        if status == "enabled":
            svc["status"], svc["disabled_reason"] = "enabled", None
        elif status == "disabled":
            svc["status"], svc["disabled_reason"] = "disabled", reason
        if "forced_down" in body:
            if not isinstance(body["forced_down"], bool):
                raise bad(f"Invalid input for field/attribute forced_down. Value: {body['forced_down']}.")
            svc["forced_down"] = body["forced_down"]
        svc["updated_at"] = now_iso()
        store.touch()
        return json_response(200, {"service": _svc_view(req, svc)})


@router.route("DELETE", API + "/os-services/{service_id}")
def delete_service(req: Request, service_id: str) -> Response:
    require_admin(req, "os_compute_api:os-services:delete")
    raise HttpError(
        409,
        f"Unable to delete compute service that is in use. Service {service_id} is part of devcloud.",
        "conflictingRequest",
    )


# --- availability zones ------------------------------------------------------------------------------------


@router.route("GET", API + "/os-availability-zone")
def list_zones(req: Request) -> Response:
    with store.lock:
        zones: dict[str, bool] = {}
        for hv in hv_table().values():
            zones[hv["availability_zone"]] = zones.get(hv["availability_zone"], False) or (
                compute_service(hv)["status"] == "enabled"
            )
        info = [{"zoneName": z, "zoneState": {"available": ok}, "hosts": None} for z, ok in sorted(zones.items())]
        return json_response(200, {"availabilityZoneInfo": info})


@router.route("GET", API + "/os-availability-zone/detail")
def list_zones_detail(req: Request) -> Response:
    require_admin(req, "os_compute_api:os-availability-zone:detail")
    with store.lock:
        zones: dict[str, dict[str, Any]] = {}
        for svc in sorted(svc_table().values(), key=lambda s: s["int_id"]):
            z = zones.setdefault(svc["zone"], {"available": False, "hosts": {}})
            up = service_up(svc)
            enabled = svc["status"] == "enabled"
            if enabled and (svc["binary"] == "nova-compute" or svc["zone"] == INTERNAL_ZONE):
                z["available"] = True
            z["hosts"].setdefault(svc["host"], {})[svc["binary"]] = {
                "available": up,
                "active": enabled,
                "updated_at": svc["updated_at"],
            }
        info = [
            {"zoneName": name, "zoneState": {"available": z["available"]}, "hosts": z["hosts"]}
            for name, z in sorted(zones.items(), key=lambda kv: (kv[0] != INTERNAL_ZONE, kv[0]))
        ]
        return json_response(200, {"availabilityZoneInfo": info})


# --- host aggregates (read-only: one aggregate per non-default availability zone) --------------------------


def _aggregates() -> list[dict[str, Any]]:
    out = []
    for i, zone in enumerate(z for z in zone_names() if z != ZONES[0]):
        members = sorted(hv["host"] for hv in hv_table().values() if hv["availability_zone"] == zone)
        out.append(
            {
                "id": i + 1,
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{zone}.devcloud.aggregate")),
                "name": zone,
                "availability_zone": zone,
                "hosts": members,
                "metadata": {"availability_zone": zone},
                "created_at": "2026-01-12T09:00:00.000000",
                "updated_at": None,
                "deleted_at": None,
                "deleted": False,
            }
        )
    return out


@router.route("GET", API + "/os-aggregates")
def list_aggregates(req: Request) -> Response:
    require_admin(req, "os_compute_api:os-aggregates:index")
    with store.lock:
        items = _aggregates()
    if mv(req) < 41:
        for a in items:
            a.pop("uuid")
    return json_response(200, {"aggregates": items})


@router.route("GET", API + "/os-aggregates/{aggregate_id}")
def show_aggregate(req: Request, aggregate_id: str) -> Response:
    require_admin(req, "os_compute_api:os-aggregates:show")
    with store.lock:
        for a in _aggregates():
            if str(a["id"]) == aggregate_id or a["uuid"] == aggregate_id:
                if mv(req) < 41:
                    a.pop("uuid")
                return json_response(200, {"aggregate": a})
    raise not_found(f"Aggregate {aggregate_id} could not be found.")
