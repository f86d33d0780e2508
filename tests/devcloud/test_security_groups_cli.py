"""Security groups and rules through the real `openstack` CLI and openstacksdk against devcloud: create, list, show,
set, delete; rules of every kind the Stratus pages make (a port, a range, ICMP, egress, IPv6, a remote group); the
refusals Neutron answers (a duplicate rule, a group in use, a CIDR of the other family); a server booted with a
group, and groups added to and removed from it (`server add/remove security group`)."""

from __future__ import annotations

import ipaddress
import uuid
from typing import TYPE_CHECKING

import pytest
from openstack import exceptions as sdk_exceptions

from tests.devcloud import Session, cli, cli_json, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

IMAGE = "cirros-0.6.3-x86_64-disk"
DEMO = "devcloud-demo"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    if not cloud.is_devcloud:
        pytest.skip("uses devcloud's seeded networks and projects")
    return login(cloud.member)


def test_groups_and_rules_through_the_cli(cloud: TestCloud, demo: Session) -> None:
    web, other = _name("web"), _name("peer")
    group = cli_json(cloud, DEMO, "security", "group", "create", "--description", "web servers", web)
    peer = cli_json(cloud, DEMO, "security", "group", "create", other)
    try:
        assert group["name"] == web and group["description"] == "web servers"
        # a new group allows every egress, IPv4 and IPv6, and nothing in
        assert {(r["direction"], r["ethertype"]) for r in group["rules"]} == {("egress", "IPv4"), ("egress", "IPv6")}
        listed = cli_json(cloud, DEMO, "security", "group", "list")
        assert {web, other, "default"} <= {g["Name"] for g in listed}
        ssh = cli_json(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--protocol",
            "tcp",
            "--dst-port",
            "22",
            "--remote-ip",
            "0.0.0.0/0",
            web,
        )
        # Neutron keeps the prefix as given (0.0.0.0/0 is not turned into "no prefix")
        assert (ssh["direction"], ssh["protocol"], ssh["port_range_min"], ssh["port_range_max"]) == (
            "ingress",
            "tcp",
            22,
            22,
        )
        assert ssh["remote_ip_prefix"] == "0.0.0.0/0" and ssh["ether_type"] == "IPv4"
        ranged = cli_json(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--protocol",
            "udp",
            "--dst-port",
            "8000:8080",
            "--remote-ip",
            "10.0.0.5/24",
            web,
        )
        assert (ranged["port_range_min"], ranged["port_range_max"]) == (8000, 8080)
        assert ranged["remote_ip_prefix"] == "10.0.0.5/24"  # as given, host bits kept
        icmp = cli_json(cloud, DEMO, "security", "group", "rule", "create", "--protocol", "icmp", web)
        assert icmp["protocol"] == "icmp" and icmp["port_range_min"] is None
        v6 = cli_json(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--egress",
            "--ethertype",
            "IPv6",
            "--protocol",
            "tcp",
            "--dst-port",
            "443",
            "--remote-ip",
            "2001:db8::/32",
            web,
        )
        assert (v6["direction"], v6["ether_type"], v6["remote_ip_prefix"]) == ("egress", "IPv6", "2001:db8::/32")
        from_peer = cli_json(
            cloud, DEMO, "security", "group", "rule", "create", "--protocol", "tcp", "--remote-group", other, web
        )
        assert from_peer["remote_group_id"] == peer["id"] and from_peer["remote_ip_prefix"] is None

        # refused: the same rule again (0.0.0.0/0 is "any", as no prefix is), a CIDR of the other family
        again = cli(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--protocol",
            "tcp",
            "--dst-port",
            "22",
            web,
            check=False,
        )
        assert again.returncode != 0 and f"Security group rule already exists. Rule id is {ssh['id']}." in again.stderr
        family = cli(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--protocol",
            "tcp",
            "--remote-ip",
            "::/0",
            web,
            check=False,
        )
        assert family.returncode != 0 and "Conflicting value ethertype IPv4 for CIDR ::/0" in family.stderr

        rules = cli_json(cloud, DEMO, "security", "group", "rule", "list", web)
        assert len(rules) == 2 + 5
        shown = cli_json(cloud, DEMO, "security", "group", "rule", "show", ranged["id"])
        assert shown["security_group_id"] == group["id"] and shown["port_range_max"] == 8080
        cli(cloud, DEMO, "security", "group", "rule", "delete", ranged["id"])
        gone = cli(cloud, DEMO, "security", "group", "rule", "show", ranged["id"], check=False)
        assert gone.returncode != 0
        cli(cloud, DEMO, "security", "group", "set", "--name", web + "-2", "--description", "renamed", group["id"])
        renamed = cli_json(cloud, DEMO, "security", "group", "show", group["id"])
        assert renamed["name"] == web + "-2" and renamed["description"] == "renamed"
        assert len(renamed["rules"]) == 2 + 4

        # the peer group goes, and with it the web group's rule naming it (Neutron cascades remote groups)
        cli(cloud, DEMO, "security", "group", "delete", other)
        after = cli_json(cloud, DEMO, "security", "group", "show", group["id"])
        assert from_peer["id"] not in {r["id"] for r in after["rules"]} and len(after["rules"]) == 2 + 3
    finally:
        cli(cloud, DEMO, "security", "group", "delete", group["id"], check=False)
        cli(cloud, DEMO, "security", "group", "delete", peer["id"], check=False)
    assert web + "-2" not in {g["Name"] for g in cli_json(cloud, DEMO, "security", "group", "list")}


