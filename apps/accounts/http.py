"""The requests Stratus views get, typed: what the middleware puts on a request, so views read `request.creds`
without a cast (as healthchecks' `hc/accounts/http.py` and django-htmx's `HtmxHttpRequest` do)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
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
