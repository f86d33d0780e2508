"""Flavor pages: the list (everyone), a flavor, and for admins create, extra specs, access and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import admin_required, login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.errors import CloudError
from apps.flavors import selectors, services
from apps.flavors.forms import BLANK_SPEC_ROWS, AccessForm, FlavorForm, parse_spec_rows, with_blank_rows


@login_required
def flavor_list(request: AuthedRequest) -> HttpResponse:
    sort, direction = selectors.parse_sort(request.GET.get("sort"))
    flavors = selectors.list_flavors(creds=request.creds, sort=sort, direction=direction)
    admin = request.creds.is_admin
    context = {
        "flavors": flavors,
        "sort": sort,
        "direction": direction,
        "cli": "openstack flavor list --all --long" if admin else "openstack flavor list --long",
    }
    template = "flavors/list.html#flavor-table" if request.htmx else "flavors/list.html"
    return render(request, template, context)


def _detail_context(request: AuthedRequest, flavor_id: str) -> dict[str, Any]:
    creds = request.creds
    detail = selectors.get_flavor_detail(creds=creds, flavor_id=flavor_id)
    context: dict[str, Any] = {"detail": detail, "flavor": detail.flavor, "q": services.q}
    if creds.is_admin:
        granted = {a.project_id for a in detail.access}
        projects = [] if detail.flavor.is_public else selectors.list_projects(creds=creds)
        context["access_form"] = AccessForm(projects=[p for p in projects if p.id not in granted])
        context["spec_rows"] = with_blank_rows(list(detail.flavor.extra_specs), blanks=2)
    return context


@login_required
def flavor_detail(request: AuthedRequest, flavor_id: str) -> HttpResponse:
    return render(request, "flavors/detail.html", _detail_context(request, flavor_id))


@admin_required
@require_http_methods(["GET", "POST"])
def flavor_create(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    projects = selectors.list_projects(creds=creds)
    form = FlavorForm(request.POST or None, projects=projects)
    spec = None
    if request.method == "POST" and "add_row" in request.POST:
        # "Add a row" (works without JavaScript) is not a submission: redisplay what was typed, no errors yet.
        initial: dict[str, Any] = {name: request.POST.get(name, "") for name in form.fields}
        initial["projects"] = request.POST.getlist("projects")
        rows = form.spec_rows
        form = FlavorForm(initial=initial, projects=projects)
        form.spec_rows = with_blank_rows(rows, blanks=BLANK_SPEC_ROWS + 1)
    elif request.method == "POST" and form.is_valid():
        spec = form.spec()
        try:
            flavor_id = services.create_flavor(creds=creds, spec=spec)
        except services.FieldError as exc:
            if exc.field == "extra_specs":
                form.spec_errors.append(exc.message)
            elif exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Flavor %(name)s created.") % {"name": spec.name})
            return redirect("flavors:detail", flavor_id=flavor_id)
    status = 400 if form.is_bound and (form.errors or form.spec_errors) else 200
    return render(request, "flavors/create.html", {"form": form, "cli": services.cli_create(spec)}, status=status)


@admin_required
@require_POST
def flavor_extra_specs(request: AuthedRequest, flavor_id: str) -> HttpResponse:
    creds = request.creds
    flavor = selectors.get_flavor(creds=creds, flavor_id=flavor_id)
    rows, wanted, errors = parse_spec_rows(request.POST)
    if not errors:
        try:
            services.set_extra_specs(creds=creds, flavor_id=flavor.id, current=dict(flavor.extra_specs), wanted=wanted)
        except services.FieldError as exc:
            errors = [exc.message]
        else:
            messages.success(request, _("Extra specs of %(name)s saved.") % {"name": flavor.name})
            return redirect("flavors:detail", flavor_id=flavor.id)
    context = _detail_context(request, flavor_id)
    context.update({"spec_rows": with_blank_rows(rows, blanks=1), "spec_errors": errors})
    return render(request, "flavors/detail.html", context, status=400)


@admin_required
@require_POST
def flavor_access(request: AuthedRequest, flavor_id: str) -> HttpResponse:
    creds = request.creds
    project_id = request.POST.get("project_id", "").strip()
    remove = request.POST.get("action") == "remove"
    if not project_id:
        messages.error(request, _("Choose a project."))
        return redirect("flavors:detail", flavor_id=flavor_id)
    try:
        if remove:
            services.remove_flavor_access(creds=creds, flavor_id=flavor_id, project_id=project_id)
        else:
            services.add_flavor_access(creds=creds, flavor_id=flavor_id, project_id=project_id)
    except CloudError as exc:
        if exc.status >= 500:
            raise
        messages.error(request, exc.message)
    else:
        if remove:
            messages.success(request, _("Access removed."))
        else:
            messages.success(request, _("Access granted."))
    return redirect("flavors:detail", flavor_id=flavor_id)


@admin_required
@require_http_methods(["GET", "POST"])
def flavor_delete(request: AuthedRequest, flavor_id: str) -> HttpResponse:
    creds = request.creds
    if request.method == "POST":
        flavor = selectors.get_flavor(creds=creds, flavor_id=flavor_id)
        services.delete_flavor(creds=creds, flavor_id=flavor.id)
        messages.success(request, _("Flavor %(name)s deleted.") % {"name": flavor.name})
        return redirect("flavors:list")
    return render(request, "flavors/delete.html", _detail_context(request, flavor_id))
