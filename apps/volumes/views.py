"""Volumes (Block Storage, Cinder): the list (live while a volume is in a transitional status or an operation on one
runs), create (blank, from an image, from a volume snapshot), extend, delete — each write an operation. Without a
volume service in the catalog the pages answer 404 and the navigation does not offer them. Attaching and detaching
are done from the instance page (apps/instances)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.operations.selectors import active_on
from apps.volumes import selectors, services
from apps.volumes.forms import CreateVolumeForm, ExtendVolumeForm


def _creds(request: AuthedRequest) -> Any:
    creds = request.creds
    if not selectors.has_volume_service(creds):
        raise Http404(_("This cloud has no Block Storage service (Cinder) in its catalog."))
    return creds


@login_required
@require_GET
def volume_list(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    # What is in progress is read before the volumes: an operation that ends between the two reads is then seen done
    # in the volumes, never missed by both (which would stop the polling with the old list on the screen).
    ops = active_on(creds=creds, target_type=services.TARGET)
    marker = request.GET.get("marker", "")
    page = selectors.list_volumes(creds, marker=marker)
    shown = {v.id for v in page.volumes}
    by_volume = {op.target_id: op for op in ops if op.target_id}
    rows = [
        {
            "volume": v,
            "op": by_volume.get(v.id),
            "cli_extend": services.cli_extend(v.id),
            "cli_delete": services.cli_delete(v.id),
        }
        for v in page.volumes
    ]
    context = {
        "page": page,
        "rows": rows,
        "creating": [op for op in ops if op.kind == "volume.create" and op.target_id not in shown],
        "polling": page.in_flux or bool(ops),
        "poll_url": request.get_full_path(),
        "cli": services.cli_list(),
    }
    if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "volume-table":
        response = render(request, "volumes/list.html#volume-table", context)
        if not context["polling"]:
            response.status_code = 286  # htmx stops polling
        return response
    return render(request, "volumes/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def volume_create(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    choices = selectors.create_choices(creds)
    initial = {}
    if request.GET.get("image") in {i.id for i in choices.images}:
        initial = {"source": "image", "image_id": request.GET["image"], "size": None}
    form = CreateVolumeForm(request.POST if request.method == "POST" else None, choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        params = form.params()
        try:
            services.create_volume(creds=creds, params=params)
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Creating the volume %(name)s…") % {"name": params["name"]})
            return HttpResponseRedirect(reverse("volumes:list"))
    context = {
        "form": form,
        "title": _("Create a volume"),
        "submit": _("Create volume"),
        "cli": services.cli_create(form.shown_params()),
    }
    return render(request, "volumes/form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def volume_extend(request: AuthedRequest, volume_id: str) -> HttpResponse:
    creds = _creds(request)
    volume = selectors.get_volume(creds, volume_id)
    form = ExtendVolumeForm(request.POST if request.method == "POST" else None, volume=volume)
    if request.method == "POST" and form.is_valid():
        size = form.cleaned_data["new_size"]
        try:
            services.extend_volume(creds=creds, volume_id=volume.id, name=volume.label, new_size=size)
        except services.DispatchError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Extending the volume %(name)s to %(size)s GiB…") % {"name": volume.label, "size": size}
            )
            return HttpResponseRedirect(reverse("volumes:list"))
    shown = form.data.get("new_size", "") if form.is_bound else form.fields["new_size"].initial
    context = {
        "form": form,
        "volume": volume,
        "title": _("Extend %(name)s") % {"name": volume.label},
        "submit": _("Extend"),
        "cli": services.cli_extend(volume.id, shown),
    }
    return render(request, "volumes/form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def volume_delete(request: AuthedRequest, volume_id: str) -> HttpResponse:
    creds = _creds(request)
    volume = selectors.get_volume(creds, volume_id)
    try:
        services.delete_volume(creds=creds, volume_id=volume.id, name=volume.label)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Deleting the volume %(name)s…") % {"name": volume.label})
    return HttpResponseRedirect(reverse("volumes:list"))
