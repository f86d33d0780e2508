"""The overview in a browser: the quota cards come with the page, the key pair count and the instances by state
follow by themselves (htmx `load`) without a reload."""

from __future__ import annotations

import openstack
import pytest
from playwright.sync_api import expect

from tests.browser.shots import look

pytestmark = pytest.mark.browser


def test_the_counts_fill_in_after_the_page(member_page, live_server, stratus):
    nova = openstack.connect(cloud=stratus.member.name)
    keypairs = len(list(nova.compute.keypairs()))
    page = member_page
    page.goto(live_server.url + "/overview/")
    expect(page.locator("#quota-instances .used")).to_be_visible()
    expect(page.locator("#quota-key_pairs .used")).to_have_text(str(keypairs))
    status = page.locator("#status-card")
    expect(status.locator(".counting")).to_have_count(0)
    expect(status.locator(".status-list, p.muted").first).to_be_visible()
    if list(nova.compute.servers(limit=1)):
        expect(status.locator(".status-list li").first).to_be_visible()
    look(page, "overview-counts")
