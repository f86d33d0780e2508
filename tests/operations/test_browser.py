"""What a person sees: the Activity page following a launch to its end, the end toasts, an operation's page
with its steps, a failure with Nova's reason, and Retry. The cloud's state is checked through openstacksdk."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.operations.models import Operation, State
from apps.operations.services import dispatch
from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.operations.conftest import make_server, wait_op

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_activity_follows_a_launch_and_a_failure(member_page, live_server, worker, member_creds, sdk, boot):
    page = member_page
    page.goto(live_server.url + "/activity/")
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()

    launch = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-ui-1",
        params={"name": "ops-ui-1", "source_type": "image", "networks": "none", **boot},
    )
    page.goto(live_server.url + "/activity/")
    row = page.locator(f"#op-{launch.id}")
    expect(row.get_by_role("link", name="Launch ops-ui-1")).to_be_visible()
    # The table polls while the launch runs; the badge turns to Succeeded and a toast says so.
    expect(row.locator(".badge")).to_have_text("Succeeded", timeout=60000)
    expect(page.locator("#toasts .toast.success", has_text="Launch ops-ui-1: done.")).to_be_visible(timeout=15000)
    look(page, "operations-activity")
    server_id = Operation.objects.get(id=launch.id).target_id
    assert sdk.compute.get_server(server_id).status == "ACTIVE"

    row.get_by_role("link", name="Launch ops-ui-1").click()
    expect(page.get_by_role("heading", name="Launch ops-ui-1")).to_be_visible()
    steps = page.locator(".op-steps")
    expect(steps).to_contain_text("Creating the instance")
    expect(steps).to_contain_text("Waiting for the instance to become active")
    expect(page.locator(".cli")).to_contain_text(f"--tag op-{launch.id}")
    look(page, "operations-detail")

    # A state conflict: pausing a stopped instance. Nova's reason is shown; Retry runs it again.
    server = make_server(sdk, boot, "ops-ui-2", status="SHUTOFF")
    pause = dispatch(
        creds=member_creds, kind="server.pause", target_type="server", target_id=server.id, target_name=server.name
    )
    wait_op(pause.id)
    page.goto(live_server.url + f"/activity/{pause.id}/")
    expect(page.locator("#op-state")).to_have_text("Failed")
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Cannot 'pause' instance .* vm_state stopped"))
    look(page, "operations-failed")

    page.get_by_role("button", name="Retry").click()
    confirm(page, "Retry")
    expect(page.locator("#toasts")).to_contain_text("Pause ops-ui-2: started again…")
    expect(page.locator("#op-state")).to_have_text("Failed", timeout=60000)
    expect(page.locator("#toasts .toast.error", has_text="Pause ops-ui-2 failed: Cannot 'pause'")).to_be_visible(
        timeout=15000
    )
    retried = Operation.objects.filter(target_id=server.id, kind="server.pause").order_by("-created_at").first()
    assert retried.id != pause.id and retried.state == State.FAILED
    assert sdk.compute.get_server(server.id).status == "SHUTOFF"

    page.goto(live_server.url + "/activity/?state=failed")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Action").select_option("server.launch")  # data-autosubmit: the form submits itself
    expect(page.locator(".empty")).to_contain_text("No operation matches these filters.")


@pytest.mark.devcloud_only
def test_the_tracker_follows_an_operation_from_any_page(
    member_page, live_server, worker, member_creds, sdk, boot, devcloud, clear_faults
):
    page = member_page
    # Keep the launch in flux for a while: reads of the new server stall for 3 s each.
    devcloud.control(
        "faults", {"service": "compute", "method": "GET", "path": r"/servers/[0-9a-f-]{36}$", "stall": 3, "count": 2}
    )
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-ui-3",
        params={"name": "ops-ui-3", "source_type": "image", "networks": "none", **boot},
    )
    page.goto(live_server.url + "/overview/")
    pill = page.locator("#op-tracker .op-pill")
    expect(pill).to_have_text("1 operation in progress")
    look(page, "operations-tracker", full_page=False)
    # It ends while the user stays on the overview: the pill goes and a toast says so.
    expect(page.locator("#toasts .toast.success", has_text="Launch ops-ui-3: done.")).to_be_visible(timeout=60000)
    expect(pill).to_have_count(0)
    assert sdk.compute.get_server(Operation.objects.get(id=op.id).target_id).status == "ACTIVE"

    # The same pages in Vietnamese.
    page.goto(live_server.url + "/activity/")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Hoạt động")).to_be_visible()
    expect(page.locator(f"#op-{op.id} .badge")).to_have_text("Thành công")
    expect(page.locator(f"#op-{op.id}")).to_contain_text("Khởi chạy ops-ui-3")
    look(page, "operations-activity-vi")
    page.locator(f"#op-{op.id} a").first.click()
    expect(page.locator(".op-steps")).to_contain_text("Đang chờ máy ảo chuyển sang hoạt động")
    look(page, "operations-detail-vi")
    page.get_by_role("button", name="English").click()


@pytest.mark.devcloud_only
def test_retrying_a_failed_launch_asks_for_its_user_data_again(
    member_page, live_server, worker, member_creds, sdk, boot, devcloud, clear_faults
):
    """Stratus erases a launch's user data when the launch ends: Retry of a failed one asks for it again, and the
    page never shows what was given the first time."""
    import base64
    import uuid

    page = member_page
    secret = "token-" + uuid.uuid4().hex
    user_data = f"#!/bin/sh\necho {secret} > /root/token\n"
    devcloud.control("build-failures", {"count": 1, "message": "No valid host was found."})
    failed = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-ui-ud",
        params={"name": "ops-ui-ud", "source_type": "image", "networks": "none", "user_data": user_data, **boot},
    )
    assert wait_op(failed.id).state == State.FAILED
    page.goto(live_server.url + f"/activity/{failed.id}/")
    expect(page.get_by_role("alert").first).to_contain_text("No valid host was found.")
    box = page.get_by_label("User data")
    expect(box).to_be_empty()
    expect(page.locator(".retry-form")).to_contain_text("Stratus erases it when an operation ends")
    expect(page.locator(".cli")).to_contain_text("--user-data user-data.txt")
    assert secret not in page.content()
    page.locator(".retry-form").get_by_role("button", name="Retry").click()
    expect(page.locator(".retry-form .field.invalid .error")).to_have_text("Paste it again to retry.")
    look(page, "operations-retry-user-data")

    page.get_by_label("User data").fill(user_data)
    page.locator(".retry-form").get_by_role("button", name="Retry").click()
    expect(page.locator("#toasts")).to_contain_text("Launch ops-ui-ud: started again…")
    expect(page.locator("#op-state")).to_have_text("Succeeded", timeout=60000)
    new = Operation.objects.filter(kind="server.launch", target_name="ops-ui-ud").order_by("-created_at").first()
    assert new.id != failed.id and new.state == State.SUCCEEDED
    admin = __import__("openstack").connect(cloud=devcloud.admin.name)
    try:
        body = admin.compute.get(f"/servers/{new.target_id}", microversion="2.3").json()["server"]
    finally:
        admin.close()
    assert base64.b64decode(body["OS-EXT-SRV-ATTR:user_data"]).decode() == user_data
