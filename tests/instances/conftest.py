from __future__ import annotations

from collections.abc import Iterator

import openstack
import pytest

from tests.cloudharness import active, project_lock
from tests.waiting import wait_until  # the instance tests import it from here


def cloud_conn(name: str | None = None):
    """openstacksdk as the member of the cloud under test (or as the clouds.yaml cloud `name`)."""
    return openstack.connect(cloud=name or active().member.name)


@pytest.fixture
def demo_conn(stratus) -> Iterator:
    """openstacksdk as the member (project demo); deletes at the end every server a test named `t-…`."""
    with project_lock(stratus):
        yield from _demo_conn()


def _demo_conn() -> Iterator:
    conn = cloud_conn()
    yield conn
    for server in conn.compute.servers():
        if server.name.startswith("t-") or server.name.startswith("<script>"):
            try:
                conn.compute.delete_server(server, force=False)
            except Exception:
                pass
    wait_until(
        lambda: not [s for s in conn.compute.servers() if s.name.startswith(("t-", "<script>"))],
        timeout=30,
        what="test servers to be deleted",
    )


def boot(conn, name: str, *, image: str | None = None, flavor: str | None = None, wait: bool = True):
    """Boot `name` from the cloud's test image and small flavor (no network), by default waiting for ACTIVE."""
    img = conn.image.find_image(image or active().image_name)
    fl = conn.compute.find_flavor(flavor or active().small_flavor)
    server = conn.compute.create_server(name=name, image_id=img.id, flavor_id=fl.id, networks="none")
    if wait:
        server = conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
    return server


def choose_a_network(page) -> None:  # a Playwright page
    """Where the project can use several networks (a real Neutron: a tenant network and a shared one), the launch
    form asks for one rather than leaving Nova an ambiguous "auto": tick the first offered (the project's own come
    first). devcloud's `demo` has one, already ticked; without Neutron there is nothing to tick."""
    offered = page.locator("#launch-networks input[name=network][type=checkbox]:not([disabled])")
    if offered.count() and not page.locator("#launch-networks input[name=network]:checked").count():
        offered.first.check()
