"""A person opens an instance's console in Chromium: noVNC connects through Stratus' proxy, the screen shows
the instance's console, typing changes it, and the toolbar works."""

from __future__ import annotations

import re
import uuid

import openstack
import pytest
from playwright.sync_api import expect

from tests.browser.shots import look
from tests.consoles.conftest import assert_relayed
from tests.consoles.servers import launch, wait_for_status

pytestmark = pytest.mark.browser

# Pixels of the noVNC canvas: how many are lit (text on the dark console) and a hash of the frame.
FRAME = """() => {
  const c = document.querySelector('#console-screen canvas');
  if (!c || !c.width) return {lit: 0, hash: 0, width: 0};
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lit = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] + d[i + 1] + d[i + 2] > 300) lit++;
    hash = (Math.imul(hash, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
  }
  return {lit, hash, width: c.width};
}"""


def frame(page) -> dict:
    return page.evaluate(FRAME)


def wait_for_frame(page, *, lit_at_least: int = 200, not_hash: int | None = None) -> dict:
    page.wait_for_function(
        "([lit, old]) => {"
        " const c = document.querySelector('#console-screen canvas'); if (!c || !c.width) return false;"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0, h = 0;"
        " for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i+1] + d[i+2] > 300) n++;"
        " h = (Math.imul(h, 31) + d[i] + 7 * d[i+1] + 13 * d[i+2]) | 0; }"
        " return n >= lit && (old === null || h !== old); }",
        arg=[lit_at_least, not_hash],
        polling=100,
    )
    return frame(page)


def test_a_member_uses_the_console(member_page, live_server, console_proxy, servers, stratus, caplog) -> None:
    page = member_page
    page.goto(f"{live_server.url}/console/{servers.a.id}/")
    expect(page.get_by_role("heading", name=f"Console: {servers.a.name}")).to_be_visible()
    state = page.locator("#console-state")
    expect(state).to_have_text("Connected")
    # Through the proxy to the VNC server Nova names for this instance; noVNC sized its canvas from the handshake.
    assert_relayed(stratus, servers.a, None, caplog.text)
    assert frame(page)["width"] > 0
    draws = stratus.console_draws  # devcloud's console draws a boot log and echoes typing; see TestCloud
    if draws:
        first = wait_for_frame(page)  # the instance's boot log, drawn by its VNC server, through the proxy
        assert first["lit"] >= 200
    expect(page.get_by_role("button", name="Send Ctrl-Alt-Del")).to_be_enabled()
    look(page, "console-direct", full_page=False)

    # Type a line: the instance echoes it and the framebuffer changes.
    page.locator("#console-screen canvas").click()
    page.keyboard.type("echo hello from stratus")
    page.keyboard.press("Enter")
    if draws:
        typed = wait_for_frame(page, not_hash=first["hash"])
        look(page, "console-typed", full_page=False)

    # Paste as keystrokes, from the toolbar.
    page.get_by_text("Paste text").click()
    page.get_by_label("Text to type into the console (also sent as the VNC clipboard)").fill("uname -a\n")
    page.get_by_role("button", name="Type it").click()
    if draws:
        pasted = wait_for_frame(page, not_hash=typed["hash"])

    # Ctrl-Alt-Del reaches the instance (devcloud's console redraws its boot log).
    page.get_by_role("button", name="Send Ctrl-Alt-Del").click()
    if draws:
        wait_for_frame(page, not_hash=pasted["hash"])
    expect(state).to_have_text("Connected")

    # Reconnect asks for a fresh one-time token and connects again, without reloading the page.
    page.evaluate("window.stratusMarker = 'same page'")
    caplog.clear()
    page.get_by_role("link", name="Reconnect").click()
    expect(state).to_have_text("Connected")
    if draws:
        wait_for_frame(page)
    assert page.evaluate("window.stratusMarker") == "same page"
    assert "console connect:" in caplog.text  # a second connection, with the fresh token
    # (Full screen needs a real display; headless Chromium only checks that the button is there.)
    expect(page.get_by_role("button", name="Full screen")).to_be_visible()

    # Scale to fit is a toggle.
    scale = page.get_by_role("button", name="Scale to fit")
    expect(scale).to_have_attribute("aria-pressed", "true")
    scale.click()
    expect(scale).to_have_attribute("aria-pressed", "false")
    scale.click()

    conn = openstack.connect(cloud=stratus.member.name)
    assert conn.compute.get_server(servers.a.id).status == "ACTIVE"


