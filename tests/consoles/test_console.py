"""The console page and Stratus' console proxy, against the cloud under test (devcloud's RFB servers, or Nova)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from apps.consoles import services, tokens
from tests.cloudharness import ROOT, free_port
from tests.consoles.conftest import assert_relayed
from tests.consoles.wsclient import Refused, WebSocketClient, rfb_handshake

ORIGIN = "http://testserver"


def page_ws_url(client, server_id: str) -> str:
    response = client.get(f"/console/{server_id}/")
    assert response.status_code == 200, response.content.decode()[:2000]
    match = re.search(r'data-url="([^"]+)"', response.content.decode())
    assert match, "the console page has no proxy URL"
    # The test client's host name, "testserver", is not resolvable; the proxy listens on loopback.
    return html.unescape(match.group(1)).replace("ws://testserver:", "ws://127.0.0.1:")


def cookie(client) -> str:
    """The session cookie the browser sends to the proxy (same host): console tokens are bound to it."""
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def token_url(client, server_id: str) -> str:
    response = client.post(f"/console/{server_id}/token/")
    assert response.status_code == 200, response.content.decode()
    return response.json()["url"].replace("ws://testserver:", "ws://127.0.0.1:")


def with_server(url: str, server_id: str) -> str:
    return re.sub(r"server=[^&]+", f"server={server_id}", url)


def test_it_parses_nova_console_urls() -> None:
    assert services.nova_console_token("http://nova:6080/vnc_lite.html?path=%3Ftoken%3Dabc-1") == "abc-1"
    assert services.nova_console_token("https://nova/vnc_auto.html?token=xyz&title=vm") == "xyz"
    assert services.nova_console_token("https://nova/vnc_auto.html") == ""


def test_it_relays_the_vnc_server_of_the_right_instance(member_client, console_proxy, servers, stratus, caplog) -> None:
    url = page_ws_url(member_client, servers.a.id)
    assert url.startswith(f"ws://127.0.0.1:{console_proxy}/?token=")
    ws = WebSocketClient(url, origin=ORIGIN, cookie=cookie(member_client))
    try:
        width, height, name = rfb_handshake(ws)
    finally:
        ws.close()
    assert width > 0 and height > 0
    assert_relayed(stratus, servers.a, name, caplog.text)  # the target comes from Nova's token for this server


def test_a_used_token_is_refused(member_client, console_proxy, servers) -> None:
    url = page_ws_url(member_client, servers.a.id)
    WebSocketClient(url, origin=ORIGIN, cookie=cookie(member_client)).close()
    with pytest.raises(Refused) as refused:
        WebSocketClient(url, origin=ORIGIN, cookie=cookie(member_client))
    assert refused.value.status == 403


def test_an_expired_token_is_refused(member_client, console_proxy, servers, settings) -> None:
    settings.STRATUS_CONSOLE_TOKEN_TTL = 1
    url = page_ws_url(member_client, servers.a.id)
    token = re.search(r"token=([^&]+)", url).group(1)
    deadline = time.monotonic() + 10
    while tokens.client().exists(tokens.key_for(token)):  # wait for Redis to expire it
        assert time.monotonic() < deadline, "the token did not expire"
        time.sleep(0.1)
    with pytest.raises(Refused) as refused:
        WebSocketClient(url, origin=ORIGIN, cookie=cookie(member_client))
    assert refused.value.status == 403


def test_a_token_for_one_server_cannot_reach_another(member_client, console_proxy, servers, stratus, caplog) -> None:
    url_a = page_ws_url(member_client, servers.a.id)
    with pytest.raises(Refused):
        WebSocketClient(with_server(url_a, servers.b.id), origin=ORIGIN, cookie=cookie(member_client))
    # Refused and spent: the same token cannot then be used for its own server either.
    with pytest.raises(Refused):
        WebSocketClient(url_a, origin=ORIGIN, cookie=cookie(member_client))
    url_b = page_ws_url(member_client, servers.b.id)
    ws = WebSocketClient(url_b, origin=ORIGIN, cookie=cookie(member_client))
    try:
        assert_relayed(stratus, servers.b, rfb_handshake(ws)[2], caplog.text)
    finally:
        ws.close()


def test_a_wrong_origin_is_refused(member_client, console_proxy, servers, settings) -> None:
    session = cookie(member_client)
    with pytest.raises(Refused) as refused:
        WebSocketClient(page_ws_url(member_client, servers.a.id), origin="http://evil.example", cookie=session)
    assert refused.value.status == 403
    with pytest.raises(Refused):
        WebSocketClient(page_ws_url(member_client, servers.a.id), origin=None, cookie=cookie(member_client))
    # Configured origins replace the page's own origin.
    settings.STRATUS_CONSOLE_ALLOWED_ORIGINS = ["https://dash.example.org"]
    with pytest.raises(Refused):
        WebSocketClient(page_ws_url(member_client, servers.a.id), origin=ORIGIN, cookie=cookie(member_client))
    url = page_ws_url(member_client, servers.a.id)
    WebSocketClient(url, origin="https://dash.example.org/", cookie=session).close()


def test_the_proxy_serves_websocket_only(console_proxy) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{console_proxy}/", timeout=5)
    assert err.value.code == 405


def test_a_member_gets_a_clear_404_for_a_server_of_another_project(member_client, console_proxy, servers) -> None:
    response = member_client.get(f"/console/{servers.foreign.id}/")
    assert response.status_code in (403, 404)
    text = response.content.decode()
    assert "does not exist, or it belongs to a project you cannot see" in text
    assert "Traceback" not in text and "data-url" not in text
    assert member_client.post(f"/console/{servers.foreign.id}/token/").status_code in (403, 404)


def test_it_says_when_the_instance_is_not_running(member_client, console_proxy, servers) -> None:
    response = member_client.get(f"/console/{servers.stopped.id}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "The instance is not running (status Shut off)" in text
    assert "data-url" not in text
    reconnect = member_client.post(f"/console/{servers.stopped.id}/token/")
    assert reconnect.status_code == 409 and "not running" in reconnect.json()["error"]


def test_reconnect_gets_a_fresh_token(member_client, console_proxy, servers, stratus, caplog) -> None:
    assert member_client.get(f"/console/{servers.a.id}/token/").status_code == 405
    first = token_url(member_client, servers.a.id)
    second = token_url(member_client, servers.a.id)
    assert first != second
    for url in (second, first):
        caplog.clear()
        ws = WebSocketClient(url, origin=ORIGIN, cookie=cookie(member_client))
        try:
            assert_relayed(stratus, servers.a, rfb_handshake(ws)[2], caplog.text)
        finally:
            ws.close()


def test_the_mode_is_shown_to_admins_only(member_client, admin_client, console_proxy, servers) -> None:
    member_html = member_client.get(f"/console/{servers.a.id}/").content.decode()
    assert "console-mode" not in member_html
    admin_html = admin_client.get(f"/console/{servers.foreign.id}/").content.decode()
    assert "Direct: Stratus console proxy" in admin_html


def test_passthrough_mode_embeds_novas_own_console(member_client, admin_client, stratus, servers, settings) -> None:
    settings.STRATUS_SERVICE_CLOUD = ""
    text = member_client.get(f"/console/{servers.a.id}/").content.decode()
    frame = re.search(r'<iframe class="console-frame" src="([^"]+)"', text)
    assert frame and "token" in html.unescape(frame.group(1))
    assert "data-url" not in text and "Open in a new window" in text
    # Nova's page in a frame opens its own WebSocket: this page opens none.
    assert csp_directives(member_client.get(f"/console/{servers.a.id}/"))["connect-src"] == ["'self'"]
    admin_html = admin_client.get(f"/console/{servers.foreign.id}/").content.decode()
    assert "Passthrough: Nova’s noVNC proxy" in admin_html


def test_the_proxy_url_follows_the_settings(member_client, console_proxy, servers, settings) -> None:
    settings.STRATUS_CONSOLE_URL = "/console/ws/"
    assert page_ws_url(member_client, servers.a.id).startswith("ws://testserver/console/ws/?token=")
    settings.STRATUS_CONSOLE_URL = "wss://dash.example.org/console/ws/"
    assert page_ws_url(member_client, servers.a.id).startswith("wss://dash.example.org/console/ws/?token=")
    assert settings.STRATUS_CONSOLE_TOKEN_TTL <= 60


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_console_page_may_open_websockets_to_its_proxy(member_client, console_proxy, servers, settings) -> None:
    page = member_client.get(f"/console/{servers.a.id}/")
    assert csp_directives(page)["connect-src"] == ["'self'", f"ws://testserver:{console_proxy}"]
    settings.STRATUS_CONSOLE_URL = "wss://dash.example.org/console/ws/"
    page = member_client.get(f"/console/{servers.a.id}/")
    assert csp_directives(page)["connect-src"] == ["'self'", "wss://dash.example.org"]
    # Every other page: its own origin only.
    assert csp_directives(member_client.get("/overview/"))["connect-src"] == ["'self'"]


def test_it_says_so_when_the_token_store_is_down(member_client, console_proxy, servers, settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: a real refused connection
    response = member_client.get(f"/console/{servers.a.id}/")
    assert response.status_code == 200
    assert "Stratus cannot store the console token right now" in response.content.decode()


def test_manage_py_consoleproxy_relays_consoles(member_client, stratus, servers, settings, tmp_path) -> None:
    from tests.consoles.conftest import service_cloud

    settings.STRATUS_SERVICE_CLOUD = service_cloud(stratus)
    port = free_port()
    log = tmp_path / "consoleproxy.log"
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "consoleproxy", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while "listening" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        settings.STRATUS_CONSOLE_PROXY_PORT = port
        ws = WebSocketClient(page_ws_url(member_client, servers.a.id), origin=ORIGIN, cookie=cookie(member_client))
        try:
            desktop = rfb_handshake(ws)[2]
        finally:
            ws.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert f"console connect: user={stratus.member.username}" in log.read_text()
    assert_relayed(stratus, servers.a, desktop, log.read_text())


def test_it_links_to_the_instance_and_its_console_log(member_client, console_proxy, servers) -> None:
    text = member_client.get(f"/console/{servers.a.id}/").content.decode()
    assert f'href="/instances/{servers.a.id}/"' in text
    assert f'href="/instances/{servers.a.id}/?tab=log"' in text


def test_a_token_is_bound_to_the_browser_session(member_client, console_proxy, servers, stratus) -> None:
    from django.test import Client

    from tests.conftest import sign_in_client

    # Copied out of the page into another browser (no session cookie, or another signed-in session): refused.
    with pytest.raises(Refused):
        WebSocketClient(page_ws_url(member_client, servers.a.id), origin=ORIGIN)
    other = sign_in_client(Client(), stratus.member)
    with pytest.raises(Refused):
        WebSocketClient(page_ws_url(member_client, servers.a.id), origin=ORIGIN, cookie=cookie(other))
    ws = WebSocketClient(page_ws_url(other, servers.a.id), origin=ORIGIN, cookie=cookie(other))
    ws.close()


def test_the_console_page_speaks_vietnamese(member_client, console_proxy, servers) -> None:
    member_client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    text = member_client.get(f"/console/{servers.a.id}/").content.decode()
    assert f"Console: {servers.a.name}" in text and "Bảng điều khiển" not in text  # the loanword, not "dashboard"
    assert "Gửi Ctrl-Alt-Del" in text and "Kết nối lại" in text
    stopped = member_client.get(f"/console/{servers.stopped.id}/").content.decode()
    assert "Máy ảo không chạy (trạng thái Đã tắt)" in stopped


def test_unusable_service_credentials_fall_back_to_passthrough(admin_client, stratus, servers, settings) -> None:
    settings.STRATUS_SERVICE_CLOUD = "no-such-cloud"
    text = admin_client.get(f"/console/{servers.foreign.id}/").content.decode()
    assert "Passthrough: Nova’s noVNC proxy" in text
    assert "The service credentials (STRATUS_SERVICE_CLOUD) cannot be loaded" in text
    assert '<iframe class="console-frame"' in text
    # The member's own credentials are not service credentials: Nova's policy refuses them the token lookup.
    settings.STRATUS_SERVICE_CLOUD = stratus.member.name
    text = admin_client.get(f"/console/{servers.foreign.id}/").content.decode()
    assert "The service credentials cannot read console tokens" in text


def test_the_open_page_can_ask_whether_the_instance_still_runs(member_client, servers) -> None:
    running = member_client.get(f"/console/{servers.a.id}/status/")
    assert running.json() == {"status": "ACTIVE", "status_label": "Active", "running": True, "message": ""}
    stopped = member_client.get(f"/console/{servers.stopped.id}/status/").json()
    assert stopped["running"] is False
    assert stopped["message"] == "The instance is no longer running (status Shut off): its console closed."
    assert member_client.get(f"/console/{servers.foreign.id}/status/").status_code == 404
    assert member_client.post(f"/console/{servers.a.id}/status/").status_code == 405
