"""Nova through the real `openstack` CLI (python-openstackclient 10.5): flavors, key pairs, servers from an
image and from volumes, power actions, snapshots, hypervisors and console URLs, checked on JSON output.

OSC's `--wait` polls every 5 s, so only the first create uses it; the other waits poll over raw HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, cli, cli_json, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

IMAGE = "cirros-0.6.3-x86_64-disk"
ADMIN, DEMO = "devcloud-admin", "devcloud-demo"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent CLI calls at once (each `openstack` process spends most of its time starting up)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


def _compute(s: Session) -> str:
    return s.url("compute")


def wait_server(s: Session, server_id: str, status: str | None, timeout: float = 15) -> dict[str, Any] | None:
    """Poll GET /servers/{id} until `status` (None: until it is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = s.call("GET", f"{_compute(s)}/servers/{server_id}")
        if status is None and reply.status == 404:
            return None
        if (
            reply.status == 200
            and reply.body["server"]["status"] == status
            and not reply.body["server"].get("OS-EXT-STS:task_state")
        ):
            return reply.body["server"]
        time.sleep(0.05)
    pytest.fail(f"server {server_id} never reached {status}")


def wait_image(s: Session, image_id: str, status: str = "active", timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = s.call("GET", f"{s.url('image')}/v2/images/{image_id}")
        if reply.status == 200 and reply.body["status"] == status:
            return
        time.sleep(0.05)
    pytest.fail(f"image {image_id} never reached {status}")


def wait_volume(s: Session, volume_id: str, status: str = "available", timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = s.call("GET", f"{s.url('block-storage')}/volumes/{volume_id}")
        if reply.status == 200 and reply.body["volume"]["status"] == status:
            return
        time.sleep(0.05)
    pytest.fail(f"volume {volume_id} never reached {status}")


def test_flavor_create_show_list_delete(devcloud: TestCloud, demo: Session) -> None:
    name = _name("cli-flavor")
    created = cli_json(devcloud, ADMIN, "flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "5", name)
    assert created["name"] == name and created["vcpus"] == 2 and created["ram"] == 1024 and created["disk"] == 5
    assert created["os-flavor-access:is_public"] is True
    shown, listing = _parallel(
        lambda: cli_json(devcloud, ADMIN, "flavor", "show", name), lambda: cli_json(devcloud, DEMO, "flavor", "list")
    )
    assert shown["id"] == created["id"]
    listed = {f["Name"] for f in listing}
    assert {name, "m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= listed
    cli(devcloud, ADMIN, "flavor", "delete", name)
    assert demo.call("GET", f"{_compute(demo)}/flavors/{created['id']}").status == 404


def test_keypair_create_list_delete(devcloud: TestCloud, demo: Session) -> None:
    name = _name("cli-key")
    # OSC 10.5 generates the key pair locally and imports the public half (Nova >= 2.92 does not generate)
    assert "PRIVATE KEY" in cli(devcloud, DEMO, "keypair", "create", name).stdout
    entry = next(k for k in cli_json(devcloud, DEMO, "keypair", "list") if k["Name"] == name)
    assert len(entry["Fingerprint"].split(":")) == 16 and entry["Type"] == "ssh"
    cli(devcloud, DEMO, "keypair", "delete", name)
    assert demo.call("GET", f"{_compute(demo)}/os-keypairs/{name}").status == 404


def test_server_lifecycle_from_image(devcloud: TestCloud, demo: Session) -> None:
    name = _name("cli-vm")
    server = cli_json(
        devcloud, DEMO, "server", "create", "--image", IMAGE, "--flavor", "m1.tiny", "--nic", "none", "--wait", name
    )
    sid = server["id"]
    try:
        assert server["status"] == "ACTIVE" and server["addresses"] == {}
        assert server["OS-EXT-STS:power_state"] == 1 and server["flavor"]["original_name"] == "m1.tiny"
        assert server["OS-EXT-AZ:availability_zone"] in ("nova", "az2")

        cli(devcloud, DEMO, "server", "stop", name)
        wait_server(demo, sid, "SHUTOFF")
        cli(devcloud, DEMO, "server", "start", name)
        wait_server(demo, sid, "ACTIVE")
        cli(devcloud, DEMO, "server", "reboot", name)
        wait_server(demo, sid, "ACTIVE")
        snap = _name("cli-snap")
        listed, url, _ = _parallel(
            lambda: cli_json(devcloud, DEMO, "server", "list", "--name", name),
            lambda: cli_json(devcloud, DEMO, "console", "url", "show", "--novnc", name),
            lambda: cli(devcloud, DEMO, "server", "image", "create", "--name", snap, name),
        )
        rows = [(s["Name"], s["Status"], s["Image"], s["Flavor"]) for s in listed]
        assert rows == [(name, "ACTIVE", IMAGE, "m1.tiny")]
        assert url["type"] == "novnc" and "vnc_lite.html?path=%3Ftoken%3D" in url["url"]
        image = next(i for i in demo.call("GET", f"{demo.url('image')}/v2/images?name={snap}").body["images"])
        wait_image(demo, image["id"])
        assert snap in [i["Name"] for i in cli_json(devcloud, DEMO, "image", "list")]
        cli(devcloud, DEMO, "image", "delete", snap)
    finally:
        cli(devcloud, DEMO, "server", "delete", name)
    wait_server(demo, sid, None)


def test_boot_from_volume_and_from_existing_volume(devcloud: TestCloud, demo: Session) -> None:
    image_id = demo.call("GET", f"{demo.url('image')}/v2/images?name={IMAGE}").body["images"][0]["id"]
    vol = demo.call(
        "POST",
        f"{demo.url('block-storage')}/volumes",
        {"volume": {"size": 1, "imageRef": image_id, "name": _name("cli-vol")}},
    ).body["volume"]
    wait_volume(demo, vol["id"])
    bfv, from_vol = _parallel(
        lambda: cli_json(
            devcloud, DEMO, "server", "create", "--image", IMAGE, "--flavor", "m1.tiny", "--boot-from-volume", "2",
            "--nic", "none", _name("cli-bfv"),
        ),
        lambda: cli_json(
            devcloud, DEMO, "server", "create", "--volume", vol["id"], "--flavor", "m1.tiny", "--nic", "auto",
            _name("cli-fromvol"),
        ),
    )  # fmt: skip
    try:
        shown = wait_server(demo, bfv["id"], "ACTIVE")
        assert shown is not None and shown["image"] == ""
        root_id = shown["os-extended-volumes:volumes_attached"][0]["id"]
        wait_volume(demo, root_id, "in-use")
        root = demo.call("GET", f"{demo.url('block-storage')}/volumes/{root_id}").body["volume"]
        assert root["size"] == 2 and root["bootable"] == "true"

        wait_server(demo, from_vol["id"], "ACTIVE")
        listed = {s["ID"]: s for s in cli_json(devcloud, DEMO, "server", "list")}
        assert listed[from_vol["id"]]["Image"] == "N/A (booted from volume)"
        assert listed[from_vol["id"]]["Networks"]["private"]
        assert listed[bfv["id"]]["Status"] == "ACTIVE"
    finally:
        cli(devcloud, DEMO, "server", "delete", bfv["id"], from_vol["id"])
    wait_server(demo, bfv["id"], None)
    wait_server(demo, from_vol["id"], None)
    wait_volume(demo, vol["id"], "available")  # not delete_on_termination: detached and kept
    for volume_id in (vol["id"], root_id):
        assert demo.call("DELETE", f"{demo.url('block-storage')}/volumes/{volume_id}").status == 202


def test_hypervisor_list_is_admin_only(devcloud: TestCloud) -> None:
    hvs = cli_json(devcloud, ADMIN, "hypervisor", "list")
    assert [h["Hypervisor Hostname"] for h in hvs] == ["compute-1", "compute-2", "compute-3", "compute-4"]
    assert all(h["State"] == "up" and len(h["ID"]) == 36 and h["Hypervisor Type"] == "QEMU" for h in hvs)
