"""Console page (noVNC through Stratus' proxy, or Nova's own page) and a fresh token for Reconnect."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.errors import CloudError, Forbidden, NotFound
from apps.cloud.states import server_status_label
from apps.consoles import services


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _ws_base(request: HttpRequest) -> str:
    """The console proxy's public URL: STRATUS_CONSOLE_URL (absolute, or a path on this origin), else this host."""
    scheme = "wss" if request.is_secure() else "ws"
    configured = settings.STRATUS_CONSOLE_URL.strip()
    if configured.startswith(("ws://", "wss://")):
        return configured
    if configured.startswith("/"):
        return f"{scheme}://{request.get_host()}{configured}"
    host, _port = split_domain_port(request.get_host())
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{settings.STRATUS_CONSOLE_PROXY_PORT}/"


def _ws_origin(ws_base: str) -> str:
    """The origin (scheme, host, port) of the console proxy's URL, as a CSP source."""
    parts = urlsplit(ws_base)
    return f"{parts.scheme}://{parts.netloc}"


def _session_key(request: HttpRequest, ws_base: str) -> str | None:
    """The session key to bind the token to, when the browser sends the session cookie to the proxy (same host)."""
    page_host, _port = split_domain_port(request.get_host())
    if (urlsplit(ws_base).hostname or "").lower() != page_host.strip("[]").lower():
        return None
    return request.session.session_key


def _open(request: AuthedRequest, server_id: str) -> services.Console:
    ws_base = _ws_base(request)
    return services.open_console(
        creds=request.creds,
        server_id=server_id,
        origin=_origin(request),
        ws_base=ws_base,
        session_key=_session_key(request, ws_base),
    )


def _instance_links(server_id: str) -> dict[str, str]:
    """The instance's detail page and its console log tab."""
    detail = reverse("instances:detail", args=[server_id])
    return {"instance_url": detail, "log_url": f"{detail}?tab=log"}


@never_cache
@login_required
def open_console(request: AuthedRequest, server_id: str) -> HttpResponse:
    context = {"server_id": server_id, **_instance_links(server_id)}
    try:
        console = _open(request, server_id)
    except (NotFound, Forbidden) as exc:
        return render(request, "consoles/console.html", {**context, "missing": exc}, status=exc.status)
    response = render(request, "consoles/console.html", {**context, "console": console})
    if console.mode == services.DIRECT:
        # The page's WebSocket may reach this console proxy and nothing else (django-csp's per-response update, as
        # its csp_update decorator sets it; the origin depends on the request when STRATUS_CONSOLE_URL is a path).
        response._csp_update = {"connect-src": [_ws_origin(_ws_base(request))]}  # type: ignore[attr-defined]
    return response


@never_cache
@require_POST
@login_required
def fresh_token(request: AuthedRequest, server_id: str) -> JsonResponse:
    """Reconnect: a new single-use token (the one in the page was consumed by the first connection)."""
    try:
        console = _open(request, server_id)
    except CloudError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    status = {"status": console.server.status, "status_label": server_status_label(console.server.status)}
    if console.refused:
        return JsonResponse({"error": console.refused, **status}, status=409)
    if console.mode != services.DIRECT:
        return JsonResponse({"error": "", "nova_url": console.nova_url, **status}, status=409)
    return JsonResponse({"url": console.ws_url, **status})


@never_cache
@require_GET
@login_required
def server_status(request: AuthedRequest, server_id: str) -> JsonResponse:
    """What the open console page polls: the instance's status, so it can close the console when it stops (a
    hypervisor's VNC server does not always hang up: a paused guest's stays open, a fake driver's never closes)."""
    try:
        server = services.get_server(creds=request.creds, server_id=server_id)
    except CloudError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    message = ""
    if not server.running:
        message = _("The instance is no longer running (status %(status)s): its console closed.") % {
            "status": server_status_label(server.status) or "?"
        }
    label = server_status_label(server.status)
    return JsonResponse({"status": server.status, "status_label": label, "running": server.running, "message": message})
