"""What signing in, switching project and signing out do with Keystone and the session (apps/accounts/views.py
turns the outcomes into messages and redirects)."""

from __future__ import annotations

import enum
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from apps.accounts import keystone, session
from apps.accounts.http import AuthedRequest, StratusRequest
from apps.cloud.errors import Forbidden


def sign_in(request: HttpRequest, data: dict[str, Any]) -> None:
    """Sign in with a LoginForm's cleaned data: the session then holds one project-scoped token, sealed.
    Raises keystone.InvalidCredentials (wrong password, no project) or a CloudError (Keystone unreachable)."""
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


class Switched(enum.Enum):
    DONE = "done"
    EXPIRED = "expired"  # the session's token no longer works: signed out here, sign in again
    SIGN_IN_AGAIN = "sign-in-again"  # the cloud does not rescope a scoped token: signed out, sign in to that project


def switch_project(request: AuthedRequest, project: dict[str, str]) -> Switched:
    """Work in another of the user's projects (one of the session's list, for a password sign-in)."""
    old = request.creds
    try:
        # Keystone exchanges a project-scoped token for one on another project of the same user (POST /v3/auth/tokens,
        # method "token"; allowed unless the cloud sets [token] allow_rescope_scoped_token = false).
        scoped = keystone.rescope(token=old.token, project_id=project["id"])
    except keystone.InvalidCredentials:
        session.sign_out_locally(request)
        return Switched.EXPIRED
    except Forbidden:
        keystone.revoke(token=old.token)
        session.sign_out_locally(request)
        request.session.flush()
        return Switched.SIGN_IN_AGAIN
    projects = request.account_data.get("projects", [])
    session.store(request, scoped=scoped, projects=projects, method="password", region=old.region)
    if keystone.survives_revoking(scoped, old.body):  # not when the old token is its chain's first (see sign_in)
        keystone.revoke(token=old.token)
    return Switched.DONE


def switch_region(request: AuthedRequest, region: str) -> bool:
    """Work in another region of the token's catalog (no Keystone call); False: the catalog has no such region."""
    if region not in request.creds.regions:
        return False
    session.set_region(request, region)
    return True


def sign_out(request: StratusRequest) -> None:
    """Revoke the session's token in Keystone and forget the session."""
    for token in session.tokens(request):
        keystone.revoke(token=token)
    session.sign_out_locally(request)
    request.session.flush()
