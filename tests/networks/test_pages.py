"""An instance's Interfaces and Floating IPs sections, and the Floating IPs page, through the Django client with a
real worker: what the pages show, each write an operation that ends where Neutron and Nova say it should, crafted
posts naming another project's network, port or floating IP refused next to the field with nothing made."""

from __future__ import annotations

import re

import pytest

from apps.operations.models import Operation, State
from tests.networks.conftest import boot_on, external_network, own_network
from tests.operations.conftest import wait_op
from tests.waiting import wait_until

pytestmark = [pytest.mark.worker]


def _last_op(kind: str) -> Operation:
    op = Operation.objects.filter(kind=kind).order_by("-created_at").first()
    assert op is not None, f"no {kind} operation"
    return wait_op(op.id)


def _ok(op: Operation) -> Operation:
    assert op.state == State.SUCCEEDED, (op.kind, op.display_message, op.steps)
    return op


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_interfaces_and_floating_ips_of_an_instance(member_client, worker, net_conn, other_conn, second_network):
    conn = net_conn
    private, public = own_network(conn), external_network(conn)
    server = boot_on(conn, "t-nets", private)
    detail = f"/instances/{server.id}/"
    page = member_client.get(detail).content.decode()
    (port,) = conn.network.ports(device_id=server.id)
    assert 'id="interfaces"' in page and 'id="floating-ips"' in page
    assert port.fixed_ips[0]["ip_address"] in page and port.mac_address in page
    assert 'data-role="no-floating-ips"' in page

    # attach: the project's networks and free ports, never an external network
    attach = member_client.get(f"{detail}interfaces/attach/").content.decode()
    offered = _options(attach, "target")
    assert f"net:{second_network.id}" in offered and f"net:{private.id}" in offered
    assert f"net:{public.id}" not in offered
    # another project's network or port, crafted: refused next to the field, nothing attached
    foreign_net = own_network(other_conn)
    foreign_port = other_conn.network.create_port(network_id=foreign_net.id, name="t-foreign")
    try:
        for target in (f"net:{foreign_net.id}", f"port:{foreign_port.id}", f"net:{public.id}"):
            refused = member_client.post(f"{detail}interfaces/attach/", {"target": target})
            assert refused.status_code == 400 and 'id="id_target_error"' in refused.content.decode(), target
        assert not Operation.objects.filter(kind="server.attach_interface").exists()
        assert other_conn.network.get_port(foreign_port.id).device_id == ""
    finally:
        other_conn.network.delete_port(foreign_port)
    bad_ip = member_client.post(
        f"{detail}interfaces/attach/", {"target": f"net:{second_network.id}", "fixed_ip": "10.0.0.77"}
    )
    assert bad_ip.status_code == 400 and "is not in a subnet of" in bad_ip.content.decode()

    response = member_client.post(
        f"{detail}interfaces/attach/", {"target": f"net:{second_network.id}", "fixed_ip": "10.91.0.50"}
    )
    assert response.status_code == 302
    op = _ok(_last_op("server.attach_interface"))
    assert op.target_id == server.id
    interfaces = {i.net_id: i for i in conn.compute.server_interfaces(server)}
    assert set(interfaces) == {private.id, second_network.id}
    assert interfaces[second_network.id].fixed_ips[0]["ip_address"] == "10.91.0.50"
    page = member_client.get(detail).content.decode()
    assert f'data-network="{second_network.name}"' in page and "10.91.0.50" in page

    # associate: the project's free floating IPs or a new one; another project's, crafted, is refused
    foreign_fip = other_conn.network.create_ip(floating_network_id=public.id)
    try:
        form = member_client.get(f"{detail}floating-ips/associate/").content.decode()
        assert f"new:{public.id}" in _options(form, "floating_ip")
        targets = _options(form, "port")
        assert f"{port.id}|{port.fixed_ips[0]['ip_address']}" in targets and len(targets) == 2
        refused = member_client.post(
            f"{detail}floating-ips/associate/", {"floating_ip": f"fip:{foreign_fip.id}", "port": targets[0]}
        )
        assert refused.status_code == 400 and 'id="id_floating_ip_error"' in refused.content.decode()
        assert not Operation.objects.filter(kind="server.add_floating_ip").exists()
        assert other_conn.network.get_ip(foreign_fip.id).port_id is None
    finally:
        other_conn.network.delete_ip(foreign_fip)
    fixed = port.fixed_ips[0]["ip_address"]
    response = member_client.post(
        f"{detail}floating-ips/associate/", {"floating_ip": f"new:{public.id}", "port": f"{port.id}|{fixed}"}
    )
    assert response.status_code == 302
    op = _ok(_last_op("server.add_floating_ip"))
    (fip,) = conn.network.ips(port_id=port.id)
    assert (
        fip.fixed_ip_address == fixed and fip.status == "ACTIVE" and op.result["floating_ip"] == fip.floating_ip_address
    )
    page = member_client.get(detail).content.decode()
    assert f'data-address="{fip.floating_ip_address}"' in page

    # the list shows it, and finds the instance by it (Nova's ip filter alone would not)
    listed = member_client.get("/instances/").content.decode()
    assert fip.floating_ip_address in listed and fixed in listed
    found = member_client.get("/instances/", {"q": fip.floating_ip_address}).content.decode()
    assert 'data-role="floating-match"' in found and "t-nets" in found
    assert "t-nets" in member_client.get("/instances/", {"q": fixed}).content.decode()

    # the Floating IPs page: the address, its pool, the instance with a link, the fixed IP
    fips = member_client.get("/network/floating-ips/").content.decode()
    row = re.search(rf'<tr data-address="{re.escape(fip.floating_ip_address)}".*?</tr>', fips, re.S).group(0)
    assert public.name in row and f'href="/instances/{server.id}/"' in row and "t-nets" in row and fixed in row
    assert "Project</th>" not in fips  # a member sees no project column

    # disassociate and release from the instance page, detach the second interface
    response = member_client.post(f"{detail}floating-ips/{fip.id}/disassociate/", {"release": "1"})
    assert response.status_code == 302
    _ok(_last_op("server.remove_floating_ip"))
    assert conn.network.find_ip(fip.id) is None
    second_port = interfaces[second_network.id].port_id
    assert member_client.post(f"{detail}interfaces/{second_port}/detach/").status_code == 302
    _ok(_last_op("server.detach_interface"))
    assert [i.net_id for i in conn.compute.server_interfaces(server)] == [private.id]
    # not this instance's: 404
    assert member_client.post(f"{detail}interfaces/{second_port}/detach/").status_code == 404
    assert member_client.post(f"{detail}floating-ips/{fip.id}/disassociate/").status_code == 404


