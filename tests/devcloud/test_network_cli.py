"""Neutron and Nova's use of it through the real `openstack` CLI and openstacksdk's `conn.network`: resources
created, listed, shown and deleted; servers on a chosen network with a security group; `--nic auto` with two
usable networks; interfaces, security groups and floating IPs added to and removed from a server; bad input."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, cli, cli_json, login
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

IMAGE = "cirros-0.6.3-x86_64-disk"
DEMO, DEMO2 = "devcloud-demo", "devcloud-demo2"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _parallel(*calls: Any) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    if not cloud.is_devcloud:
        pytest.skip("uses devcloud's seeded networks and projects")
    return login(cloud.member)


def _with_status(resource: dict[str, Any], status: str) -> dict[str, Any] | None:
    return resource if resource["status"] == status else None


def _server_addresses(demo: Session, server_id: str) -> dict[str, Any]:
    return demo.call("GET", f"{demo.url('compute')}/servers/{server_id}").body["server"]["addresses"]


def test_network_resources_through_the_cli(cloud: TestCloud, demo: Session) -> None:
    net, sub, sg, rtr = _name("cli-net"), _name("cli-sub"), _name("cli-sg"), _name("cli-rtr")
    created = cli_json(cloud, DEMO, "network", "create", net)
    assert created["name"] == net and created["status"] == "ACTIVE" and created["shared"] is False
    subnet, group, router = _parallel(
        lambda: cli_json(cloud, DEMO, "subnet", "create", "--network", net, "--subnet-range", "10.77.0.0/24", sub),
        lambda: cli_json(cloud, DEMO, "security", "group", "create", sg),
        lambda: cli_json(cloud, DEMO, "router", "create", "--external-gateway", "public", rtr),
    )
    assert subnet["cidr"] == "10.77.0.0/24" and subnet["gateway_ip"] == "10.77.0.1"
    assert router["external_gateway_info"]["network_id"] == cli_json(cloud, DEMO, "network", "show", "public")["id"]
    rule = cli_json(cloud, DEMO, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", sg)
    assert rule["port_range_min"] == 22 and rule["direction"] == "ingress"
    cli(cloud, DEMO, "router", "add", "subnet", rtr, sub)
    port = cli_json(cloud, DEMO, "port", "create", "--network", net, _name("cli-port"))
    assert port["fixed_ips"][0]["ip_address"] == "10.77.0.2" and port["status"] == "DOWN"
    fip = cli_json(cloud, DEMO, "floating", "ip", "create", "public")
    assert fip["floating_ip_address"].startswith("172.24.4.") and fip["status"] == "DOWN"
    listed = _parallel(
        lambda: cli_json(cloud, DEMO, "network", "list"),
        lambda: cli_json(cloud, DEMO, "subnet", "list", "--network", net),
        lambda: cli_json(cloud, DEMO, "port", "list", "--network", net),
        lambda: cli_json(cloud, DEMO, "security", "group", "rule", "list", sg),
        lambda: cli_json(cloud, DEMO, "floating", "ip", "list"),
        lambda: cli_json(cloud, DEMO, "router", "show", rtr),
    )
    assert net in {n["Name"] for n in listed[0]} and [s["Name"] for s in listed[1]] == [sub]
    assert {p["ID"] for p in listed[2]} >= {port["id"]} and len(listed[3]) == 3
    assert fip["id"] in {f["ID"] for f in listed[4]}
    assert listed[5]["interfaces_info"][0]["subnet_id"] == subnet["id"]
    cli(cloud, DEMO, "floating", "ip", "delete", fip["id"])
    cli(cloud, DEMO, "port", "delete", port["id"])
    cli(cloud, DEMO, "router", "remove", "subnet", rtr, sub)
    _parallel(
        lambda: cli(cloud, DEMO, "router", "delete", rtr),
        lambda: cli(cloud, DEMO, "security", "group", "delete", sg),
        lambda: cli(cloud, DEMO, "subnet", "delete", sub),
    )
    cli(cloud, DEMO, "network", "delete", net)
    gone = cli(cloud, DEMO, "network", "show", net, check=False)
    assert gone.returncode != 0 and "No Network found" in gone.stderr


def test_bad_input_is_refused_and_nothing_is_created(cloud: TestCloud, demo: Session) -> None:
    net = _name("bad-net")
    cli(cloud, DEMO, "network", "create", net)
    try:
        bad_cidr = cli(
            cloud, DEMO, "subnet", "create", "--network", net, "--subnet-range", "10.1.2.0/33", "s", check=False
        )
        assert bad_cidr.returncode != 0 and "is not a valid IP subnet" in bad_cidr.stderr
        bad_port = cli(
            cloud,
            DEMO,
            "security",
            "group",
            "rule",
            "create",
            "--protocol",
            "tcp",
            "--dst-port",
            "1:70000",
            "default",
            check=False,
        )
        assert bad_port.returncode != 0 and "Invalid value for port 70000" in bad_port.stderr
        other_net = cli_json(cloud, DEMO2, "network", "show", "private")["id"]
        foreign = cli(cloud, DEMO, "port", "create", "--network", other_net, "p", check=False)
        assert foreign.returncode != 0 and "No Network found" in foreign.stderr
        subnets = cli_json(cloud, DEMO, "subnet", "list", "--network", net)
        assert subnets == []
        rules = cli_json(cloud, DEMO, "security", "group", "rule", "list", "default")
        assert not any(r["Port Range"] == "1:70000" for r in rules)
        # Nova refuses another project's network and port with Nova's message, and makes no server
        other_port = cli_json(cloud, DEMO2, "port", "create", "--network", "private", _name("other"))
        try:
            image_id = cli_json(cloud, DEMO, "image", "show", IMAGE)["id"]
            for nic, text in (
                ({"uuid": other_net}, f"Network {other_net} could not be found."),
                ({"port": other_port["id"]}, f"Port {other_port['id']} could not be found."),
            ):
                name = _name("foreign")
                body = {"server": {"name": name, "imageRef": image_id, "flavorRef": "1", "networks": [nic]}}
                reply = demo.call("POST", f"{demo.url('compute')}/servers", body)
                assert reply.status == 400 and reply.body["badRequest"]["message"] == text, reply.raw
                assert cli_json(cloud, DEMO, "server", "list", "--name", name) == []
        finally:
            cli(cloud, DEMO2, "port", "delete", other_port["id"])
    finally:
        cli(cloud, DEMO, "network", "delete", net)


def test_servers_on_networks_with_security_groups_and_floating_ips(cloud: TestCloud, demo: Session) -> None:
    sg, net2, name = _name("web"), _name("second"), _name("vm-net")
    _parallel(
        lambda: cli(cloud, DEMO, "security", "group", "create", sg),
        lambda: (
            cli(cloud, DEMO, "network", "create", net2)
            and cli(cloud, DEMO, "subnet", "create", "--network", net2, "--subnet-range", "10.88.0.0/24", _name("sub"))
        ),
    )
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
        sg,
        "--wait",
        name,
    )
    try:
        assert server["status"] == "ACTIVE"
        (addr,) = server["addresses"]["private"]
        assert addr.startswith("10.0.0.")
        assert [g["name"] for g in server["security_groups"]] == [sg]
        raw = _server_addresses(demo, server["id"])["private"][0]
        assert raw["OS-EXT-IPS:type"] == "fixed" and raw["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e:")
        (port,) = cli_json(cloud, DEMO, "port", "list", "--server", server["id"], "--long")
        assert port["Status"] == "ACTIVE" and port["Device Owner"] == f"compute:{server['OS-EXT-AZ:availability_zone']}"
        # a second network, the default group, a floating IP
        fip = cli_json(cloud, DEMO, "floating", "ip", "create", "public")["floating_ip_address"]
        _parallel(
            lambda: cli(cloud, DEMO, "server", "add", "network", name, net2),
            lambda: cli(cloud, DEMO, "server", "add", "security", "group", name, "default"),
            lambda: cli(cloud, DEMO, "server", "add", "floating", "ip", name, fip),
        )
        shown, ports, fip_shown = _parallel(
            lambda: cli_json(cloud, DEMO, "server", "show", name),
            lambda: cli_json(cloud, DEMO, "port", "list", "--server", server["id"]),
            lambda: wait_until(
                lambda: _with_status(cli_json(cloud, DEMO, "floating", "ip", "show", fip), "ACTIVE"),
                what="the floating IP to become ACTIVE",
            ),
        )
        assert sorted(shown["addresses"]) == sorted(["private", net2]) and fip in shown["addresses"]["private"]
        assert {g["name"] for g in shown["security_groups"]} == {sg, "default"}
        floating = [a for a in _server_addresses(demo, server["id"])["private"] if a["addr"] == fip]
        assert floating[0]["OS-EXT-IPS:type"] == "floating"
        assert len(ports) == 2 and fip_shown["status"] == "ACTIVE"
        # and removed again
        _parallel(
            lambda: cli(cloud, DEMO, "server", "remove", "floating", "ip", name, fip),
            lambda: cli(cloud, DEMO, "server", "remove", "security", "group", name, sg),
            lambda: cli(cloud, DEMO, "server", "remove", "network", name, net2),
        )
        shown, fip_shown = _parallel(
            lambda: cli_json(cloud, DEMO, "server", "show", name),
            lambda: wait_until(
                lambda: _with_status(cli_json(cloud, DEMO, "floating", "ip", "show", fip), "DOWN"),
                what="the floating IP to go DOWN",
            ),
        )
        assert list(shown["addresses"]) == ["private"] and fip not in shown["addresses"]["private"]
        assert [g["name"] for g in shown["security_groups"]] == ["default"]
        assert fip_shown["status"] == "DOWN"
        cli(cloud, DEMO, "floating", "ip", "delete", fip)
    finally:
        cli(cloud, DEMO, "server", "delete", "--wait", name)
    ports = demo.call("GET", f"{demo.url('network')}/v2.0/ports?device_id={server['id']}").body["ports"]
    assert ports == []  # the port Nova made went with the server
    _parallel(
        lambda: cli(cloud, DEMO, "security", "group", "delete", sg),
        lambda: cli(cloud, DEMO, "network", "delete", net2),
    )


def test_nic_auto_with_two_usable_networks_is_ambiguous(cloud: TestCloud, demo: Session) -> None:
    # demo-2 sees its private network and the provider network `shared`
    name = _name("auto")
    proc = cli(
        cloud,
        DEMO2,
        "--os-compute-api-version",
        "2.37",
        "server",
        "create",
        "--image",
        IMAGE,
        "--flavor",
        "m1.tiny",
        "--nic",
        "auto",
        name,
        check=False,
    )
    assert proc.returncode != 0
    assert "Multiple possible networks found, use a Network ID to be more specific." in proc.stderr
    assert "409" in proc.stderr
    assert cli_json(cloud, DEMO2, "server", "list", "--name", name) == []


def test_the_same_through_openstacksdk(cloud: TestCloud, demo: Session) -> None:
    conn = cloud.member.connect()
    net = conn.network.create_network(name=_name("sdk-net"))
    sub = conn.network.create_subnet(network_id=net.id, cidr="10.66.0.0/24", ip_version=4, name=_name("sdk-sub"))
    sg = conn.network.create_security_group(name=_name("sdk-sg"))
    conn.network.create_security_group_rule(
        security_group_id=sg.id, direction="ingress", protocol="tcp", port_range_min=80, port_range_max=80
    )
    port = conn.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    assert port.fixed_ips[0]["ip_address"] == "10.66.0.2" and port.security_group_ids == [sg.id]
    assert conn.network.find_network("private").subnet_ids
    assert {n.name for n in conn.network.networks(is_router_external=True)} == {"public"}
    image = conn.image.find_image(IMAGE)
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(
        name=_name("sdk-port"), image_id=image.id, flavor_id=flavor.id, networks=[{"port": port.id}]
    )
    try:
        server = conn.compute.wait_for_server(server, wait=30, interval=0.2)
        assert server.addresses[net.name][0]["addr"] == "10.66.0.2"
        bound = conn.network.get_port(port.id)
        assert bound.device_id == server.id and bound.status == "ACTIVE"
        interfaces = list(conn.compute.server_interfaces(server))
        assert [i.port_id for i in interfaces] == [port.id]
        public = conn.network.find_network("public")
        fip = conn.network.create_ip(floating_network_id=public.id)
        with pytest.raises(Exception, match="not reachable"):  # no router from net to public
            conn.network.update_ip(fip, port_id=port.id)
        conn.network.delete_ip(fip)
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.2, wait=30)
    kept = conn.network.get_port(port.id)  # pre-created: unbound, not deleted
    assert kept.device_id == "" and kept.status == "DOWN"
    conn.network.delete_port(port)
    conn.network.delete_security_group(sg)
    conn.network.delete_subnet(sub)
    conn.network.delete_network(net)
    assert conn.network.find_network(net.id) is None
    assert json.dumps(conn.network.get_quota(demo.project_id, details=True).to_dict())  # quota details answer


def test_ports_added_to_a_server_and_floating_ips_moved_between_them(cloud: TestCloud, demo: Session) -> None:
    name, spare_name = _name("vm-ports"), _name("spare")
    server = cli_json(
        cloud, DEMO, "server", "create", "--image", IMAGE, "--flavor", "m1.tiny", "--network", "private", "--wait", name
    )
    try:
        spare = cli_json(cloud, DEMO, "port", "create", "--network", "private", spare_name)
        cli(cloud, DEMO, "server", "add", "port", name, spare_name)
        ports = cli_json(cloud, DEMO, "port", "list", "--server", name)
        assert len(ports) == 2 and spare["id"] in {p["ID"] for p in ports}
        (first,) = [p for p in ports if p["ID"] != spare["id"]]
        spare_ip = spare["fixed_ips"][0]["ip_address"]
        # allocated and associated in one step, DOWN until Neutron has wired it
        fip = cli_json(cloud, DEMO, "floating", "ip", "create", "--port", spare["id"], "public")
        assert fip["port_id"] == spare["id"] and fip["fixed_ip_address"] == spare_ip and fip["status"] == "DOWN"
        address = fip["floating_ip_address"]
        wait_until(
            lambda: _with_status(cli_json(cloud, DEMO, "floating", "ip", "show", address), "ACTIVE"),
            what="the floating IP to become ACTIVE",
        )
        cli(cloud, DEMO, "floating", "ip", "unset", "--port", address)
        unset = cli_json(cloud, DEMO, "floating", "ip", "show", address)
        assert unset["port_id"] is None and unset["fixed_ip_address"] is None
        cli(cloud, DEMO, "floating", "ip", "set", "--port", first["ID"], address)
        moved = cli_json(cloud, DEMO, "floating", "ip", "show", address)
        assert moved["port_id"] == first["ID"]
        assert moved["fixed_ip_address"] == first["Fixed IP Addresses"][0]["ip_address"]
        # Nova's ip filter matches fixed IPs (a substring, through Neutron), never floating ones
        assert name in {s["Name"] for s in cli_json(cloud, DEMO, "server", "list", "--ip", spare_ip)}
        assert name in {s["Name"] for s in cli_json(cloud, DEMO, "server", "list", "--ip", spare_ip.rsplit(".", 1)[0])}
        assert cli_json(cloud, DEMO, "server", "list", "--ip", address) == []
        # another project's port or network, or none at all: Nova's codes, and nothing attached
        other_port = cli_json(cloud, DEMO2, "port", "create", "--network", "private", _name("other"))
        other_net = cli_json(cloud, DEMO2, "network", "show", "private")["id"]
        try:
            url = f"{demo.url('compute')}/servers/{server['id']}/os-interface"
            for attachment, status, text in (
                ({"port_id": other_port["id"]}, 400, f"Port {other_port['id']} not usable for instance"),
                ({"port_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}, 404, "could not be found"),
                ({"net_id": other_net}, 404, f"Network {other_net} could not be found."),
            ):
                reply = demo.call("POST", url, {"interfaceAttachment": attachment})
                assert reply.status == status and text in json.dumps(reply.body), reply.raw
            assert len(cli_json(cloud, DEMO, "port", "list", "--server", name)) == 2
            assert cli_json(cloud, DEMO2, "port", "show", other_port["id"])["device_id"] == ""
        finally:
            cli(cloud, DEMO2, "port", "delete", other_port["id"])
        cli(cloud, DEMO, "server", "remove", "port", name, spare["id"])
        assert [p["ID"] for p in cli_json(cloud, DEMO, "port", "list", "--server", name)] == [first["ID"]]
        assert cli_json(cloud, DEMO, "port", "show", spare["id"])["device_id"] == ""  # pre-created: kept, unbound
        cli(cloud, DEMO, "floating", "ip", "delete", address)
        cli(cloud, DEMO, "port", "delete", spare["id"])
    finally:
        cli(cloud, DEMO, "server", "delete", "--wait", name)


def test_interfaces_and_floating_ips_through_openstacksdk(cloud: TestCloud, demo: Session) -> None:
    conn = cloud.member.connect()
    second = conn.network.create_network(name=_name("sdk-second"))
    conn.network.create_subnet(network_id=second.id, cidr="10.67.0.0/24", ip_version=4)
    image, flavor = conn.image.find_image(IMAGE), conn.compute.find_flavor("m1.tiny")
    private, public = conn.network.find_network("private"), conn.network.find_network("public")
    server = conn.compute.create_server(
        name=_name("sdk-ifaces"), image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": private.id}]
    )
    try:
        server = conn.compute.wait_for_server(server, wait=30, interval=0.2)
        attached = conn.compute.create_server_interface(server, net_id=second.id)
        assert attached.net_id == second.id and attached.fixed_ips[0]["ip_address"].startswith("10.67.0.")
        assert {i.net_id for i in conn.compute.server_interfaces(server)} == {private.id, second.id}
        (port,) = conn.network.ports(device_id=server.id, network_id=private.id)
        fip = conn.network.create_ip(floating_network_id=public.id)
        conn.network.update_ip(fip, port_id=port.id, fixed_ip_address=port.fixed_ips[0]["ip_address"])
        (found,) = conn.network.ips(port_id=port.id)
        assert found.floating_ip_address == fip.floating_ip_address and found.port_details["device_id"] == server.id
        wait_until(lambda: conn.network.get_ip(fip).status == "ACTIVE", what="the floating IP to become ACTIVE")
        conn.network.update_ip(fip, port_id=None)
        assert list(conn.network.ips(port_id=port.id)) == []
        conn.compute.delete_server_interface(attached.port_id, server=server)
        assert [i.net_id for i in conn.compute.server_interfaces(server)] == [private.id]
        assert conn.network.find_port(attached.port_id) is None  # made by Nova: deleted with the interface
        conn.network.delete_ip(fip)
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.2, wait=30)
    conn.network.delete_network(second)
