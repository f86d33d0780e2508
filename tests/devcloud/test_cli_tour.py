"""The real `openstack` CLI (python-openstackclient 10.5, osc-placement 4.9) over each resource the cloud
implements that the other CLI tests (test_compute_cli, test_network_cli, test_volume, test_image,
test_identity) leave out: compute (backups, shelve, console log, server groups, zones, limits, quotas, usage,
services, aggregates, flavor properties), image (upload, save, properties), volume (attach through Nova, types),
identity for admins (projects, users, roles, assignments, the catalog) and placement. JSON output, checked.
Runs on devcloud and on a real cloud alike; independent commands run at once (each CLI start costs ~1 s)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, cli, cli_json, login, settled
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _name(prefix: str) -> str:
    return f"t-tour-{prefix}-{uuid.uuid4().hex[:6]}"


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


def test_compute_cli_backups_shelve_console_and_project_views(cloud: TestCloud, demo: Session) -> None:
    member, admin = cloud.member.name, cloud.admin.name
    name, group = _name("vm"), _name("group")
    created, made_group = _parallel(
        lambda: cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                         cloud.small_flavor, "--nic", "none", name),
        lambda: cli_json(cloud, member, "server", "group", "create", "--policy", "anti-affinity", group),
    )  # fmt: skip
    sid = created["id"]
    try:
        assert made_group["name"] == group and made_group["policy"] == "anti-affinity"
        settled(demo, sid, "ACTIVE")
        backup = _name("backup")
        made = cli_json(cloud, member, "server", "backup", "create", "--name", backup, "--type", "daily",
                        "--rotate", "1", name)  # fmt: skip
        assert made["name"] == backup
        settled(demo, sid, "ACTIVE")
        images = cli_json(cloud, member, "image", "list", "--property", "image_type=backup", "--long")
        assert backup in [i["Name"] for i in images]
        log, zones, limits, quota, groups, events = _parallel(
            lambda: cli(cloud, member, "console", "log", "show", "--lines", "3", name).stdout,
            lambda: cli_json(cloud, member, "availability", "zone", "list", "--compute"),
            lambda: cli_json(cloud, member, "limits", "show", "--absolute"),
            lambda: cli_json(cloud, member, "quota", "show", "--compute"),
            lambda: cli_json(cloud, member, "server", "group", "list"),
            lambda: cli_json(cloud, member, "server", "event", "list", name),
        )
        whole = demo.call("POST", f"{demo.url('compute')}/servers/{sid}/action", {"os-getConsoleOutput": {}})
        assert log.rstrip("\n") == "\n".join(whole.body["output"].split("\n")[-3:]).rstrip("\n")
        assert {z["Zone Name"] for z in zones} and all(z["Zone Status"] == "available" for z in zones)
        by_name = {row["Name"]: row["Value"] for row in limits}
        assert by_name["instances"] >= by_name["instances_used"] >= 1
        assert {"Resource", "Limit"} <= set(quota[0]) and "instances" in {q["Resource"] for q in quota}
        assert group in [g["Name"] for g in groups]
        assert [e["Action"] for e in events][:2] == ["createBackup", "create"]

        cli(cloud, member, "server", "shelve", name)
        settled(demo, sid, "SHELVED_OFFLOADED")
        shelved = cli_json(cloud, member, "image", "list", "--name", f"{name}-shelved")
        assert [i["Status"] for i in shelved] == ["active"]
        cli(cloud, member, "server", "unshelve", name)
        settled(demo, sid, "ACTIVE")
        wait_until(lambda: cli_json(cloud, member, "image", "list", "--name", f"{name}-shelved") == [],
                   what="the shelved image deleted")  # fmt: skip

        services, aggregates, usage, everyone = _parallel(
            lambda: cli_json(cloud, admin, "compute", "service", "list"),
            lambda: cli_json(cloud, admin, "aggregate", "list"),
            lambda: cli_json(cloud, admin, "usage", "list"),
            lambda: cli_json(cloud, admin, "server", "list", "--all-projects", "--name", name),
        )
        assert {"nova-compute", "nova-scheduler", "nova-conductor"} <= {s["Binary"] for s in services}
        assert all(s["State"] == "up" for s in services if s["Binary"] == "nova-compute")
        assert isinstance(aggregates, list)
        assert any(u["Servers"] for u in usage)  # the server ids of each project with usage
        assert [s["ID"] for s in everyone] == [sid]
    finally:
        cli(cloud, member, "server", "delete", "--wait", name)
        cli(cloud, member, "server", "group", "delete", group)
        for image in demo.call("GET", f"{demo.url('image')}/v2/images?instance_uuid={sid}").body["images"]:
            demo.call("DELETE", f"{demo.url('image')}/v2/images/{image['id']}")


def test_flavor_properties_and_keypair_show(cloud: TestCloud) -> None:
    admin, member = cloud.admin.name, cloud.member.name
    flavor, key = _name("flavor"), _name("key")
    cli_json(cloud, admin, "flavor", "create", "--vcpus", "1", "--ram", "128", "--disk", "1", "--id", "auto", flavor)
    try:
        cli(cloud, admin, "flavor", "set", "--property", "hw:cpu_policy=shared", flavor)
        shown = cli_json(cloud, admin, "flavor", "show", flavor)
        assert shown["properties"] == {"hw:cpu_policy": "shared"}
        cli(cloud, member, "keypair", "create", key)
        kp = cli_json(cloud, member, "keypair", "show", key)
        assert kp["name"] == key and kp["type"] == "ssh" and len(kp["fingerprint"].split(":")) == 16
    finally:
        cli(cloud, admin, "flavor", "delete", flavor)
        cli(cloud, member, "keypair", "delete", key, check=False)


def test_image_upload_properties_save_and_delete(cloud: TestCloud, tmp_path: Path) -> None:
    member = cloud.member.name
    name, data = _name("image"), bytes(range(256)) * 64
    (tmp_path / "in.raw").write_bytes(data)
    made = cli_json(cloud, member, "image", "create", "--disk-format", "raw", "--container-format", "bare",
                    "--file", str(tmp_path / "in.raw"), "--property", "tour=yes", "--private", name)  # fmt: skip
    try:
        assert made["status"] == "active" and made["size"] == len(data)
        cli(cloud, member, "image", "set", "--property", "stage=two", name)
        shown = cli_json(cloud, member, "image", "show", name)
        assert shown["properties"]["tour"] == "yes" and shown["properties"]["stage"] == "two"
        assert shown["visibility"] == "private"
        cli(cloud, member, "image", "save", "--file", str(tmp_path / "out.raw"), name)
        assert (tmp_path / "out.raw").read_bytes() == data
    finally:
        cli(cloud, member, "image", "delete", name)
    assert cli(cloud, member, "image", "show", name, check=False).returncode != 0


def test_volume_attach_through_nova_and_types(cloud: TestCloud, demo: Session) -> None:
    member = cloud.member.name
    name, vm = _name("vol"), _name("vm")
    vol, server, types = _parallel(
        lambda: cli_json(cloud, member, "volume", "create", "--size", "1", "--description", "tour", name),
        lambda: cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                         cloud.small_flavor, "--nic", "none", vm),
        lambda: cli_json(cloud, member, "volume", "type", "list"),
    )  # fmt: skip
    try:
        assert vol["size"] == 1 and vol["description"] == "tour" and types
        wait_until(lambda: cli_json(cloud, member, "volume", "show", name)["status"] == "available",
                   what="the volume available")  # fmt: skip
        settled(demo, server["id"], "ACTIVE")
        cli(cloud, member, "server", "add", "volume", vm, name)

        def in_use() -> dict[str, Any] | None:
            shown = cli_json(cloud, member, "volume", "show", name)
            return shown if shown["status"] == "in-use" else None

        attached = wait_until(in_use, what="the volume in use")
        assert attached["attachments"][0]["server_id"] == server["id"]
        cli(cloud, member, "volume", "set", "--name", name + "-renamed", name)
        cli(cloud, member, "server", "remove", "volume", vm, name + "-renamed")
        wait_until(lambda: cli_json(cloud, member, "volume", "show", name + "-renamed")["status"] == "available",
                   what="the volume detached")  # fmt: skip
    finally:
        cli(cloud, member, "server", "delete", "--wait", vm)
        cli(cloud, member, "volume", "delete", name + "-renamed", check=False)
        cli(cloud, member, "volume", "delete", name, check=False)


def test_identity_for_admins(cloud: TestCloud) -> None:
    admin = cloud.admin.name
    project, user = _name("project"), _name("user")
    made = cli_json(cloud, admin, "project", "create", "--description", "tour", project)
    try:
        assert made["name"] == project and made["enabled"] is True
        person = cli_json(cloud, admin, "user", "create", "--project", project, "--password", "s3cret-tour", user)
        assert person["name"] == user and person["default_project_id"] == made["id"]
        cli(cloud, admin, "role", "add", "--project", project, "--user", user, "member")
        assignments, roles, domains, services, endpoints, catalog, shown = _parallel(
            lambda: cli_json(cloud, admin, "role", "assignment", "list", "--user", user, "--names"),
            lambda: cli_json(cloud, admin, "role", "list"),
            lambda: cli_json(cloud, admin, "domain", "list"),
            lambda: cli_json(cloud, admin, "service", "list"),
            lambda: cli_json(cloud, admin, "endpoint", "list", "--interface", "public"),
            lambda: cli_json(cloud, admin, "catalog", "list"),
            lambda: cli_json(cloud, admin, "project", "show", project),
        )
        assert [(a["Role"], a["Project"].split("@")[0]) for a in assignments] == [("member", project)]
        assert {"admin", "member", "reader"} <= {r["Name"] for r in roles}
        assert "Default" in {d["Name"] for d in domains}
        types = {s["Type"] for s in services}
        assert {"identity", "compute", "image", "placement"} <= types
        assert {e["Service Type"] for e in endpoints} == types - {"volume", "volumev2"} or len(endpoints) >= len(types)
        assert {c["Type"] for c in catalog} >= {"identity", "compute", "image"}
        assert shown["description"] == "tour"
    finally:
        cli(cloud, admin, "user", "delete", user, check=False)
        cli(cloud, admin, "project", "delete", project)
    assert cli(cloud, admin, "project", "show", project, check=False).returncode != 0


def test_placement_for_admins(cloud: TestCloud, demo: Session) -> None:
    admin = cloud.admin.name
    providers = cli_json(cloud, admin, "resource", "provider", "list")
    assert providers and all(len(p["uuid"]) == 36 for p in providers)
    first = providers[0]["uuid"]
    inventory, usage, classes, traits = _parallel(
        lambda: cli_json(cloud, admin, "resource", "provider", "inventory", "list", first),
        lambda: cli_json(cloud, admin, "resource", "provider", "usage", "show", first),
        lambda: cli_json(cloud, admin, "resource", "class", "list"),
        lambda: cli_json(cloud, admin, "--os-placement-api-version", "1.6", "trait", "list"),
    )
    assert {"VCPU", "MEMORY_MB"} <= {i["resource_class"] for i in inventory}
    assert all(i["total"] > 0 for i in inventory)
    assert {"VCPU", "MEMORY_MB"} <= {u["resource_class"] for u in usage}
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= {c["name"] for c in classes}
    assert any(t["name"].startswith("COMPUTE_") or t["name"].startswith("HW_") for t in traits)