def test_a_server_with_a_group_and_groups_added_and_removed(cloud: TestCloud, demo: Session) -> None:
    web, extra, name = _name("web"), _name("extra"), _name("vm-sg")
    cli(cloud, DEMO, "security", "group", "create", web)
    cli(cloud, DEMO, "security", "group", "create", extra)
    server = cli_json(
        cloud,
        DEMO,
        "server",
        "create",
        "--image",
        IMAGE,
        "--flavor",
        "m1.tiny",
        "--network",
        "private",
        "--security-group",
        web,
        "--wait",
        name,
    )
    try:
        assert server["status"] == "ACTIVE"
        (addr,) = server["addresses"]["private"]
        subnet = cli_json(
            cloud, DEMO, "subnet", "show", cli_json(cloud, DEMO, "network", "show", "private")["subnets"][0]
        )
        assert ipaddress.ip_address(addr) in ipaddress.ip_network(subnet["cidr"])
        assert [g["name"] for g in server["security_groups"]] == [web]

        cli(cloud, DEMO, "server", "add", "security", "group", name, extra)
        shown = cli_json(cloud, DEMO, "server", "show", name)
        assert {g["name"] for g in shown["security_groups"]} == {web, extra}
        (port,) = cli_json(cloud, DEMO, "port", "list", "--server", server["id"], "--long")
        extra_id = cli_json(cloud, DEMO, "security", "group", "show", extra)["id"]
        assert extra_id in port["Security Groups"]

        # a group in use cannot be deleted: Neutron's 409
        busy = cli(cloud, DEMO, "security", "group", "delete", extra, check=False)
        assert busy.returncode != 0 and f"Security Group {extra_id} in use." in busy.stderr

        cli(cloud, DEMO, "server", "remove", "security", "group", name, extra)
        shown = cli_json(cloud, DEMO, "server", "show", name)
        assert [g["name"] for g in shown["security_groups"]] == [web]
        # removing a group the server does not have: Nova's 400
        twice = cli(cloud, DEMO, "server", "remove", "security", "group", name, extra, check=False)
        assert twice.returncode != 0
        cli(cloud, DEMO, "security", "group", "delete", extra)
    finally:
        cli(cloud, DEMO, "server", "delete", "--wait", name)
        cli(cloud, DEMO, "security", "group", "delete", web, check=False)
        cli(cloud, DEMO, "security", "group", "delete", extra, check=False)


def test_the_same_through_openstacksdk(cloud: TestCloud, demo: Session) -> None:
    conn = cloud.member.connect()
    project = conn.current_project_id
    group = conn.network.create_security_group(name=_name("sdk-web"), description="sdk")
    try:
        assert group.id in {g.id for g in conn.network.security_groups(project_id=project)}
        rule = conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            ethertype="IPv4",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="0.0.0.0/0",
        )
        assert conn.network.get_security_group_rule(rule.id).remote_ip_prefix == "0.0.0.0/0"
        with pytest.raises(sdk_exceptions.ConflictException, match="already exists"):
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22
            )
        with pytest.raises(sdk_exceptions.BadRequestException, match="Invalid value for port 70000"):
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=1, port_range_max=70000
            )
        with pytest.raises(sdk_exceptions.BadRequestException, match="Conflicting value ethertype IPv6"):
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ethertype="IPv6", remote_ip_prefix="10.0.0.0/8"
            )
        rules = list(conn.network.security_group_rules(security_group_id=group.id))
        assert len(rules) == 3  # two egress, SSH: nothing of the refused ones was made
        fetched = conn.network.get_security_group(group.id)
        assert {r["id"] for r in fetched.security_group_rules} == {r.id for r in rules}

        image = conn.image.find_image(IMAGE)
        flavor = conn.compute.find_flavor("m1.tiny")
        private = conn.network.find_network("private")
        server = conn.compute.create_server(
            name=_name("sdk-sg"), image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": private.id}]
        )
        try:
            server = conn.compute.wait_for_server(server, wait=30, interval=0.2)
            conn.compute.add_security_group_to_server(server, group.id)  # by id: names can repeat
            (port,) = conn.network.ports(device_id=server.id)
            assert group.id in port.security_group_ids
            names = {g["name"] for g in conn.compute.fetch_server_security_groups(server).security_groups}
            assert group.name in names
            with pytest.raises(sdk_exceptions.ConflictException, match="in use"):
                conn.network.delete_security_group(group)
            conn.compute.remove_security_group_from_server(server, group.id)
            (port,) = conn.network.ports(device_id=server.id)
            assert group.id not in port.security_group_ids
        finally:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, interval=0.2, wait=30)
        conn.network.delete_security_group_rule(rule)
        assert conn.network.find_security_group_rule(rule.id) is None
    finally:
        conn.network.delete_security_group(group, ignore_missing=True)
    assert conn.network.find_security_group(group.id) is None
