"""Fixtures of the Volumes tests: the member's openstacksdk connection (skipping clouds without Cinder), which
deletes the `t-vol` volumes and `t-` servers a test leaves; and servers booted for attaching."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import openstack
import pytest

from tests.cloudharness import active, project_lock
from tests.waiting import wait_until


def vol_name(prefix: str = "t-vol") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def vol_conn(stratus) -> Iterator[openstack.connection.Connection]:
    with project_lock(stratus):
        conn = openstack.connect(cloud=stratus.member.name)
        if not conn.has_service("block-storage"):
            pytest.skip("this cloud has no Block Storage service (Cinder)")
        yield conn
        for server in conn.compute.servers():
            if (server.name or "").startswith("t-"):
                conn.compute.delete_server(server)
        wait_until(
            lambda: not [s for s in conn.compute.servers() if (s.name or "").startswith("t-")],
            what="test servers to be deleted",
        )
        for vol in conn.block_storage.volumes():
            if (vol.name or "").startswith("t-vol"):
                wait_until(
                    lambda v=vol: conn.block_storage.get_volume(v).status not in ("creating", "extending", "detaching"),
                    what=f"{vol.name} settled",
                )
                try:
                    conn.block_storage.delete_volume(vol)
                except openstack.exceptions.SDKException:
                    pass


def boot(conn, name: str, *, boot_volume_gb: int = 0):
    """A server with no network (Nova at 2.37+ takes "none"), from the image or from a new volume of it."""
    image = conn.image.find_image(active().image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(active().small_flavor, ignore_missing=False)
    attrs: dict = {"name": name, "flavor_id": flavor.id, "networks": "none"}
    if boot_volume_gb:
        attrs["block_device_mapping"] = [
            {
                "boot_index": 0,
                "uuid": image.id,
                "source_type": "image",
                "destination_type": "volume",
                "volume_size": boot_volume_gb,
                "delete_on_termination": True,
            }
        ]
    else:
        attrs["image_id"] = image.id
    server = conn.compute.create_server(**attrs)
    return conn.compute.wait_for_server(server, status="ACTIVE", interval=0.3, wait=120)


def new_volume(conn, name: str, size: int = 1):
    vol = conn.block_storage.create_volume(name=name, size=size)
    return conn.block_storage.wait_for_status(vol, status="available", interval=0.3, wait=120)
