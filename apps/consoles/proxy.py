"""Stratus' console proxy: websockify's WebSocket-to-TCP relay, one thread per console, WebSocket only.

The browser connects to `<STRATUS_CONSOLE_URL>?token=<stratus token>&server=<server id>`. Before the upgrade,
the token plugin consumes the token and checks the Origin; a refusal is an HTTP 403 and no byte reaches the
VNC server. The target always comes from the token (never from the request), and is kept per connection.
"""

from __future__ import annotations

import logging
import socket
import time
from http.cookies import CookieError, SimpleCookie
from http.server import HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from websockify import websockifyserver
from websockify.websocketproxy import ProxyRequestHandler

from apps.consoles.token_plugin import Attempt, Refused, StratusTokenPlugin
from apps.consoles.tokens import ConsoleTarget

log = logging.getLogger("apps.consoles.proxy")


def _cookie(header: str, name: str) -> str:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel else ""


def _peer(client_address: Any, forwarded_for: str) -> str:
    peer = str(client_address[0]) if client_address else "-"
    return f"{peer} (for {forwarded_for.strip()})" if forwarded_for.strip() else peer


class ConsoleRequestHandler(ProxyRequestHandler):
    server: ConsoleProxyServer
    target: ConsoleTarget | None = None

    def log_message(self, format: str, *args: Any) -> None:  # websockify's signature
        log.debug("%s %s", self.client_address[0] if self.client_address else "-", format % args)

    def handle_upgrade(self) -> None:
        try:
            super().handle_upgrade()  # validate_connection(), then the WebSocket handshake
        except Refused as exc:
            self.send_error(403, f"Console refused: {exc.reason}")

    def validate_connection(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        attempt = Attempt(
            token=(query.get("token") or [""])[0],
            server_id=(query.get("server") or [""])[0],
            origin=self.headers.get("Origin", ""),
            peer=_peer(self.client_address, self.headers.get("X-Forwarded-For", "")),
            session_key=_cookie(self.headers.get("Cookie", ""), settings.SESSION_COOKIE_NAME),
        )
        self.target = self.server.token_plugin.authorize(attempt)

    def auth_connection(self) -> None:
        return None

    def new_websocket_client(self) -> None:
        target = self.target
        if target is None:  # validate_connection sets it or refuses the connection: never reached
            raise self.CClose(1011, "Console refused")
        try:
            # The address the token plugin resolved and checked against the allowed networks, never a new lookup.
            tsock = websockifyserver.WebSockifyServer.socket(target.address, target.port, connect=True)
        except Exception as exc:
            log.warning(
                "console: cannot reach VNC %s:%s of server %s: %s", target.host, target.port, target.server_id, exc
            )
            raise self.CClose(1011, "Failed to connect to the console") from exc
        tsock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        started = time.monotonic()
        try:
            self.do_proxy(tsock)
        finally:
            try:
                tsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tsock.close()
            log.info(
                "console closed: server=%s user=%s after %.0f s",
                target.server_id,
                target.user_name,
                time.monotonic() - started,
            )


class ConsoleProxyServer(ThreadingMixIn, HTTPServer):
    """websockify's LibProxyServer shape, with Stratus' plugin and the target kept per connection."""

    daemon_threads = True
    allow_reuse_address = True
    # Read by websockify's request handlers:
    only_upgrade = True  # no static files, no directory listing: WebSocket only (else 405)
    verbose = False
    record = ""
    run_once = False
    file_only = True
    traffic = False
    web_auth = False
    host_token = False
    heartbeat: int | None = 30  # seconds between WebSocket pings, so idle consoles survive reverse-proxy timeouts
    wrap_cmd = None
    unix_target = None
    ssl_target = None

    def __init__(
        self, host: str, port: int, token_plugin: StratusTokenPlugin | None = None, heartbeat: int | None = 30
    ) -> None:
        self.token_plugin = token_plugin or StratusTokenPlugin()
        self.heartbeat = heartbeat or None
        self.handler_id = 0
        self.logger = log
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), ConsoleRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.handler_id += 1
        super().process_request(request, client_address)
