from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.decorators import login_required
from apps.operations.selectors import recent_operations
from apps.overview import selectors


@login_required
def index(request: HttpRequest) -> HttpResponse:
    overview = selectors.get_overview(request.creds)  # type: ignore[attr-defined]
    return render(
        request,
        "overview/index.html",
        {"overview": overview, "recent": recent_operations(creds=request.creds, limit=8)},  # type: ignore[attr-defined],
    )
