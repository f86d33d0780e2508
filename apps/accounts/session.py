"""What the server-side session holds about the signed-in user: never a password, only Keystone tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from apps.accounts.keystone import Token
from apps.cloud.connection import Credentials, forget_connections

SESSION_KEY = "stratus_account"


def store(
    request: HttpRequest,
    *,
    scoped: Token,
    unscoped: Token | None,
    projects: list[dict[str, str]],
    method: str,
    region: str = "",
) -> Credentials:
    regions = Credentials(token=scoped.id, body=scoped.body, auth_url=settings.OS_AUTH_URL).regions
    if not region:
        region = settings.OS_REGION_NAME if settings.OS_REGION_NAME in regions or not regions else regions[0]
    creds = Credentials(
        token=scoped.id, body=scoped.body, auth_url=settings.OS_AUTH_URL, region=region, interface=settings.OS_INTERFACE
    )
    request.session[SESSION_KEY] = {
        "creds": creds.to_dict(),
        "unscoped": unscoped.id if unscoped else None,
        "projects": projects,
        "method": method,
    }
    request.session.cycle_key()
    return creds


def load(request: HttpRequest) -> tuple[Credentials | None, dict[str, Any]]:
    data = request.session.get(SESSION_KEY)
    if not data:
        return None, {}
    return Credentials.from_dict(data["creds"]), data


def set_region(request: HttpRequest, region: str) -> None:
    data = request.session[SESSION_KEY]
    data["creds"]["region"] = region
    request.session.modified = True


def tokens(request: HttpRequest) -> list[str]:
    data = request.session.get(SESSION_KEY) or {}
    found = [data.get("creds", {}).get("token"), data.get("unscoped")]
    return [t for t in found if t]


def sign_out_locally(request: HttpRequest) -> None:
    """Forget the account in this session (the tokens are already dead or being revoked)."""
    for token in tokens(request):
        forget_connections(token)
    request.session.pop(SESSION_KEY, None)
    request.creds = None  # type: ignore[attr-defined]
