"""Access guards for views: signed in (else to sign-in with `next`), and admin (else 403).

A guarded view is typed as taking an `AuthedRequest` (its `creds` set); Django's URL resolver calls the guard with
the plain request, which the guard checks before it hands it on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.http import AuthedRequest, StratusRequest

P = ParamSpec("P")
GuardedView = Callable[Concatenate[AuthedRequest, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def _to_login(request: StratusRequest) -> HttpResponse:
    if request.session_expired:
        messages.warning(request, _("Your session has expired. Please sign in again."))
    url = reverse("accounts:login") + "?" + urlencode({"next": request.get_full_path()})
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def login_required(view: GuardedView[P]) -> View[P]:
    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        stratus_request = cast(StratusRequest, request)
        if stratus_request.creds is None:
            return _to_login(stratus_request)
        return view(cast(AuthedRequest, request), *args, **kwargs)

    wrapper.stratus_access = "member"  # type: ignore[attr-defined]
    return wrapper


def admin_required(view: GuardedView[P]) -> View[P]:
    """Cloud admins only (the `admin` role in the current project); members get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        stratus_request = cast(StratusRequest, request)
        if stratus_request.creds is None:
            return _to_login(stratus_request)
        if not stratus_request.creds.is_admin:
            raise PermissionDenied(_("This page is for cloud administrators."))
        return view(cast(AuthedRequest, request), *args, **kwargs)

    wrapper.stratus_access = "admin"  # type: ignore[attr-defined]
    return wrapper
