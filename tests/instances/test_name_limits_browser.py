"""Issue #16, defect 8: a name longer than Nova's limit is not cut silently. Every name field says its limit
before anyone types, counts as one types, and says by how much a longer name is over; the form refuses it next
to the field (also without the page's script) and keeps what was typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.shots import look

pytestmark = [pytest.mark.browser]

LONG = "t-limit-" + "n" * 292  # 300 characters


def test_a_name_over_the_limit_is_kept_and_said_to_be_too_long(member_page, live_server, stratus):
    page = member_page
    page.goto(live_server.url + "/instances/launch/")
    name = page.get_by_label("Instance name")
    hint = page.locator("#id_name-limit")
    expect(hint).to_have_text("Up to 255 characters.")
    expect(name).to_have_attribute("aria-describedby", re.compile(r"\bid_name-limit\b"))

    name.fill("t-limit")
    expect(hint).to_have_text("7 of 255 characters")
    name.fill(LONG)
    expect(name).to_have_value(LONG)  # not cut to 255
    expect(hint).to_have_text("300 characters: 45 more than the limit of 255. Shorten it.")
    expect(hint).to_have_class(re.compile(r"\bover\b"))
    look(page, "name-limit-launch")

    # Launch is refused in the page; nothing reaches Nova.
    page.locator("#id_image_id").select_option(label=stratus.image_name)
    page.get_by_label(stratus.small_flavor).check()
    page.get_by_role("button", name="Launch", exact=True).click()
    expect(page).to_have_url(re.compile(r"/instances/launch/$"))
    assert page.evaluate("document.getElementById('id_name').validity.customError")

    name.fill(LONG[:255])
    expect(hint).to_have_text("255 of 255 characters")
    expect(hint).not_to_have_class(re.compile(r"\bover\b"))

    # The other name fields say their limit too.
    for url, field in (
        ("/keypairs/create/", "#id_name-limit"),
        ("/keypairs/import/", "#id_name-limit"),
    ):
        page.goto(live_server.url + url)
        expect(page.locator(field)).to_have_text("Up to 255 characters.")


def test_the_server_refuses_an_over_long_name_next_to_the_field_and_keeps_it(member_client, admin_client, demo_conn):
    """Without the script (or with a crafted request) the forms still refuse it, keeping what was typed."""
    from tests.instances.conftest import boot

    server = boot(demo_conn, "t-limit-src")
    cases = [
        (member_client, "/instances/launch/", {"name": LONG, "count": "1", "source": "image"}),
        (member_client, "/keypairs/create/", {"name": LONG, "algorithm": "ed25519"}),
        (member_client, "/keypairs/import/", {"name": LONG, "public_key": ""}),
        (member_client, "/snapshots/create/", {"name": LONG, "server_id": server.id}),
        (member_client, f"/instances/{server.id}/rename/", {"name": LONG}),
        (member_client, f"/instances/{server.id}/snapshot/", {"name": LONG}),
        (admin_client, "/flavors/create/", {"name": LONG, "vcpus": "1", "ram": "64", "disk": "1"}),
    ]
    for client, url, data in cases:
        response = client.post(url, data)
        page = response.content.decode()
        assert response.status_code in (200, 400), (url, response.status_code)
        assert "at most 255 characters (it has 300)" in page, url
        assert f'value="{LONG}"' in page, url  # kept, whole
