"""The instance list in a real browser: bulk delete, hostile names rendered as text, faults shown."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import boot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_member_bulk_deletes_five_instances(member_page, live_server, worker, demo_conn):
    page = member_page
    servers = [boot(demo_conn, f"t-bulk-{i}", wait=False) for i in range(5)]
    for s in servers:
        demo_conn.compute.wait_for_server(s, status="ACTIVE", interval=0.2, wait=60)
    page.goto(live_server.url + "/instances/?q=t-bulk")
    rows = page.locator("tr.server-row")
    expect(rows).to_have_count(5)
    # A row's own menu: stop one; its badge follows the transition without a reload.
    first = page.locator(f"#server-{servers[0].id}")
    first.get_by_text("Actions").click()
    first.get_by_role("menuitem", name="Stop", exact=True).click()
    confirm(page, "Stop")
    expect(page.locator(".toast", has_text="Stopping t-bulk-0").first).to_be_visible()
    status = page.locator(f"#server-{servers[0].id} [data-role=status]")
    expect(status).to_have_attribute("title", "SHUTOFF", timeout=30000)
    assert demo_conn.compute.get_server(servers[0].id).status == "SHUTOFF"
    for s in servers:
        page.locator(f"#server-{s.id} input[name=server]").check()
    page.get_by_label("With selected:").select_option(label="Delete")
    look(page, "instances-bulk")
    page.get_by_role("button", name="Apply to selected").click()
    # The confirmation names the action and how many, and lists them.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the 5 instances listed below? This cannot be undone.")
    expect(dialog.get_by_role("listitem")).to_have_count(5)
    for s in servers:
        expect(dialog.get_by_role("listitem").filter(has_text=s.name)).to_have_count(1)
    look(page, "instances-bulk-confirm", full_page=False)
    confirm(page, "Delete")
    expect(page.locator(".toast", has_text="Delete: 5 instances queued.").first).to_be_visible()
    # Rows leave the table as Nova deletes them (live updates, no reload).
    expect(rows).to_have_count(0, timeout=45000)
    wait_until(
        lambda: not [x for x in demo_conn.compute.servers() if x.name.startswith("t-bulk-")],
        what="the five servers to be deleted",
    )


def test_a_hostile_name_renders_as_text_and_an_error_shows_its_fault(member_page, live_server, stratus, demo_conn):
    page = member_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = "<script>alert(1)</script>"
    evil = boot(demo_conn, hostile)
    if stratus.is_devcloud:
        stratus.control("build-failures", {"count": 1, "message": "t-no valid host was found"})
        broken = boot(demo_conn, "t-broken", wait=False)
        wait_until(lambda: demo_conn.compute.get_server(broken.id).status == "ERROR", what="the server in ERROR")

    page.goto(live_server.url + "/instances/")
    expect(page.locator(f"#server-{evil.id} td.name a")).to_have_text(hostile)
    if stratus.is_devcloud:
        expect(page.locator(f"#server-{broken.id} [data-role=status]")).to_have_attribute("title", "ERROR")
        expect(page.locator(f"#server-{broken.id} .fault")).to_contain_text("t-no valid host was found")
    look(page, "instances-hostile-list")
    # More filters load when opened; choosing a flavor narrows the list (Nova's own filter, in the URL).
    page.get_by_text("More filters").click()
    small = demo_conn.compute.find_flavor(stratus.small_flavor, ignore_missing=False)
    page.get_by_label("Flavor").select_option(label=small.name)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile(rf"flavor={re.escape(quote(small.id))}(&|$)"))
    expect(page.locator(f"#server-{evil.id}")).to_be_visible()
    look(page, "instances-filters")
    page.goto(f"{live_server.url}/instances/{evil.id}/")
    expect(page.locator("#server-head h1")).to_have_text(hostile)
    page.goto(f"{live_server.url}/instances/{evil.id}/rename/")
    expect(page.get_by_label("New name")).to_have_value(hostile)
    if stratus.is_devcloud:
        page.goto(f"{live_server.url}/instances/{broken.id}/")
        expect(page.locator("[data-role=fault]")).to_contain_text("t-no valid host was found")
        look(page, "instances-fault")
    assert dialogs == []
