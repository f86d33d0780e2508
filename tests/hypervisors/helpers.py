"""What the tests compare the pages with: Placement's own numbers, read through openstacksdk."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import openstack

RESOURCES = ("VCPU", "MEMORY_MB", "DISK_GB")


def placement_totals(conn: openstack.connection.Connection) -> dict[str, dict[str, int]]:
    """Cloud-wide {rc: {"capacity", "used", "total", "reserved"}} over the hypervisors' resource providers."""
    out = {rc: {"capacity": 0, "used": 0, "total": 0, "reserved": 0} for rc in RESOURCES}
    for hv in conn.compute.hypervisors():
        inventories = conn.placement.get(f"/resource_providers/{hv.id}/inventories").json()["inventories"]
        usages = conn.placement.get(f"/resource_providers/{hv.id}/usages").json()["usages"]
        for rc in RESOURCES:
            inv = inventories[rc]
            out[rc]["capacity"] += int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
            out[rc]["total"] += inv["total"]
            out[rc]["reserved"] += inv["reserved"]
            out[rc]["used"] += int(usages.get(rc, 0))
    return out


def provider_used(conn: openstack.connection.Connection, provider: str) -> dict[str, int]:
    return {k: int(v) for k, v in conn.placement.get(f"/resource_providers/{provider}/usages").json()["usages"].items()}


def summary_from_html(html: str) -> dict[str, dict[str, int]]:
    """The summary cards' data attributes: {rc: {"used", "capacity", "total", "reserved"}}."""
    out = {}
    for m in re.finditer(
        r'data-summary="(\w+)" data-used="(\d+)" data-capacity="(\d+)" data-total="(\d+)" data-reserved="(\d+)"', html
    ):
        out[m.group(1)] = {
            "used": int(m.group(2)),
            "capacity": int(m.group(3)),
            "total": int(m.group(4)),
            "reserved": int(m.group(5)),
        }
    return out


def eventually(check: Callable[[], Any], *, timeout: float = 20, what: str = "condition") -> Any:
    """Poll until `check` returns a truthy value (returned), or fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def forget_usage(session, conn) -> None:
    """Drop this cloud's cached Placement answers and server counts (other tests may have left some)."""
    from apps.accounts.session import read
    from apps.cloud.connection import connection_for
    from apps.hypervisors import selectors

    creds = read(session)
    mv = selectors._mv(selectors.compute_microversion(connection_for(creds)))
    keys = [f"hv:servers:{creds.auth_url}:{creds.region}:{mv}"]
    for hv in conn.compute.hypervisors():
        keys += [selectors._placement_key(creds, f"/resource_providers/{hv.id}/{p}") for p in ("inventories", "usages")]
    from django.core.cache import cache

    cache.delete_many(keys)
