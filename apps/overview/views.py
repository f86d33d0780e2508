from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.operations.selectors import recent_operations
from apps.overview import selectors


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    """The first paint: quota usage from Nova's limits (one call) and the recent activity (the database); the key
    pair count and the instances by state follow (`counts`, an htmx `load`)."""
    quotas = selectors.get_quotas(request.creds)
    return render(
        request,
        "overview/index.html",
        {"quotas": quotas, "recent": recent_operations(creds=request.creds, limit=8)},
    )


@login_required
def counts(request: AuthedRequest) -> HttpResponse:
    """The key pair card and the instances-by-state card, swapped into the overview in place of their placeholders."""
    if not request.htmx:
        return redirect("overview:index")
    try:
        used: int | None = max(0, int(request.GET.get("instances", "")))
    except ValueError:
        used = None
    try:
        limit = int(request.GET.get("key_pairs_limit", ""))
    except ValueError:
        limit = -1
    result = selectors.get_counts(request.creds, instances_used=used)
    key_pairs = selectors.Quota("key_pairs", result.key_pairs, limit)
    return render(request, "overview/index.html#counts", {"counts": result, "key_pairs": key_pairs})
