"""The requests Stratus views get, typed: what the middleware puts on a request, so views read `request.creds`
without a cast (as healthchecks' `hc/accounts/http.py` and django-htmx's `HtmxHttpRequest` do)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from apps.cloud.connection import Credentials


class StratusRequest(HttpRequest):
    """Any request, once the middleware (dashboard/settings.py MIDDLEWARE) has run."""

    request_id: str  # dashboard.middleware.RequestIdMiddleware
    htmx: HtmxDetails  # django_htmx.middleware.HtmxMiddleware
    # apps.accounts.middleware.AccountMiddleware: the signed-in user's token (None when signed out or expired),
    # what sign-in keeps beside it in the session, and whether a session has just expired.
    creds: Credentials | None
    account_data: dict[str, Any]
    session_expired: bool


class AuthedRequest(StratusRequest):
    """What a view behind `login_required` or `admin_required` (apps/accounts/decorators.py) gets: signed in."""

    creds: Credentials


def safe_next(request: HttpRequest, default: str, value: str | None = None, *, under: str = "") -> str:
    """Where to go back to: `value` (else the request's `next`, posted or in the query) when it is a path or URL on
    this site (and, with `under`, below that path), else `default`. Never another site: an open redirect would let
    a link to Stratus send a signed-in user anywhere."""
    target = value if value is not None else (request.POST.get("next") or request.GET.get("next") or "")
    if not target or not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return default
    if under and (not target.startswith(under) or "//" in target):
        return default
    return target
