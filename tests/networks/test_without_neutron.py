"""A cloud without Networking (Neutron) in its catalog (devcloud's catalog told to leave it out): no Interfaces or
Floating IPs sections, no Floating IPs page or navigation entry, and the instance pages work as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from tests.conftest import sign_in_client
from tests.instances.conftest import boot


@pytest.fixture
def no_neutron(stratus, devcloud, db) -> Iterator[Client]:
    """A member signed in while devcloud's catalog has no `network` service (restored afterwards)."""
    devcloud.control("catalog", {"omit": ["network"]})
    try:
        yield sign_in_client(Client(), devcloud.member)
    finally:
        devcloud.control("catalog", {"omit": []})


def test_no_network_sections_page_or_nav_without_neutron(net_conn, no_neutron):
    client = no_neutron
    server = boot(net_conn, "t-no-neutron")
    detail = client.get(f"/instances/{server.id}/")
    html = detail.content.decode()
    assert detail.status_code == 200 and "t-no-neutron" in html
    assert 'id="interfaces"' not in html and 'id="floating-ips"' not in html
    assert "/network/floating-ips/" not in client.get("/overview/").content.decode()
    for url in (
        "/network/floating-ips/",
        "/network/floating-ips/allocate/",
        f"/instances/{server.id}/interfaces/attach/",
        f"/instances/{server.id}/floating-ips/associate/",
    ):
        assert client.get(url).status_code == 404, url
    # the list's IP search asks Nova alone (no Neutron to look a floating IP up in)
    listed = client.get("/instances/", {"q": "172.24.4.10"})
    assert listed.status_code == 200 and 'data-role="floating-match"' not in listed.content.decode()
    assert client.get("/instances/launch/").status_code == 200


def test_the_network_pages_are_offered_with_neutron(member_client):
    assert 'href="/network/floating-ips/"' in member_client.get("/overview/").content.decode()
