from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.decorators import login_required
from apps.overview import selectors


def _recent_operations(request: HttpRequest) -> list:
    try:
        from apps.operations.selectors import recent_operations
    except ImportError:
        return []
    return recent_operations(creds=request.creds, limit=8)  # type: ignore[attr-defined]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    overview = selectors.get_overview(request.creds)  # type: ignore[attr-defined]
    return render(
        request,
        "overview/index.html",
        {"overview": overview, "recent": _recent_operations(request)},
    )
