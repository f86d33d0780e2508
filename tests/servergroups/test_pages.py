"""The Server groups page, the launch form's group and an instance's group through the Django client, with a real
worker, against the cloud under test: create (with a rule from microversion 2.64), list with members linked to
their instances, delete, each an operation with its `openstack` command on Activity; launch into a group
(`--hint group=`); bad input refused next to the field with nothing made; Nova's refusals (over the server groups
quota) and a launch the group's policy makes impossible (NoValidHost) failing the operation in plain words that
name the service."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apps.operations.models import Operation, State
from tests.operations.conftest import wait_op
from tests.pagehelpers import field_errors, last_op, page_text
from tests.servergroups.conftest import boot, sg_name, zone_hosts

pytestmark = [pytest.mark.worker]


def _row(page: str, group_id: str) -> str:
    found = re.search(rf'<tr id="group-{group_id}".*?</tr>', page, re.S)
    assert found is not None, page
    return found.group(0)


def _group(conn: Any, group_id: str) -> dict[str, Any]:
    """Nova's group at 2.64 (policy and rules), as JSON."""
    response = conn.compute.get(f"/os-server-groups/{group_id}", microversion="2.64")
    assert response.status_code == 200, response.text
    return response.json()["server_group"]


def launch_data(conn: Any, name: str, **extra: Any) -> dict[str, Any]:
    """The launch form filled in: the test image and flavor, the project's own network where there is Neutron."""
    from tests.cloudharness import active

    image = conn.image.find_image(active().image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(active().small_flavor, ignore_missing=False)
    data: dict[str, Any] = {"name": name, "count": "1", "source": "image", "image_id": image.id,
                            "flavor_id": flavor.id}  # fmt: skip
    if conn.has_service("network"):
        own = [n for n in conn.network.networks(project_id=conn.current_project_id) if not n.is_router_external]
        data["network"] = [own[0].id] if own else "none"
        data["security_groups"] = []
    else:
        data["network"] = "none"
    return data | extra


def test_a_member_creates_lists_and_deletes_groups(worker, member_client, sg_conn) -> None:
    conn = sg_conn
    page = page_text(member_client.get("/server-groups/"))
    assert 'href="/server-groups/"' in page and "openstack server group list --long" in page

    form = page_text(member_client.get("/server-groups/create/"))
    assert "openstack server group create --policy anti-affinity <name>" in form
    for policy in ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"):
        assert f'value="{policy}"' in form

    # anti-affinity with a rule (Nova 2.64's body: policy + rules)
    ruled = sg_name()
    data = {"name": ruled, "policy": "anti-affinity", "max_server_per_host": "2"}
    response = member_client.post("/server-groups/create/", data)
    assert response.status_code == 302 and response["Location"] == "/server-groups/"
    op = wait_op(last_op("server_group.create").id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    made = _group(conn, op.target_id)
    assert (made["name"], made["policy"], made["rules"]) == (ruled, "anti-affinity", {"max_server_per_host": 2})
    activity = page_text(member_client.get(f"/activity/{op.id}/"))
    expected = (
        "openstack --os-compute-api-version 2.64 server group create --policy anti-affinity "
        f"--rule max_server_per_host=2 {ruled}"
    )
    assert expected in activity

    # affinity, no rule
    together = sg_name()
    assert member_client.post("/server-groups/create/", {"name": together, "policy": "affinity"}).status_code == 302
    op2 = wait_op(last_op("server_group.create").id)
    assert op2.state == State.SUCCEEDED, op2.message
    assert (_group(conn, op2.target_id)["policy"], _group(conn, op2.target_id)["rules"]) == ("affinity", {})

    # a member: its name links to its instance page
    server = boot(conn, sg_name("t-sgvm"), group_id=op.target_id)
    listing = page_text(member_client.get("/server-groups/"))
    row = _row(listing, op.target_id)
    assert "Anti-affinity" in row and "max_server_per_host=2" in row
    assert f'<a href="/instances/{server.id}/">{server.name}</a>' in row
    assert "no members yet" in _row(listing, op2.target_id) and "Affinity" in _row(listing, op2.target_id)
    assert f"Delete the server group {ruled}? Its 1 member keeps running" in row  # the confirmation
    calm = member_client.get("/server-groups/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="group-table")
    assert calm.status_code == 286  # nothing in progress: the table stops polling

    # the instance's page names its group (Nova gives it with the server from 2.71)
    detail = page_text(member_client.get(f"/instances/{server.id}/"))
    found = re.search(r'data-role="server-group">(.*?)</dd>', detail, re.S)
    assert found is not None and ruled in found.group(1) and "Anti-affinity" in found.group(1), detail

    # delete both; the member stays where it is
    for group_id in (op.target_id, op2.target_id):
        assert member_client.post(f"/server-groups/{group_id}/delete/").status_code == 302
        deleted = wait_op(last_op("server_group.delete").id)
        assert deleted.state == State.SUCCEEDED, deleted.message
        assert conn.compute.find_server_group(group_id) is None
    assert f"openstack server group delete {op2.target_id}" in page_text(member_client.get(f"/activity/{deleted.id}/"))
    listing = page_text(member_client.get("/server-groups/"))
    assert ruled not in listing and together not in listing
    assert conn.compute.get_server(server.id).status == "ACTIVE"
    assert 'data-role="server-group"' not in page_text(member_client.get(f"/instances/{server.id}/"))


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_made(worker, member_client, sg_conn) -> None:
    before = {g.id for g in sg_conn.compute.server_groups()}
    cases = [
        ({"name": "  ", "policy": "affinity"}, "name", "Give the server group a name."),
        ({"name": "", "policy": "affinity"}, "name", "This field is required."),
        ({"name": " lead", "policy": "affinity"}, "name", "A name cannot start or end with a space."),
        ({"name": sg_name(), "policy": "nearby"}, "policy", "Select a valid choice. nearby is not one of"),
        ({"name": sg_name(), "policy": "affinity", "max_server_per_host": "2"}, "max_server_per_host",
         "Only the anti-affinity policy takes this rule"),
        ({"name": sg_name(), "policy": "soft-anti-affinity", "max_server_per_host": "3"}, "max_server_per_host",
         "Only the anti-affinity policy takes this rule"),
        ({"name": sg_name(), "policy": "anti-affinity", "max_server_per_host": "0"}, "max_server_per_host",
         "greater than or equal to 1"),
    ]  # fmt: skip
    for data, field, words in cases:
        response = member_client.post("/server-groups/create/", data)
        assert response.status_code == 400, data
        assert words in field_errors(page_text(response)).get(field, ""), (data, field_errors(page_text(response)))
    assert not Operation.objects.filter(kind="server_group.create").exists()
    assert {g.id for g in sg_conn.compute.server_groups()} == before


def test_over_the_quota_nova_refuses_in_its_words(worker, member_client, sg_conn, admin_conn) -> None:
    project = sg_conn.current_project_id
    used = len(list(sg_conn.compute.server_groups()))
    admin_conn.compute.update_quota_set(project, server_groups=used)
    try:
        name = sg_name()
        assert (
            member_client.post("/server-groups/create/", {"name": name, "policy": "anti-affinity"}).status_code == 302
        )
        op = wait_op(last_op("server_group.create").id)
        assert op.state == State.FAILED
        assert op.display_message.startswith("Compute (Nova): "), op.display_message
        assert "Quota exceeded" in op.display_message and "server groups" in op.display_message, op.display_message
        assert name not in [g.name for g in sg_conn.compute.server_groups()]
    finally:
        admin_conn.compute.revert_quota_set(project)


def test_launch_into_a_group_and_a_launch_its_policy_makes_impossible(
    worker, member_client, sg_conn, admin_conn
) -> None:
    """The launch form offers the project's groups and sends the `group` hint; once every host of the zone runs a
    member of an anti-affinity group, the next launch into it fails: Nova's NoValidHost, in plain words."""
    conn = sg_conn
    zone, hosts = zone_hosts(admin_conn)
    group = conn.compute.create_server_group(name=sg_name(), policy="anti-affinity")
    form = page_text(member_client.get("/instances/launch/"))
    assert f'<option value="{group.id}">{group.name} (Anti-affinity)</option>' in form
    picked = page_text(member_client.get(f"/instances/launch/?server_group={group.id}"))
    assert f"--hint group={group.id}" in picked

    name = sg_name("t-sgl")
    data = launch_data(conn, name, count=str(len(hosts) + 1), availability_zone=zone, server_group=group.id)
    response = member_client.post("/instances/launch/", data)
    assert response.status_code == 302, page_text(response)[:2000]
    ops = [wait_op(op.id, timeout=180) for op in Operation.objects.filter(kind="server.launch")]
    assert len(ops) == len(hosts) + 1
    done = [op for op in ops if op.state == State.SUCCEEDED]
    failed = [op for op in ops if op.state == State.FAILED]
    assert len(done) == len(hosts) and len(failed) == 1, [(op.target_name, op.state, op.message) for op in ops]
    placed = sorted(admin_conn.compute.get_server(op.target_id).compute_host for op in done)
    assert placed == hosts  # one member on each host of the zone
    assert sorted(conn.compute.get_server_group(group.id).member_ids) == sorted(op.target_id for op in ops)

    message = failed[0].display_message
    assert message.startswith(f"No host could take {failed[0].target_name} without breaking the rule of its server "
                              f"group {group.name} (anti-affinity"), message  # fmt: skip
    assert "Nova said: No valid host was found" in message, message
    activity = page_text(member_client.get(f"/activity/{failed[0].id}/"))
    assert f"--hint group={group.id}" in activity and "No host could take" in activity
    listing = _row(page_text(member_client.get("/server-groups/")), group.id)
    for op in done:
        assert f'href="/instances/{op.target_id}/"' in listing
