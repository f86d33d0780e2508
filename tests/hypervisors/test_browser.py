"""What an admin does on the hypervisor pages, in a real Chromium against the cloud under test; the cloud's own
state is checked through openstacksdk (Placement's numbers, where servers were scheduled, service status)."""

from __future__ import annotations

import uuid

import openstack
import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.cloudharness import active
from tests.hypervisors.helpers import RESOURCES, eventually, forget_usage, placement_totals

pytestmark = pytest.mark.browser


def _flavor() -> str:
    """A flavor with more than one of everything (devcloud: ds2G, 2 vCPUs, 2 GB RAM, 10 GB disk)."""
    cloud = active()
    return "ds2G" if cloud.is_devcloud else cloud.small_flavor  # a shared project's quota holds many of these


@pytest.fixture
def fresh(settings):
    settings.STRATUS_PLACEMENT_CACHE_SECONDS = 0
    return settings


def _launch(conn: openstack.connection.Connection, name: str, **extra: object):
    image = conn.image.find_image(active().image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(_flavor(), ignore_missing=False)
    return conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id, networks="none", **extra)


def _shown_summary(page) -> dict[str, dict[str, int]]:
    out = {}
    for rc in RESOURCES:
        card = page.locator(f'.hv-summary [data-summary="{rc}"]')
        out[rc] = {k: int(card.get_attribute(f"data-{k}")) for k in ("used", "capacity", "total", "reserved")}
    return out


def _summary_equals_placement(page, conn) -> bool:
    page.reload()
    return _shown_summary(page) == placement_totals(conn)


def test_the_summary_follows_placement_as_servers_come_and_go(admin_page, live_server, stratus, fresh) -> None:
    page, admin = admin_page, stratus.admin.connect()
    page.goto(live_server.url + "/admin/hypervisors/")
    expect(page.get_by_role("heading", name="Hypervisors", exact=True).first).to_be_visible()
    expect(page.locator("#hypervisor-table tbody tr")).to_have_count(len(list(admin.compute.hypervisors())))
    eventually(lambda: _summary_equals_placement(page, admin), what="the summary to equal Placement's numbers")
    before = placement_totals(admin)
    # What a person reads: "<used> / <capacity>" in the vCPU card.
    vcpu_card = page.locator('.hv-summary [data-summary="VCPU"]')
    expect(vcpu_card.locator(".used")).to_have_text(str(before["VCPU"]["used"]))
    expect(vcpu_card.locator(".capacity")).to_have_text(str(before["VCPU"]["capacity"]))
    look(page, "hypervisors-list")

    member = stratus.member.connect()
    server = _launch(member, f"hv-{uuid.uuid4().hex[:6]}")
    try:
        member.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.3)
        host = admin.compute.get_server(server.id).compute_host
        # (The server's own allocation: on a shared cloud other tests' servers come and go meanwhile.)
        eventually(
            lambda: admin.placement.get(f"/allocations/{server.id}").json().get("allocations"), what="the allocation"
        )
        eventually(lambda: _summary_equals_placement(page, admin), what="the summary to count the new server")
        expect(vcpu_card.locator(".used")).to_have_text(str(placement_totals(admin)["VCPU"]["used"]))
        row = page.locator(f'#hypervisor-table tr[data-hypervisor="{host}"]')
        expect(row.locator(".servers")).not_to_have_text("0")

        # The hypervisor's own page lists the server, with its project and flavor.
        row.get_by_role("link", name=host).click()
        expect(page.get_by_role("heading", name=host, exact=True)).to_be_visible()
        server_row = page.locator(f'.hv-servers tr[data-server="{server.id}"]')
        expect(server_row).to_contain_text(server.name)
        expect(server_row).to_contain_text("demo")
        expect(server_row).to_contain_text(_flavor())
        expect(page.locator(".traits")).to_contain_text("COMPUTE_NODE")
        look(page, "hypervisors-detail")
    finally:
        member.compute.delete_server(server, ignore_missing=True)
        member.compute.wait_for_delete(server, wait=60, interval=0.3)
    page.goto(live_server.url + "/admin/hypervisors/")
    eventually(lambda: _summary_equals_placement(page, admin), what="the summary to drop the deleted server")
    if stratus.is_devcloud:  # a real cloud's usage also moves with the tests running beside this one
        assert _shown_summary(page)["VCPU"]["used"] <= before["VCPU"]["used"]

    page.get_by_role("link", name="Capacity").click()
    expect(page.locator(".heat-cell")).to_have_count(3 * len(list(admin.compute.hypervisors())))
    look(page, "hypervisors-capacity")

    # The same page in Vietnamese.
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Dung lượng", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Các máy chủ ảo hóa bận nhất")).to_be_visible()
    look(page, "hypervisors-capacity-vi")
    page.get_by_role("button", name="English").click()


