"""Nova through openstacksdk 4.22 (`conn.compute`, with `conn.image`, `conn.block_storage`, `conn.placement`):
the same flows the dashboard's workers run, at the microversions the SDK negotiates (servers at 2.100)."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

IMAGE = "cirros-0.6.3-x86_64-disk"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def conns(cloud: TestCloud) -> Any:
    if not cloud.is_devcloud:
        pytest.skip("uses devcloud's seeded images, flavors and hosts")
    return cloud.member.connect(), cloud.admin.connect()


def _wait(conn: Any, server: Any, status: str = "ACTIVE") -> Any:
    """Poll until the status is reached with no task in flight (the SDK's waiter trusts a stale object)."""
    for _ in range(400):
        fresh = conn.compute.get_server(server)
        if fresh.status == status and not fresh.task_state:
            return fresh
        assert fresh.status != "ERROR", fresh.fault
        time.sleep(0.05)
    pytest.fail(f"{server} never reached {status}")


def _gone(conn: Any, server: Any) -> None:
    conn.compute.wait_for_delete(server, interval=0.05, wait=20)


def test_server_lifecycle(conns: Any) -> None:
    demo, admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    flavor = demo.compute.find_flavor("m1.tiny", ignore_missing=False)
    tag = "op-" + uuid.uuid4().hex
    server = demo.compute.create_server(
        name=_name("sdk-vm"), image_id=image.id, flavor_id=flavor.id, networks="auto", tags=[tag],
        metadata={"role": "web"}, description="made by the sdk test",
    )  # fmt: skip
    try:
        server = _wait(demo, server)
        assert server.status == "ACTIVE" and server.power_state == 1 and server.vm_state == "active"
        assert server.flavor.original_name == "m1.tiny" and server.flavor.vcpus == 1
        assert server.image.id == image.id and server.tags == [tag] and server.metadata == {"role": "web"}
        assert server.description == "made by the sdk test"
        assert server.addresses["private"][0]["version"] == 4
        assert server.compute_host is None  # OS-EXT-SRV-ATTR:* is admin only
        assert admin.compute.get_server(server.id).compute_host.startswith("compute-")
        assert [s.id for s in demo.compute.servers(tags=tag)] == [server.id]

        demo.compute.stop_server(server)
        _wait(demo, server, "SHUTOFF")
        demo.compute.start_server(server)
        _wait(demo, server)
        demo.compute.reboot_server(server, "HARD")
        _wait(demo, server)
        demo.compute.pause_server(server)
        _wait(demo, server, "PAUSED")
        demo.compute.unpause_server(server)
        _wait(demo, server)

        demo.compute.lock_server(server, locked_reason="maintenance")
        locked = demo.compute.get_server(server.id)
        assert locked.is_locked and locked.locked_reason == "maintenance"
        demo.compute.unlock_server(server)

        image_id = demo.compute.create_server_image(server, _name("sdk-snap"), wait=False)
        snap = demo.image.wait_for_status(demo.image.get_image(image_id), "active", interval=0.05, wait=20)
        assert snap.properties.get("image_type") == "snapshot" or getattr(snap, "image_type", None) == "snapshot"
        demo.image.delete_image(snap)

        console = demo.compute.create_console(server, "novnc")
        assert console["type"] == "novnc" and "token%3D" in console["url"]
        token = console["url"].split("token%3D", 1)[1]
        resolved = admin.compute.validate_console_auth_token(token)
        assert resolved.instance_uuid == server.id and resolved.port > 0

        output = demo.compute.get_server_console_output(server, length=5)["output"]
        whole = demo.compute.get_server_console_output(server)["output"]
        assert output == "\n".join(whole.split("\n")[-5:])  # Nova's tail: the last piece is the one after "\n"

        actions = [a.action for a in demo.compute.server_actions(server)]
        assert actions[0] == "createImage" and actions[-1] == "create"
        assert {"stop", "start", "reboot", "pause", "unpause", "lock", "createImage"} <= set(actions)
    finally:
        demo.compute.delete_server(server)
    _gone(demo, server)
    deleted = [s for s in demo.compute.servers(changes_since="2000-01-01T00:00:00Z") if s.id == server.id]
    assert [s.status for s in deleted] == ["DELETED"]


def test_resize_confirm_and_revert(conns: Any) -> None:
    demo, _admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    server = _wait(demo, demo.compute.create_server(name=_name("sdk-resize"), image_id=image.id, flavor_id="1",
                                                    networks="none"))  # fmt: skip
    try:
        demo.compute.resize_server(server, "2")
        _wait(demo, server, "VERIFY_RESIZE")
        assert demo.compute.get_server(server.id).flavor.original_name == "m1.small"
        demo.compute.revert_server_resize(server)
        server = _wait(demo, server)
        assert server.flavor.original_name == "m1.tiny"
        demo.compute.resize_server(server, "2")
        _wait(demo, server, "VERIFY_RESIZE")
        demo.compute.confirm_server_resize(server)
        assert _wait(demo, server).flavor.original_name == "m1.small"
    finally:
        demo.compute.delete_server(server)
    _gone(demo, server)


def test_boot_from_new_volume_deletes_it_on_termination(conns: Any) -> None:
    demo, _admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    server = demo.compute.create_server(
        name=_name("sdk-bfv"), flavor_id="1", networks="none",
        block_device_mapping=[{"uuid": image.id, "source_type": "image", "destination_type": "volume",
                               "boot_index": 0, "volume_size": 1, "delete_on_termination": True}],
    )  # fmt: skip
    server = _wait(demo, server)
    image_ref = server.image
    assert not (image_ref.get("id") if isinstance(image_ref, dict) else getattr(image_ref, "id", None))
    [attached] = server.attached_volumes
    assert demo.block_storage.get_volume(attached["id"]).status == "in-use"
    demo.compute.delete_server(server)
    _gone(demo, server)
    for _ in range(100):
        if demo.block_storage.find_volume(attached["id"]) is None:
            break
        time.sleep(0.05)
    assert demo.block_storage.find_volume(attached["id"]) is None


def test_flavors_with_access_and_extra_specs(conns: Any) -> None:
    demo, admin = conns
    name = _name("sdk-private")
    flavor = admin.compute.create_flavor(name=name, ram=256, vcpus=1, disk=1, is_public=False)
    try:
        assert name not in [f.name for f in demo.compute.flavors()]
        admin.compute.flavor_add_tenant_access(flavor, demo.current_project_id)
        assert name in [f.name for f in demo.compute.flavors()]
        assert [a["tenant_id"] for a in admin.compute.get_flavor_access(flavor)] == [demo.current_project_id]
        admin.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "dedicated"})
        assert demo.compute.get_flavor(flavor.id).extra_specs == {"hw:cpu_policy": "dedicated"}
    finally:
        admin.compute.delete_flavor(flavor)
    small = [f.name for f in demo.compute.flavors(min_ram=4096)]
    assert "m1.medium" in small and "m1.tiny" not in small


