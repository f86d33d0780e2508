"""Access guards for views: signed in (else to sign-in with `next`), and admin (else 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def _to_login(request: HttpRequest) -> HttpResponse:
    if getattr(request, "session_expired", False):
        messages.warning(request, _("Your session has expired. Please sign in again."))
    url = reverse("accounts:login") + "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def login_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "creds", None) is None:
            return _to_login(request)
        return view(request, *args, **kwargs)

    wrapper.stratus_access = "member"  # type: ignore[attr-defined]
    return wrapper


def admin_required(view: View) -> View:
    """Cloud admins only (the `admin` role in the current project); members get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        creds = getattr(request, "creds", None)
        if creds is None:
            return _to_login(request)
        if not creds.is_admin:
            raise PermissionDenied(_("This page is for cloud administrators."))
        return view(request, *args, **kwargs)

    wrapper.stratus_access = "admin"  # type: ignore[attr-defined]
    return wrapper
