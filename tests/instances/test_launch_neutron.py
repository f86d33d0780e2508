"""The launch form and Neutron's answers: its port quota (one port per network chosen, per instance) in the form's
table and refused before anything is made; a Neutron without security groups offers none and says why."""

from __future__ import annotations

import re

import openstack
import pytest

from apps.operations.models import Operation


def _row(html: str, key: str) -> str:
    match = re.search(rf'<tr class="[^"]*" data-quota="{key}">.*?</tr>', html, re.S)
    return match.group(0) if match else ""


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]


def test_the_form_shows_neutrons_ports_with_their_use(member_client, stratus) -> None:
    conn = openstack.connect(cloud=stratus.member.name)
    if not conn.has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron)")
    quota = conn.network.get_quota(conn.current_project_id, details=True)
    html = member_client.get("/instances/launch/").content.decode()
    row = _row(html, "port")
    assert row, "no ports row"
    ports = quota.ports if isinstance(quota.ports, dict) else {"used": None, "limit": quota.ports}
    cells = _cells(row)
    assert cells[0] == "Ports (Neutron)" and cells[1] == str(ports["used"]), cells
    # live: two instances on the chosen network(s) make two ports each network
    usable = [n for n in conn.network.networks() if n.project_id == conn.current_project_id or n.is_shared]
    query = {"live": "1", "count": "2", "network": [usable[0].id], "source": "image"}
    live = member_client.get("/instances/launch/", query, HTTP_HX_REQUEST="true").content.decode()
    assert _cells(_row(live, "port"))[2] == "+2", _row(live, "port")


@pytest.mark.devcloud_only
def test_a_launch_over_the_port_quota_is_refused_on_the_form(member_client, devcloud) -> None:
    conn = openstack.connect(cloud=devcloud.member.name)
    admin = openstack.connect(cloud=devcloud.admin.name)
    project = conn.current_project_id
    used = len(list(conn.network.ports(project_id=project)))
    admin.network.update_quota(project, ports=used + 1)
    try:
        network = next(n for n in conn.network.networks() if n.project_id == project)
        image = conn.image.find_image(devcloud.image_name)
        flavor = conn.compute.find_flavor(devcloud.small_flavor)
        data = {
            "name": "t-ports",
            "count": "2",
            "source": "image",
            "image_id": image.id,
            "flavor_id": flavor.id,
            "network": [network.id],
            "security_groups": [],
        }
        response = member_client.post("/instances/launch/", data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "Maximum number of ports exceeded" in html and "over quota" in _row(html, "port")
        assert not Operation.objects.filter(kind="server.launch").exists()
    finally:
        admin.network.delete_quota(project)


@pytest.mark.devcloud_only
def test_a_neutron_without_security_groups_offers_none_and_says_why(member_client, devcloud) -> None:
    devcloud.control("faults", method="DELETE")
    fault = {"service": "network", "method": "GET", "path": "^/v2.0/security-groups", "status": 404, "count": 50}
    devcloud.control("faults", {**fault, "message": "The resource could not be found."})
    try:
        response = member_client.get("/instances/launch/")
        html = response.content.decode()
        assert response.status_code == 200, html[:500]
        assert 'name="security_groups"' not in html and 'id="security-groups-note"' in html
        assert "has none (its security-group extension is off)" in html
        assert 'name="network"' in html  # networks are still offered
    finally:
        devcloud.control("faults", method="DELETE")
