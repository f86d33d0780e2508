"""Metadata and tags in a real browser with a real worker, as a person does them: on an instance's page add a metadata
item, change its value and remove it, seeing the table each time (a 256-character value refused next to the field);
tag two instances, see the chips in the list, filter the list by a tag (a chip click, and the filter panel) and see
only the matching instance; remove a tag. Stratus' own `op-` tag is never on screen."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import boot

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LONG = 30000


def _settled(page) -> None:
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=LONG)


def test_a_person_adds_changes_and_removes_metadata(member_page, live_server, worker, demo_conn):
    page, conn = member_page, demo_conn
    server = boot(conn, f"t-metab-{uuid.uuid4().hex[:6]}")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    section = page.locator("#metadata")
    expect(section.locator("[data-role=no-metadata]")).to_be_visible()
    expect(section.locator(".cli")).to_contain_text(f"openstack server set --property '<key>=<value>' {server.id}")

    section.get_by_label("Key", exact=True).fill("role")
    section.get_by_label("Value", exact=True).fill("web")
    section.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".toast", has_text="Setting role on").first).to_be_visible()
    item = section.locator("tr.metadata-item[data-key=role]")
    expect(item.get_by_label("Value of role")).to_have_value("web", timeout=LONG)
    assert conn.compute.get_server_metadata(server.id).metadata == {"role": "web"}

    # a value too long comes back next to its field, and Nova keeps the old one
    item.get_by_label("Value of role").fill("v" * 256)
    item.get_by_role("button", name="Save").click()
    expect(page.locator("#id_value-error")).to_have_text("A value is at most 255 characters (this one has 256).")
    assert conn.compute.get_server_metadata(server.id).metadata == {"role": "web"}
    page.goto(f"{live_server.url}/instances/{server.id}/")

    item.get_by_label("Value of role").fill("database")
    item.get_by_role("button", name="Save").click()
    expect(item.get_by_label("Value of role")).to_have_value("database", timeout=LONG)
    _settled(page)
    assert conn.compute.get_server_metadata(server.id).metadata == {"role": "database"}

    item.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("dialog")).to_contain_text(f"Remove the metadata item role from {server.name}?")
    confirm(page, "Remove")
    expect(section.locator("[data-role=no-metadata]")).to_be_visible(timeout=LONG)
    expect(item).to_have_count(0)
    assert conn.compute.get_server_metadata(server.id).metadata == {}


def test_a_person_tags_instances_filters_the_list_and_removes_a_tag(member_page, live_server, worker, demo_conn):
    page, conn = member_page, demo_conn
    run = uuid.uuid4().hex[:6]
    web, db = f"web-{run}", f"db-{run}"
    one = boot(conn, f"t-tagb-a-{run}")
    two = boot(conn, f"t-tagb-b-{run}")
    own = f"op-{uuid.uuid4()}"  # as a launch by Stratus leaves it
    conn.compute.put(f"/servers/{one.id}/tags/{own}", microversion="2.26")

    def tag(server, text: str) -> None:
        page.goto(f"{live_server.url}/instances/{server.id}/")
        tags = page.locator("#tags")
        tags.get_by_label("Add a tag").fill(text)
        tags.get_by_role("button", name="Add", exact=True).click()
        expect(tags.locator(f".chip[data-tag='{text}'] a")).to_have_text(text, timeout=LONG)
        _settled(page)

    tag(one, web)
    tag(one, db)
    tag(two, web)
    expect(page.get_by_text(own)).to_have_count(0)

    page.goto(f"{live_server.url}/instances/")
    first, second = page.locator(f"#server-{one.id}"), page.locator(f"#server-{two.id}")
    expect(first.locator(".chip")).to_have_text([web, db])
    expect(second.locator(".chip")).to_have_text([web])
    expect(page.get_by_text(own)).to_have_count(0)

    # a chip click lists the instances with that tag
    first.locator(f".chip[data-tag='{db}'] a").click()
    page.wait_for_url(re.compile(rf".*\?tags={db}$"))
    expect(page.locator("tr.server-row")).to_have_count(1)
    expect(page.locator(f"#server-{one.id}")).to_be_visible()

    # the filter panel: every one of the tags, or any of them
    page.goto(f"{live_server.url}/instances/")
    page.get_by_text("More filters").click()
    all_of = page.get_by_label("With all of the tags")
    expect(all_of).to_be_visible()
    assert own not in page.locator("#tag-suggestions").inner_html()
    all_of.fill(web)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tr.server-row")).to_have_count(2)
    page.get_by_label("With all of the tags").fill(f"{web}, {db}")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tr.server-row")).to_have_count(1)
    expect(page.locator(f"#server-{one.id}")).to_be_visible()
    expect(page.locator(".cli code").last).to_contain_text(f"--tags {web} --tags {db}")

    # remove a tag from the instance page; its chip goes, Stratus' own tag stays in Nova
    page.goto(f"{live_server.url}/instances/{one.id}/")
    page.locator("#tags").get_by_role("button", name=f"Remove the tag {web}").click()
    expect(page.locator(f"#tags .chip[data-tag='{web}']")).to_have_count(0, timeout=LONG)
    expect(page.locator(f"#tags .chip[data-tag='{db}']")).to_be_visible()
    _settled(page)
    tags = conn.compute.get(f"/servers/{one.id}/tags", microversion="2.26").json()["tags"]
    assert sorted(tags) == sorted([db, own])
    page.goto(f"{live_server.url}/instances/?tags={web}")
    expect(page.locator("tr.server-row")).to_have_count(1)
    expect(page.locator(f"#server-{two.id}")).to_be_visible()
    _pictures(page, live_server.url, conn, one)


def _pictures(page, base: str, conn, server) -> None:
    """With STRATUS_SCREENSHOTS: the instance page's Metadata and Tags sections and the list's chips, in the light
    and dark themes, at 390 px, and in Vietnamese (last: the language stays chosen)."""
    from tests.browser.tour import screenshot_dir

    if screenshot_dir("states") is None:
        return
    conn.compute.set_server_metadata(server.id, role="web", owner="ops team", note="v" * 80)
    shots = [("detail", f"{base}/instances/{server.id}/"), ("list", f"{base}/instances/")]
    for theme in ("light", "dark"):
        for name, url in shots:
            page.goto(url)
            page.evaluate(f"document.documentElement.setAttribute('data-theme', '{theme}')")
            look(page, f"metadata-tags-{name}-{theme}")
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in shots:
        page.goto(url)
        look(page, f"metadata-tags-{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_load_state()
    for name, url in shots:
        page.goto(url)
        look(page, f"metadata-tags-{name}-vi")
