"""A tour of every page, signed in as a member and as an admin, with data on each (servers, a snapshot, a key
pair, an operation): the phone-width layout test, the accessibility check and `make screenshots` walk it.

The cloud's resources are made once per module (`tour_cloud`, straight through openstacksdk: these tests are not
about making them); the operation shown on the Activity pages is made per test through the dashboard itself and
run by a real worker, since the test database is emptied after each test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openstack
import pytest
from django.test import Client

from tests.cloudharness import TestCloud, project_lock, server_networks
from tests.conftest import sign_in_client, sign_in_page
from tests.waiting import wait_until

PREFIX = "tour-"

# axe-core, for the tests only (see tests/browser/assets/axe-core/README.md and test_accessibility.py).
AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
  }));
}"""


@dataclass
class TourCloud:
    server_id: str  # ACTIVE, with the key pair
    stopped_id: str  # SHUTOFF
    snapshot_id: str
    keypair: str
    flavor_id: str  # the small flavor
    hypervisor_id: str | None
    op_id: str = ""  # set per test by `tour_operation`
    extra: dict[str, str] = field(default_factory=dict)


def _wait(check, what: str, timeout: float = 90):
    return wait_until(check, timeout=timeout, what=what)


@pytest.fixture(scope="module")
def tour_cloud(cloud: TestCloud) -> Iterator[TourCloud]:
    """Three servers on the cloud's network (two running, one with a key pair, and one stopped), a snapshot and a
    key pair in the member's project; removed afterwards."""
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    with project_lock(cloud, PREFIX):
        conn = openstack.connect(cloud=cloud.member.name)
        flavor = conn.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
        image = conn.image.find_image(cloud.image_name, ignore_missing=False)
        key = conn.compute.find_keypair(f"{PREFIX}key") or conn.compute.create_keypair(name=f"{PREFIX}key", type="ssh")
        nets = server_networks(conn)
        other = conn.compute.find_flavor((cloud.resize_flavors or (cloud.small_flavor,))[-1], ignore_missing=False)
        web = conn.compute.create_server(
            name=f"{PREFIX}web-1", image_id=image.id, flavor_id=flavor.id, networks=nets, key_name=key.name
        )
        web2 = conn.compute.create_server(name=f"{PREFIX}web-2", image_id=image.id, flavor_id=other.id, networks=nets)
        db = conn.compute.create_server(name=f"{PREFIX}db-1", image_id=image.id, flavor_id=flavor.id, networks=nets)
        web = conn.compute.wait_for_server(web, status="ACTIVE", interval=0.2, wait=120)
        web2 = conn.compute.wait_for_server(web2, status="ACTIVE", interval=0.2, wait=120)
        db = conn.compute.wait_for_server(db, status="ACTIVE", interval=0.2, wait=120)
        conn.compute.stop_server(db)
        conn.compute.wait_for_server(db, status="SHUTOFF", interval=0.2, wait=120)
        snap = conn.compute.create_server_image(web, f"{PREFIX}web-snapshot", wait=False)
        _wait(lambda: conn.image.get_image(snap.id).status == "active", "the snapshot to be active")
        extra = _floating_ip_for(conn, web.id)
        hypervisor_id = None
        try:
            admin = openstack.connect(cloud=cloud.admin.name)
            hypervisor_id = next(iter(admin.compute.hypervisors()), None)
            hypervisor_id = hypervisor_id.id if hypervisor_id else None
            admin.close()
        except openstack.exceptions.SDKException:
            pass
        try:
            yield TourCloud(
                server_id=web.id,
                stopped_id=db.id,
                snapshot_id=snap.id,
                keypair=key.name,
                flavor_id=flavor.id,
                hypervisor_id=hypervisor_id,
                extra=extra,
            )
        finally:
            if extra.get("floating_ip_id"):
                conn.network.delete_ip(extra["floating_ip_id"], ignore_missing=True)
            for s in (web, web2, db):
                try:
                    conn.compute.delete_server(s, ignore_missing=True)
                except openstack.exceptions.SDKException:
                    pass
            for s in (web, web2, db):
                try:
                    conn.compute.wait_for_delete(s, interval=0.2, wait=60)
                except openstack.exceptions.SDKException:
                    pass
            for cleanup in (
                lambda: conn.image.delete_image(snap.id, ignore_missing=True),
                lambda: conn.compute.delete_keypair(key.name, ignore_missing=True),
            ):
                try:
                    cleanup()
                except openstack.exceptions.SDKException:
                    pass
            conn.close()


