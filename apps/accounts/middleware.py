"""Puts the signed-in user's Credentials on `request.creds` (None when signed out or expired)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.accounts import session


class AccountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        creds, data = session.load(request)
        request.session_expired = False  # type: ignore[attr-defined]
        if creds is not None and creds.expired:
            session.sign_out_locally(request)
            request.session_expired = True  # type: ignore[attr-defined]
            creds = None
        request.creds = creds  # type: ignore[attr-defined]
        request.account_data = data  # type: ignore[attr-defined]
        return self.get_response(request)
