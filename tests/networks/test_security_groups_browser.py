"""Security groups in a real browser, as a person does it: create a group (an empty name first), add an SSH rule
with its preset and a custom rule (a bad CIDR first), see them in the table; add the group to an instance on its
page and see it listed, remove it; delete the group. Screenshots of the pages in light, dark, Vietnamese and at
390 px are left in /tmp for a look."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.networks.conftest import boot_on, own_network

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LONG = 30000


def _shots(browser, base_url: str, stratus, paths: list[tuple[str, str]]) -> None:
    """Each page in dark, in Vietnamese and at 390 px wide (the light ones are taken in the test)."""
    from tests.conftest import sign_in_page

    for name, options in (
        ("dark", {"viewport": {"width": 1280, "height": 860}, "color_scheme": "dark"}),
        ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True}),
        ("vi", {"viewport": {"width": 1280, "height": 860}}),
    ):
        context = browser.new_context(locale="en-US", **options)
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in_page(page, base_url, stratus.member)
        if name == "vi":
            page.get_by_role("button", name="Tiếng Việt").click()
            expect(page.locator("html")).to_have_attribute("lang", "vi")
        for slug, path in paths:
            page.goto(base_url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert name != "phone" or width <= 390, f"{path} is {width} px wide on a phone"
            look(page, f"secgroups-{slug}-{name}")
        context.close()


def test_a_group_with_rules_on_an_instance_then_gone(member_page, live_server, worker, net_conn, browser, stratus):
    conn, page = net_conn, member_page
    name = f"t-sg-{uuid.uuid4().hex[:6]}"
    server = boot_on(conn, f"t-sgvm-{uuid.uuid4().hex[:6]}", own_network(conn))

    # the navigation's Network group leads there; an empty name is refused next to the field
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security groups").click()
    expect(page.get_by_role("heading", name="Security groups", exact=True)).to_be_visible()
    expect(page.locator("tr[data-group]", has_text="default")).to_be_visible()
    look(page, "secgroups-list-light")
    page.get_by_role("link", name="Create security group").click()
    page.get_by_role("button", name="Create security group").click()
    expect(page.locator("#id_name-error")).to_have_text("Give the security group a name.")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("web servers")
    expect(page.locator(".cli code")).to_contain_text("openstack security group create")
    page.get_by_role("button", name="Create security group").click()
    page.wait_for_url(re.compile(r".*/network/security-groups/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Creating the security group {name}")
    row = page.locator("tr[data-group]", has_text=name)
    expect(row).to_be_visible(timeout=LONG)  # made by the worker; the list polls until it is there
    (group,) = conn.network.security_groups(name=name, project_id=conn.current_project_id)

    # SSH by its preset: the custom fields stay hidden
    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    form = page.locator("#add-rule")
    expect(form.locator("[data-custom]")).to_be_hidden()
    form.locator("#id_preset").select_option("ssh")
    form.get_by_role("button", name="Add rule").click()
    rules = page.locator("#rules-body table.rules")
    ssh = rules.locator("tr[data-rule]", has_text="TCP")
    expect(ssh).to_contain_text("22", timeout=LONG)
    expect(ssh).to_contain_text("0.0.0.0/0")

    # a custom rule: a bad CIDR first (a message next to it, nothing made), then a good one
    form.locator("#id_preset").select_option("custom")
    expect(form.locator("[data-custom]")).to_be_visible()
    form.get_by_label("Protocol").fill("udp")
    form.get_by_label("From port").fill("8000")
    form.get_by_label("To port").fill("8080")
    form.get_by_label("Remote CIDR").fill("203.0.113.0/33")
    form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#id_cidr-error")).to_contain_text("is not an IP range")
    expect(page.get_by_label("To port")).to_have_value("8080")  # what was typed stays
    assert len(list(conn.network.security_group_rules(security_group_id=group.id))) == 3  # two egress, SSH
    look(page, "secgroups-rule-error-light")
    page.get_by_label("Remote CIDR").fill("203.0.113.0/24")
    page.get_by_role("button", name="Add rule").click()
    custom = page.locator("#rules-body tr[data-rule]", has_text="UDP")
    expect(custom).to_contain_text("8000–8080", timeout=LONG)
    expect(custom).to_contain_text("203.0.113.0/24")
    look(page, "secgroups-group-light")

    # on an instance: add it on the instance's page, see it listed, remove it
    page.goto(f"{live_server.url}/instances/{server.id}/")
    section = page.locator("#security-groups")
    expect(section.locator("li.security-group", has_text="default")).to_be_visible()
    section.get_by_label("Add a group").select_option(label=name)
    section.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".toast").first).to_contain_text(f"Adding the security group {name}")
    item = section.locator("li.security-group", has_text=name)
    expect(item).to_contain_text("TCP 22 from 0.0.0.0/0", timeout=LONG)
    expect(item.locator(".badge.pending")).to_have_count(0, timeout=LONG)
    (port,) = conn.network.ports(device_id=server.id)
    assert group.id in port.security_group_ids
    look(page, "secgroups-instance-light")
    _shots(
        browser,
        live_server.url,
        stratus,
        [
            ("list", "/network/security-groups/"),
            ("group", f"/network/security-groups/{group.id}/"),
            ("create", "/network/security-groups/create/"),
            ("instance", f"/instances/{server.id}/"),
        ],
    )
    item.get_by_role("button", name="Remove").click()
    confirm(page, "Remove")
    expect(section.locator("li.security-group", has_text=name)).to_have_count(0, timeout=LONG)
    (port,) = conn.network.ports(device_id=server.id)
    assert group.id not in port.security_group_ids

    # delete the group from the list
    page.goto(f"{live_server.url}/network/security-groups/")
    row = page.locator("tr[data-group]", has_text=name)
    row.get_by_role("button", name=f"Delete {name}").click()
    confirm(page, "Delete")
    expect(page.locator("tr[data-group]", has_text=name)).to_have_count(0, timeout=LONG)
    assert list(conn.network.security_groups(name=name, project_id=conn.current_project_id)) == []