def _floating_ip_for(conn, server_id: str) -> dict[str, str]:
    """Where the cloud has Neutron: {"network": "1", "security_group_id": the project's default group} and, with an
    external network and a route to it, a floating IP on the server's port ({"floating_ip_id"}: the network pages
    then have a row to show); {} without Neutron."""
    if not conn.has_service("network"):
        return {}
    default = next(iter(conn.network.security_groups(name="default", project_id=conn.current_project_id)), None)
    if default is None:
        return {"network": "1"}
    found = _floating_ip_on(conn, server_id)
    return {"network": "1", "security_group_id": default.id, **found}


def _floating_ip_on(conn, server_id: str) -> dict[str, str]:
    ports = list(conn.network.ports(device_id=server_id))
    externals = list(conn.network.networks(is_router_external=True))
    if not ports or not externals:
        return {}
    try:
        fip = conn.network.create_ip(floating_network_id=externals[0].id, port_id=ports[0].id)
    except openstack.exceptions.SDKException:  # no router from the server's network to the external one
        return {}
    return {"floating_ip_id": fip.id}


@pytest.fixture
def tour(tour_cloud: TourCloud, stratus: TestCloud, worker, transactional_db) -> TourCloud:
    """The tour's cloud, plus finished operations (a soft reboot, and a start and a stop of the stopped server, made
    through the dashboard and run by the worker) so that the Activity pages have rows and a detail to show."""
    from apps.operations.models import FINAL_STATES, Operation

    client = sign_in_client(Client(), stratus.member)
    for server_id, action in (
        (tour_cloud.server_id, "reboot_soft"),
        (tour_cloud.stopped_id, "start"),
        (tour_cloud.stopped_id, "stop"),
    ):
        response = client.post(f"/instances/{server_id}/{action}/", {"next": "/activity/"})
        assert response.status_code == 302, response.content.decode()[:500]
        op = _wait(lambda: Operation.objects.order_by("-created_at").first(), "the operation row")
        _wait(lambda: Operation.objects.get(id=op.id).state in FINAL_STATES, f"the {action} to finish")  # noqa: B023
    tour_cloud.op_id = str(Operation.objects.get(kind="server.reboot").id)
    return tour_cloud


def member_pages(t: TourCloud) -> list[str]:
    s = t.server_id
    return [
        "/overview/",
        "/instances/",
        "/instances/?filters=1",
        f"/instances/{s}/",
        f"/instances/{s}/?tab=log",
        f"/instances/{s}/?tab=actions",
        f"/instances/{t.stopped_id}/?tab=overview",
        "/instances/launch/",
        f"/instances/{s}/rename/",
        f"/instances/{s}/resize/",
        f"/instances/{s}/rebuild/",
        f"/instances/{s}/snapshot/",
        f"/instances/{s}/stop/",
        f"/console/{s}/",
        "/snapshots/",
        "/snapshots/create/",
        f"/snapshots/{t.snapshot_id}/",
        "/keypairs/",
        "/keypairs/create/",
        "/keypairs/import/",
        f"/keypairs/{t.keypair}/",
        "/flavors/",
        f"/flavors/{t.flavor_id}/",
        "/activity/",
        f"/activity/{t.op_id}/",
        "/auth/api-access/",
        *(network_pages(t) if t.extra.get("network") else []),
        "/volumes/",
        "/volumes/create/",
        f"/instances/{s}/volumes/attach/",
        "/server-groups/",
        "/server-groups/create/",
        "/no-such-page/",
    ]


