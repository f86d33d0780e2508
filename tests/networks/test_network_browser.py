"""Floating IPs and interfaces in a real browser, as a person does them: from the instance page (allocate and
associate in one step, see the address there and in the list; attach a second network and detach it) and from the
Floating IPs page (allocate, associate, disassociate, release)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.networks.conftest import boot_on, external_network, own_network

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LONG = 30000


def test_a_floating_ip_from_the_instance_page_and_a_second_network(
    member_page, live_server, worker, net_conn, second_network
):
    conn, page = net_conn, member_page
    public = external_network(conn)
    server = boot_on(conn, "t-web-fip", own_network(conn))
    (port,) = conn.network.ports(device_id=server.id)
    fixed = port.fixed_ips[0]["ip_address"]
    page.goto(f"{live_server.url}/instances/{server.id}/")
    interfaces, floating = page.locator("#interfaces"), page.locator("#floating-ips")
    expect(interfaces.locator("li.interface")).to_have_count(1)
    expect(interfaces).to_contain_text(fixed)
    expect(interfaces).to_contain_text(port.mac_address)
    expect(floating.locator("[data-role=no-floating-ips]")).to_be_visible()
    look(page, "fip-detail-before")

    # allocate from the external network and associate, in one step
    floating.get_by_role("link", name="Associate floating IP…").click()
    select = page.get_by_label("Floating IP")
    expect(select.locator("option:checked")).to_have_text(f"a new address from {public.name}")
    expect(page.locator(".cli code")).to_contain_text("openstack floating ip create --port")
    page.get_by_role("button", name="Associate floating IP").click()
    page.wait_for_url(re.compile(rf".*/instances/{server.id}/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Associating a new floating IP from {public.name}")
    item = floating.locator("li.floating-ip")
    expect(item).to_have_count(1, timeout=LONG)
    expect(item.locator("[data-role=fip-status]")).to_have_text("Active", timeout=LONG)
    (fip,) = conn.network.ips(port_id=port.id)
    address = fip.floating_ip_address
    expect(item).to_contain_text(address)
    expect(interfaces.locator("li.interface").first).to_contain_text(f"{address} → {fixed}")
    look(page, "fip-detail-after")

    # the list shows it (from Nova's addresses), and finds the instance by it
    page.goto(f"{live_server.url}/instances/")
    row = page.locator("tr.server-row", has_text="t-web-fip")
    expect(row.locator("td.addresses")).to_contain_text(address)
    expect(row.locator("td.addresses")).to_contain_text(fixed)
    page.get_by_label("Search").fill(address)
    page.get_by_label("Search").press("Enter")
    expect(page.locator("[data-role=floating-match]")).to_contain_text(f"fixed IP {fixed}")
    expect(page.locator("tr.server-row")).to_have_count(1)
    expect(page.locator("tr.server-row")).to_contain_text("t-web-fip")

    # attach a second network, see the interface appear; detach it, see it go
    page.goto(f"{live_server.url}/instances/{server.id}/")
    interfaces.get_by_role("link", name="Attach interface…").click()
    page.get_by_label("Network or port").select_option(label=f"{second_network.name} (10.91.0.0/24)")
    page.get_by_role("button", name="Attach interface").click()
    page.wait_for_url(re.compile(rf".*/instances/{server.id}/$"))
    second = interfaces.locator(f"li.interface[data-network='{second_network.name}']")
    expect(second).to_be_visible(timeout=LONG)
    expect(second).to_contain_text("10.91.0.")
    expect(second.locator("[data-role=port-status]")).to_have_text("Active", timeout=LONG)
    second.get_by_role("button", name="Detach").click()
    confirm(page, "Detach")
    expect(second).to_have_count(0, timeout=LONG)
    expect(interfaces.locator("li.interface")).to_have_count(1)
    assert [i.net_id for i in conn.compute.server_interfaces(server)] == [port.network_id]

    # disassociate and release from the instance page
    item.get_by_role("button", name="Disassociate and release").click()
    confirm(page, "Disassociate and release")
    expect(floating.locator("[data-role=no-floating-ips]")).to_be_visible(timeout=LONG)
    assert conn.network.find_ip(fip.id) is None


def test_the_floating_ips_page(member_page, live_server, worker, net_conn):
    conn, page = net_conn, member_page
    public = external_network(conn)
    server = boot_on(conn, "t-fip-page", own_network(conn))
    (port,) = conn.network.ports(device_id=server.id)
    fixed = port.fixed_ips[0]["ip_address"]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Floating IPs").click()
    expect(page.get_by_role("heading", name="Floating IPs", exact=True)).to_be_visible()
    before = {f.id for f in conn.network.ips(project_id=conn.current_project_id)}

    page.get_by_role("link", name="Allocate floating IP").click()
    expect(page.get_by_label("Pool (external network)").locator("option:checked")).to_have_text(public.name)
    page.get_by_label("Description (optional)").fill("t-web entry")
    page.get_by_role("button", name="Allocate").click()
    page.wait_for_url(re.compile(r".*/network/floating-ips/$"))
    row = page.locator("tr", has_text="t-web entry")
    expect(row).to_be_visible(timeout=LONG)
    (fip,) = [f for f in conn.network.ips(project_id=conn.current_project_id) if f.id not in before]
    address = fip.floating_ip_address
    expect(row).to_contain_text(address)
    expect(row).to_contain_text(public.name)
    expect(row.locator("[data-role=status]")).to_have_text("Down")
    expect(row.locator("[data-role=bound]")).to_have_text("nothing")

    row.get_by_role("link", name="Associate…").click()
    network = conn.network.get_network(port.network_id).name
    page.get_by_label("Instance and fixed IP").select_option(label=f"t-fip-page · {fixed} ({network})")
    expect(page.locator(".cli code")).to_contain_text(f"openstack floating ip set --port {port.id}")
    page.get_by_role("button", name="Associate", exact=True).click()
    page.wait_for_url(re.compile(r".*/network/floating-ips/$"))
    expect(row.locator("[data-role=status]")).to_have_text("Active", timeout=LONG)
    expect(row.locator("[data-role=bound]").get_by_role("link", name="t-fip-page")).to_have_attribute(
        "href", f"/instances/{server.id}/"
    )
    expect(row).to_contain_text(fixed)
    look(page, "fip-page")

    row.get_by_role("button", name="Disassociate").click()
    confirm(page, "Disassociate")
    expect(row.locator("[data-role=bound]")).to_have_text("nothing", timeout=LONG)
    expect(row.locator("[data-role=status]")).to_have_text("Down", timeout=LONG)
    assert conn.network.get_ip(fip.id).port_id is None
    row.get_by_role("button", name="Release").click()
    confirm(page, "Release")
    expect(page.locator(f"tr[data-address='{address}']")).to_have_count(0, timeout=LONG)
    assert conn.network.find_ip(fip.id) is None
