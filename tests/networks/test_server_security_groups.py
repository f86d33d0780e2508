"""An instance's Security groups section (its Overview tab) through the Django client with a real worker: the groups
on its ports with their rules in short, a group added and removed (Nova's addSecurityGroup/removeSecurityGroup as
instance operations, checked on the ports in Neutron), groups of one name told apart by id, a group that is not
the project's refused, and an instance without an interface."""

from __future__ import annotations

import re
import uuid

import pytest

from apps.operations.models import Operation, State
from tests.networks.conftest import boot_on, own_network
from tests.operations.conftest import wait_op

pytestmark = [pytest.mark.worker]


def _section(html: str) -> str:
    match = re.search(r'<section class="card" id="security-groups".*?</section>', html, re.S)
    assert match, "no Security groups section"
    return match.group(0)


def _port_groups(conn, server_id: str) -> set[str]:
    (port,) = conn.network.ports(device_id=server_id)
    return set(port.security_group_ids)


def test_a_group_is_added_to_an_instance_and_removed(worker, member_client, net_conn) -> None:
    conn = net_conn
    name = f"t-sgweb-{uuid.uuid4().hex[:6]}"
    web = conn.network.create_security_group(name=name)
    twin = conn.network.create_security_group(name=name)  # Neutron allows it: the page tells them apart by id
    conn.network.create_security_group_rule(
        security_group_id=web.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22
    )
    try:
        server = boot_on(conn, f"t-sgvm-{uuid.uuid4().hex[:6]}", own_network(conn))
        default = next(conn.network.security_groups(name="default", project_id=conn.current_project_id))
        assert _port_groups(conn, server.id) == {default.id}
        section = _section(member_client.get(f"/instances/{server.id}/").content.decode())
        assert f'data-group="{default.id}"' in section and f'href="/network/security-groups/{default.id}/"' in section
        assert f'<option value="{web.id}">{name} ({web.id[:8]})</option>' in section
        assert f'<option value="{twin.id}">{name} ({twin.id[:8]})</option>' in section

        response = member_client.post(f"/instances/{server.id}/security-groups/add/", {"group_id": web.id})
        assert response.status_code == 302 and response["Location"] == f"/instances/{server.id}/"
        op = wait_op(Operation.objects.get(kind="server.add_security_group").id)
        assert op.state == State.SUCCEEDED, (op.message, op.steps)
        assert _port_groups(conn, server.id) == {default.id, web.id}
        section = _section(member_client.get(f"/instances/{server.id}/").content.decode())
        assert f'data-group="{web.id}"' in section and "TCP 22 from 0.0.0.0/0" in section
        # the name is not unique in the project: the command names the group by id
        detail = member_client.get(f"/activity/{op.id}/").content.decode()
        assert f"openstack server add security group {server.id} {web.id}" in detail

        response = member_client.post(f"/instances/{server.id}/security-groups/{web.id}/remove/")
        assert response.status_code == 302
        op = wait_op(Operation.objects.get(kind="server.remove_security_group").id)
        assert op.state == State.SUCCEEDED, (op.message, op.steps)
        assert _port_groups(conn, server.id) == {default.id}
        assert f'data-group="{web.id}"' not in _section(member_client.get(f"/instances/{server.id}/").content.decode())
        assert (
            f"openstack server remove security group {server.id} {web.id}"
            in member_client.get(f"/activity/{op.id}/").content.decode()
        )
    finally:
        from tests.networks.conftest import delete_test_servers

        delete_test_servers(conn)
        conn.network.delete_security_group(web)
        conn.network.delete_security_group(twin)


def test_a_group_that_is_not_the_projects_is_refused(member_client, net_conn, other_conn) -> None:
    conn = net_conn
    foreign = other_conn.network.create_security_group(name=f"t-sgother-{uuid.uuid4().hex[:6]}")
    try:
        server = boot_on(conn, f"t-sgvm-{uuid.uuid4().hex[:6]}", own_network(conn))
        for group_id in (foreign.id, str(uuid.uuid4()), ""):
            response = member_client.post(
                f"/instances/{server.id}/security-groups/add/", {"group_id": group_id}, follow=True
            )
            assert "Choose one of the project&#x27;s security groups that the instance does not have." in (
                response.content.decode()
            )
        assert member_client.post(f"/instances/{server.id}/security-groups/{foreign.id}/remove/").status_code == 404
        assert not Operation.objects.filter(kind__contains="security_group").exists()
        assert foreign.id not in _port_groups(conn, server.id)
    finally:
        other_conn.network.delete_security_group(foreign)


def test_an_instance_without_an_interface_says_groups_have_nothing_to_apply_to(member_client, net_conn) -> None:
    from tests.instances.conftest import boot

    server = boot(net_conn, f"t-sgnone-{uuid.uuid4().hex[:6]}")  # networks "none"
    section = _section(member_client.get(f"/instances/{server.id}/").content.decode())
    assert "this instance has none" in section and 'name="group_id"' not in section
