"""The live parts of the instance pages in a real browser, with a real worker: every part of the page that shows
an instance's state follows it after an action, and a row's "in progress" ends when its operation does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look
from tests.instances.conftest import boot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _prop(page, label: str):  # a playwright Page and Locator
    """The value next to `label` in the Overview's property lists."""
    return page.locator(f"#tab-body dl.props dt:text-is('{label}') + dd")


def test_the_detail_page_follows_the_instance_after_stop(member_page, live_server, worker, demo_conn):
    page = member_page
    server = boot(demo_conn, "t-follow")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    expect(_prop(page, "Status")).to_have_attribute("title", "ACTIVE")
    expect(_prop(page, "Power state")).to_have_attribute("title", "RUNNING")
    cli = page.locator(".cli-table")
    expect(cli.locator("th", has_text="Stop")).to_have_count(1)

    page.locator(".server-actions").get_by_role("button", name="Stop", exact=True).click()
    confirm(page, "Stop")
    expect(page.locator("#server-head [data-role=status]")).to_have_attribute("title", "SHUTOFF", timeout=30000)
    expect(page.locator("#server-head [data-role=op]")).to_have_count(0, timeout=30000)
    # Without a reload, the Overview card and the CLI table say what the header says.
    expect(_prop(page, "Status")).to_have_attribute("title", "SHUTOFF")
    expect(_prop(page, "Status")).to_have_text("Shut off")
    expect(_prop(page, "Power state")).to_have_attribute("title", "SHUTDOWN")
    expect(cli.locator("th", has_text="Start")).to_have_count(1)
    expect(cli.locator("th", has_text="Stop")).to_have_count(0)
    expect(cli).to_contain_text(f"openstack server start {server.id}")
    assert demo_conn.compute.get_server(server.id).status == "SHUTOFF"


def test_a_rows_in_progress_ends_when_its_operation_does(member_page, live_server, worker_factory, demo_conn):
    """The operation ends after Nova's last change to the server (as a launch does whenever the worker sees ACTIVE
    after the list did): the row still shows the end within a poll, and the poll does not stop before it."""
    from apps.operations.models import Operation

    page = member_page
    server = boot(demo_conn, "t-live-op")
    demo_conn.compute.stop_server(server)
    demo_conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.2, wait=60)
    page.goto(f"{live_server.url}/instances/?q=t-live-op")
    row = page.locator(f"#server-{server.id}")
    expect(row.locator("[data-role=status]")).to_have_attribute("title", "SHUTOFF")

    # Start it from its menu while no worker runs yet: the operation waits, and the row says so.
    row.get_by_text("Actions").click()
    row.get_by_role("menuitem", name="Start", exact=True).click()
    expect(page.locator(".toast", has_text="Starting t-live-op").first).to_be_visible()
    expect(row.locator("[data-role=op]")).to_be_visible()
    # Nova starts it meanwhile (someone else did): the poll redraws the row ACTIVE, the operation still pending.
    demo_conn.compute.start_server(server)
    expect(row.locator("[data-role=status]")).to_have_attribute("title", "ACTIVE", timeout=30000)
    expect(row.locator("[data-role=task]")).to_have_count(0, timeout=30000)
    expect(row.locator("[data-role=op]")).to_be_visible()
    # The worker then finds it already started and ends the operation, without any change in Nova.
    worker_factory()
    op = Operation.objects.get(kind="server.start", target_id=server.id)
    wait_until(lambda: Operation.objects.get(id=op.id).state == "succeeded", what="the start operation to end")
    expect(row.locator("[data-role=op]")).to_have_count(0, timeout=10000)
    expect(row.locator("[data-role=status]")).to_have_attribute("title", "ACTIVE")


def _hit(page, locator) -> bool:  # playwright Page and Locator
    """Whether a click at the middle of the element lands on it (nothing clips or covers it there)."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                   return r.width > 0 && r.height > 0 && (at === el || el.contains(at)); }"""
    )


def _menu_shows_whole(page, row) -> None:
    items = row.locator(".menu-item")
    assert items.count() >= 5
    for i in range(items.count()):
        expect(items.nth(i)).to_be_in_viewport(ratio=1)
        assert _hit(page, items.nth(i)), f"menu item {items.nth(i).inner_text()!r} cannot be clicked"


def _arrow_to(page, item) -> None:
    """Press ArrowDown until `item` has the focus (a menu has fewer than 20 items)."""
    for _ in range(20):
        if item.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"ArrowDown never reached {item}")


