"""A snapshot deleted as soon as the list shows it active: its operation reached its goal, so it ends as done, and
the Snapshots page stops saying it is running — in a real browser, with a real worker."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from apps.operations.models import Operation
from tests.browser.dialogs import confirm
from tests.snapshots.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.devcloud_only]


def test_a_snapshot_deleted_once_active_leaves_its_operation_done(
    member_page, live_server, worker, sdk, server, devcloud
):
    page = member_page
    base = live_server.url
    name = f"snap-gone-{uuid.uuid4().hex[:6]}"
    # The worker reads the image by its id (GET /v2/images/{id}); the list page reads Glance's list. Hold the
    # worker's reads off (503, which it waits through) so that the person deletes the snapshot before the worker
    # has seen it active: the race a person wins whenever the worker's next look is a few seconds away.
    devcloud.control("faults", method="DELETE")
    devcloud.control(
        "faults",
        {"service": "image", "method": "GET", "path": r"^/v2/images/[0-9a-f-]{36}$", "status": 503, "count": 100000},
    )
    try:
        page.goto(f"{base}/snapshots/create/?server_id={server.id}")
        page.get_by_label("Snapshot name").fill(name)
        page.get_by_role("button", name="Create snapshot").click()
        page.wait_for_url(base + "/snapshots/")
        row = page.locator("tr", has_text=name)
        expect(row.locator("td.status .badge")).to_have_attribute("title", "active", timeout=30000)
        expect(page.locator(".pending-op")).to_be_visible()

        row.get_by_role("button", name="Delete").click()
        confirm(page, "Delete")
        expect(page.locator(".toast").first).to_contain_text(f"Snapshot {name} deleted.")
    finally:
        devcloud.control("faults", method="DELETE")

    op = Operation.objects.get(kind="server.snapshot", target_id=server.id)
    op = wait_until(
        lambda: (o := Operation.objects.get(id=op.id)).state in ("succeeded", "failed") and o,
        what="the operation to end",
    )
    assert op.state == "succeeded", op.display_message
    # The page stops saying "running" once the operation ended (it polls while one is in progress).
    expect(page.locator(".pending-op")).to_have_count(0, timeout=10000)
    expect(page.locator("#snapshot-table")).not_to_contain_text(name)
    # The operation's page says it is done, and why there is no snapshot to see.
    page.goto(f"{base}/activity/{op.id}/")
    expect(page.locator("body")).to_contain_text("Succeeded")
    expect(page.locator("body")).not_to_contain_text("No image found")
