"""What a person sees when Nova fails: a page naming the service and what happened, and the rest of the dashboard
still usable (menu, sign-out)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.shots import look


@pytest.mark.browser
@pytest.mark.devcloud_only
def test_a_person_sees_which_service_failed(member_page, live_server, devcloud):
    page = member_page
    devcloud.control("faults", {"service": "compute", "status": 503, "count": 100000})
    try:
        page.goto(live_server.url + "/instances/")
        expect(page.get_by_text("Compute (Nova)").first).to_be_visible()
        expect(page.get_by_text("is not working right now (HTTP 503)").first).to_be_visible()
        look(page, "stratus-fault-compute")
    finally:
        devcloud.control("faults", method="DELETE")
    page.goto(live_server.url + "/instances/")
    expect(page.get_by_text("Compute (Nova)")).to_have_count(0)
