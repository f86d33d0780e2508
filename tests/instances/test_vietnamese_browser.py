"""Issue #16, defect 5: the instances pages in Vietnamese show no English: the Age column, the Image and Flavor
headers, Nova's statuses and power states (translated labels, Nova's code on hover), the role badge, and
"Console" as Vietnamese cloud consoles say it (a loanword, not "Bảng điều khiển", which means dashboard)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import boot

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_the_instances_pages_speak_vietnamese_throughout(member_page, live_server, worker, demo_conn):
    page = member_page
    running = boot(demo_conn, "t-vi-mot")
    stopped = boot(demo_conn, "t-vi-hai")
    demo_conn.compute.stop_server(stopped)
    demo_conn.compute.wait_for_server(stopped, status="SHUTOFF", interval=0.2, wait=60)

    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("header .badge.role")).to_have_text("thành viên")
    expect(page.locator("header .badge.role")).to_have_attribute("title", "member")

    page.goto(live_server.url + "/instances/?q=t-vi-")
    headers = page.locator("table.servers thead th")
    expect(headers.filter(has_text="Ảnh đĩa")).to_have_count(1)
    expect(headers.filter(has_text="Cấu hình")).to_have_count(1)
    expect(headers.filter(has_text=re.compile(r"^(Image|Flavor)$"))).to_have_count(0)

    row = page.locator(f"#server-{running.id}")
    expect(row.locator("[data-role=status]")).to_have_text("Hoạt động")
    expect(row.locator("[data-role=status]")).to_have_attribute("title", "ACTIVE")
    expect(row.locator("td").nth(9)).to_have_text("Đang chạy")
    age = row.locator("time")
    expect(age).to_have_text(re.compile(r"^\d+\s+phút$"))
    off = page.locator(f"#server-{stopped.id}")
    expect(off.locator("[data-role=status]")).to_have_text("Đã tắt")
    expect(off.locator("[data-role=status]")).to_have_attribute("title", "SHUTOFF")
    expect(off.locator("td").nth(9)).to_have_text("Đã tắt")
    look(page, "stratus-instances-vi")

    # The row menu says Console; a stop redrawn by the live poll stays in Vietnamese.
    row.get_by_text("Thao tác").click()
    expect(row.locator(".menu").get_by_role("menuitem", name="Console", exact=True)).to_be_visible()
    row.get_by_role("menuitem", name="Tắt", exact=True).click()
    confirm(page, "Tắt")
    expect(row.locator("[data-role=status]")).to_have_attribute("title", "SHUTOFF", timeout=30000)
    expect(row.locator("[data-role=status]")).to_have_text("Đã tắt")

    # The detail page: header badge, the Instance card's status and power state.
    page.goto(live_server.url + f"/instances/{stopped.id}/")
    expect(page.locator("#server-head [data-role=status]")).to_have_text("Đã tắt")
    card = page.locator("dl.props").first
    expect(card).to_contain_text("Đã tắt")
    expect(card).not_to_contain_text("SHUTOFF")
    expect(card).not_to_contain_text("SHUTDOWN")
    look(page, "stratus-detail-vi")

    # And in English the same page reads as English words, not Nova's codes.
    page.get_by_role("button", name="English").click()
    expect(page.locator("#server-head [data-role=status]")).to_have_text("Shut off")
    page.goto(live_server.url + "/instances/?q=t-vi-")
    expect(page.locator(f"#server-{stopped.id} time")).to_have_text(re.compile(r"^\d+\s+minutes?$"))
    look(page, "stratus-instances-en")
