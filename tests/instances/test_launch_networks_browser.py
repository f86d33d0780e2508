"""Networks and security groups at launch, in a real browser, against a cloud with Networking (Neutron)."""

from __future__ import annotations

import ipaddress
import re

import pytest
from playwright.sync_api import expect

from tests.browser.shots import look
from tests.instances.conftest import choose_a_network, wait_until

pytestmark = [pytest.mark.browser]


def _server_named(conn, name):
    return next((s for s in conn.compute.servers() if s.name == name), None)


def _usable(conn) -> list:
    """The networks the member's project can put a NIC on: its own and the shared ones (not external)."""
    project = conn.current_project_id
    return [n for n in conn.network.networks() if n.project_id == project or n.is_shared]


@pytest.mark.worker
def test_member_launches_on_a_chosen_network_with_a_security_group_and_sees_its_fixed_ip(
    member_page, live_server, worker, demo_conn, stratus
):
    conn = demo_conn
    if not conn.has_service("network"):
        pytest.skip("this cloud has no Networking service (Neutron)")
    usable = _usable(conn)
    if len(usable) != 1:
        pytest.skip(f"the member's project must have exactly one usable network here, it has {len(usable)}")
    network = usable[0]
    group = conn.network.create_security_group(name="t-web-sg", description="Stratus test: launch with a group")
    # Neutron allows a second group of the same name: the form offers both, told apart by id, and Nova gets the id
    # (a name would be ambiguous: real Nova answers 409).
    twin = conn.network.create_security_group(name="t-web-sg", description="Stratus test: the same name")
    try:
        page = member_page
        page.goto(live_server.url + "/instances/launch/")
        page.get_by_label("Instance name").fill("t-net")
        page.locator("#id_image_id").select_option(label=stratus.image_name)
        page.get_by_label(stratus.small_flavor).check()
        # The project's one usable network is chosen already; an external one is offered disabled, with why.
        networks = page.locator("#launch-networks")
        expect(networks.locator(f"#network-{network.id}")).to_be_checked()
        for external in conn.network.networks(is_router_external=True):
            if external.project_id != conn.current_project_id:
                expect(networks.locator(f"#network-{external.id}")).to_be_disabled()
                expect(networks.locator(f"#network-{external.id}-why")).to_contain_text("external")
        cidrs = [conn.network.get_subnet(s).cidr for s in network.subnet_ids]
        expect(networks.locator(f"li[data-network='{network.name}']")).to_contain_text(cidrs[0])
        expect(networks.get_by_label("default")).to_be_checked()
        networks.get_by_label(f"t-web-sg ({group.id[:8]})").check()
        expect(networks.get_by_label(f"t-web-sg ({twin.id[:8]})")).not_to_be_checked()
        cli = page.locator("#launch-summary .cli code")
        expect(cli).to_contain_text(f"--security-group default --security-group {group.id}")
        expect(cli).to_contain_text(f"--network {network.name}")
        look(page, "instances-launch-networks")
        page.get_by_role("button", name="Launch", exact=True).click()
        page.wait_for_url(re.compile(r".*/instances/$"))
        row = page.locator("tr.server-row", has_text="t-net")
        expect(row.locator("[data-role=status]")).to_have_attribute("title", "ACTIVE", timeout=30000)

        # Nova made a port on the chosen network, with the groups chosen and an address from its subnet...
        server = wait_until(lambda: _server_named(conn, "t-net"), what="t-net in Nova")
        ports = wait_until(lambda: list(conn.network.ports(device_id=server.id)), what="the server's port in Neutron")
        assert [p.network_id for p in ports] == [network.id]
        assert sorted(ports[0].security_group_ids) == sorted([_default_group(conn).id, group.id])
        fixed = ports[0].fixed_ips[0]["ip_address"]
        assert any(ipaddress.ip_address(fixed) in ipaddress.ip_network(c) for c in cidrs), (fixed, cidrs)
        # ...and the list shows that address (from Nova's `addresses`).
        expect(row.locator("td.addresses")).to_contain_text(fixed)
        look(page, "instances-list-networks")
    finally:
        for server in conn.compute.servers(name="^t-net$"):
            conn.compute.delete_server(server)
        wait_until(lambda: _server_named(conn, "t-net") is None, what="t-net to go")
        conn.network.delete_security_group(group)
        conn.network.delete_security_group(twin)


def _default_group(conn):
    return next(conn.network.security_groups(name="default", project_id=conn.current_project_id))


def test_two_usable_networks_and_none_chosen_is_a_message_on_the_form(member_page, live_server, devcloud):
    # devcloud's seed: the member's second project (demo-2) has its own `private` network and sees the `shared`
    # one: Nova's "auto" would be ambiguous there, so the form asks rather than failing the launch.
    from apps.operations.models import Operation

    page = member_page
    page.locator("#project-switch").select_option(label=devcloud.second_project)
    expect(page.locator(".toast")).to_contain_text(f"Now working in project {devcloud.second_project}.")
    page.goto(live_server.url + "/instances/launch/")
    networks = page.locator("#launch-networks")
    expect(networks.locator("li[data-network=private] input")).not_to_be_checked()
    expect(networks.locator("li[data-network=shared] input")).not_to_be_checked()
    page.get_by_label("Instance name").fill("t-ambiguous")
    page.locator("#id_image_id").select_option(label=devcloud.image_name)
    page.get_by_label(devcloud.small_flavor).check()
    page.get_by_role("button", name="Launch", exact=True).click()
    expect(networks.locator("#id_network-error")).to_have_text(
        "This project can use several networks: choose the one (or ones) for the instance."
    )
    expect(page.get_by_label("Instance name")).to_have_value("t-ambiguous")
    # The card is below the fold: its first network takes the focus, so the page scrolls to the message.
    expect(networks.locator("li[data-network=private] input")).to_be_focused()
    expect(networks.locator("#id_network-error")).to_be_in_viewport()
    look(page, "instances-launch-two-networks")
    assert not Operation.objects.filter(kind="server.launch", target_name="t-ambiguous").exists()

    # Both, `shared` first: the NICs follow the order of ticking (shown, in the CLI, and kept by the server).
    shared, private = networks.locator("li[data-network=shared]"), networks.locator("li[data-network=private]")
    choose_a_network(page)  # what the launch tests do on such a cloud: the first offered, the project's own
    expect(private.locator("[data-nic]")).to_have_text("NIC 1")
    private.locator("input").uncheck()
    expect(private.locator("[data-nic]")).to_be_hidden()
    shared.locator("input").check()
    private.locator("input").check()
    expect(shared.locator("[data-nic]")).to_have_text("NIC 1")
    expect(private.locator("[data-nic]")).to_have_text("NIC 2")
    expect(page.locator("#launch-summary .cli code")).to_contain_text("--network shared --network private")
    page.get_by_label("Metadata").fill("not a key-value line")  # refused by the server only: nothing launches
    page.get_by_role("button", name="Launch", exact=True).click()
    expect(page.locator("#id_metadata_error")).to_contain_text("Line 1")
    expect(networks.locator("#id_network-error")).to_have_count(0)
    expect(shared.locator("[data-nic]")).to_have_text("NIC 1")
    expect(private.locator("[data-nic]")).to_have_text("NIC 2")
    assert not Operation.objects.filter(kind="server.launch", target_name="t-ambiguous").exists()
