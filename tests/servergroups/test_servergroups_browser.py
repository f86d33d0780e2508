"""Server groups in a real browser, as a person uses them: create an anti-affinity group on the Server groups page
(a rule on another policy refused next to the field first), launch an instance into it from the launch form, and
see the instance listed as the group's member and the group on the instance's page; then delete the group with the
in-page confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import choose_a_network
from tests.servergroups.conftest import sg_name
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LONG = 30000


def test_create_a_group_launch_into_it_and_see_the_member(member_page, live_server, worker, sg_conn, stratus):
    page, conn = member_page, sg_conn
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Server groups").click()
    expect(page.get_by_role("heading", name="Server groups", exact=True)).to_be_visible()
    look(page, "servergroups-list")

    name = sg_name()
    page.get_by_role("link", name="Create server group").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Affinity", exact=True).check()
    page.get_by_label("Members per host, at most (optional)").fill("2")
    page.get_by_role("button", name="Create server group").click()
    expect(page.locator("#id_max_server_per_host-error")).to_contain_text("Only the anti-affinity policy takes")
    look(page, "servergroups-create-refused")
    page.get_by_label("Anti-affinity", exact=True).check()
    page.get_by_label("Members per host, at most (optional)").fill("")
    page.get_by_role("button", name="Create server group").click()
    page.wait_for_url(re.compile(r".*/server-groups/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Creating the server group {name}")
    row = page.locator(f"tr.group-row[data-group='{name}']")
    expect(row.locator("[data-role=policy]")).to_contain_text("Anti-affinity", timeout=LONG)
    expect(row.locator("[data-role=members]")).to_have_text("no members yet")
    group = wait_until(lambda: next((g for g in conn.compute.server_groups() if g.name == name), None), what=name)

    # launch into it
    vm = sg_name("t-sgvm")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    page.get_by_role("link", name="Launch instance").first.click()
    page.get_by_label("Instance name").fill(vm)
    page.locator("#id_image_id").select_option(label=stratus.image_name)
    page.get_by_label(stratus.small_flavor).check()
    page.get_by_label("Server group").select_option(label=f"{name} (Anti-affinity)")
    expect(page.locator("#launch-summary .cli code")).to_contain_text(f"--hint group={group.id}")
    choose_a_network(page)
    page.get_by_role("button", name="Launch", exact=True).click()
    page.wait_for_url(re.compile(r".*/instances/$"))
    server_row = page.locator("tr.server-row", has_text=vm)
    expect(server_row.locator("[data-role=status]")).to_have_attribute("title", "ACTIVE", timeout=LONG)

    # the member on the groups page, and the group on the instance's page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Server groups").click()
    member = row.locator("[data-role=members]").get_by_role("link", name=vm)
    expect(member).to_be_visible()
    look(page, "servergroups-list-member")
    member.click()
    expect(page.get_by_role("heading", name=vm)).to_be_visible()
    shown = page.locator("[data-role=server-group]")
    expect(shown).to_contain_text(name)
    expect(shown).to_contain_text("Anti-affinity")
    server = next(s for s in conn.compute.servers() if s.name == vm)
    assert conn.compute.get_server_group(group.id).member_ids == [server.id]

    # delete the group: the member stays
    shown.get_by_role("link", name=name).click()
    row.get_by_role("button", name="Delete").click()
    confirm(page, "Delete")
    expect(row).to_have_count(0, timeout=LONG)
    assert conn.compute.find_server_group(group.id) is None
    assert conn.compute.get_server(server.id).status == "ACTIVE"
