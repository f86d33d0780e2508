"""The launch form's cloud calls, with Networking (Neutron) in the catalog: its networks, subnets and the project's
security groups cost one round trip (three GETs at once, `get_json_many`), the rest of the form is unchanged."""

from __future__ import annotations

import pytest

from tests.instances.conftest import cloud_conn

NEUTRON_GETS = ["GET network /networks", "GET network /security-groups?project_id=", "GET network /subnets"]


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
    # At once: each on the process's pool of cloud-call threads (get_json_many), not one after the other here.
    assert all(cloud_calls.threads[c].startswith("stratus-cloud") for c in calls if c.startswith("GET network ")), (
        cloud_calls.threads
    )
    others = [c for c in calls if not c.startswith("GET network ")]
    # The rest is what the form asked before Neutron: flavors (short-cached), images, key pairs, zones, volumes,
    # limits — nothing more for networking.
    assert len(others) <= 6, others
    print(f"launch form: {len(calls)} cloud calls, of which Neutron's {len(calls) - len(others)} at once: {calls}")
