"""Sign-in, sign-out, project and region switching, and the API access page: HTTP only (forms, messages,
redirects, cookies); what they do with Keystone and the session is in services.py, what they read in selectors.py."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import keystone, selectors, services, throttle
from apps.accounts.decorators import login_required
from apps.accounts.forms import LoginForm
from apps.accounts.http import AuthedRequest, StratusRequest, safe_next
from apps.cloud.errors import CloudError

log = logging.getLogger(__name__)


def _client_address(request: HttpRequest) -> str:
    return throttle.client_address(request)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "GET" and getattr(request, "creds", None) is not None:
        return redirect(safe_next(request, reverse("overview:index"), next_url))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password_method = data["method"] != "application_credential"
        who = (data.get("username") if password_method else data.get("credential_id")) or ""
        domain = (data.get("domain") or "") if password_method else ""
        address = _client_address(request)
        # Counted before Keystone is asked: parallel attempts cannot slip past the limit (see throttle).
        attempt = throttle.begin(domain=domain, username=who, address=address)
        if attempt.blocked:
            form.add_error(None, throttle.blocked_message())
        else:
            try:
                services.sign_in(request, data)
            except keystone.InvalidCredentials as exc:
                throttle.failed(attempt)
                log.info("sign-in failed for %r (domain %r) from %s", who, domain, address)
                form.add_error("password" if password_method else "secret", exc.message)
            except CloudError as exc:
                throttle.abandoned(attempt)
                form.add_error(None, _("Cannot sign in: %(reason)s") % {"reason": exc.message})
            except BaseException:
                throttle.abandoned(attempt)
                raise
            else:
                throttle.succeeded(attempt)
                return redirect(safe_next(request, reverse("overview:index"), next_url))
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=200)


@require_POST
def logout(request: StratusRequest) -> HttpResponse:
    services.sign_out(request)
    messages.success(request, _("You have signed out."))
    return redirect("accounts:login")


@require_POST
@login_required
def switch_project(request: AuthedRequest) -> HttpResponse:
    project_id = request.POST.get("project_id", "")
    data = request.account_data
    projects = data.get("projects", [])
    project = next((p for p in projects if p["id"] == project_id), None)
    if project is None or data.get("method") != "password":
        messages.error(request, _("You cannot switch to that project."))
        return redirect("overview:index")
    outcome = services.switch_project(request, project)
    if outcome is services.Switched.EXPIRED:
        messages.warning(request, _("Your session has expired. Please sign in again."))
        return redirect("accounts:login")
    if outcome is services.Switched.SIGN_IN_AGAIN:
        messages.info(
            request,
            _("To work in project %(name)s, sign in again: this cloud does not switch projects within a session.")
            % {"name": project["name"]},
        )
        return _remember_project(redirect("accounts:login"), project_id)
    messages.success(request, _("Now working in project %(name)s.") % {"name": project["name"]})
    return _remember_project(redirect("overview:index"), project_id)


def _remember_project(response: HttpResponse, project_id: str) -> HttpResponse:
    """The project the next sign-in starts in (a cookie of its own: it outlives the session)."""
    response.set_cookie(
        "stratus_project",
        project_id,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,  # over TLS only, like the session cookie (production)
    )
    return response


@require_POST
@login_required
def switch_region(request: AuthedRequest) -> HttpResponse:
    region = request.POST.get("region", "")
    if not services.switch_region(request, region):
        messages.error(request, _("Unknown region."))
    else:
        messages.success(request, _("Now working in region %(name)s.") % {"name": region})
    return redirect("overview:index")


@login_required
def api_access(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "accounts/api_access.html",
        {"clouds_yaml": selectors.clouds_yaml(request.creds), "endpoints": selectors.endpoints(request.creds)},
    )


@login_required
def clouds_yaml(request: AuthedRequest) -> HttpResponse:
    response = HttpResponse(selectors.clouds_yaml(request.creds), content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="clouds.yaml"'
    return response


def index(request: HttpRequest) -> HttpResponse:
    if getattr(request, "creds", None) is None:
        return HttpResponseRedirect(reverse("accounts:login"))
    return HttpResponseRedirect(reverse("overview:index"))
