"""Picks a host for a server: the enabled, up compute host with the most free capacity in Placement that
fits the flavor (and lies in the requested availability zone), then writes the Placement allocation."""

from __future__ import annotations

from typing import Any

from devcloud.compute import hosts

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


class NoValidHost(Exception):
    pass


def resources_for(flavor: dict[str, Any], volume_backed: bool) -> dict[str, int]:
    res = {"VCPU": int(flavor["vcpus"]), "MEMORY_MB": int(flavor["ram"])}
    disk = (0 if volume_backed else int(flavor["disk"])) + int(flavor.get("ephemeral") or 0)
    disk += (int(flavor.get("swap") or 0) + 1023) // 1024
    if disk:
        res["DISK_GB"] = disk
    return res


def free_capacity(hv_id: str) -> dict[str, float]:
    from devcloud import placement

    cap = placement.capacity(hv_id)
    used = placement.usages(hv_id)
    return {rc: cap.get(rc, 0) - used.get(rc, 0) for rc in cap}


def fits(hv_id: str, resources: dict[str, int]) -> bool:
    free = free_capacity(hv_id)
    return all(free.get(rc, 0) >= amount for rc, amount in resources.items())


def candidates(zone: str | None, host: str | None = None) -> list[dict[str, Any]]:
    out = []
    for hv in hosts.hv_table().values():
        if zone and hv["availability_zone"] != zone:
            continue
        if host and hv["host"] != host:
            continue
        if hosts.host_usable(hv):
            out.append(hv)
    return out


def select(
    resources: dict[str, int], zone: str | None, host: str | None = None, server: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The best host that the server's hard group policies allow (affinity, anti-affinity), ranked by its soft
    ones (soft-affinity, soft-anti-affinity), then by most free RAM, then vCPU; or NoValidHost. `server`: the server
    being placed (its groups apply on create, resize and unshelve, as Nova's request spec carries the group)."""
    best, best_key = None, None
    hvs = candidates(zone, host)
    from devcloud.compute import servergroups

    if server is not None:
        permitted = set(servergroups.allowed_hosts(server, [hv["host"] for hv in hvs]))
        hvs = [hv for hv in hvs if hv["host"] in permitted]
    for hv in hvs:
        free = free_capacity(hv["id"])
        if not all(free.get(rc, 0) >= amount for rc, amount in resources.items()):
            continue
        soft = servergroups.soft_weight(server, hv["host"]) if server is not None else 0
        key = (soft, free.get("MEMORY_MB", 0) - resources.get("MEMORY_MB", 0), free.get("VCPU", 0), -hv["int_id"])
        if best_key is None or key > best_key:
            best, best_key = hv, key
    if best is None:
        raise NoValidHost(NO_VALID_HOST)
    return best


def claim(server: dict[str, Any], hv: dict[str, Any], resources: dict[str, int]) -> None:
    from devcloud import placement

    placement.allocate(server["id"], hv["id"], resources, server["project_id"], server["user_id"])


def release(server_id: str) -> None:
    from devcloud import placement

    try:
        placement.free(server_id)
    except Exception:
        pass
