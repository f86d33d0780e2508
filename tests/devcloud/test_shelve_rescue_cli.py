"""Shelve, rescue and backups through the real `openstack` CLI, and what Nova does underneath: the `-shelved` image
made by a shelve and deleted by the unshelve, Placement's allocations freed on offload and claimed again on
unshelve, the rescue states and their password, backups rotated, and Nova's refusals (409 with its reason)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, cli, cli_json, login, settled
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _name(prefix: str) -> str:
    return f"t-shelve-{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


@pytest.fixture(scope="module")
def admin(cloud: TestCloud) -> Session:
    return login(cloud.admin)


def _allocations(admin: Session, sid: str) -> dict[str, Any]:
    reply = admin.call("GET", f"{admin.url('placement')}/allocations/{sid}")
    assert reply.status == 200, reply.raw[:300]
    return reply.body["allocations"]


def _action(s: Session, sid: str, body: dict[str, Any], version: str = "2.1") -> Any:
    headers = {"OpenStack-API-Version": f"compute {version}"}
    return s.call("POST", f"{s.url('compute')}/servers/{sid}/action", body, headers=headers)


def _boot(cloud: TestCloud, demo: Session, name: str) -> str:
    created = cli_json(cloud, cloud.member.name, "server", "create", "--image", cloud.image_name, "--flavor",
                       cloud.small_flavor, "--nic", "none", name)  # fmt: skip
    settled(demo, created["id"], "ACTIVE")
    return str(created["id"])


def _cleanup(cloud: TestCloud, demo: Session, name: str, sid: str) -> None:
    cli(cloud, cloud.member.name, "server", "delete", "--wait", name, check=False)
    for image in demo.call("GET", f"{demo.url('image')}/v2/images?instance_uuid={sid}").body["images"]:
        demo.call("DELETE", f"{demo.url('image')}/v2/images/{image['id']}")


def test_shelve_offloads_to_an_image_and_unshelve_brings_it_back(cloud: TestCloud, demo: Session, admin: Session):
    member, name = cloud.member.name, _name("vm")
    sid = _boot(cloud, demo, name)
    try:
        assert _allocations(admin, sid), "an active server holds its host's resources"
        cli(cloud, member, "server", "shelve", name)
        shelved = settled(demo, sid, "SHELVED_OFFLOADED")
        assert shelved["OS-EXT-STS:vm_state"] == "shelved_offloaded"
        assert cli_json(cloud, member, "server", "show", name)["status"] == "SHELVED_OFFLOADED"
        images = cli_json(cloud, member, "image", "list", "--name", f"{name}-shelved", "--long")
        assert [i["Status"] for i in images] == ["active"]
        assert _allocations(admin, sid) == {}, "offloaded: no host, nothing allocated"

        # Bad input: shelving it again is refused with Nova's reason (OSC itself skips a shelved server, so the
        # API is asked directly), and nothing changes.
        again = _action(demo, sid, {"shelve": None})
        assert again.status == 409
        assert again.body["conflictingRequest"]["message"] == (
            f"Cannot 'shelve' instance {sid} while it is in vm_state shelved_offloaded"
        )
        assert demo.call("GET", f"{demo.url('compute')}/servers/{sid}").body["server"]["status"] == "SHELVED_OFFLOADED"
        assert len(cli_json(cloud, member, "image", "list", "--name", f"{name}-shelved")) == 1

        # An unknown zone is refused (Nova reads the zone from 2.77).
        zones = [z["Zone Name"] for z in cli_json(cloud, member, "availability", "zone", "list", "--compute")]
        unknown = _action(demo, sid, {"unshelve": {"availability_zone": "t-no-such-zone"}}, "2.77")
        assert unknown.status == 400 and "availability zone" in unknown.raw.decode()

        cli(cloud, member, "--os-compute-api-version", "2.77", "server", "unshelve", "--availability-zone", zones[0],
            name)  # fmt: skip
        active = settled(demo, sid, "ACTIVE")
        assert active["OS-EXT-AZ:availability_zone"] == zones[0]
        wait_until(lambda: cli_json(cloud, member, "image", "list", "--name", f"{name}-shelved") == [],
                   what="the shelved image deleted")  # fmt: skip
        assert _allocations(admin, sid), "unshelved: allocations claimed again on its new host"

        refused = _action(demo, sid, {"unshelve": None})
        assert refused.status == 409
        assert f"Cannot 'unshelve' instance {sid} while it is in vm_state active" in refused.raw.decode()
    finally:
        _cleanup(cloud, demo, name, sid)


def test_shelve_offload_is_for_admins(cloud: TestCloud, demo: Session, admin: Session):
    name = _name("offload")
    sid = _boot(cloud, demo, name)
    try:
        forbidden = _action(demo, sid, {"shelveOffload": None})
        assert forbidden.status == 403  # Nova checks the policy before the state
        assert "os_compute_api:os-shelve:shelve_offload" in forbidden.body["forbidden"]["message"]
        cli(cloud, cloud.admin.name, "server", "shelve", "--offload", sid)
        settled(demo, sid, "SHELVED_OFFLOADED")
    finally:
        _cleanup(cloud, demo, name, sid)


def test_rescue_and_unrescue(cloud: TestCloud, demo: Session):
    member, name = cloud.member.name, _name("rescue")
    sid = _boot(cloud, demo, name)
    try:
        refused = _action(demo, sid, {"unrescue": None})
        assert refused.status == 409
        assert f"Cannot 'unrescue' instance {sid} while it is in vm_state active" in refused.raw.decode()

        cli(cloud, member, "server", "rescue", "--image", cloud.image_name, name)
        rescued = settled(demo, sid, "RESCUE")
        assert rescued["OS-EXT-STS:vm_state"] == "rescued"
        twice = _action(demo, sid, {"rescue": None})
        assert twice.status == 409 and "while it is in vm_state rescued" in twice.raw.decode()
        cli(cloud, member, "server", "unrescue", name)
        assert settled(demo, sid, "ACTIVE")["OS-EXT-STS:vm_state"] == "active"

        # The API itself answers the rescue's admin password (OSC does not print it).
        answer = _action(demo, sid, {"rescue": {}})
        assert answer.status == 200 and answer.body["adminPass"]
        settled(demo, sid, "RESCUE")
        _action(demo, sid, {"unrescue": None})
        settled(demo, sid, "ACTIVE")
    finally:
        _cleanup(cloud, demo, name, sid)


def test_a_third_backup_with_rotation_two_deletes_the_oldest(cloud: TestCloud, demo: Session):
    member, name = cloud.member.name, _name("backup")
    sid = _boot(cloud, demo, name)
    try:
        made = []
        for n in (1, 2, 3):
            backup = f"{name}-b{n}"
            cli(cloud, member, "server", "backup", "create", "--name", backup, "--type", "daily", "--rotate", "2",
                name)  # fmt: skip
            settled(demo, sid, "ACTIVE")
            made.append(backup)

        def backups() -> list[str]:
            rows = cli_json(cloud, member, "image", "list", "--property", "image_type=backup", "--long")
            return sorted(r["Name"] for r in rows if r["Name"].startswith(name))

        wait_until(lambda: backups() == made[1:], what="the oldest backup rotated out")
        shown = cli_json(cloud, member, "image", "show", made[2])
        assert shown["properties"]["image_type"] == "backup"
        assert shown["properties"]["backup_type"] == "daily"
        assert shown["properties"]["instance_uuid"] == sid
    finally:
        _cleanup(cloud, demo, name, sid)
