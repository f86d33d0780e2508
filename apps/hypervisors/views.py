"""Admin pages: hypervisors with their usage (summary, list, detail), capacity at a glance, compute services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.decorators import admin_required
from apps.accounts.http import AuthedRequest, safe_next
from apps.hypervisors import selectors, services
from apps.operations.selectors import active_operations

SORTS = ["name", "type", "state", "status", "ip", "zone", "servers", "vcpu", "ram", "disk"]
STATES = ["up", "down"]


def _active_operations(request: AuthedRequest, ids: list[str]) -> dict[str, Any]:
    return active_operations(creds=request.creds, target_type=services.TARGET_TYPE, target_ids=ids)


def _instance_url(server_id: str) -> str:
    return reverse("instances:detail", args=[server_id])


@admin_required
def hypervisor_list(request: AuthedRequest) -> HttpResponse:
    zone = request.GET.get("zone", "")
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    sort = request.GET.get("sort", "name")
    sort = sort if sort.lstrip("-") in SORTS else "name"
    # The page does not wait for Placement: it shows the usage the cache holds (saying how old) and, when some is
    # missing or old, asks for it right after (`?usage=fresh`, an htmx `load` that swaps the usage in).
    fresh = request.GET.get("usage") == "fresh"
    overview = selectors.list_hypervisors(
        creds=request.creds,
        usage="fresh" if fresh else "cached",
        zones_now=bool(zone),  # filtering by zone: the zones as they are now
    )
    rows = selectors.filter_and_sort(overview.hypervisors, zone=zone, state=state, sort=sort)
    query = request.GET.copy()
    query["usage"] = "fresh"
    context = {
        "overview": overview,
        "rows": rows,
        "zone": zone,
        "state": state,
        "sort": sort,
        "sorts": SORTS,
        "tab": "list",
        "auto_refresh": not fresh and overview.needs_refresh,
        "refresh_query": query.urlencode(),
    }
    if request.htmx:
        template = "hypervisors/list.html#hypervisor-body" if fresh else "hypervisors/list.html#hypervisor-table"
    else:
        template = "hypervisors/list.html"
    return render(request, template, context)


@admin_required
def capacity(request: AuthedRequest) -> HttpResponse:
    overview = selectors.list_hypervisors(creds=request.creds, servers=False)
    by_zone: dict[str, list[selectors.Hypervisor]] = {}
    for h in overview.hypervisors:
        by_zone.setdefault(h.zone or "-", []).append(h)
    hottest = sorted(overview.hypervisors, key=lambda h: (-h.hottest, h.name))[:5]
    return render(
        request,
        "hypervisors/capacity.html",
        {"overview": overview, "zones": sorted(by_zone.items()), "hottest": hottest, "tab": "capacity"},
    )


@admin_required
def hypervisor_detail(request: AuthedRequest, hypervisor_id: str) -> HttpResponse:
    detail = selectors.get_hypervisor(creds=request.creds, hypervisor_id=hypervisor_id)
    servers = [(s, _instance_url(s.id)) for s in detail.servers]
    ops = _active_operations(request, [detail.service.id]) if detail.service else {}
    return render(
        request,
        "hypervisors/detail.html",
        {
            "detail": detail,
            "h": detail.hypervisor,
            "servers": servers,
            "service_op": ops.get(detail.service.id) if detail.service else None,
            "tab": "list",
        },
    )


@admin_required
def service_list(request: AuthedRequest) -> HttpResponse:
    items = selectors.list_services(creds=request.creds)
    ops = _active_operations(request, [s.id for s in items])
    rows = [(s, ops.get(s.id)) for s in items]
    context = {"rows": rows, "busy": bool(ops), "tab": "services", "reason_max": services.REASON_MAX}
    template = "hypervisors/services.html#service-table" if request.htmx else "hypervisors/services.html"
    return render(request, template, context)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, reverse("hypervisors:services"), under="/admin/hypervisors/"))


@admin_required
@require_POST
def service_disable(request: AuthedRequest, service_id: str) -> HttpResponse:
    from apps.operations.services import DispatchError

    reason = request.POST.get("reason", "").strip()
    if len(reason) > services.REASON_MAX:
        messages.error(request, _("The reason can be at most %(n)s characters.") % {"n": services.REASON_MAX})
        return _back(request)
    service = selectors.get_service(creds=request.creds, service_id=service_id)
    if not service.can_toggle:
        messages.error(request, _("Only nova-compute services can be disabled."))
        return _back(request)
    try:
        services.disable_service(creds=request.creds, service=service, reason=reason)
    except DispatchError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.info(request, _("Disabling the compute service on %(host)s…") % {"host": service.host})
    return _back(request)


@admin_required
@require_POST
def service_enable(request: AuthedRequest, service_id: str) -> HttpResponse:
    from apps.operations.services import DispatchError

    service = selectors.get_service(creds=request.creds, service_id=service_id)
    if not service.can_toggle:
        messages.error(request, _("Only nova-compute services can be enabled."))
        return _back(request)
    try:
        services.enable_service(creds=request.creds, service=service)
    except DispatchError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.info(request, _("Enabling the compute service on %(host)s…") % {"host": service.host})
    return _back(request)
