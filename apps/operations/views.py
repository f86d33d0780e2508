"""Activity: the project's operations (filter, page), one operation with its steps, retry, and the tracker
that every page includes (end-of-operation toasts; polls only while something is in flux)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.connection import Credentials
from apps.operations import selectors, services
from apps.operations.cli import cli_command
from apps.operations.forms import RetryForm
from apps.operations.models import Operation, State
from apps.operations.registry import kinds

TRACKER_EVENT = "stratus:operations"
FINISHED_EVENT = "stratus:operation-finished"


def notify_tracker(response: HttpResponse) -> HttpResponse:
    """For views that dispatch from an htmx request: wake the page's tracker (start toast, then polling)."""
    response["HX-Trigger"] = TRACKER_EVENT
    return response


@require_GET
@login_required
def activity(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    filters = selectors.ActivityFilters.from_query(request.GET)
    page = selectors.list_operations(creds=creds, filters=filters, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "states": State.choices,
        "kinds": sorted(set(kinds()) | set(selectors.project_kinds(creds=creds))),
        "query": query.urlencode(),
        "in_flux": any(op.is_active for op in page.object_list),
    }
    template = "operations/list.html#table" if request.htmx else "operations/list.html"
    return render(request, template, context)


def _detail_context(creds: Credentials, op: Operation, form: RetryForm | None = None) -> dict[str, Any]:
    can_retry = op.failed and selectors.may_retry(creds=creds, operation=op)
    if can_retry and form is None:
        form = RetryForm(secrets=selectors.secrets_to_ask(op))
    return {"op": op, "cli": cli_command(op), "can_retry": can_retry, "retry_form": form}


@require_GET
@login_required
def detail(request: AuthedRequest, operation_id: UUID) -> HttpResponse:
    creds = request.creds
    op = selectors.get_operation(creds=creds, operation_id=operation_id)
    template = "operations/detail.html#operation" if request.htmx else "operations/detail.html"
    return render(request, template, _detail_context(creds, op))


@require_POST
@login_required
def retry(request: AuthedRequest, operation_id: UUID) -> HttpResponse:
    creds = request.creds
    op = selectors.get_operation(creds=creds, operation_id=operation_id)
    if not selectors.may_retry(creds=creds, operation=op):
        raise PermissionDenied(_("Only the person who started this operation, or an administrator, can retry it."))
    back = reverse("operations:detail", args=[op.id])
    if op.state != State.FAILED:
        messages.info(request, _("Only a failed operation can be retried."))
        return HttpResponseRedirect(back)
    form = RetryForm(request.POST, secrets=selectors.secrets_to_ask(op))
    if not form.is_valid():
        return render(request, "operations/detail.html", _detail_context(creds, op, form))
    try:
        new = services.retry_operation(creds=creds, operation=op, secrets=form.cleaned_data)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.info(request, _("%(title)s: started again…") % {"title": new.title})
    return HttpResponseRedirect(reverse("operations:detail", args=[new.id]))


@require_GET
@login_required
def tracker(request: AuthedRequest) -> HttpResponse:
    """The tracker's poll: toasts (out of band) for operations that ended, and for queued messages when woken
    by an action; the tracker itself, polling again only while the user has something in flux."""
    creds = request.creds
    finished = services.announce_finished(creds=creds)
    context = {
        "tracker_active": selectors.in_flux(creds=creds),
        "tracker_finished": finished,
        "tracker_oob": True,
        "tracker_messages": list(messages.get_messages(request)) if request.GET.get("messages") else [],
    }
    response = render(request, "operations/tracker_body.html", context)
    if finished:
        # Pages may refresh what these operations touched: hx-trigger="stratus:operation-finished from:body".
        touched = [{"id": str(op.id), "kind": op.kind, "target_id": op.target_id} for op in finished]
        response["HX-Trigger"] = json.dumps({FINISHED_EVENT: {"operations": touched}})
    return response
