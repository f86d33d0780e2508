"""A member snapshots a running instance (an operation run by a real Celery worker), watches the snapshot
become active, launches an instance from it, and deletes it — in a real browser."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.cloudharness import active
from tests.instances.conftest import choose_a_network
from tests.snapshots.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_member_snapshots_an_instance_launches_from_it_and_deletes_it(member_page, live_server, worker, sdk, server):
    page = member_page
    base = live_server.url
    name = f"snap-{uuid.uuid4().hex[:6]}"

    # The instance page links here with the server chosen.
    page.goto(f"{base}/snapshots/create/?server_id={server.id}")
    expect(page.locator("#id_server_id option:checked")).to_contain_text(server.name)
    page.get_by_label("Snapshot name").fill(name)
    expect(page.locator("details.cli")).to_contain_text("openstack server image create")
    look(page, "snapshots-create")
    page.get_by_role("button", name="Create snapshot").click()
    page.wait_for_url(base + "/snapshots/")
    expect(page.locator(".toast").first).to_contain_text(f"Creating snapshot {name} of {server.name}")

    # The list follows the image from queued/saving to active by itself (htmx polling).
    row = page.locator("tr", has_text=name)
    expect(row).to_contain_text(server.name, timeout=30000)
    expect(row.locator("td.status .badge")).to_have_attribute("title", "active", timeout=30000)
    look(page, "snapshots-list")
    image = next(i for i in sdk.image.images(owner=sdk.current_project_id) if i.name == name)
    assert image.status == "active"
    assert image.properties.get("image_type") == "snapshot" or image.to_dict().get("image_type") == "snapshot"

    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("#snapshot-status .badge")).to_have_attribute("title", "active")
    look(page, "snapshots-detail")

    # Launch from it: the launch page opens with the snapshot as the source.
    page.get_by_role("link", name="Launch instance").click()
    page.wait_for_url(re.compile(r".*/instances/launch/\?source=snapshot&image_id=.*"))
    launched = f"from-{name}"
    page.get_by_label("Instance name").fill(launched)
    expect(page.locator("#id_snapshot_id option:checked")).to_have_text(name)
    page.get_by_label(active().small_flavor).check()
    choose_a_network(page)
    page.get_by_role("button", name="Launch", exact=True).click()
    page.wait_for_url(re.compile(r".*/instances/$"))
    new_server = wait_until(
        lambda: next((s for s in sdk.compute.servers() if s.name == launched), None), what="the launched server"
    )
    new_server = sdk.compute.wait_for_server(new_server, status="ACTIVE", interval=0.2, wait=60)
    assert new_server.image.id == image.id

    # Delete it, confirming the dialog.
    page.goto(f"{base}/snapshots/{image.id}/")
    page.get_by_role("button", name="Delete").click()
    confirm(page, "Delete")
    page.wait_for_url(base + "/snapshots/")
    expect(page.locator(".toast").first).to_contain_text(f"Snapshot {name} deleted.")
    expect(page.locator("#snapshot-table")).not_to_contain_text(name)
    assert sdk.image.find_image(image.id) is None
    sdk.compute.delete_server(new_server, ignore_missing=True)