def test_a_rows_menu_shows_whole_and_works_from_the_keyboard(member_page, live_server, demo_conn):
    page = member_page
    server = boot(demo_conn, "t-menu-one")
    page.goto(f"{live_server.url}/instances/?q=t-menu-one")
    row = page.locator(f"#server-{server.id}")
    button = row.get_by_text("Actions", exact=True)
    menu = row.locator("[role=menu]")

    # One instance: the whole menu shows, Delete included, and it can be clicked where it is.
    button.click()
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    _menu_shows_whole(page, row)
    expect(menu.get_by_role("menuitem", name="Delete")).to_be_visible()
    look(page, "instances-menu-one", full_page=False)
    # Escape closes it and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    # From the keyboard: Enter opens it on its first item, arrows move, End and Home jump, Escape closes.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    items = menu.get_by_role("menuitem")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()  # wraps around
    expect(items.last).to_have_text("Delete")
    page.keyboard.press("Home")
    expect(items.first).to_be_focused()
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()

    # A click elsewhere closes it too.
    button.click()
    expect(menu).to_be_visible()
    page.locator("h1").click()
    expect(menu).to_be_hidden()

    # An item that asks first: Escape in its confirmation brings the focus back to the menu's button.
    button.focus()
    page.keyboard.press("Enter")
    _arrow_to(page, menu.get_by_role("menuitem", name="Stop", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_contain_text("Stop t-menu-one?")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(button).to_be_focused()

    # Enter on an item does what a click does: "Rename…" opens the rename page.
    page.keyboard.press("Enter")
    expect(items.first).to_be_focused()
    _arrow_to(page, menu.get_by_role("menuitem", name="Rename…"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("New name")).to_have_value("t-menu-one")


def test_the_last_rows_menu_shows_whole_among_five(member_page, live_server, demo_conn):
    page = member_page
    servers = [boot(demo_conn, f"t-menu-five-{i}", wait=False) for i in range(5)]
    for s in servers:
        demo_conn.compute.wait_for_server(s, status="ACTIVE", interval=0.2, wait=60)
    page.goto(f"{live_server.url}/instances/?q=t-menu-five")
    expect(page.locator("tr.server-row")).to_have_count(5)
    for s in (servers[0], servers[-1]):  # the newest (first row) and the oldest (last row)
        row = page.locator(f"#server-{s.id}")
        row.get_by_text("Actions", exact=True).click()
        expect(row.locator("[role=menu]")).to_be_visible()
        _menu_shows_whole(page, row)
        look(page, f"instances-menu-five-{s.name}", full_page=False)
        page.keyboard.press("Escape")
        expect(row.locator("[role=menu]")).to_be_hidden()


def test_a_confirmation_is_asked_in_the_page_and_escape_cancels_it(member_page, live_server, worker, demo_conn):
    page = member_page
    native: list[str] = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    server = boot(demo_conn, "t-confirm")
    page.goto(f"{live_server.url}/instances/{server.id}/")
    stop = page.locator(".server-actions").get_by_role("button", name="Stop", exact=True)
    stop.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Stop")
    expect(dialog).to_contain_text("Stop t-confirm? Its processes end and it stops using CPU.")
    look(page, "instances-confirm", full_page=False)
    # The focus stays in the dialog: Tab goes round its two buttons.
    buttons = dialog.get_by_role("button")
    expect(buttons).to_have_count(2)
    for _ in range(3):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    # Escape cancels: nothing is done, and the focus is back on the button.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(stop).to_be_focused()
    expect(page.locator(".toast", has_text="Stopping t-confirm")).to_have_count(0)
    # Cancel too.
    stop.click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert demo_conn.compute.get_server(server.id).status == "ACTIVE"
    # The action's own button confirms.
    stop.click()
    confirm(page, "Stop")
    expect(page.locator(".toast", has_text="Stopping t-confirm").first).to_be_visible()
    expect(page.locator("#server-head [data-role=status]")).to_have_attribute("title", "SHUTOFF", timeout=30000)
    assert native == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_open_menu_and_an_open_confirmation_pass_axe(browser, live_server, stratus, demo_conn, theme):
    """The accessibility check (tests/browser/test_accessibility.py) sees pages at rest; this one opens a row's
    menu and the bulk confirmation first."""
    from tests.browser.test_accessibility import AXE, RUN_AXE
    from tests.conftest import sign_in_page

    server = boot(demo_conn, "t-axe")
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US", color_scheme=theme)
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in_page(page, live_server.url, stratus.member)
        page.goto(f"{live_server.url}/instances/?q=t-axe")
        row = page.locator(f"#server-{server.id}")
        row.get_by_text("Actions", exact=True).click()
        expect(row.locator("[role=menu]")).to_be_visible()
        assert page.evaluate(RUN_AXE) == []
        page.keyboard.press("Escape")
        row.locator("input[name=server]").check()
        page.get_by_label("With selected:").select_option(label="Stop")
        page.get_by_role("button", name="Apply to selected").click()
        expect(page.get_by_role("dialog")).to_contain_text("Stop the instance listed below?")
        assert page.evaluate(RUN_AXE) == []
    finally:
        context.close()
