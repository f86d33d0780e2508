"""The launch form's cloud calls, with Networking (Neutron) in the catalog: its networks and the project's security
groups cost one round trip (two GETs at once, `get_json_lists`, each following Neutron's pages), then one more for
the subnets of the networks listed (filtered by `network_id`), the rest of the form is unchanged."""

from __future__ import annotations

import pytest

from tests.instances.conftest import cloud_conn

NEUTRON_GETS = ["GET network /networks", "GET network /security-groups?project_id=", "GET network /subnets?network_id="]


def _neutron(calls: list[str]) -> list[str]:
    return sorted(c.split("=")[0] + "=" if "?" in c else c for c in calls if c.startswith("GET network "))


def test_opening_the_form_asks_neutron_once(member_client, cloud_calls, stratus):
    member_client.get("/instances/launch/")  # the first time also discovers the services' versions
    with cloud_calls.recording() as calls:
        response = member_client.get("/instances/launch/")
    assert response.status_code == 200, "\n".join(calls)
    if not cloud_conn().has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron) in its catalog")
    assert _neutron(calls) == NEUTRON_GETS, calls
    # Networks and groups at once: each on the process's pool of cloud-call threads, not one after the other here.
    first = [c for c in calls if c.startswith(("GET network /networks", "GET network /security-groups"))]
    assert all(cloud_calls.threads[c].startswith("stratus-cloud") for c in first), cloud_calls.threads
    # The subnets of the networks listed only (not every subnet of the cloud, as an admin's unfiltered list is).
    from urllib.parse import parse_qs, urlsplit

    from apps.accounts.session import read
    from apps.networks.selectors import launch_networking

    (subnets_call,) = [c for c in calls if c.startswith("GET network /subnets")]
    asked = set(parse_qs(urlsplit(subnets_call.split(" ", 3)[2]).query)["network_id"])
    listed = {n.id for n in launch_networking(read(member_client.session)).networks}
    assert asked and asked == listed, (asked, listed)
    others = [c for c in calls if not c.startswith("GET network ")]
    # The rest is what the form asked before Neutron: flavors (short-cached), images, key pairs, zones, volumes,
    # limits — nothing more for networking.
    assert len(others) <= 6, others
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
