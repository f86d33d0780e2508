"""Networking (Neutron) pages: Security groups (list, create, delete; a group's rules added with presets or custom,
removed) and Floating IPs (list, live while one is being changed; allocate, associate with an
instance's port, disassociate, release, each an operation). Without Neutron in the catalog they answer 404 and
the navigation does not offer them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.networks import selectors, services
from apps.networks.forms import PRESETS, AllocateFloatingIPForm, AssociateFloatingIPForm, RuleForm, SecurityGroupForm
from apps.operations.selectors import active_on, active_operations, in_flux


def _creds(request: AuthedRequest) -> Any:
    creds = request.creds
    if not selectors.has_network_service(creds):
        raise Http404(_("This cloud has no Networking service (Neutron) in its catalog."))
    return creds


@login_required
@require_GET
def floating_ip_list(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    # What is in progress first, then the addresses (see security_group_list).
    every_op = active_operations(creds=creds, target_type="floatingip", target_ids=None)
    allocating = [op for op in in_flux(creds=creds) if op.kind == "floatingip.create"]
    page = selectors.list_floating_ips(creds)
    ops = {fip.id: every_op[fip.id] for fip in page.floating_ips if fip.id in every_op}
    rows = [
        {
            "fip": fip,
            "op": ops.get(fip.id),
            "own": fip.project_id == creds.project_id,
            "cli_release": services.cli_delete(fip.address),
            "cli_unset": services.cli_unset_port(fip.address),
        }
        for fip in page.floating_ips
    ]
    context = {
        "page": page,
        "rows": rows,
        "allocating": allocating,
        "polling": page.in_flux or bool(ops) or bool(allocating),
        "cli": services.cli_list(all_projects=page.all_projects),
    }
    template = "networks/floating_ips.html#fip-table" if request.htmx else "networks/floating_ips.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def floating_ip_allocate(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    form = AllocateFloatingIPForm(request.POST or None, pools=selectors.list_pools(creds))
    if request.method == "POST" and form.is_valid():
        pool = form.pool
        try:
            services.allocate_floating_ip(
                creds=creds, network_id=pool.id, network_name=pool.name, description=form.cleaned_data["description"]
            )
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Allocating a floating IP from %(pool)s…") % {"pool": pool.name})
            return redirect("networks:floating_ips")
    data = form.data if form.is_bound else {}
    pool_name = form.pools[data["network_id"]].name if data.get("network_id") in form.pools else ""
    context = {
        "form": form,
        "title": _("Allocate a floating IP"),
        "submit": _("Allocate"),
        "ready": bool(form.pools),
        "empty": _("This cloud has no external network to allocate floating IPs from."),
        "cli": services.cli_create(pool_name or (next(iter(form.pools.values())).name if form.pools else "")),
    }
    return render(request, "networks/floating_ip_form.html", context, status=400 if form.errors else 200)


def _own_floating_ip(creds: Any, floating_ip_id: str) -> selectors.FloatingIP:
    """The floating IP, when the caller's Neutron shows it (a member: the project's; else 404)."""
    return selectors.get_floating_ip(creds, floating_ip_id)


@login_required
@require_http_methods(["GET", "POST"])
def floating_ip_associate(request: AuthedRequest, floating_ip_id: str) -> HttpResponse:
    creds = _creds(request)
    fip = _own_floating_ip(creds, floating_ip_id)
    if fip.project_id != creds.project_id:
        raise Http404(_("Floating IPs of another project are associated from that project."))
    form = AssociateFloatingIPForm(request.POST or None, ports=selectors.instance_ports(creds))
    if request.method == "POST" and form.is_valid():
        port, fixed_ip, server = form.chosen()
        try:
            services.associate_floating_ip(
                creds=creds,
                floating_ip_id=fip.id,
                address=fip.address,
                port_id=port.id,
                fixed_ip=fixed_ip,
                server_name=server,
            )
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Associating %(address)s with %(server)s…") % {"address": fip.address, "server": server}
            )
            return redirect("networks:floating_ips")
    chosen = form.shown()
    context = {
        "form": form,
        "fip": fip,
        "title": _("Associate %(address)s") % {"address": fip.address},
        "submit": _("Associate"),
        "ready": bool(form.targets),
        "empty": _("No instance of this project has an IPv4 address to associate a floating IP with."),
        "cli": services.cli_set_port(fip.address, chosen[0].id if chosen else "", chosen[1] if chosen else ""),
    }
    return render(request, "networks/floating_ip_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def floating_ip_disassociate(request: AuthedRequest, floating_ip_id: str) -> HttpResponse:
    creds = _creds(request)
    fip = _own_floating_ip(creds, floating_ip_id)
    try:
        services.disassociate_floating_ip(creds=creds, floating_ip_id=fip.id, address=fip.address)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Disassociating %(address)s…") % {"address": fip.address})
    return redirect("networks:floating_ips")


@login_required
@require_POST
def floating_ip_release(request: AuthedRequest, floating_ip_id: str) -> HttpResponse:
    creds = _creds(request)
    fip = _own_floating_ip(creds, floating_ip_id)
    try:
        services.release_floating_ip(creds=creds, floating_ip_id=fip.id, address=fip.address)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Releasing %(address)s…") % {"address": fip.address})
    return redirect("networks:floating_ips")


# --- security groups ---------------------------------------------------------------------------------------------
# Every write is an operation (apps/networks/operations.py): the page shows it as a pending row at once and polls
# every 2 s while one is pending, so the group or rule Neutron made is in the table within one poll. Without Neutron
# they answer 404 with a page that says why.

TARGET = services.TARGET


def _htmx_target(request: HttpRequest) -> str:
    return request.headers.get("HX-Target", "") if getattr(request, "htmx", False) else ""


def _no_network(request: HttpRequest) -> HttpResponse:
    return render(request, "networks/no_network.html", status=404)


def _project_names(request: HttpRequest) -> dict[str, str]:
    data = getattr(request, "account_data", {}) or {}
    return {str(p.get("id")): str(p.get("name")) for p in data.get("projects", []) if isinstance(p, dict)}


def _stop_when_calm(response: HttpResponse, polling: bool) -> HttpResponse:
    if not polling:
        response.status_code = 286  # htmx stops polling
    return response


# --- the list ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def security_group_list(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    all_projects = creds.is_admin and request.GET.get("project") == "all"
    # What is in progress is read before the groups: an operation that ends between the two reads is then seen
    # done in the groups, never missed by both (which would stop the polling with the old list on the screen).
    ops = active_on(creds=creds, target_type=TARGET)
    listing = selectors.list_security_groups(creds, all_projects=all_projects)
    shown = {g.id for g in listing.groups}
    names = _project_names(request)
    context = {
        "listing": listing,
        "all_projects": all_projects,
        "is_admin": creds.is_admin,
        "rows": [(g, names.get(g.project_id, "")) for g in listing.groups],
        "creating": [op for op in ops if op.kind == "security_group.create" and op.target_id not in shown],
        "deleting": {op.target_id: op for op in ops if op.kind == "security_group.delete"},
        "polling": bool(ops),
        "poll_url": request.get_full_path(),
        "cli_list": "openstack security group list" + (" --all-projects" if all_projects else ""),
        "cli_create": services.cli_create_group(),
    }
    if _htmx_target(request) == "groups-body":
        response = render(request, "networks/security_groups.html#groups-body", context)
        return _stop_when_calm(response, bool(ops))
    return render(request, "networks/security_groups.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def security_group_create(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    form = SecurityGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name, description = form.cleaned_data["name"], form.cleaned_data["description"]
        try:
            services.create_security_group(creds=creds, name=name, description=description)
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Creating the security group %(name)s…") % {"name": name})
            return HttpResponseRedirect(reverse("networks:security_groups"))
    data = form.data if form.is_bound else {}
    context = {"form": form, "cli": services.cli_create_group(data.get("name", ""), data.get("description", ""))}
    return render(request, "networks/security_group_create.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def security_group_delete(request: AuthedRequest, group_id: str) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    group = selectors.find_security_group(creds, group_id)
    back = reverse("networks:security_groups")
    if group.is_default:
        messages.error(request, _("The default security group of a project cannot be deleted."))
        return HttpResponseRedirect(back)
    try:
        services.delete_security_group(creds=creds, group=group)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Deleting the security group %(name)s…") % {"name": group.name or group.id})
    return HttpResponseRedirect(back)


# --- one group and its rules ---------------------------------------------------------------------------------------


def _group_ops(request: AuthedRequest, group_id: str) -> list[Any]:
    """The operations in progress on a group, read before the group itself (see security_group_list)."""
    return active_on(creds=_creds(request), target_type=TARGET, target_ids=[group_id])


def _detail_context(
    request: AuthedRequest, detail: selectors.SecurityGroupDetail, form: RuleForm, ops: list[Any]
) -> dict[str, Any]:
    creds = _creds(request)
    group = detail.group
    adding = [op for op in ops if op.kind == "security_group_rule.create"]
    removing = {str(op.params.get("rule_id")): op for op in ops if op.kind == "security_group_rule.delete"}
    deleting = next((op for op in ops if op.kind == "security_group.delete"), None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else None
    rule_cli = services.cli_create_rule(group.id, form.rule_params()) if data else _preset_cli(group.id)
    return {
        "group": group,
        "others": detail.others,
        "form": form,
        "presets": PRESETS,
        "adding": adding,
        "removing": removing,
        "deleting": deleting,
        "polling": bool(ops),
        "project_name": _project_names(request).get(group.project_id, ""),
        "is_admin": creds.is_admin,
        "own": group.project_id == creds.project_id,
        "rule_cli": rule_cli,
        "cli_show": f"openstack security group show {group.id}",
        "cli_rules": f"openstack security group rule list --long {group.id}",
        "cli_delete": services.cli_delete_group(group.id),
        "rule_delete_cli": {r.id: services.cli_delete_rule(r.id) for r in group.rules},
    }


def _preset_cli(group_id: str) -> str:
    first = PRESETS[0]
    return services.cli_create_rule(
        group_id,
        {"protocol": first.protocol, "port_range_min": first.port, "port_range_max": first.port},
    )


@login_required
@require_GET
def security_group_detail(request: AuthedRequest, group_id: str) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    ops = _group_ops(request, group_id)
    detail = selectors.get_security_group(creds, group_id)
    context = _detail_context(request, detail, RuleForm(groups=detail.others), ops)
    if _htmx_target(request) == "rules-body":
        response = render(request, "networks/security_group.html#rules-body", context)
        return _stop_when_calm(response, context["polling"])
    return render(request, "networks/security_group.html", context)


@login_required
@require_POST
def rule_create(request: AuthedRequest, group_id: str) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    detail = selectors.get_security_group(creds, group_id)
    form = RuleForm(request.POST, groups=detail.others)
    if form.is_valid():
        try:
            services.create_security_group_rule(creds=creds, group=detail.group, rule=form.rule_params())
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Adding the rule to %(name)s…") % {"name": detail.group.name})
            return HttpResponseRedirect(reverse("networks:security_group", args=[detail.group.id]) + "#rules")
    context = _detail_context(request, detail, form, _group_ops(request, group_id))
    return render(request, "networks/security_group.html", context, status=400)


@login_required
@require_POST
def rule_delete(request: AuthedRequest, group_id: str, rule_id: str) -> HttpResponse:
    creds = request.creds
    if not selectors.has_network_service(creds):
        return _no_network(request)
    group = selectors.find_security_group(creds, group_id)
    rule = next((r for r in group.rules if r.id == rule_id), None)
    if rule is None:
        raise Http404(_("This group has no such rule."))
    try:
        services.delete_security_group_rule(creds=creds, group=group, rule=rule)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removing the rule from %(name)s…") % {"name": group.name or group.id})
    return HttpResponseRedirect(reverse("networks:security_group", args=[group.id]) + "#rules")
