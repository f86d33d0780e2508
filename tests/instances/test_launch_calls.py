"""The launch form's cloud calls, with Networking (Neutron) in the catalog: its networks, the project's security
groups and Neutron's quota with usage cost one round trip (three GETs at once, the lists following Neutron's pages),
then one more for the subnets of the networks listed (filtered by `network_id`), the rest of the form is unchanged.
An admin's networks are asked for by filters (the project's, the shared, the external), never the whole cloud's."""

from __future__ import annotations

import pytest

from tests.instances.conftest import cloud_conn

NEUTRON_GETS = [
    "GET network /networks",
    "GET network /quotas/{project}/details",
    "GET network /security-groups?project_id=",
    "GET network /subnets?network_id=",
]


def _neutron(calls: list[str], project: str = "") -> list[str]:
    shown = [c.replace(f"/quotas/{project}/", "/quotas/{project}/") if project else c for c in calls]
    return sorted(c.split("=")[0] + "=" if "?" in c else c for c in shown if c.startswith("GET network "))


def test_opening_the_form_asks_neutron_once(member_client, cloud_calls, stratus):
    member_client.get("/instances/launch/")  # the first time also discovers the services' versions
    with cloud_calls.recording() as calls:
        response = member_client.get("/instances/launch/")
    assert response.status_code == 200, "\n".join(calls)
    if not cloud_conn().has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron) in its catalog")
    from apps.accounts.session import read

    assert _neutron(calls, read(member_client.session).project_id) == NEUTRON_GETS, calls
    # Networks, groups and quota at once: each on the process's pool of cloud-call threads, not one after another.
    first = [
        c for c in calls if c.startswith(("GET network /networks", "GET network /security-groups", "GET network /q"))
    ]
    assert all(cloud_calls.threads[c].startswith("stratus-cloud") for c in first), cloud_calls.threads
    # The subnets of the networks listed only (not every subnet of the cloud, as an admin's unfiltered list is).
    from urllib.parse import parse_qs, urlsplit

    from apps.networks.selectors import launch_networking

    (subnets_call,) = [c for c in calls if c.startswith("GET network /subnets")]
    asked = set(parse_qs(urlsplit(subnets_call.split(" ", 3)[2]).query)["network_id"])
    listed = {n.id for n in launch_networking(read(member_client.session)).networks}
    assert asked and asked == listed, (asked, listed)
    others = [c for c in calls if not c.startswith("GET network ")]
    # The rest is what the form asked before Neutron: flavors (short-cached), images, key pairs, zones, volumes,
    # limits — nothing more for networking — and, since the form offers a "Server group" (issue 19), Nova's server
    # groups: one call more, read on the pool's threads at the same time as the key pairs and zones, not after them.
    groups = [c for c in others if c.startswith("GET compute /os-server-groups")]
    assert len(groups) == 1, others
    assert cloud_calls.threads[groups[0]].startswith("stratus-cloud"), cloud_calls.threads
    assert cloud_calls.threads["GET compute /os-keypairs"].startswith("stratus-cloud"), cloud_calls.threads
    assert len(others) <= 7, others
    print(f"launch form: {len(calls)} cloud calls, of which Neutron's {len(calls) - len(others)} at once: {calls}")


def test_neutron_lists_are_followed_page_by_page(member_client, cloud_calls, stratus):
    """A Neutron with pagination_max_limit answers a page and a `networks_links` next link: the list follows it
    (here cut by `limit=1`, which Neutron's links treat alike) and gets what one unpaged GET gets."""
    from apps.accounts.session import read
    from apps.cloud.connection import get_json, get_json_list

    if not cloud_conn().has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron) in its catalog")
    creds = read(member_client.session)
    whole = [n["id"] for n in get_json(creds, "network", "/networks")["networks"]]
    assert len(whole) >= 2, whole  # the project's own network and the shared one(s)
    with cloud_calls.recording() as calls:
        paged = get_json_list(creds, "/networks", "networks", {"limit": 1}, service="network")
    assert [n["id"] for n in paged] == whole
    assert len(calls) >= len(whole), calls  # one page each (and a last, empty or linkless, one)


def test_an_admins_form_asks_for_the_projects_the_shared_and_the_external_networks(admin_client, cloud_calls):
    """Neutron answers an admin every project's networks: the form asks for only what the project can use or see,
    with Neutron's filters (three lists at once), and keeps no other project's network."""
    from apps.accounts.session import read
    from apps.networks.selectors import launch_networking

    if not cloud_conn().has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron) in its catalog")
    admin_client.get("/instances/launch/")
    creds = read(admin_client.session)
    with cloud_calls.recording() as calls:
        assert admin_client.get("/instances/launch/").status_code == 200
    networks = sorted(c for c in calls if c.startswith("GET network /networks"))
    assert networks == [
        f"GET network /networks?project_id={creds.project_id}",
        "GET network /networks?router%3Aexternal=true",
        "GET network /networks?shared=true",
    ], calls
    for net in launch_networking(creds).networks:
        assert net.own or net.shared or net.external, net