@pytest.mark.cloud_exclusive  # on a real cloud with one compute host, every other launch would fail meanwhile
def test_a_disabled_compute_service_gets_no_new_servers(admin_page, live_server, stratus, worker, fresh) -> None:
    from apps.operations.models import Operation

    page, admin = admin_page, stratus.admin.connect()
    services = sorted(admin.compute.services(binary="nova-compute"), key=lambda s: s.host)
    target = services[0]
    zone = target.availability_zone
    reason = "maintenance: disk swap"
    member = stratus.member.connect()
    launched = []
    try:
        page.goto(live_server.url + "/admin/hypervisors/services/")
        row = page.locator(f'tr[data-service="{target.id}"]')
        expect(row.locator(".status-cell .badge")).to_have_text("enabled")
        row.get_by_label("Reason").fill(reason)
        row.get_by_role("button", name="Disable").click()
        confirm(page, "Disable")
        expect(page.locator("#toasts")).to_contain_text(f"Disabling the compute service on {target.host}")
        row = page.locator(f'tr[data-service="{target.id}"]')
        expect(row.locator(".status-cell .badge")).to_have_text("disabled")
        expect(row.locator(".reason")).to_have_text(reason)
        look(page, "hypervisors-services")
        svc = admin.compute.find_service(target.id, ignore_missing=False)
        assert (svc.status, svc.disabled_reason) == ("disabled", reason)
        op = eventually(
            lambda: Operation.objects.filter(kind="service.disable", target_id=target.id, state="succeeded").first(),
            what="the operation to succeed",
        )
        assert op.target_name == target.host and op.params == {"reason": reason}

        page.goto(live_server.url + "/admin/hypervisors/")
        hv_row = page.locator(f'#hypervisor-table tr[data-hypervisor="{target.host}"]')
        expect(hv_row.locator(".status-cell")).to_contain_text("disabled")
        expect(hv_row.locator(".status-cell")).to_contain_text(reason)

        if len(services) > 1:
            # Launch into the disabled host's zone: the scheduler must place every server elsewhere.
            for i in range(3):
                launched.append(_launch(member, f"hv-dis-{i}-{uuid.uuid4().hex[:4]}", availability_zone=zone))
            for server in launched:
                member.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.3)
                assert admin.compute.get_server(server.id).compute_host != target.host
        else:
            # The cloud's only compute host is disabled: Nova's scheduler finds no host for a new server (its zone
            # is no longer offered either: a launch naming it is refused at once).
            launched.append(_launch(member, f"hv-dis-0-{uuid.uuid4().hex[:4]}"))
            member.compute.wait_for_server(launched[0], status="ERROR", failures=[], wait=120, interval=0.5)
            fault = admin.compute.get_server(launched[0].id).fault or {}
            assert "No valid host" in fault.get("message", ""), fault

        # The capacity view crosses out the disabled host and shows where the new servers went.
        page.goto(live_server.url + "/admin/hypervisors/capacity/")
        expect(page.locator(f'.heat-cell.off[data-hypervisor="{target.host}"]')).to_have_count(3)
        look(page, "hypervisors-capacity-disabled")

        page.goto(live_server.url + "/admin/hypervisors/services/")
        row = page.locator(f'tr[data-service="{target.id}"]')
        row.get_by_role("button", name="Enable").click()
        confirm(page, "Enable")
        expect(page.locator("#toasts")).to_contain_text(f"Enabling the compute service on {target.host}")
        expect(page.locator(f'tr[data-service="{target.id}"] .status-cell .badge')).to_have_text("enabled")
        assert admin.compute.find_service(target.id, ignore_missing=False).status == "enabled"
    finally:
        if admin.compute.find_service(target.id, ignore_missing=False).status != "enabled":
            admin.compute.enable_service(target.id, host=target.host, binary="nova-compute")
        for server in launched:
            member.compute.delete_server(server, ignore_missing=True)
        for server in launched:
            member.compute.wait_for_delete(server, wait=60, interval=0.3)


def test_a_member_is_turned_away_from_every_page(member_page, live_server, stratus) -> None:
    page = member_page
    expect(page.locator(".admin-nav")).to_have_count(0)
    hv = next(iter(stratus.admin.connect().compute.hypervisors()))
    for path in ["", "capacity/", "services/", f"{hv.id}/"]:
        response = page.goto(f"{live_server.url}/admin/hypervisors/{path}")
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="You are not allowed to see this page")).to_be_visible()
    look(page, "hypervisors-member-403", full_page=False)


def test_the_usage_fills_in_after_the_list_and_says_how_old_it_is(admin_page, live_server, stratus, settings) -> None:
    """With the cache on (as deployed), the list is shown before Placement is asked; the usage comes by itself."""
    settings.STRATUS_PLACEMENT_CACHE_SECONDS = 600
    page, admin = admin_page, stratus.admin.connect()
    page.goto(live_server.url + "/admin/hypervisors/services/")  # signed in: the session the page uses
    forget_usage(_session_of(page, live_server), admin)  # nothing read yet
    page.goto(live_server.url + "/admin/hypervisors/")
    expect(page.locator("#hypervisor-table tbody tr")).to_have_count(len(list(admin.compute.hypervisors())))
    expect(page.locator(".hv-updating")).to_have_count(0)  # gone once the fresh usage is in
    expect(page.locator(".hv-summary [data-summary=VCPU] .used")).to_be_visible()
    expect(page.locator("#hypervisor-table td.servers").first).to_have_text(re_digits())
    expect(page.locator("[data-usage-age]")).to_be_visible()
    look(page, "hypervisors-list-deferred")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("[data-usage-age]")).to_contain_text("Usage figures read")
    look(page, "hypervisors-list-deferred-390")


def re_digits():
    import re

    return re.compile(r"^\d+$")


def _session_of(page, live_server):
    """The Django session of the signed-in browser page (its cookie)."""
    from importlib import import_module

    from django.conf import settings

    cookie = next(c for c in page.context.cookies(live_server.url) if c["name"] == settings.SESSION_COOKIE_NAME)
    return import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
