"""Turns a CloudError that no view handled into a clear page naming the service (never a stack trace)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.http import StratusRequest
from apps.cloud.errors import AuthExpired, CloudError

log = logging.getLogger(__name__)


class CloudErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: StratusRequest, exception: Exception) -> HttpResponse | None:
        error = exception if isinstance(exception, CloudError) else _escaped_cloud_error(exception)
        if error is None:
            return None
        if isinstance(error, AuthExpired):
            from apps.accounts.session import sign_out_locally

            sign_out_locally(request)
            messages.warning(request, _("Your session has expired. Please sign in again."))
            url = reverse("accounts:login") + "?" + urlencode({"next": request.get_full_path()})
            if request.htmx:
                response = HttpResponse(status=200)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        log_cloud_error(request, error)
        context = {"error": error, "service_name": error.service_name}
        if request.htmx:
            response = render(request, "errors/cloud.html#toast", context)
            response["HX-Retarget"] = "#toasts"
            response["HX-Reswap"] = "beforeend"
            return response
        return render(request, "errors/cloud.html", context, status=error.status)


def log_cloud_error(request: HttpRequest, exception: CloudError) -> None:
    """One log line for operators per cloud failure a request met, whether this middleware shows it or a view
    says it in place (a paused live poll, an action's events)."""
    log.warning(
        "cloud error on %s: %s %s",
        request.path,
        type(exception).__name__,
        exception.detail or exception.message,
        extra={"openstack_request_id": exception.request_id},
    )


def _escaped_cloud_error(exc: Exception) -> CloudError | None:
    """A safety net: an openstacksdk/keystoneauth error that left a selector without `cloud_errors()` still
    becomes a page naming the service (guessed from the message), never a 500."""
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    from apps.cloud.errors import SERVICE_NAMES, translate

    if not isinstance(exc, (sdk.SDKException, ks.ClientException)):
        return None
    text = str(exc).lower()
    service = next((key for key in SERVICE_NAMES if key != "cloud" and key in text), "cloud")
    log.warning("cloud error outside cloud_errors() on %s", type(exc).__name__)
    try:
        return translate(exc, service)
    except Exception:  # noqa: BLE001 - translate() re-raises what it does not know
        return None
