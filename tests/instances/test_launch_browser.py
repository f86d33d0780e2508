"""Launch from the one-page form in a real browser: image, new volume, snapshot; over quota."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.instances.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _server_named(conn, name):
    return next((s for s in conn.compute.servers() if s.name == name), None)


def test_member_launches_from_an_image_and_watches_it_build(member_page, live_server, worker, demo_conn):
    page = member_page
    page.goto(live_server.url + "/instances/launch/")
    page.screenshot(path="/tmp/instances-launch-empty.png", full_page=True)
    page.get_by_label("Instance name").fill("t-web")
    page.locator("#id_image_id").select_option(label="cirros-0.6.3-x86_64-disk")
    # The image's min_ram (64 MB) leaves every flavor usable; pick the smallest.
    page.get_by_label("m1.nano").check()
    expect(page.locator("#launch-live .cli")).to_contain_text("openstack server create")
    page.screenshot(path="/tmp/instances-launch.png", full_page=True)
    page.get_by_role("button", name="Launch", exact=True).click()
    page.wait_for_url(re.compile(r".*/instances/$"))
    expect(page.locator(".toast").first).to_contain_text("Launching t-web")
    row = page.locator("tr.server-row", has_text="t-web")
    expect(row.locator("[data-role=status]")).to_have_text("ACTIVE", timeout=30000)
    page.screenshot(path="/tmp/instances-list.png", full_page=True)
    server = wait_until(lambda: _server_named(demo_conn, "t-web"), what="t-web in Nova")
    assert demo_conn.compute.get_server(server.id).status == "ACTIVE"