def network_pages(t: TourCloud) -> list[str]:
    s = t.server_id
    pages = [
        "/network/floating-ips/",
        "/network/floating-ips/allocate/",
        f"/instances/{s}/interfaces/attach/",
        f"/instances/{s}/floating-ips/associate/",
    ]
    if t.extra.get("floating_ip_id"):
        pages.append(f"/network/floating-ips/{t.extra['floating_ip_id']}/associate/")
    pages += ["/network/security-groups/", "/network/security-groups/create/"]
    if t.extra.get("security_group_id"):
        pages.append(f"/network/security-groups/{t.extra['security_group_id']}/")
    return pages


def admin_pages(t: TourCloud) -> list[str]:
    pages = [
        "/overview/",
        "/instances/",
        "/admin/hypervisors/",
        "/admin/hypervisors/capacity/",
        "/admin/hypervisors/services/",
        "/flavors/",
        "/flavors/create/",
        f"/flavors/{t.flavor_id}/",
        f"/flavors/{t.flavor_id}/delete/",
        *(["/network/floating-ips/", "/network/security-groups/?project=all"] if t.extra.get("network") else []),
    ]
    if t.hypervisor_id:
        pages.insert(3, f"/admin/hypervisors/{t.hypervisor_id}/")
    return pages


def slug(path: str) -> str:
    """A file name for a page: its path with ids left out (`/instances/<id>/rename/` -> `instances-id-rename`)."""
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}", "id", path.lower())
    return re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "home"


def visit_all(
    context, base_url: str, stratus: TestCloud, t: TourCloud, *, lang: str = "en", shots: Path | None = None
) -> Iterator[tuple]:
    """Yield (who, path, page) for every page: signed out (the sign-in page), then as the member, then as the
    admin, in the language `lang` (chosen as a person does, with the header's language button). With `shots`, a
    full-page screenshot of each goes there first (`make screenshots`)."""
    for who, path, page in _visit_all(context, base_url, stratus, t, lang=lang):
        if shots:
            page.screenshot(path=shots / f"{who}-{slug(path)}.png", full_page=True)
        yield who, path, page


def _visit_all(context, base_url: str, stratus: TestCloud, t: TourCloud, *, lang: str) -> Iterator[tuple]:
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(base_url + "/auth/login/")
    if lang == "vi":
        page.get_by_role("button", name="Tiếng Việt").click()
        page.wait_for_load_state()
    yield "anon", "/auth/login/", page
    for who, creds, paths in (
        ("member", stratus.member, member_pages(t)),
        ("admin", stratus.admin, admin_pages(t)),
    ):
        context.clear_cookies()
        page.goto(base_url + "/auth/login/")
        if lang == "vi":
            page.get_by_role("button", name="Tiếng Việt").click()
            page.wait_for_load_state()
            _sign_in(page, creds)
        else:
            sign_in_page(page, base_url, creds)
        for path in paths:
            page.goto(base_url + path)
            page.wait_for_load_state("networkidle")
            yield who, path, page
    page.close()


def _sign_in(page, creds) -> None:
    """Sign in whatever the language (the fields found by their ids, not their English labels)."""
    page.locator("#id_username").fill(creds.username)
    page.locator("#id_password").fill(creds.password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/overview/**")


def screenshot_dir(kind: str) -> Path | None:
    """Where `make screenshots` wants this pass' pictures (STRATUS_SCREENSHOTS), or None in a normal run."""
    root = os.environ.get("STRATUS_SCREENSHOTS")
    if not root:
        return None
    d = Path(root) / kind
    d.mkdir(parents=True, exist_ok=True)
    return d
