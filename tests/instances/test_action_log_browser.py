"""The Action log tab when Nova fails to give an action's events: the person reads which service failed where the
events would be, and can try again without leaving the tab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.shots import look
from tests.instances.conftest import boot, wait_until


@pytest.mark.browser
@pytest.mark.devcloud_only
def test_events_that_fail_to_load_say_why_and_can_be_fetched_again(
    member_page, live_server, devcloud, demo_conn, caplog
):
    page = member_page
    server = boot(demo_conn, "t-events")
    demo_conn.compute.pause_server(server)
    wait_until(lambda: demo_conn.compute.get_server(server.id).status == "PAUSED", what="the server to pause")
    page.goto(f"{live_server.url}/instances/{server.id}/?tab=actions")
    pause = page.locator(".action-log tbody tr").filter(has=page.locator("td strong", has_text=re.compile("^pause$")))
    expect(pause).to_have_count(1)

    # Only the events call fails (GET …/os-instance-actions/<request id>), once.
    devcloud.control("faults", {"service": "compute", "method": "GET", "path": "/os-instance-actions/.", "status": 503})
    try:
        pause.get_by_text("Show events").click()
        error = pause.locator(".events-body [role=alert]")
        expect(error).to_contain_text("Compute (Nova)")
        expect(error).to_contain_text("HTTP 503")
        expect(pause.locator(".events-body")).not_to_contain_text("Loading")
        look(page, "instances-action-events-error")
        # Said in place, and logged for the operators as any other cloud failure.
        logged = [r.getMessage() for r in caplog.records if r.name == "apps.cloud.middleware"]
        assert any(m.startswith(f"cloud error on /instances/{server.id}/actions/") for m in logged), logged
    finally:
        devcloud.control("faults", method="DELETE")

    pause.get_by_role("button", name="Try again").click()
    expect(pause.locator(".events-body .event").first).to_contain_text("compute_pause_instance")
    expect(pause.locator(".events-body [role=alert]")).to_have_count(0)
    expect(page.locator("#tab-body[data-tab=actions]")).to_be_visible()