def test_the_floating_ips_page_allocates_associates_disassociates_and_releases(
    member_client, admin_client, worker, net_conn, other_conn
):
    conn = net_conn
    public = external_network(conn)
    server = boot_on(conn, "t-fip-page", own_network(conn))
    (port,) = conn.network.ports(device_id=server.id)
    fixed = port.fixed_ips[0]["ip_address"]
    assert (
        member_client.post(
            "/network/floating-ips/allocate/", {"network_id": public.id, "description": "t-web"}
        ).status_code
        == 302
    )
    op = _ok(_last_op("floatingip.create"))
    fip = conn.network.get_ip(op.target_id)
    assert fip.port_id is None and fip.description == "t-web" and op.target_name == fip.floating_ip_address
    page = member_client.get("/network/floating-ips/").content.decode()
    assert f'data-address="{fip.floating_ip_address}"' in page and "t-web" in page
    # another project's floating IP: 404 for every write, and nothing changes
    foreign = other_conn.network.create_ip(floating_network_id=public.id)
    try:
        for action in ("associate", "disassociate", "release"):
            assert member_client.post(f"/network/floating-ips/{foreign.id}/{action}/").status_code == 404, action
        assert other_conn.network.get_ip(foreign.id).port_id is None
    finally:
        other_conn.network.delete_ip(foreign)
    form = member_client.get(f"/network/floating-ips/{fip.id}/associate/").content.decode()
    assert f"{port.id}|{fixed}" in _options(form, "target")
    refused = member_client.post(f"/network/floating-ips/{fip.id}/associate/", {"target": "0000|10.0.0.9"})
    assert refused.status_code == 400 and 'id="id_target_error"' in refused.content.decode()
    response = member_client.post(f"/network/floating-ips/{fip.id}/associate/", {"target": f"{port.id}|{fixed}"})
    assert response.status_code == 302
    _ok(_last_op("floatingip.associate"))
    assert conn.network.get_ip(fip.id).port_id == port.id
    wait_until(
        lambda: any(
            a["addr"] == fip.floating_ip_address
            for a in conn.compute.get_server(server.id).addresses[port_network(conn, port)]
        ),
        what="Nova to show the floating IP",
    )
    # an admin sees the project column and the member's address
    admin_page = admin_client.get("/network/floating-ips/").content.decode()
    assert "Project</th>" in admin_page and fip.floating_ip_address in admin_page
    assert member_client.post(f"/network/floating-ips/{fip.id}/disassociate/").status_code == 302
    _ok(_last_op("floatingip.disassociate"))
    assert conn.network.get_ip(fip.id).port_id is None
    assert member_client.post(f"/network/floating-ips/{fip.id}/release/").status_code == 302
    _ok(_last_op("floatingip.delete"))
    assert conn.network.find_ip(fip.id) is None


def port_network(conn, port) -> str:
    return conn.network.get_network(port.network_id).name


def test_neutrons_refusals_fail_the_operation_with_a_message_naming_it(
    member_client, worker, stratus, net_conn, second_network
):
    import openstack

    conn = net_conn
    server = boot_on(conn, "t-refused", own_network(conn))
    taken = conn.network.create_port(network_id=second_network.id, fixed_ips=[{"ip_address": "10.91.0.60"}])
    # an address in use on the network: the operation says so, and nothing is attached
    response = member_client.post(
        f"/instances/{server.id}/interfaces/attach/", {"target": f"net:{second_network.id}", "fixed_ip": "10.91.0.60"}
    )
    assert response.status_code == 302
    op = _last_op("server.attach_interface")
    assert op.state == State.FAILED and op.attempts == 1
    assert op.display_message == "Networking (Neutron): the IP address 10.91.0.60 is already in use on that network."
    assert [i.net_id for i in conn.compute.server_interfaces(server)] != [second_network.id]
    assert len(list(conn.compute.server_interfaces(server))) == 1
    conn.network.delete_port(taken)
    # over the project's floating IP quota: Neutron's own words, named, and nothing allocated
    admin = openstack.connect(cloud=stratus.admin.name)
    project = conn.current_project_id
    quota = admin.network.get_quota(project).floating_ips
    used = len(list(conn.network.ips(project_id=project)))
    admin.network.update_quota(project, floating_ips=used)
    try:
        public = external_network(conn)
        assert member_client.post("/network/floating-ips/allocate/", {"network_id": public.id}).status_code == 302
        op = _last_op("floatingip.create")
        assert op.state == State.FAILED and op.attempts == 1, op.steps
        assert op.display_message.startswith("Networking (Neutron): Quota exceeded"), op.display_message
        assert len(list(conn.network.ips(project_id=project))) == used
    finally:
        admin.network.update_quota(project, floating_ips=quota)
