"""The Security groups pages through the Django client, with a real worker, against the cloud under test: create,
rules added and removed, delete, each an operation (Activity, its CLI); bad input refused next to the field with
nothing created (in Neutron afterwards too); Neutron's refusals reaching the person naming Networking (Neutron);
admins' Project column; a cloud without Neutron, and a Neutron without security groups."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import openstack
import pytest

from apps.operations.models import Operation, State
from tests.conftest import sign_in_client
from tests.operations.conftest import wait_op

pytestmark = [pytest.mark.worker]


def _name(prefix: str = "t-sg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def net(stratus) -> Iterator[openstack.connection.Connection]:
    """The member's openstacksdk connection; deletes the `t-sg…` groups a test leaves."""
    conn = openstack.connect(cloud=stratus.member.name)
    if not conn.has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron)")
    yield conn
    for group in conn.network.security_groups(project_id=conn.current_project_id):
        if (group.name or "").startswith("t-sg"):
            try:
                conn.network.delete_security_group(group)
            except openstack.exceptions.SDKException:
                pass


def _groups(conn, name: str) -> list:
    return list(conn.network.security_groups(name=name, project_id=conn.current_project_id))


def _last_op(kind: str) -> Operation:
    return Operation.objects.filter(kind=kind).order_by("-created_at").first()


def _errors(html: str) -> dict[str, str]:
    """The messages next to fields: {field id: text}."""
    return {m[0]: re.sub(r"<[^>]+>", "", m[1]).strip() for m in re.findall(r'id="id_(\w+)-error"[^>]*>(.*?)</p>', html)}


