"""Sign-in, sign-out, project and region switching, and the API access page."""

from __future__ import annotations

import logging
from typing import Any

import yaml
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import keystone, session, throttle
from apps.accounts.decorators import login_required
from apps.accounts.forms import LoginForm
from apps.accounts.http import AuthedRequest, StratusRequest, safe_next
from apps.cloud.errors import CloudError, Forbidden

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
                _sign_in(request, data)
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


def _sign_in(request: HttpRequest, data: dict[str, Any]) -> None:
    if data["method"] == "application_credential":
        scoped = keystone.application_credential_token(credential_id=data["credential_id"], secret=data["secret"])
        project = scoped.body.get("project") or {}
        projects = [{"id": project.get("id", ""), "name": project.get("name", ""), "domain_id": ""}]
        session.store(request, scoped=scoped, projects=projects, method="application_credential")
        return
    # The first token (unscoped, or scoped to the user's default project) lists the projects and is exchanged for a
    # token on the chosen one; the session keeps only that scoped token, sealed. The first token is never stored.
    # It is revoked only when the scoped one was not made from it: Keystone revokes by audit id, and a token rescoped
    # from another carries the first one's audit id, so revoking the first revokes the rescoped one too (Keystone 30
    # does; devcloud plays it). Unrevoked, it expires when the scoped token does.
    credentials = {"username": data["username"], "password": data["password"], "domain": data["domain"]}
    first = keystone.password_token(**credentials)
    keep_first = False
    try:
        projects = keystone.list_projects(token=first.id)
        if not projects:
            raise keystone.InvalidCredentials(_("This user has no role on any project."), service="identity")
        preferred = request.COOKIES.get("stratus_project")
        project = next((p for p in projects if p["id"] == preferred), projects[0])
        if first.project_id == project["id"]:
            scoped, keep_first = first, True  # Keystone scoped it to the user's default project, the one wanted
        else:
            try:
                scoped = keystone.rescope(token=first.id, project_id=project["id"])
                keep_first = not keystone.survives_revoking(scoped, first.body)  # made from it: see above
            except Forbidden:
                # A token scoped to the default project, on a cloud that does not rescope scoped tokens ([token]
                # allow_rescope_scoped_token = false): ask for the chosen project with the password instead.
                scoped = keystone.password_token(**credentials, project_id=project["id"])
    finally:
        if not keep_first:
            keystone.revoke(token=first.id)
    session.store(request, scoped=scoped, projects=projects, method="password")


@require_POST
def logout(request: StratusRequest) -> HttpResponse:
    for token in session.tokens(request):
        keystone.revoke(token=token)
    session.sign_out_locally(request)
    request.session.flush()
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
    old = request.creds
    try:
        # Keystone exchanges a project-scoped token for one on another project of the same user (POST /v3/auth/tokens,
        # method "token"; allowed unless the cloud sets [token] allow_rescope_scoped_token = false).
        scoped = keystone.rescope(token=old.token, project_id=project_id)
    except keystone.InvalidCredentials:
        session.sign_out_locally(request)
        messages.warning(request, _("Your session has expired. Please sign in again."))
        return redirect("accounts:login")
    except Forbidden:
        # This cloud does not rescope a scoped token: the user signs in again, straight into the chosen project.
        keystone.revoke(token=old.token)
        session.sign_out_locally(request)
        request.session.flush()
        messages.info(
            request,
            _("To work in project %(name)s, sign in again: this cloud does not switch projects within a session.")
            % {"name": project["name"]},
        )
        return _remember_project(redirect("accounts:login"), project_id)
    session.store(request, scoped=scoped, projects=projects, method="password", region=old.region)
    if keystone.survives_revoking(scoped, old.body):  # not when the old token is its chain's first (see _sign_in)
        keystone.revoke(token=old.token)
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
    if region not in request.creds.regions:
        messages.error(request, _("Unknown region."))
    else:
        session.set_region(request, region)
        messages.success(request, _("Now working in region %(name)s.") % {"name": region})
    return redirect("overview:index")


def _clouds_yaml(request: AuthedRequest) -> str:
    creds = request.creds
    domain = creds.body.get("user", {}).get("domain", {}).get("name", settings.OS_USER_DOMAIN_NAME)
    cloud = {
        "auth": {
            "auth_url": settings.OS_AUTH_URL,
            "username": creds.user_name,
            "project_id": creds.project_id,
            "project_name": creds.project_name,
            "user_domain_name": domain,
        },
        "region_name": creds.region,
        "interface": creds.interface,
        "identity_api_version": 3,
    }
    return yaml.safe_dump({"clouds": {"stratus": cloud}}, sort_keys=False, allow_unicode=True)


@login_required
def api_access(request: AuthedRequest) -> HttpResponse:
    creds = request.creds
    endpoints = [
        {
            "type": service.get("type", ""),
            "name": service.get("name", ""),
            "url": next(
                (
                    e["url"]
                    for e in service.get("endpoints", [])
                    if e.get("interface") == creds.interface and (e.get("region_id") or e.get("region")) == creds.region
                ),
                "",
            ),
        }
        for service in creds.body.get("catalog", [])
    ]
    return render(
        request,
        "accounts/api_access.html",
        {"clouds_yaml": _clouds_yaml(request), "endpoints": sorted(endpoints, key=lambda e: e["type"])},
    )


@login_required
def clouds_yaml(request: AuthedRequest) -> HttpResponse:
    response = HttpResponse(_clouds_yaml(request), content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="clouds.yaml"'
    return response


def index(request: HttpRequest) -> HttpResponse:
    if getattr(request, "creds", None) is None:
        return HttpResponseRedirect(reverse("accounts:login"))
    return HttpResponseRedirect(reverse("overview:index"))
