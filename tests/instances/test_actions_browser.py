"""Actions on an instance in a real browser, each an operation run by a real worker; what a person sees and
what Nova says afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import boot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


# The actions that ask for a confirmation first (apps/instances/views.py, _action_text).
CONFIRMED = {"Stop", "Soft reboot", "Hard reboot", "Delete", "Revert resize", "Rebuild"}


def _act(page, label: str, *, expect_status: str, toast: str, timeout: float = 30000) -> None:
    page.locator(".server-actions").get_by_role("button", name=label, exact=True).click()
    if label in CONFIRMED:
        confirm(page, label)
    # The start toast; the end toast may already follow it (devcloud moves in 0.2 s), so not necessarily last.
    expect(page.locator(".toast", has_text=toast).first).to_be_visible()
    expect(page.locator("#server-head [data-role=status]")).to_have_attribute("title", expect_status, timeout=timeout)
    expect(page.locator("#server-head [data-role=task]")).to_have_count(0, timeout=timeout)
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=timeout)


def _form_action(page, label: str, fill, submit: str) -> None:
    page.locator(".server-actions").get_by_role("link", name=f"{label}…").click()
    expect(page.locator(".cli")).to_contain_text("openstack server")
    fill(page)
    page.get_by_role("button", name=submit, exact=True).click()


def test_member_drives_an_instance_through_its_power_actions(member_page, live_server, worker, demo_conn):
    page = member_page
    server = boot(demo_conn, "t-power")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    expect(page.locator("#server-head [data-role=status]")).to_have_attribute("title", "ACTIVE")
    look(page, "instances-detail")

    _act(page, "Stop", expect_status="SHUTOFF", toast="Stopping t-power")
    assert demo_conn.compute.get_server(server.id).status == "SHUTOFF"
    _act(page, "Start", expect_status="ACTIVE", toast="Starting t-power")
    assert demo_conn.compute.get_server(server.id).status == "ACTIVE"
    _act(page, "Soft reboot", expect_status="ACTIVE", toast="Rebooting t-power")
    _act(page, "Hard reboot", expect_status="ACTIVE", toast="Hard rebooting t-power")
    actions = [a.action for a in demo_conn.compute.server_actions(server.id)]
    assert actions.count("reboot") == 2
    _act(page, "Pause", expect_status="PAUSED", toast="Pausing t-power")
    assert demo_conn.compute.get_server(server.id).status == "PAUSED"
    _act(page, "Unpause", expect_status="ACTIVE", toast="Unpausing t-power")
    _act(page, "Suspend", expect_status="SUSPENDED", toast="Suspending t-power")
    assert demo_conn.compute.get_server(server.id).status == "SUSPENDED"
    _act(page, "Resume", expect_status="ACTIVE", toast="Resuming t-power")
    assert demo_conn.compute.get_server(server.id).status == "ACTIVE"

    # Lock with a reason: the badge says so, and only Unlock/Rename/Lock-type actions stay for a member.
    _form_action(page, "Lock", lambda p: p.get_by_label("Reason (optional)").fill("t-maintenance"), "Lock")
    expect(page.locator("#server-head [data-role=locked]")).to_contain_text("t-maintenance", timeout=30000)
    expect(page.locator(".server-actions").get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    assert demo_conn.compute.get_server(server.id).is_locked
    _act(page, "Unlock", expect_status="ACTIVE", toast="Unlocking t-power")
    expect(page.locator("#server-head [data-role=locked]")).to_have_count(0, timeout=30000)
    assert not demo_conn.compute.get_server(server.id).is_locked

    _form_action(page, "Rename", lambda p: p.get_by_label("New name").fill("t-power-renamed"), "Rename")
    expect(page.locator("#server-head h1")).to_have_text("t-power-renamed", timeout=30000)
    assert demo_conn.compute.get_server(server.id).name == "t-power-renamed"

    # The action log tab lists what was done; an action's events load when it is opened.
    page.get_by_role("link", name="Action log").click()
    expect(page.locator(".action-log")).to_contain_text("pause")
    expect(page.locator(".action-log")).to_contain_text("reboot")
    pause = page.locator(".action-log tbody tr").filter(has=page.locator("td strong", has_text=re.compile("^pause$")))
    pause.get_by_text("Show events").click()
    expect(pause.locator(".events-body .event").first).to_contain_text("compute_pause_instance")
    look(page, "instances-action-log")
    page.get_by_role("link", name="Console log").click()
    expect(page.locator("#tab-body[data-tab=log]")).to_be_visible()
    look(page, "instances-console-log")


def test_member_resizes_confirms_reverts_rebuilds_snapshots_and_deletes(
    member_page, live_server, worker, demo_conn, stratus
):
    page = member_page
    server = boot(demo_conn, "t-shape")
    page.goto(f"{live_server.url}/instances/{server.id}/")

    # Resize (where the cloud can: see TestCloud.resize_flavors): confirm one, revert the next.
    if stratus.resize_flavors:
        first, second = (demo_conn.compute.find_flavor(n, ignore_missing=False) for n in stratus.resize_flavors)
        _form_action(page, "Resize", lambda p: p.get_by_label("New flavor").select_option(value=first.id), "Resize")
        expect(page.locator(".toast", has_text="Resizing t-shape").first).to_be_visible()
        status = page.locator("#server-head [data-role=status]")
        expect(status).to_have_attribute("title", "VERIFY_RESIZE", timeout=30000)
        _act(page, "Confirm resize", expect_status="ACTIVE", toast="Confirming the resize of t-shape")
        assert demo_conn.compute.get_server(server.id).flavor["original_name"] == first.name

        _form_action(page, "Resize", lambda p: p.get_by_label("New flavor").select_option(value=second.id), "Resize")
        status = page.locator("#server-head [data-role=status]")
        expect(status).to_have_attribute("title", "VERIFY_RESIZE", timeout=30000)
        _act(page, "Revert resize", expect_status="ACTIVE", toast="Reverting the resize of t-shape")
        assert demo_conn.compute.get_server(server.id).flavor["original_name"] == first.name

    # Rebuild: an image too big for the flavor is refused next to the field (devcloud's seed has one); the one
    # that fits is rebuilt.
    page.locator(".server-actions").get_by_role("link", name="Rebuild…").click()
    if stratus.is_devcloud:
        page.get_by_label("Image").select_option(value=demo_conn.image.find_image("debian-12-genericcloud-amd64").id)
        page.get_by_role("button", name="Rebuild", exact=True).click()
        confirm(page, "Rebuild")
        expect(page.locator(".field.invalid .error")).to_contain_text("too small for the image")
    page.get_by_label("Image").select_option(label=stratus.image_name)
    page.get_by_role("button", name="Rebuild", exact=True).click()
    confirm(page, "Rebuild")
    expect(page.locator(".toast", has_text="Rebuilding t-shape").first).to_be_visible()
    wait_until(lambda: "rebuild" in [a.action for a in demo_conn.compute.server_actions(server.id)], what="the rebuild")
    expect(page.locator("#server-head [data-role=status]")).to_have_attribute("title", "ACTIVE", timeout=30000)
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=30000)

    _form_action(
        page, "Create snapshot", lambda p: p.get_by_label("Snapshot name").fill("t-shape-snap"), "Create snapshot"
    )
    expect(page.locator(".toast", has_text="Creating a snapshot of t-shape").first).to_be_visible()
    snap = wait_until(
        lambda: next((i for i in demo_conn.image.images() if i.name == "t-shape-snap" and i.status == "active"), None),
        what="the snapshot image",
    )
    demo_conn.image.delete_image(snap)

    page.locator(".server-actions").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete t-shape? This cannot be undone.")
    confirm(page, "Delete")
    expect(page.locator(".toast", has_text="Deleting t-shape").first).to_be_visible()
    page.wait_for_url(f"{live_server.url}/instances/")
    wait_until(lambda: demo_conn.compute.find_server(server.id) is None, what="the server to be deleted")
    expect(page.locator(f"#server-{server.id}")).to_have_count(0, timeout=30000)