def test_a_member_creates_a_group_adds_rules_removes_one_and_deletes_it(worker, member_client, net) -> None:
    name = _name()
    response = member_client.post("/network/security-groups/create/", {"name": name, "description": "web tier"})
    assert response.status_code == 302 and response["Location"] == "/network/security-groups/"
    op = _last_op("security_group.create")
    # The list shows it at once: being created (and polling until it is made), or made already.
    page = member_client.get("/network/security-groups/").content.decode()
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    assert ("Creating…" in page and 'hx-trigger="every 2s' in page) or f'data-group="{op.target_id}"' in page
    (group,) = _groups(net, name)
    assert group.description == "web tier" and op.target_id == group.id
    page = member_client.get("/network/security-groups/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="groups-body")
    assert page.status_code == 286 and f'data-group="{group.id}"' in page.content.decode()  # calm: stop polling

    # SSH by its preset, and a custom UDP range from a CIDR
    url = f"/network/security-groups/{group.id}/"
    assert member_client.post(url + "rules/", {"preset": "ssh", "remote": "cidr", "cidr": ""}).status_code == 302
    ssh_op = wait_op(_last_op("security_group_rule.create").id)
    custom = {
        "preset": "custom",
        "direction": "ingress",
        "protocol": "udp",
        "port_min": "8000",
        "port_max": "8080",
        "remote": "cidr",
        "cidr": "203.0.113.0/24",
        "description": "statsd",
    }
    assert member_client.post(url + "rules/", custom).status_code == 302
    custom_op = wait_op(_last_op("security_group_rule.create").id)
    assert (ssh_op.state, custom_op.state) == (State.SUCCEEDED, State.SUCCEEDED), (ssh_op.message, custom_op.message)
    rules = {
        (r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix)
        for r in net.network.security_group_rules(security_group_id=group.id, direction="ingress")
    }
    assert rules == {("tcp", 22, 22, "0.0.0.0/0"), ("udp", 8000, 8080, "203.0.113.0/24")}
    html = member_client.get(url).content.decode()
    assert "8000–8080" in html and "203.0.113.0/24" in html and "statsd" in html
    assert 'id="rules-body" hx-get' not in html  # nothing pending: no poll

    # The equivalent commands on Activity
    detail = member_client.get(f"/activity/{custom_op.id}/").content.decode()
    assert (
        "openstack security group rule create --ingress --ethertype IPv4 --protocol udp --dst-port 8000:8080 "
        f"--remote-ip 203.0.113.0/24 --description statsd {group.id}"
    ) in detail
    assert (
        f"openstack security group create --description &#x27;web tier&#x27; {name}"
        in member_client.get(f"/activity/{op.id}/").content.decode()
    )

    # remove the UDP rule
    udp = next(r for r in net.network.security_group_rules(security_group_id=group.id) if r.protocol == "udp")
    assert member_client.post(url + f"rules/{udp.id}/delete/").status_code == 302
    assert wait_op(_last_op("security_group_rule.delete").id).state == State.SUCCEEDED
    assert net.network.find_security_group_rule(udp.id) is None
    assert "8000–8080" not in member_client.get(url).content.decode()

    # delete the group
    assert member_client.post(url + "delete/").status_code == 302
    deleted = wait_op(_last_op("security_group.delete").id)
    assert deleted.state == State.SUCCEEDED, deleted.message
    assert _groups(net, name) == []
    assert "openstack security group delete" in member_client.get(f"/activity/{deleted.id}/").content.decode()
    assert f'data-group="{group.id}"' not in member_client.get("/network/security-groups/").content.decode()


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_made(member_client, net) -> None:
    for data, field, text in (
        ({"name": ""}, "name", "Give the security group a name."),
        ({"name": "   "}, "name", "Give the security group a name."),
        ({"name": "default"}, "name", "named “default” already"),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
    ):
        response = member_client.post("/network/security-groups/create/", data)
        assert response.status_code == 400, data
        assert text in _errors(response.content.decode()).get(field, ""), (data, _errors(response.content.decode()))
    assert not Operation.objects.filter(kind="security_group.create").exists()

    group = net.network.create_security_group(name=_name(), description="bad input")
    before = {r.id for r in net.network.security_group_rules(security_group_id=group.id)}
    url = f"/network/security-groups/{group.id}/rules/"
    custom = {"preset": "custom", "direction": "ingress", "protocol": "tcp", "remote": "cidr"}
    for data, field, text in (
        ({**custom, "port_min": "22", "cidr": "10.0.0.0/33"}, "cidr", "is not an IP range"),
        ({**custom, "port_min": "22", "cidr": "not-a-cidr"}, "cidr", "is not an IP range"),
        ({**custom, "port_min": "1", "port_max": "70000"}, "port_max", "from 0 to 65535"),
        ({**custom, "port_min": "70000"}, "port_min", "from 0 to 65535"),
        ({**custom, "port_min": "90", "port_max": "80"}, "port_max", "ends before it starts"),
        ({**custom, "port_max": "80"}, "port_min", "first port"),
        ({**custom, "port_min": "22", "cidr": "2001:db8::/32", "ethertype": "IPv4"}, "cidr", "is an IPv6 range"),
        ({**custom, "port_min": "22", "cidr": "10.0.0.0/8", "ethertype": "IPv6"}, "cidr", "is an IPv4 range"),
        ({**custom, "protocol": "300"}, "protocol", "from 0 to 255"),
        ({**custom, "protocol": "bogus"}, "protocol", "Use tcp, udp, icmp, any"),
        ({**custom, "protocol": "any", "port_min": "22"}, "port_min", "Ports need a protocol"),
        ({**custom, "protocol": "icmp", "port_min": "300"}, "port_min", "from 0 to 255"),
        ({"preset": "ssh", "remote": "group", "remote_group": ""}, "remote_group", "Choose the group"),
        ({"preset": "ssh", "remote": "group", "remote_group": str(uuid.uuid4())}, "remote_group", "valid choice"),
        ({"preset": "nope", "remote": "cidr"}, "preset", "valid choice"),
    ):
        response = member_client.post(url, data)
        assert response.status_code == 400, data
        errors = _errors(response.content.decode())
        assert text in errors.get(field, ""), (data, errors)
    assert not Operation.objects.filter(kind="security_group_rule.create").exists()
    assert {r.id for r in net.network.security_group_rules(security_group_id=group.id)} == before  # nothing made


def test_neutrons_refusals_reach_the_person_naming_neutron(worker, member_client, net, stratus) -> None:
    group = net.network.create_security_group(name=_name())
    url = f"/network/security-groups/{group.id}/"
    net.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22
    )
    # the same rule again (0.0.0.0/0 is "any" for Neutron): 409 SecurityGroupRuleExists
    member_client.post(url + "rules/", {"preset": "ssh", "remote": "cidr", "cidr": "0.0.0.0/0"})
    op = wait_op(_last_op("security_group_rule.create").id)
    assert op.state == State.FAILED
    assert op.display_message.startswith("Networking (Neutron): Security group rule already exists")
    assert op.attempts == 1  # a refusal is not retried
    # a group in use: 409, said with what to do
    server = _boot_with_group(net, stratus, group)
    try:
        member_client.post(url + "delete/")
        op = wait_op(_last_op("security_group.delete").id)
        assert op.state == State.FAILED and op.display_message.startswith("Networking (Neutron) will not delete")
        assert f"Security Group {group.id} in use." in op.display_message
        page = member_client.get("/network/security-groups/").content.decode()
        row = re.search(rf'<tr data-group="{group.id}".*?</tr>', page, re.S).group(0)
        assert re.search(r'<td class="num">1</td>', row), row  # in use by one instance
    finally:
        net.compute.delete_server(server)
        net.compute.wait_for_delete(server, interval=0.2, wait=60)


