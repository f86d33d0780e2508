"""Server groups (Nova's `os-server-groups`): the list with each group's policy, rules and members (live while an
operation on one runs), create and delete, each an operation. Launching into a group is done from the launch form
(apps/instances), and an instance's page names its group."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.errors import NotFound
from apps.operations.selectors import active_on
from apps.servergroups import selectors, services
from apps.servergroups.forms import CreateServerGroupForm


@login_required
@require_GET
def server_group_list(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    # What is in progress is read before the groups: an operation that ends between the two reads is then seen done
    # in the groups, never missed by both.
    ops = active_on(creds=creds, target_type=services.TARGET)
    groups = selectors.list_server_groups(creds)
    shown = {g.id for g in groups}
    by_group = {op.target_id: op for op in ops if op.target_id}
    rows = [{"group": g, "op": by_group.get(g.id), "cli_delete": services.cli_delete(g.id)} for g in groups]
    context = {
        "rows": rows,
        "creating": [op for op in ops if op.kind == "server_group.create" and op.target_id not in shown],
        "polling": bool(ops),
        "poll_url": request.get_full_path(),
        "cli": services.cli_list(),
    }
    if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "group-table":
        response = render(request, "servergroups/list.html#group-table", context)
        if not context["polling"]:
            response.status_code = 286  # htmx stops polling
        return response
    return render(request, "servergroups/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def server_group_create(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    form = CreateServerGroupForm(
        request.POST if request.method == "POST" else None, rules_supported=selectors.supports_rules(creds)
    )
    if request.method == "POST" and form.is_valid():
        params = form.params()
        try:
            services.create_server_group(creds=creds, **params)
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Creating the server group %(name)s…") % {"name": params["name"]})
            return HttpResponseRedirect(reverse("servergroups:list"))
    context = {"form": form, "cli": services.cli_create(*form.shown())}
    return render(request, "servergroups/form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def server_group_delete(request: AuthedRequest, group_id: str) -> HttpResponse:
    creds = request.creds
    try:
        group = selectors.get_server_group(creds, group_id)
    except NotFound:
        messages.info(request, _("This server group no longer exists."))
        return HttpResponseRedirect(reverse("servergroups:list"))
    try:
        services.delete_server_group(creds=creds, group_id=group.id, name=group.label)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Deleting the server group %(name)s…") % {"name": group.label})
    return HttpResponseRedirect(reverse("servergroups:list"))
