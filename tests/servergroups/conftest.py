"""Fixtures of the Server groups tests: the member's and the admin's openstacksdk connections, which delete the
`t-sg` groups and `t-` servers a test leaves; and the compute zone whose hosts a test can fill."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import openstack
import pytest

from tests.cloudharness import active, project_lock
from tests.waiting import wait_until


def sg_name(prefix: str = "t-sg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def sg_conn(stratus) -> Iterator[openstack.connection.Connection]:
    with project_lock(stratus):
        conn = openstack.connect(cloud=stratus.member.name)
        yield conn
        for server in conn.compute.servers():
            if (server.name or "").startswith("t-"):
                conn.compute.delete_server(server)
        wait_until(
            lambda: not [s for s in conn.compute.servers() if (s.name or "").startswith("t-")],
            what="test servers to be deleted",
        )
        for group in conn.compute.server_groups():
            if (group.name or "").startswith("t-sg"):
                conn.compute.delete_server_group(group, ignore_missing=True)


@pytest.fixture
def admin_conn(stratus) -> openstack.connection.Connection:
    return openstack.connect(cloud=stratus.admin.name)


def zone_hosts(admin: Any) -> tuple[str, list[str]]:
    """The compute zone with the fewest (at least two) enabled, up compute hosts, and those hosts."""
    zones: dict[str, list[str]] = {}
    for svc in admin.compute.services(binary="nova-compute"):
        if svc.status == "enabled" and svc.state == "up":
            zones.setdefault(svc.availability_zone, []).append(svc.host)
    usable = sorted(((z, sorted(h)) for z, h in zones.items() if len(h) >= 2), key=lambda z: len(z[1]))
    if not usable:
        pytest.skip("this cloud has no availability zone with two compute hosts up")
    return usable[0]


def boot(conn: Any, name: str, *, group_id: str = "", zone: str = "") -> Any:
    """A server with no network (Nova at 2.37+ takes "none"), into a group when given one."""
    image = conn.image.find_image(active().image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(active().small_flavor, ignore_missing=False)
    attrs: dict = {"name": name, "flavor_id": flavor.id, "image_id": image.id, "networks": "none"}
    if group_id:
        attrs["scheduler_hints"] = {"group": group_id}
    if zone:
        attrs["availability_zone"] = zone
    server = conn.compute.create_server(**attrs)
    return conn.compute.wait_for_server(server, status="ACTIVE", interval=0.3, wait=120)