def _boot_with_group(conn, stratus, group):
    usable = [n for n in conn.network.networks() if n.project_id == conn.current_project_id or n.is_shared]
    image = conn.image.find_image(stratus.image_name)
    flavor = conn.compute.find_flavor(stratus.small_flavor)
    server = conn.compute.create_server(
        name=_name("t-sgvm"),
        image_id=image.id,
        flavor_id=flavor.id,
        networks=[{"uuid": usable[0].id}],
        security_groups=[{"name": group.id}],
    )
    return conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=120)


@pytest.mark.devcloud_only
def test_over_quota_is_neutrons_message(worker, member_client, net, devcloud) -> None:
    admin = openstack.connect(cloud=devcloud.admin.name)
    project = net.current_project_id
    used = len(list(net.network.security_groups(project_id=project)))
    admin.network.update_quota(project, security_groups=used)
    try:
        page = member_client.get("/network/security-groups/").content.decode()
        assert f"Security groups: {used} of {used}" in page
        member_client.post("/network/security-groups/create/", {"name": _name()})
        op = wait_op(_last_op("security_group.create").id)
        assert op.state == State.FAILED
        assert op.display_message == "Networking (Neutron): Quota exceeded for resources: ['security_group']."
    finally:
        admin.network.delete_quota(project)


def test_an_admin_sees_every_projects_groups_with_their_project(admin_client, stratus, net) -> None:
    mine = net.network.create_security_group(name=_name())
    own = admin_client.get("/network/security-groups/").content.decode()
    assert f'data-group="{mine.id}"' not in own and '<th scope="col">Project</th>' not in own
    every = admin_client.get("/network/security-groups/?project=all").content.decode()
    row = re.search(rf'<tr data-group="{mine.id}".*?</tr>', every, re.S)
    assert row and '<th scope="col">Project</th>' in every
    assert net.current_project_id[:10] in row.group(0) or stratus.member.project_name in row.group(0)
    # a member never sees the admin's tabs, nor another project's groups
    member = sign_in_client(type(admin_client)(), stratus.member)
    assert "?project=all" not in member.get("/network/security-groups/").content.decode()


@pytest.mark.devcloud_only
def test_a_neutron_without_security_groups_says_so(member_client, devcloud, net) -> None:
    devcloud.control("faults", method="DELETE")
    devcloud.control(
        "faults",
        {
            "service": "network",
            "method": "GET",
            "path": "^/v2.0/security-groups",
            "status": 404,
            "count": 100,
            "message": "The resource could not be found.",
        },
    )
    try:
        page = member_client.get("/network/security-groups/")
        assert page.status_code == 200 and "has no security groups" in page.content.decode()
    finally:
        devcloud.control("faults", method="DELETE")


@pytest.mark.devcloud_only
def test_a_cloud_without_neutron_has_no_security_group_pages(db, devcloud) -> None:
    from django.test import Client

    devcloud.control("catalog", {"omit": ["network"]})
    try:
        client = sign_in_client(Client(), devcloud.member)
        overview = client.get("/overview/").content.decode()
        assert "/network/security-groups/" not in overview  # no nav entry
        page = client.get("/network/security-groups/")
        assert page.status_code == 404 and "no Networking service (Neutron)" in page.content.decode()
        assert client.post("/network/security-groups/create/", {"name": "t-sg-x"}).status_code == 404
        assert not Operation.objects.exists()
    finally:
        devcloud.control("catalog", {"omit": []})
