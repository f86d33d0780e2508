"""Keystone v3 calls for sign-in: tokens (password, application credential, rescope), projects, revocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from apps.cloud.connection import keystone_session
from apps.cloud.errors import CloudError, Forbidden, cloud_errors


class InvalidCredentials(CloudError):
    status = 401


@dataclass(frozen=True)
class Token:
    id: str
    body: dict[str, Any]

    @property
    def project_id(self) -> str | None:
        return (self.body.get("project") or {}).get("id")


def survives_revoking(new: Token, old_body: dict[str, Any] | None) -> bool:
    """Whether `new` stays valid when the token whose body is `old_body` is revoked. Keystone revokes by audit id,
    and a token rescoped from another carries the first audit id of its chain: revoking a chain's first token revokes
    every token made from it (seen on Keystone 30). Unknown audit ids: assume it would not survive."""
    old_ids = (old_body or {}).get("audit_ids") or []
    return bool(old_ids) and old_ids[0] not in (new.body.get("audit_ids") or [])


def _auth_url() -> str:
    return settings.OS_AUTH_URL.rstrip("/")


def _issue(identity: dict[str, Any], scope: dict[str, Any] | None = None) -> Token:
    from keystoneauth1 import exceptions as ks

    payload: dict[str, Any] = {"auth": {"identity": identity}}
    if scope:
        payload["auth"]["scope"] = scope
    sess = keystone_session()
    try:
        with cloud_errors("identity"):
            try:
                resp = sess.post(_auth_url() + "/auth/tokens", json=payload, authenticated=False)
            except ks.Unauthorized:
                raise InvalidCredentials(_("The user name or password is not right."), service="identity") from None
            except (ks.NotFound, ks.BadRequest):
                raise InvalidCredentials(_("The user name or password is not right."), service="identity") from None
            except ks.Forbidden as exc:  # e.g. rescoping a scoped token where the cloud does not allow it
                raise Forbidden(str(getattr(exc, "message", "") or exc), service="identity") from None
    except InvalidCredentials:
        raise
    return Token(id=resp.headers["X-Subject-Token"], body=resp.json()["token"])


def password_token(*, username: str, password: str, domain: str, project_id: str | None = None) -> Token:
    identity = {
        "methods": ["password"],
        "password": {"user": {"name": username, "password": password, "domain": {"name": domain}}},
    }
    scope = {"project": {"id": project_id}} if project_id else None
    return _issue(identity, scope)


def application_credential_token(*, credential_id: str, secret: str) -> Token:
    from keystoneauth1 import exceptions as ks

    identity = {
        "methods": ["application_credential"],
        "application_credential": {"id": credential_id, "secret": secret},
    }
    try:
        return _issue(identity)
    except InvalidCredentials:
        raise InvalidCredentials(
            _("The application credential ID or secret is not right."), service="identity"
        ) from None
    except ks.ClientException:  # pragma: no cover - translated by cloud_errors
        raise


def rescope(*, token: str, project_id: str) -> Token:
    """A token on `project_id` in exchange for `token` (unscoped, or scoped: Keystone allows that unless
    `[token] allow_rescope_scoped_token = false`, when it answers 403: Forbidden). It expires when `token` does."""
    return _issue({"methods": ["token"], "token": {"id": token}}, {"project": {"id": project_id}})


def list_projects(*, token: str) -> list[dict[str, str]]:
    """Projects the token's user has a role on (`GET /auth/projects`), enabled ones, sorted by name."""
    sess = keystone_session()
    with cloud_errors("identity"):
        resp = sess.get(_auth_url() + "/auth/projects", headers={"X-Auth-Token": token}, authenticated=False)
    projects = [
        {"id": p["id"], "name": p["name"], "domain_id": p.get("domain_id", "")}
        for p in resp.json().get("projects", [])
        if p.get("enabled", True)
    ]
    return sorted(projects, key=lambda p: p["name"].lower())


def revoke(*, token: str) -> None:
    """Revoke a token (its owner may revoke it). Best effort: a dead Keystone must not block sign-out."""
    from keystoneauth1 import exceptions as ks

    sess = keystone_session(timeout=5)
    try:
        sess.delete(
            _auth_url() + "/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
            authenticated=False,
        )
    except ks.ClientException:
        pass
