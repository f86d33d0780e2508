"""Volumes in a real browser, as a person does them: from the Volumes page (create one, see it become available,
extend it and see the new size, delete it with the in-page confirmation) and from an instance's page (attach a volume
and see it in use with its device, then detach it and see it go; the root volume's detach refused in Nova's words)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.volumes.conftest import boot, new_volume, vol_name

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LONG = 30000


def test_create_extend_and_delete_a_volume(member_page, live_server, worker, vol_conn):
    page, conn = member_page, vol_conn
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Volumes").click()
    expect(page.get_by_role("heading", name="Volumes", exact=True)).to_be_visible()

    name = vol_name()
    page.get_by_role("link", name="Create volume").click()
    expect(page.get_by_label("Image", exact=True)).to_be_hidden()  # an empty volume: no image to choose
    page.get_by_label("Name").fill(name)
    page.get_by_label("Size (GiB)").fill("1")
    page.get_by_label("Description (optional)").fill("scratch space")
    expect(page.locator(".cli code")).to_contain_text("openstack volume create")
    page.get_by_role("button", name="Create volume").click()
    page.wait_for_url(re.compile(r".*/volumes/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Creating the volume {name}")
    row = page.locator(f"tr.volume-row[data-volume='{name}']")
    expect(row.locator("[data-role=status]")).to_have_text("Available", timeout=LONG)
    expect(row.locator("[data-role=size]")).to_have_text("1 GiB")
    expect(row).to_contain_text("scratch space")
    expect(row.locator("[data-role=bootable]")).to_have_text("no")

    # a size not larger is refused next to the field; a larger one extends it
    row.get_by_role("link", name="Extend…").click()
    size = page.get_by_label("New size (GiB)")
    size.fill("1")
    page.get_by_role("button", name="Extend").click()
    expect(page.locator("#id_new_size-error")).to_contain_text("must be larger than the volume's 1 GiB")
    size.fill("3")
    page.get_by_role("button", name="Extend").click()
    page.wait_for_url(re.compile(r".*/volumes/$"))
    expect(row.locator("[data-role=size]")).to_have_text("3 GiB", timeout=LONG)
    expect(row.locator("[data-role=status]")).to_have_text("Available", timeout=LONG)
    (vol,) = list(conn.block_storage.volumes(name=name))
    assert vol.size == 3

    row.get_by_role("button", name="Delete").click()
    confirm(page, "Delete")
    expect(row).to_have_count(0, timeout=LONG)
    assert conn.block_storage.find_volume(vol.id) is None


def test_attach_then_detach_a_volume_on_the_instance_page(member_page, live_server, worker, vol_conn):
    page, conn = member_page, vol_conn
    server = boot(conn, vol_name("t-volsrv"))
    data = new_volume(conn, vol_name())
    page.goto(f"{live_server.url}/instances/{server.id}/")
    section = page.locator("#volumes")
    expect(section.locator("[data-role=no-volumes]")).to_be_visible()

    section.get_by_role("link", name="Attach volume…").click()
    page.get_by_role("combobox", name="Volume").select_option(label=f"{data.name} (1 GiB)")
    page.get_by_label("Device name (optional)").fill("/dev/vdb")
    page.get_by_role("button", name="Attach volume").click()
    page.wait_for_url(re.compile(rf".*/instances/{server.id}/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Attaching the volume {data.name}")
    row = section.locator(f"tr.attached-volume[data-volume='{data.name}']")
    expect(row.locator("[data-role=volume-status]")).to_have_text("In use", timeout=LONG)
    expect(row).to_contain_text("1 GiB")
    attachments = list(conn.compute.volume_attachments(server))
    assert [a.volume_id for a in attachments] == [data.id]
    # The device the cloud gave: the name asked for is only a hint to Nova (devcloud honours it; real Nova's
    # drivers pick their own, /dev/sdb on realcloud's), and the page shows what Nova says.
    expect(row).to_contain_text(attachments[0].device)

    # the Volumes page says where it is attached, with a link to the instance
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Volumes").click()
    listed = page.locator(f"tr.volume-row[data-volume='{data.name}']")
    expect(listed.locator("[data-role=status]")).to_have_text("In use")
    expect(listed.locator("[data-role=attached]").get_by_role("link", name=server.name)).to_have_attribute(
        "href", f"/instances/{server.id}/"
    )
    listed.locator("[data-role=attached]").get_by_role("link", name=server.name).click()

    row.get_by_role("button", name="Detach").click()
    confirm(page, "Detach")
    expect(section.locator("[data-role=no-volumes]")).to_be_visible(timeout=LONG)
    assert list(conn.compute.volume_attachments(server)) == []
    assert conn.block_storage.get_volume(data.id).status == "available"


def test_detaching_the_root_volume_shows_novas_reason(member_page, live_server, worker, vol_conn):
    page, conn = member_page, vol_conn
    server = boot(conn, vol_name("t-volbfv"), boot_volume_gb=1)
    (root,) = [a.volume_id for a in conn.compute.volume_attachments(server)]
    page.goto(f"{live_server.url}/instances/{server.id}/")
    row = page.locator(f"#volumes tr[data-volume-id='{root}']")
    expect(row.locator("[data-role=root]")).to_have_text("boot volume")
    row.get_by_role("button", name="Detach").click()
    confirm(page, "Detach")
    expect(page.locator(".toast.error")).to_contain_text(
        "Compute (Nova): Cannot detach a root device volume", timeout=LONG
    )
    expect(row.locator("[data-role=volume-status]")).to_have_text("In use")
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [root]