def test_keypair_import_fingerprint(conns: Any, tmp_path: Any) -> None:
    demo, _admin = conns
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = (tmp_path / "k.pub").read_text().strip()
    expected = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(key) + ".pub"], capture_output=True,
                              text=True, check=True).stdout.split()[1].removeprefix("MD5:")  # fmt: skip
    name = _name("sdk-key")
    kp = demo.compute.create_keypair(name=name, public_key=public)
    try:
        assert kp.fingerprint == expected and kp.type == "ssh"
        assert demo.compute.get_keypair(name).public_key == public
    finally:
        demo.compute.delete_keypair(name)


def test_admin_hosts_placement_and_quotas(conns: Any) -> None:
    demo, admin = conns
    hvs = list(admin.compute.hypervisors(details=True))
    assert len(hvs) == 4 and all(h.hypervisor_type == "QEMU" and h.status == "enabled" for h in hvs)
    providers = {rp.id: rp for rp in admin.placement.resource_providers()}
    for hv in hvs:
        assert hv.id in providers and providers[hv.id].name == hv.name
        inventories = {inv.resource_class: inv for inv in admin.placement.resource_provider_inventories(hv.id)}
        assert inventories["VCPU"].total == 16 and inventories["VCPU"].allocation_ratio == 4.0
        assert inventories["MEMORY_MB"].reserved == 512
    zones = {z.name for z in demo.compute.availability_zones()}
    assert zones == {"nova", "az2"}
    services = list(admin.compute.services(binary="nova-compute"))
    assert sorted(s.host for s in services) == ["compute-1", "compute-2", "compute-3", "compute-4"]
    limits = demo.compute.get_limits()
    assert limits.absolute.instances == 10 and limits.absolute.total_cores == 20
    quota = admin.compute.get_quota_set(demo.current_project_id)
    assert quota.instances == 10 and quota.cores == 20 and quota.ram == 51200


