"""Fixtures of the Networking tests: the member's openstacksdk connections (its project and its second one), a
server on the project's network, and a second network to attach."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import openstack
import pytest

from tests.cloudharness import project_lock
from tests.waiting import wait_until


@pytest.fixture
def net_conn(stratus) -> Iterator[openstack.connection.Connection]:
    """The member's openstacksdk (project demo), skipping clouds without Neutron; cleans up `t-` servers and the
    floating IPs a test made."""
    with project_lock(stratus):
        conn = openstack.connect(cloud=stratus.member.name)
        if not conn.has_service("network"):
            pytest.skip("this cloud has no Networking service (Neutron)")
        fips_before = {f.id for f in conn.network.ips(project_id=conn.current_project_id)}
        yield conn
        delete_test_servers(conn)
        for fip in conn.network.ips(project_id=conn.current_project_id):
            if fip.id not in fips_before:
                conn.network.delete_ip(fip)


def delete_test_servers(conn) -> None:
    for server in conn.compute.servers():
        if (server.name or "").startswith("t-"):
            conn.compute.delete_server(server)
    wait_until(
        lambda: not [s for s in conn.compute.servers() if (s.name or "").startswith("t-")],
        what="test servers to be deleted",
    )


@pytest.fixture
def other_conn(stratus, net_conn) -> openstack.connection.Connection:
    """The same member in its second project (another project's networks, ports and floating IPs)."""
    if not stratus.second_project:
        pytest.skip("the member has no second project on this cloud")
    return openstack.connect(cloud=stratus.member.name, project_name=stratus.second_project)


def own_network(conn):
    """The project's own network with a subnet (devcloud's `private`)."""
    project = conn.current_project_id
    nets = [n for n in conn.network.networks(project_id=project) if n.subnet_ids and not n.is_router_external]
    if not nets:
        pytest.skip("the member's project has no network of its own")
    return sorted(nets, key=lambda n: n.name != "private")[0]


def external_network(conn):
    nets = list(conn.network.networks(is_router_external=True))
    if not nets:
        pytest.skip("this cloud has no external network")
    return nets[0]


@pytest.fixture
def second_network(net_conn) -> Iterator:
    name = f"t-second-{uuid.uuid4().hex[:6]}"
    net = net_conn.network.create_network(name=name)
    net_conn.network.create_subnet(network_id=net.id, cidr="10.91.0.0/24", ip_version=4, name=name)
    yield net
    delete_test_servers(net_conn)
    for port in net_conn.network.ports(network_id=net.id):
        if not (port.device_owner or "").startswith("network:"):
            net_conn.network.delete_port(port)
    net_conn.network.delete_network(net)


def boot_on(conn, name: str, network):
    from tests.cloudharness import active

    image = conn.image.find_image(active().image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(active().small_flavor, ignore_missing=False)
    server = conn.compute.create_server(
        name=name, image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": network.id}]
    )
    return conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
