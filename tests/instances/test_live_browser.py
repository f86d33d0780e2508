"""The live parts of the instance pages in a real browser, with a real worker: every part of the page that shows
an instance's state follows it after an action, and a row's "in progress" ends when its operation does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.instances.conftest import boot

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