def test_disabled_host_is_skipped_and_az_is_honoured(conns: Any) -> None:
    demo, admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    services = {s.host: s for s in admin.compute.services(binary="nova-compute")}
    admin.compute.disable_service(services["compute-3"], "compute-3", "nova-compute", "maintenance")
    try:
        servers = [
            demo.compute.create_server(name=_name("sdk-az"), image_id=image.id, flavor_id="1", networks="none",
                                       availability_zone="az2")
            for _ in range(2)
        ]  # fmt: skip
        try:
            for s in servers:
                placed = _wait(admin, s)
                assert placed.availability_zone == "az2" and placed.compute_host == "compute-4"
        finally:
            for s in servers:
                demo.compute.delete_server(s)
    finally:
        admin.compute.enable_service(services["compute-3"], "compute-3", "nova-compute")
    again = {s.host: s for s in admin.compute.services(binary="nova-compute")}
    assert again["compute-3"].status == "enabled" and again["compute-3"].disabled_reason is None


def test_volume_attach_detach_and_shelve(conns: Any) -> None:
    demo, _admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    server = demo.compute.create_server(name=_name("sdk-attach"), image_id=image.id, flavor_id="1", networks="none")
    volume = demo.block_storage.create_volume(size=1, name=_name("sdk-data"))
    try:
        demo.block_storage.wait_for_status(volume, "available", interval=0.05, wait=20)
        server = _wait(demo, server)
        attachment = demo.compute.create_volume_attachment(server, volume)
        assert attachment.volume_id == volume.id and attachment.device == "/dev/vdb"
        assert [a.volume_id for a in demo.compute.volume_attachments(server)] == [volume.id]
        # Cinder's attachment flow: reserved at once, in-use once the compute host has attached it
        assert demo.block_storage.get_volume(volume).status in ("reserved", "attaching", "in-use")
        demo.block_storage.wait_for_status(volume, "in-use", interval=0.05, wait=20)
        demo.compute.delete_volume_attachment(server, volume)
        assert demo.block_storage.get_volume(volume).status in ("detaching", "available")
        demo.block_storage.wait_for_status(volume, "available", interval=0.05, wait=20)
        assert list(demo.compute.volume_attachments(server)) == []

        demo.compute.shelve_server(server)
        shelved = _wait(demo, server, "SHELVED_OFFLOADED")
        assert shelved.power_state == 4
        demo.compute.unshelve_server(server)
        assert _wait(demo, server).status == "ACTIVE"
        demo.compute.rescue_server(server)
        _wait(demo, server, "RESCUE")
        demo.compute.unrescue_server(server)
        _wait(demo, server)
    finally:
        demo.compute.delete_server(server)
        _gone(demo, server)
        demo.block_storage.delete_volume(volume)


@pytest.mark.parametrize("policy", ["affinity", "anti-affinity"])
def test_server_group_policies(conns: Any, policy: str) -> None:
    demo, admin = conns
    image = demo.image.find_image(IMAGE, ignore_missing=False)
    group = demo.compute.create_server_group(name=_name("sdk-group"), policy=policy)
    servers = [
        demo.compute.create_server(name=_name("sdk-member"), image_id=image.id, flavor_id="1", networks="none",
                                   scheduler_hints={"group": group.id})
        for _ in range(2)
    ]  # fmt: skip
    try:
        hosts = [_wait(admin, s).compute_host for s in servers]
        assert (hosts[0] == hosts[1]) == (policy == "affinity")
        assert sorted(demo.compute.get_server_group(group.id).member_ids) == sorted(s.id for s in servers)
        assert demo.compute.get_server(servers[0].id).server_groups == [group.id]
    finally:
        for s in servers:
            demo.compute.delete_server(s)
        for s in servers:
            _gone(demo, s)
        demo.compute.delete_server_group(group)
