"""Snapshot pages: the project's snapshots (live while saving), one snapshot, create from an instance
(an operation), delete, and launch from a snapshot (the instances app's launch page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.errors import Conflict, Forbidden, NotFound
from apps.operations.selectors import active_operations
from apps.snapshots import selectors, services
from apps.snapshots.forms import SnapshotForm


def launch_url(image_id: str) -> str:
    """The launch page with this snapshot as the source."""
    return reverse("instances:launch") + "?" + urlencode({"source": "snapshot", "image_id": image_id})


def _pending_snapshot_operations(request: AuthedRequest, kind: str = "snapshot") -> list[Any]:
    """The project's snapshots (or backups) being asked for (on any of its servers: no list of them is needed)."""
    found = active_operations(creds=request.creds, target_type="server", target_ids=None)
    wanted = "server.backup" if kind == "backup" else "server.snapshot"
    return sorted((op for op in found.values() if op.kind == wanted), key=lambda op: op.created_at)


def _parse_sort(raw: str) -> tuple[str, str]:
    raw = (raw or "").strip()
    key = raw.lstrip("-")
    if key not in selectors.SORT_KEYS:
        return "created_at", "desc"
    return key, "desc" if raw.startswith("-") else "asc"


@login_required
def snapshot_list(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    filters = {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", ""),
        "server": request.GET.get("server", ""),
        "kind": "backup" if request.GET.get("kind") == "backup" else "",
    }
    sort, direction = _parse_sort(request.GET.get("sort", "-created_at"))
    page = selectors.list_snapshots(
        creds=creds,
        status=filters["status"],
        server_id=filters["server"],
        query=filters["q"],
        sort=sort,
        direction=direction,
        marker=request.GET.get("marker", ""),
        kind=filters["kind"] or "snapshot",
    )
    pending = _pending_snapshot_operations(request, filters["kind"] or "snapshot")
    params = {k: v for k, v in filters.items() if v}
    sort_param = ("-" if direction == "desc" else "") + sort
    context = {
        "page": page,
        "snapshots": [(s, launch_url(s.id) if s.status == "active" else "") for s in page.snapshots],
        "pending": pending,
        "polling": page.in_flux or bool(pending),
        "filters": filters,
        "statuses": selectors.STATUSES,
        # The instance filter offers the servers of this page's snapshots (and the one chosen): no list of the
        # project's servers. Names not known yet show as ids until `snapshot_server_names` brings them.
        "servers": _filter_servers(page, filters["server"]),
        "unnamed_query": urlencode([("id", i) for i in page.unnamed]),
        "sort": sort,
        "direction": direction,
        "query": urlencode({**params, "sort": sort_param}),
        "filter_query": urlencode(params),
        "next_query": urlencode({**params, "sort": sort_param, "marker": page.next_marker}) if page.next_marker else "",
        "cli": services.cli_list(creds.project_id, filters["kind"] or "snapshot"),
        "kinds": [("", _("Snapshots")), ("backup", _("Backups"))],
    }
    template = "snapshots/list.html#snapshot-table" if request.htmx else "snapshots/list.html"
    return render(request, template, context)


def _filter_servers(page: selectors.SnapshotPage, chosen: str) -> list[tuple[str, str]]:
    ids = {s.server_id for s in page.snapshots if s.server_id} | ({chosen} if chosen else set())
    servers = [(i, page.servers.get(i, "")) for i in ids if page.servers.get(i, None) != ""]
    if chosen and page.servers.get(chosen) == "":  # a gone server still shows as the filter chosen
        servers.append((chosen, ""))
    return sorted(servers, key=lambda kv: ((kv[1] or kv[0]).lower(), kv[0]))


@login_required
def snapshot_server_names(request: AuthedRequest) -> HttpResponse:
    """The names of the servers a snapshot page showed without them (`?id=…`, at most a page), swapped into their
    cells and the instance filter by htmx (out of band)."""
    if not request.htmx:
        return redirect("snapshots:list")
    names = selectors.server_names(request.creds, request.GET.getlist("id"))
    return render(request, "snapshots/list.html#server-names", {"names": sorted(names.items())})


@login_required
def snapshot_detail(request: AuthedRequest, image_id: str) -> HttpResponse:
    detail = selectors.get_snapshot(creds=request.creds, image_id=image_id)
    snapshot = detail.snapshot
    context = {
        "detail": detail,
        "snapshot": snapshot,
        "launch_url": launch_url(snapshot.id) if snapshot.status == "active" else "",
        "cli_show": services.cli_show(snapshot.id),
        "cli_delete": services.cli_delete(snapshot.id),
        "cli_launch": services.cli_launch(snapshot.id),
    }
    template = "snapshots/detail.html#snapshot-status" if request.htmx else "snapshots/detail.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_create(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    servers = selectors.list_snapshottable_servers(creds=creds)
    wanted = request.GET.get("server_id", "")
    initial = {}
    unavailable = ""
    if wanted:
        chosen = next((s for s in servers if s.id == wanted), None)
        if chosen is None:
            unavailable = wanted
        else:
            stamp = timezone.now().strftime("%Y%m%d-%H%M")
            initial = {"server_id": chosen.id, "name": f"{chosen.name}-snapshot-{stamp}"}
    form = SnapshotForm(request.POST or None, initial=initial, servers=servers)
    if request.method == "POST" and form.is_valid():
        server = form.servers[form.cleaned_data["server_id"]]
        name = form.cleaned_data["name"]
        from apps.operations.services import DispatchError

        try:
            services.create_snapshot(creds=creds, server_id=server.id, server_name=server.name, name=name)
        except DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.info(
                request, _("Creating snapshot %(name)s of %(server)s…") % {"name": name, "server": server.name}
            )
            return redirect("snapshots:list")
    data = form.data if form.is_bound else initial
    server_name = form.servers[data["server_id"]].name if data.get("server_id") in form.servers else ""
    context = {
        "form": form,
        "unavailable": unavailable,
        "cli": services.cli_create(server_name, data.get("name", "")),
    }
    return render(request, "snapshots/create.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def snapshot_delete(request: AuthedRequest, image_id: str) -> HttpResponse:
    creds = request.creds
    name = request.POST.get("name") or image_id
    try:
        services.delete_snapshot(creds=creds, image_id=image_id)
    except (Forbidden, Conflict) as exc:
        messages.error(
            request, _("Snapshot %(name)s was not deleted: %(reason)s") % {"name": name, "reason": exc.message}
        )
        return redirect("snapshots:detail", image_id=image_id)
    except NotFound:
        messages.info(request, _("Snapshot %(name)s was already deleted.") % {"name": name})
    else:
        if request.POST.get("kind") == "backup":
            messages.success(request, _("Backup %(name)s deleted.") % {"name": name})
        else:
            messages.success(request, _("Snapshot %(name)s deleted.") % {"name": name})
    if request.POST.get("kind") == "backup":
        return HttpResponseRedirect(reverse("snapshots:list") + "?kind=backup")
    return redirect("snapshots:list")
