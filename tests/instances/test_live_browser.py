"""The live parts of the instance pages in a real browser, with a real worker: every part of the page that shows
an instance's state follows it after an action, and a row's "in progress" ends when its operation does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.instances.conftest import boot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _prop(page, label: str):  # noqa: ANN001, ANN202 - a playwright Page and Locator
    """The value next to `label` in the Overview's property lists."""
    return page.locator(f"#tab-body dl.props dt:text-is('{label}') + dd")


def test_the_detail_page_follows_the_instance_after_stop(member_page, live_server, worker, demo_conn):
    page = member_page
    page.on("dialog", lambda d: d.accept())
    server = boot(demo_conn, "t-follow")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    expect(_prop(page, "Status")).to_have_text("ACTIVE")
    expect(_prop(page, "Power state")).to_have_text("RUNNING")
    cli = page.locator(".cli-table")
    expect(cli.locator("th", has_text="Stop")).to_have_count(1)

    page.locator(".server-actions").get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator("#server-head [data-role=status]")).to_have_text("SHUTOFF", timeout=30000)
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=30000)
    # Without a reload, the Overview card and the CLI table say what the header says.
    expect(_prop(page, "Status")).to_have_text("SHUTOFF")
    expect(_prop(page, "Power state")).to_have_text("SHUTDOWN")
    expect(cli.locator("th", has_text="Start")).to_have_count(1)
    expect(cli.locator("th", has_text="Stop")).to_have_count(0)
    expect(cli).to_contain_text(f"openstack server start {server.id}")
    assert demo_conn.compute.get_server(server.id).status == "SHUTOFF"


def test_a_rows_in_progress_ends_when_its_operation_does(member_page, live_server, worker_factory, demo_conn):
    """The operation ends after Nova's last change to the server (as a launch does whenever the worker sees ACTIVE
    after the list did): the row still shows the end within a poll, and the poll does not stop before it."""
    from apps.operations.models import Operation

    page = member_page
    server = boot(demo_conn, "t-live-op")
    demo_conn.compute.stop_server(server)
    demo_conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.2, wait=60)
    page.goto(f"{live_server.url}/instances/?q=t-live-op")
    row = page.locator(f"#server-{server.id}")
    expect(row.locator("[data-role=status]")).to_have_text("SHUTOFF")

    # Start it from its menu while no worker runs yet: the operation waits, and the row says so.
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator(".toast", has_text="Starting t-live-op").first).to_be_visible()
    expect(row.locator("[data-role=op]")).to_be_visible()
    # Nova starts it meanwhile (someone else did): the poll redraws the row ACTIVE, the operation still pending.
    demo_conn.compute.start_server(server)
    expect(row.locator("[data-role=status]")).to_have_text("ACTIVE", timeout=30000)
    expect(row.locator("[data-role=task]")).to_have_count(0, timeout=30000)
    expect(row.locator("[data-role=op]")).to_be_visible()
    # The worker then finds it already started and ends the operation, without any change in Nova.
    worker_factory()
    op = Operation.objects.get(kind="server.start", target_id=server.id)
    wait_until(lambda: Operation.objects.get(id=op.id).state == "succeeded", what="the start operation to end")
    expect(row.locator("[data-role=op]")).to_have_count(0, timeout=10000)
    expect(row.locator("[data-role=status]")).to_have_text("ACTIVE")
