"""What the server-side session holds about the signed-in user: never a password, and one Keystone token (the
project-scoped one), sealed with Fernet (dashboard/sealing.py), so the session table and its backups hold no token
Keystone would accept. A project switch rescopes that token (apps/accounts/services.py); no unscoped token is kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from apps.accounts.http import StratusRequest
from apps.accounts.keystone import Token
from apps.cloud.connection import Credentials, forget_connections
from dashboard.sealing import seal, unseal

SESSION_KEY = "stratus_account"


def store(
    request: HttpRequest,
    *,
    scoped: Token,
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
    stored = creds.to_dict()
    stored["sealed_token"] = seal(stored.pop("token"))
    request.session[SESSION_KEY] = {"creds": stored, "projects": projects, "method": method}
    request.session.cycle_key()
    return creds


def read(session: SessionBase | Mapping[str, Any]) -> Credentials | None:
    """The signed-in user's credentials in `session`, or None (signed out, or a token this key cannot unseal:
    a session from before tokens were sealed, or one sealed with a key since replaced, signs in again)."""
    data = session.get(SESSION_KEY) or {}
    stored = dict(data.get("creds") or {})
    token = unseal(stored.pop("sealed_token", None))
    if not token:
        return None
    stored.pop("token", None)
    return Credentials.from_dict({**stored, "token": token})


def load(request: HttpRequest) -> tuple[Credentials | None, dict[str, Any]]:
    data = request.session.get(SESSION_KEY)
    if not data:
        return None, {}
    creds = read(request.session)
    if creds is None:
        request.session.pop(SESSION_KEY, None)
        return None, {}
    return creds, data


def set_region(request: HttpRequest, region: str) -> None:
    data = request.session[SESSION_KEY]
    data["creds"]["region"] = region
    request.session.modified = True


def tokens(request: HttpRequest) -> list[str]:
    creds = read(request.session)
    return [creds.token] if creds else []


def sign_out_locally(request: StratusRequest) -> None:
    """Forget the account in this session (the tokens are already dead or being revoked)."""
    for token in tokens(request):
        forget_connections(token)
    request.session.pop(SESSION_KEY, None)
    request.creds = None
