"""Server groups through the real `openstack` CLI, and what Nova's scheduler does with them: an anti-affinity
group puts each member on its own host (an admin sees `OS-EXT-SRV-ATTR:host`), and once every host of the zone runs
a member the next launch into the group ends in ERROR with Nova's NoValidHost fault; Nova's refusals of bad groups
(a rule on another policy, max_server_per_host below 1, an unknown policy) leave nothing made."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.devcloud import Session, cli, cli_json, login, settled
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _name(prefix: str) -> str:
    return f"t-sg-{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


def _zone_hosts(cloud: TestCloud) -> tuple[str, list[str]]:
    """The compute zone with the fewest (at least two) enabled, up compute hosts, and those hosts."""
    services = cli_json(cloud, cloud.admin.name, "compute", "service", "list", "--service", "nova-compute")
    zones: dict[str, list[str]] = {}
    for svc in services:
        if svc["Status"] == "enabled" and svc["State"] == "up":
            zones.setdefault(svc["Zone"], []).append(svc["Host"])
    usable = sorted(((z, sorted(h)) for z, h in zones.items() if len(h) >= 2), key=lambda z: len(z[1]))
    if not usable:
        pytest.skip("this cloud has no availability zone with two compute hosts up")
    return usable[0]


def test_anti_affinity_members_get_their_own_hosts_until_none_is_left(cloud: TestCloud, demo: Session) -> None:
    member, admin = cloud.member.name, cloud.admin.name
    zone, hosts = _zone_hosts(cloud)
    group = cli_json(cloud, member, "server", "group", "create", "--policy", "anti-affinity", _name("group"))
    assert group["policy"] == "anti-affinity" and group["members"] in ([], "")
    names = [_name(f"vm{i}") for i in range(len(hosts) + 1)]
    made: list[str] = []
    try:
        for name in names[:-1]:
            created = cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                               cloud.small_flavor, "--nic", "none", "--availability-zone", zone,
                               "--hint", f"group={group['id']}", name)  # fmt: skip
            made.append(created["id"])
            settled(demo, created["id"], "ACTIVE")
        placed = [cli_json(cloud, admin, "server", "show", sid)["OS-EXT-SRV-ATTR:host"] for sid in made]
        assert sorted(placed) == hosts, (placed, hosts)  # one member on each host of the zone, none twice

        shown = cli_json(cloud, member, "server", "group", "show", group["id"])
        assert sorted(shown["members"] if isinstance(shown["members"], list) else shown["members"].split(", ")) == (
            sorted(made)
        )

        # One more: no host of the zone is left without a member, so the scheduler finds none.
        last = cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                        cloud.small_flavor, "--nic", "none", "--availability-zone", zone,
                        "--hint", f"group={group['id']}", names[-1])  # fmt: skip
        made.append(last["id"])

        def errored() -> dict | None:
            server = demo.call("GET", f"{demo.url('compute')}/servers/{last['id']}").body["server"]
            return server if server["status"] == "ERROR" else None

        failed = wait_until(errored, timeout=90, what="the third member to fail scheduling")
        assert "No valid host was found" in failed["fault"]["message"], failed["fault"]
        assert cli_json(cloud, member, "server", "show", last["id"])["status"] == "ERROR"
    finally:
        for sid in made:
            cli(cloud, member, "server", "delete", "--wait", sid, check=False)
        cli(cloud, member, "server", "group", "delete", group["id"], check=False)
    listed = cli_json(cloud, member, "server", "group", "list")
    assert group["id"] not in [g["ID"] for g in listed]


def test_rules_and_bad_groups_through_the_cli(cloud: TestCloud) -> None:
    member = cloud.member.name
    before = {g["ID"] for g in cli_json(cloud, member, "server", "group", "list")}
    name = _name("rule")
    ruled = cli_json(cloud, member, "--os-compute-api-version", "2.64", "server", "group", "create",
                     "--policy", "anti-affinity", "--rule", "max_server_per_host=2", name)  # fmt: skip
    try:
        assert ruled["policy"] == "anti-affinity"
        assert "max_server_per_host" in str(ruled["rules"]) and "2" in str(ruled["rules"]), ruled
    finally:
        cli(cloud, member, "server", "group", "delete", ruled["id"])

    refused = [
        ("--policy", "affinity", "--rule", "max_server_per_host=2"),  # rules are anti-affinity's only
        ("--policy", "anti-affinity", "--rule", "max_server_per_host=0"),  # at least one per host
        ("--policy", "nearby"),  # no such policy
    ]
    for args in refused:
        proc = cli(cloud, member, "--os-compute-api-version", "2.64", "server", "group", "create", *args,
                   _name("bad"), check=False)  # fmt: skip
        assert proc.returncode != 0, (args, proc.stdout)
        assert "400" in proc.stderr or "invalid choice" in proc.stderr.lower() or "Invalid" in proc.stderr, (
            args,
            proc.stderr,
        )
    assert {g["ID"] for g in cli_json(cloud, member, "server", "group", "list")} == before
