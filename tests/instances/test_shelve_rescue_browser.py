"""Shelve and unshelve, rescue and unrescue, and a backup, in a real browser with a real worker: what a person
clicks, what they see at each end, and what Nova and Glance say afterwards."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.instances.conftest import boot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _status(page):
    return page.locator("#server-head [data-role=status]")


def _settled(page, status: str) -> None:
    expect(_status(page)).to_have_attribute("title", status, timeout=30000)
    expect(page.locator("#server-head [data-role=task]")).to_have_count(0, timeout=30000)
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=30000)


def _images(conn, name: str) -> list:
    return [i for i in conn.image.images() if i.name == name]


def test_member_shelves_and_unshelves_an_instance(member_page, live_server, worker, demo_conn):
    page = member_page
    server = boot(demo_conn, "t-shelf")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    _settled(page, "ACTIVE")

    page.locator(".server-actions").get_by_role("button", name="Shelve", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("Shelve t-shelf? It is powered off and its disk saved")
    confirm(page, "Shelve")
    expect(page.locator(".toast", has_text="Shelving t-shelf").first).to_be_visible()
    _settled(page, "SHELVED_OFFLOADED")
    expect(_status(page)).to_have_text("Shelved (offloaded)")
    cost = page.locator("#server-head [data-role=shelved-cost]")
    expect(cost).to_contain_text("on no host, it holds no vCPU or RAM")
    expect(cost).to_contain_text("“t-shelf-shelved”")
    assert demo_conn.compute.get_server(server.id).status == "SHELVED_OFFLOADED"
    assert [i.status for i in _images(demo_conn, "t-shelf-shelved")] == ["active"]
    # Only what Nova allows now: no Stop, no Shelve; Unshelve is offered.
    expect(page.locator(".server-actions").get_by_role("button", name="Shelve", exact=True)).to_have_count(0)
    expect(page.locator(".server-actions").get_by_role("button", name="Stop", exact=True)).to_have_count(0)

    # The list says it too, in the row.
    page.goto(f"{live_server.url}/instances/")
    row = page.locator(f"#server-{server.id}")
    expect(row.locator("[data-role=status]")).to_have_text("Shelved (offloaded)")
    expect(row.locator("[data-role=shelved-cost]")).to_have_text("No host: holds no vCPU or RAM")

    page.goto(f"{live_server.url}/instances/{server.id}/")
    page.locator(".server-actions").get_by_role("link", name="Unshelve…").click()
    expect(page.locator(".cli")).to_contain_text(f"openstack server unshelve {server.id}")
    zone = page.get_by_label("Availability zone")
    zones = [z for z in zone.locator("option").evaluate_all("os => os.map(o => o.value)") if z]
    zone.select_option(value=zones[0])
    page.get_by_role("button", name="Unshelve", exact=True).click()
    expect(page.locator(".toast", has_text="Unshelving t-shelf").first).to_be_visible()
    _settled(page, "ACTIVE")
    expect(page.locator("#server-head [data-role=shelved-cost]")).to_have_count(0)
    unshelved = demo_conn.compute.get_server(server.id)
    assert unshelved.status == "ACTIVE" and unshelved.availability_zone == zones[0]
    wait_until(lambda: not _images(demo_conn, "t-shelf-shelved"), what="the shelved image deleted by Nova")


def test_member_rescues_sees_the_password_once_and_unrescues(member_page, live_server, worker, demo_conn, stratus):
    page = member_page
    server = boot(demo_conn, "t-rescue")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    _settled(page, "ACTIVE")

    page.locator(".server-actions").get_by_role("link", name="Rescue…").click()
    expect(page.locator(".cli")).to_contain_text(f"openstack server rescue {server.id}")
    page.get_by_label("Rescue image").select_option(label=stratus.image_name)
    page.get_by_role("button", name="Rescue", exact=True).click()
    confirm(page, "Rescue")
    expect(page.locator(".toast", has_text="Starting the rescue mode of t-rescue").first).to_be_visible()
    _settled(page, "RESCUE")
    expect(_status(page)).to_have_text("Rescue mode")
    expect(page.locator("#server-head [data-role=rescue-note]")).to_contain_text("runs a rescue system")
    assert demo_conn.compute.get_server(server.id).status == "RESCUE"

    # The password Nova gave, once: shown, then gone.
    offer = page.locator("[data-role=rescue-password-offer]")
    expect(offer).to_be_visible(timeout=30000)
    offer.get_by_role("button", name="Show the rescue password").click()
    shown = page.locator("[data-role=rescue-password]")
    expect(shown).to_be_visible()
    password = shown.inner_text().strip()
    assert len(password) >= 8
    expect(page.get_by_role("heading", name="Rescue password of t-rescue")).to_be_visible()
    page.get_by_role("link", name="Back to the instance").click()
    expect(page.locator("[data-role=rescue-password-offer]")).to_have_count(0)
    gone = page.request.post(
        f"{live_server.url}/instances/{server.id}/rescue-password/",
        headers={"X-CSRFToken": page.evaluate("document.querySelector('[name=csrfmiddlewaretoken]').value")},
    )
    assert gone.status == 410 and password not in gone.text()

    page.locator(".server-actions").get_by_role("button", name="Unrescue", exact=True).click()
    confirm(page, "Unrescue")
    expect(page.locator(".toast", has_text="Leaving the rescue mode of t-rescue").first).to_be_visible()
    _settled(page, "ACTIVE")
    expect(page.locator("#server-head [data-role=rescue-note]")).to_have_count(0)
    assert demo_conn.compute.get_server(server.id).status == "ACTIVE"


def test_member_backs_up_an_instance_and_finds_the_backup_with_the_snapshots(
    member_page, live_server, worker, demo_conn
):
    page = member_page
    server = boot(demo_conn, "t-backup")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    _settled(page, "ACTIVE")

    page.locator(".server-actions").get_by_role("link", name="Back up…").click()
    page.get_by_label("Backup name").fill("t-backup-weekly-1")
    page.get_by_label("Type").select_option(value="weekly")
    rotation = page.get_by_label("Backups to keep")
    rotation.fill("0")
    page.get_by_role("button", name="Back up", exact=True).click()
    expect(page.locator(".field.invalid .error")).to_contain_text("greater than or equal to 1")
    assert not _images(demo_conn, "t-backup-weekly-1")
    page.get_by_label("Backups to keep").fill("2")
    expect(page.locator(".cli")).to_contain_text("openstack server backup create --name t-backup-weekly-1")
    page.get_by_role("button", name="Back up", exact=True).click()
    expect(page.locator(".toast", has_text="Backing up t-backup").first).to_be_visible()
    wait_until(
        lambda: [i.status for i in _images(demo_conn, "t-backup-weekly-1")] == ["active"], what="the backup image"
    )

    page.goto(f"{live_server.url}/snapshots/")
    page.get_by_label("Kind").select_option(label="Backups")
    page.wait_for_url("**/snapshots/?*kind=backup*")
    row = page.locator("tr", has_text="t-backup-weekly-1")
    expect(row.locator("[data-role=backup]")).to_have_text("backup · weekly")
    expect(row).to_contain_text("t-backup", timeout=30000)  # the instance it came from
    expect(row.get_by_role("link", name="Launch")).to_be_visible()
    expect(page.locator("details.cli")).to_contain_text("image_type=backup")

    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete backup t-backup-weekly-1?")
    confirm(page, "Delete")
    expect(page.locator(".toast").first).to_contain_text("Backup t-backup-weekly-1 deleted.")
    expect(page.locator("tr", has_text="t-backup-weekly-1")).to_have_count(0)
    assert not _images(demo_conn, "t-backup-weekly-1")
