"""An admin creates a public and a private flavor with extra specs in a real browser, gives the member's
project access to the private one, the member sees it, and the admin deletes both."""

from __future__ import annotations

import re
import uuid

import openstack
import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.conftest import sign_in_page

pytestmark = pytest.mark.browser


def _find(conn, name):
    return next((f for f in conn.compute.flavors(is_public=None) if f.name == name), None)


def _create(page, base: str, *, name: str, vcpus: str, ram: str, specs: dict[str, str], private_for: str = "") -> None:
    page.goto(base + "/flavors/create/")
    page.locator("#id_name").fill(name)
    page.locator("#id_vcpus").fill(vcpus)
    page.locator("#id_ram").fill(ram)
    page.locator("#id_disk").fill("1")
    keys = page.locator("input[name=spec_key]")
    values = page.locator("input[name=spec_value]")
    for i, (key, value) in enumerate(specs.items()):
        keys.nth(i).fill(key)
        values.nth(i).fill(value)
    if private_for:
        page.get_by_label("Private: chosen projects only").check()
        page.locator("#id_projects").get_by_label(private_for, exact=True).check()
    expect(page.locator("details.cli")).to_contain_text("openstack flavor create")
    page.get_by_role("button", name="Create flavor").click()
    page.wait_for_url(re.compile(r".*/flavors/[^/]+/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Flavor {name} created.")
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_admin_creates_public_and_private_flavors_member_sees_private_admin_deletes(
    admin_page, live_server, stratus, browser
):
    page = admin_page
    base = live_server.url
    conn = openstack.connect(cloud=stratus.admin.name)
    suffix = uuid.uuid4().hex[:6]
    public, private = f"pub-{suffix}", f"priv-{suffix}"
    project = stratus.member.project_name

    # A bad input first: the message is next to the field and nothing is created.
    page.goto(base + "/flavors/create/")
    page.locator("#id_name").fill(public)
    page.locator("#id_vcpus").fill("0")
    page.locator("#id_ram").fill("512")
    page.locator("#id_disk").fill("1")
    page.get_by_role("button", name="Create flavor").click()
    expect(page.locator("#id_vcpus-error")).to_contain_text("greater than or equal to 1")
    look(page, "flavors-create-error")
    assert _find(conn, public) is None

    _create(page, base, name=public, vcpus="2", ram="2048", specs={"hw:cpu_policy": "shared", "hw_rng:allowed": "True"})
    expect(page.locator(".badge", has_text="Public")).to_be_visible()
    _create(page, base, name=private, vcpus="1", ram="512", specs={"hw:mem_page_size": "large"}, private_for=project)
    expect(page.locator(".access-list")).to_contain_text(project)
    look(page, "flavors-detail")

    flavor_pub, flavor_priv = _find(conn, public), _find(conn, private)
    assert flavor_pub.is_public and flavor_pub.extra_specs == {"hw:cpu_policy": "shared", "hw_rng:allowed": "True"}
    assert not flavor_priv.is_public and flavor_priv.extra_specs == {"hw:mem_page_size": "large"}
    demo_id = conn.identity.find_project(project).id
    assert [a["tenant_id"] for a in conn.compute.get_flavor_access(flavor_priv)] == [demo_id]

    page.goto(base + "/flavors/")
    expect(page.locator("#flavor-table")).to_contain_text(private)
    page.get_by_role("link", name="vCPUs").click()
    expect(page).to_have_url(re.compile(r"sort=vcpus"))
    look(page, "flavors-list-admin")

    # The member of that project sees the private flavor with its extra specs, and cannot create one.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    member = context.new_page()
    member.set_default_timeout(15000)
    sign_in_page(member, base, stratus.member)
    member.goto(base + "/flavors/")
    row = member.locator("#flavor-table tr", has_text=private)
    expect(row).to_contain_text("hw:mem_page_size=large")
    expect(row.locator(".badge")).to_have_text("Private")
    expect(member.get_by_role("link", name="Create flavor")).to_have_count(0)
    look(member, "flavors-list-member")
    response = member.goto(base + "/flavors/create/")
    assert response.status == 403
    context.close()

    # The admin deletes both (confirming in the page's dialog).
    for name, flavor in ((public, flavor_pub), (private, flavor_priv)):
        page.goto(f"{base}/flavors/{flavor.id}/")
        page.get_by_role("link", name="Delete").click()
        expect(page.get_by_text("No instance uses this flavor.")).to_be_visible()
        page.get_by_role("button", name="Delete flavor").click()
        expect(page.get_by_role("dialog")).to_contain_text(f"Delete flavor {name}?")
        confirm(page, "Delete flavor")
        page.wait_for_url(base + "/flavors/")
        expect(page.locator(".toast").first).to_contain_text(f"Flavor {name} deleted.")
        expect(page.locator("#flavor-table")).not_to_contain_text(name)
    assert _find(conn, public) is None and _find(conn, private) is None
