"""Opening a console: ask Nova for a noVNC console, then either go direct through Stratus' proxy or pass through.

Direct mode (STRATUS_SERVICE_CLOUD set): Nova's console token is resolved with the admin-only
`GET /os-console-auth-tokens/{token}` (2.31+) to the compute node's VNC host and port, and a Stratus token
(random, single use, STRATUS_CONSOLE_TOKEN_TTL seconds to connect, bound to user, server and page origin) is
stored in Redis for the console proxy. Passthrough mode (no service credentials): Nova's own noVNC URL is
embedded, as Horizon does.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import openstack.connection
import redis
from django.conf import settings
from django.utils.translation import gettext as _

from apps.cloud.connection import Credentials, connection_for, service_connection
from apps.cloud.errors import AuthExpired, BadRequest, CloudError, Conflict, Forbidden, cloud_errors
from apps.cloud.states import server_status_label
from apps.consoles.tokens import ConsoleTarget, issue_token, session_hash

log = logging.getLogger(__name__)

DIRECT = "direct"
PASSTHROUGH = "passthrough"
# Nova states in which the guest has a running display (others answer 409 to remote-consoles).
RUNNING_STATUSES = {"ACTIVE", "PAUSED", "RESCUE", "VERIFY_RESIZE", "PASSWORD", "REBOOT", "HARD_REBOOT", "MIGRATING"}


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str
    running: bool


@dataclass(frozen=True)
class Console:
    """What the console page needs: where noVNC connects (direct) or which page to embed (passthrough)."""

    server: Server
    mode: str = ""
    ws_url: str = ""  # direct: the Stratus proxy URL with a fresh single-use token
    nova_url: str = ""  # passthrough: Nova's own noVNC page
    refused: str = ""  # why there is no console (not running, Nova refused), user-safe
    mode_note: str = ""  # for admins: why passthrough was used although service credentials are configured


def nova_console_token(url: str) -> str:
    """Nova's console token from a noVNC URL: `?token=<t>` or `?path=%3Ftoken%3D<t>` (noVNC's path form)."""
    query = parse_qs(urlsplit(url).query)
    if query.get("token"):
        return query["token"][0]
    for path in query.get("path", []):
        inner = parse_qs(urlsplit(path).query)
        if inner.get("token"):
            return inner["token"][0]
    return ""


def ws_url_for(*, base: str, token: str, server_id: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{urlencode({'token': token, 'server': server_id})}"


def get_server(*, creds: Credentials, server_id: str) -> Server:
    """The server as the user sees it (Nova answers 404 for a server of another project)."""
    conn = connection_for(creds)
    with cloud_errors("compute"):
        server = conn.compute.get_server(server_id)
    status = (server.status or "").upper()
    return Server(id=server.id, name=server.name or server.id, status=status, running=status in RUNNING_STATUSES)


def open_console(
    *, creds: Credentials, server_id: str, origin: str, ws_base: str, session_key: str | None = None
) -> Console:
    """Ask Nova for a console of the server and make it reachable for this user from `origin`.

    With `session_key` (when the proxy is on the page's host, so the browser sends the session cookie to it),
    the token is also bound to this browser session: a token copied elsewhere is refused.

    Raises NotFound/Forbidden when the user cannot see the server; a server that is not running or a console
    that Nova refuses comes back as `Console.refused`, with Nova's reason.
    """
    server = get_server(creds=creds, server_id=server_id)
    if not server.running:
        return Console(
            server=server,
            refused=_("The instance is not running (status %(status)s). Start it to use its console.")
            % {"status": server_status_label(server.status) or "?"},
        )
    conn = connection_for(creds)
    try:
        with cloud_errors("compute"):
            remote = conn.compute.create_console(server.id, console_type="novnc", console_protocol="vnc")
    except (Conflict, Forbidden) as exc:
        return Console(server=server, refused=_("Nova refused the console: %(reason)s") % {"reason": exc.message})
    nova_url = (remote or {}).get("url") or ""
    if not nova_url:
        return Console(server=server, refused=_("Nova did not return a console address."))

    if not settings.STRATUS_SERVICE_CLOUD:
        return Console(server=server, mode=PASSTHROUGH, nova_url=nova_url)
    try:
        with cloud_errors("identity"):
            service = service_connection()
    except CloudError as exc:  # e.g. STRATUS_SERVICE_CLOUD names no cloud in clouds.yaml
        log.warning("console: no service connection (%s); passthrough", exc.detail or exc.message)
        reason = exc.detail or exc.message
        note = _("The service credentials (STRATUS_SERVICE_CLOUD) cannot be loaded: %(reason)s") % {"reason": reason}
        return Console(server=server, mode=PASSTHROUGH, nova_url=nova_url, mode_note=note)
    if service is None:  # only without STRATUS_SERVICE_CLOUD, which the check above returned for
        return Console(server=server, mode=PASSTHROUGH, nova_url=nova_url)
    try:
        with cloud_errors("compute"):
            target = _resolve(
                service=service, creds=creds, server=server, nova_url=nova_url, origin=origin, session_key=session_key
            )
    except (AuthExpired, Forbidden, BadRequest) as exc:
        # Service credentials that cannot read console tokens must not take the console away: use Nova's proxy.
        reason = _("Keystone refused them.") if isinstance(exc, AuthExpired) else exc.message
        log.warning("console: service credentials cannot read console tokens (%s); passthrough", exc.detail or reason)
        return Console(
            server=server,
            mode=PASSTHROUGH,
            nova_url=nova_url,
            mode_note=_("The service credentials cannot read console tokens: %(reason)s") % {"reason": reason},
        )
    except CloudError as exc:
        reason = exc.message
        return Console(server=server, refused=_("The console could not be prepared: %(reason)s") % {"reason": reason})
    try:
        token = issue_token(target=target, ttl=settings.STRATUS_CONSOLE_TOKEN_TTL)
    except redis.RedisError as exc:
        log.error("console: cannot store a console token in Redis: %s", exc)
        return Console(server=server, refused=_("Stratus cannot store the console token right now. Try again soon."))
    return Console(
        server=server, mode=DIRECT, nova_url=nova_url, ws_url=ws_url_for(base=ws_base, token=token, server_id=server.id)
    )


def _resolve(
    *,
    service: openstack.connection.Connection,
    creds: Credentials,
    server: Server,
    nova_url: str,
    origin: str,
    session_key: str | None,
) -> ConsoleTarget:
    nova_token = nova_console_token(nova_url)
    if not nova_token:
        raise CloudError(_("Nova's console address has no token."), service="compute")
    info = service.compute.validate_console_auth_token(nova_token)
    if info.instance_uuid and info.instance_uuid != server.id:
        raise CloudError(_("Nova's console token belongs to another instance."), service="compute")
    if not info.host or not info.port:
        raise CloudError(_("Nova's console token does not name a VNC server."), service="compute")
    return ConsoleTarget(
        server_id=server.id,
        server_name=server.name,
        host=str(info.host),
        port=int(info.port),
        user_id=creds.user_id,
        user_name=creds.user_name,
        project_id=creds.project_id,
        origin=origin,
        expires_at=time.time() + settings.STRATUS_CONSOLE_TOKEN_TTL,
        session_hash=session_hash(session_key),
    )
