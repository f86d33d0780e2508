"""Puts the signed-in user's Credentials on `request.creds` (None when signed out or expired)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.accounts import session
from apps.accounts.http import StratusRequest


class AccountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: StratusRequest) -> HttpResponse:
        creds, data = session.load(request)
        request.session_expired = False
        if creds is not None and creds.expired:
            session.sign_out_locally(request)
            request.session_expired = True
            creds = None
        request.creds = creds
        request.account_data = data
        return self.get_response(request)