def test_a_spent_token_is_refused_in_the_browser(member_page, live_server, console_proxy, servers) -> None:
    page = member_page
    page.goto(f"{live_server.url}/console/{servers.b.id}/")
    expect(page.locator("#console-state")).to_have_text("Connected")
    url = page.locator("#console-screen").get_attribute("data-url")
    # A second page (or an attacker) replaying the same token gets nothing.
    replay = page.evaluate(
        "(url) => new Promise((resolve) => { const ws = new WebSocket(url);"
        " ws.onopen = () => { ws.close(); resolve('open'); }; ws.onerror = () => resolve('refused'); })",
        url,
    )
    assert replay == "refused"


def test_pages_for_stopped_and_foreign_instances(member_page, live_server, console_proxy, servers) -> None:
    page = member_page
    page.goto(f"{live_server.url}/console/{servers.stopped.id}/")
    expect(page.get_by_role("alert")).to_contain_text("The instance is not running (status Shut off)")
    look(page, "console-stopped", full_page=False)
    response = page.goto(f"{live_server.url}/console/{servers.foreign.id}/")
    assert response.status in (403, 404)
    expect(page.get_by_role("alert")).to_contain_text("does not exist, or it belongs to a project you cannot see")
    look(page, "console-foreign", full_page=False)


def test_the_console_says_when_the_instance_stops(member_page, live_server, console_proxy, stratus) -> None:
    conn = openstack.connect(cloud=stratus.member.name)
    server = wait_for_status(conn, launch(conn, f"con-stop-{uuid.uuid4().hex[:6]}").id, "ACTIVE")
    try:
        page = member_page
        page.goto(f"{live_server.url}/console/{server.id}/")
        state = page.locator("#console-state")
        expect(state).to_have_text("Connected")
        conn.compute.stop_server(server)  # someone stops it from the CLI
        # The page notices (its VNC server hangs up, or the page's status check sees it) and says why.
        expect(state).to_have_text("Disconnected", timeout=60_000)  # a real cloud takes its time to stop
        expect(page.locator("#console-message")).to_have_text(
            "The instance is no longer running (status Shut off): its console closed.", timeout=15_000
        )
        expect(page.locator("#server-status")).to_have_attribute("title", "SHUTOFF")
        wait_for_status(conn, server.id, "SHUTOFF")
        page.get_by_role("link", name="Reconnect").click()
        expect(state).to_have_text("Refused")
        expect(page.locator("#console-message")).to_contain_text("The instance is not running (status Shut off)")
        expect(page.get_by_role("button", name="Send Ctrl-Alt-Del")).to_be_disabled()
        expect(page.locator("#server-status")).to_have_attribute("title", "SHUTOFF")
        look(page, "console-closed", full_page=False)
    finally:
        conn.compute.delete_server(server.id, ignore_missing=True)


def test_an_admin_sees_the_console_mode(admin_page, live_server, console_proxy, servers, settings, stratus) -> None:
    page = admin_page
    page.goto(f"{live_server.url}/console/{servers.foreign.id}/")
    expect(page.locator(".console-mode")).to_have_text("Direct: Stratus console proxy")
    expect(page.locator("#console-state")).to_have_text("Connected")
    if stratus.console_draws:
        wait_for_frame(page)
    look(page, "console-admin-direct", full_page=False)

    settings.STRATUS_SERVICE_CLOUD = ""  # no service credentials: Nova's own noVNC page is embedded
    page.goto(f"{live_server.url}/console/{servers.foreign.id}/")
    expect(page.locator(".console-mode")).to_have_text("Passthrough: Nova’s noVNC proxy")
    expect(page.get_by_role("link", name="Open in a new window")).to_have_attribute("href", re.compile("token"))
    expect(page.locator("iframe.console-frame")).to_be_attached()
    look(page, "console-passthrough", full_page=False)
