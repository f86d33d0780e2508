"""Keystone v3 at /identity/v3: tokens, catalog, domains, projects, users, roles, application credentials.

Also the auth hook every other service relies on (see README "Internal contract"): it validates
`X-Auth-Token` and fills `req.context["auth"]`.

Tokens are opaque random strings kept in the `identity_tokens` table. Passwords and application
credential secrets are stored as salted PBKDF2 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from devcloud.config import config
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

REGION = "RegionOne"
DEFAULT_DOMAIN = "default"
API_VERSION = "v3.14"
API_UPDATED = "2020-04-07T00:00:00Z"

# Implied roles as Keystone bootstraps them: admin implies member, member implies reader.
IMPLIED = {"admin": ["member"], "member": ["reader"]}

_PBKDF2_ROUNDS = 20000

# Paths that need no token (exact matches, after the router strips trailing slashes).
_PUBLIC_GET = {
    "/",
    "/identity",
    "/identity/v3",
    "/compute",
    "/compute/v2",
    "/compute/v2.1",
    "/image",
    "/image/versions",
    "/volume",
    "/volume/v3",
    "/placement",
    "/networking",
    "/devcloud",
    "/devcloud/health",
}


# --------------------------------------------------------------------------- helpers


def _ks_error(status: int, message: str) -> HttpError:
    return HttpError(status, message, style="keystone")


def _unauthorized() -> HttpError:
    return _ks_error(401, "The request you have made requires authentication.")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hash_secret(secret: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), _PBKDF2_ROUNDS).hex()
    return f"pbkdf2-sha256${_PBKDF2_ROUNDS}${salt}${digest}"


def _check_secret(secret: str, stored: str | None) -> bool:
    if not stored or not isinstance(secret, str):
        return False
    try:
        _algo, rounds, salt, digest = stored.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(rounds)).hex()
    except ValueError:
        return False
    return hmac.compare_digest(candidate, digest)


def public_base(req: Request | None = None) -> str:
    """The root URL clients reach devcloud at (config.base_url; the Host header when bound to all addresses)."""
    if req is not None and config.host in ("0.0.0.0", "::", "") and req.header("host"):
        return f"http://{req.header('host')}"
    return config.base_url


def _v3(req: Request | None = None) -> str:
    return public_base(req) + "/identity/v3"


def _stable_id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "devcloud:" + ":".join(parts)).hex


def _t(name: str) -> dict[str, Any]:
    return store.table("identity_" + name)


def _list_links(req: Request, path: str) -> dict[str, Any]:
    query = ("?" + urlencode([(k, v) for k, vs in req.query.items() for v in vs])) if req.query else ""
    return {"self": _v3(req) + path + query, "previous": None, "next": None}


def _bool_arg(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() not in ("0", "false", "no", "off")


# --------------------------------------------------------------------------- contract API


def get_project(project_id: str) -> dict[str, Any] | None:
    with store.lock:
        project = _t("projects").get(project_id)
        return dict(project) if project else None


def get_user(user_id: str) -> dict[str, Any] | None:
    with store.lock:
        user = _t("users").get(user_id)
        if not user:
            return None
        return {k: v for k, v in user.items() if k != "password_hash"}


def list_projects() -> list[dict[str, Any]]:
    with store.lock:
        return [dict(p) for p in _t("projects").values()]


def find_project(name: str, domain_id: str = DEFAULT_DOMAIN) -> dict[str, Any] | None:
    with store.lock:
        for p in _t("projects").values():
            if p["name"] == name and p["domain_id"] == domain_id:
                return dict(p)
    return None


def find_user(name: str, domain_id: str = DEFAULT_DOMAIN) -> dict[str, Any] | None:
    with store.lock:
        for u in _t("users").values():
            if u["name"] == name and u["domain_id"] == domain_id:
                return {k: v for k, v in u.items() if k != "password_hash"}
    return None


def auth(req: Request) -> dict[str, Any]:
    """The caller's auth context (set by the auth hook); 401 when there is none."""
    ctx = req.context.get("auth")
    if ctx is None:
        raise _unauthorized()
    return ctx


def require_admin(req: Request, style: str = "nova") -> dict[str, Any]:
    ctx = auth(req)
    if not ctx["is_admin"]:
        raise HttpError(403, "Policy doesn't allow this operation to be performed.", style=style)
    return ctx


def validate_token(token: str | None) -> dict[str, Any] | None:
    """The auth context for a token, or None when it is unknown, revoked or expired."""
    if not isinstance(token, str) or not token:
        return None
    with store.lock:
        rec = _t("tokens").get(token)
        if rec is None or rec.get("revoked") or rec["expires_at_epoch"] <= time.time():
            return None
        user = _t("users").get(rec["user_id"])
        if user is None or not user.get("enabled", True):
            return None
        project = _t("projects").get(rec["project_id"]) if rec.get("project_id") else None
        if rec.get("project_id") and (project is None or not project.get("enabled", True)):
            return None
        if rec.get("app_cred_id") and rec["app_cred_id"] not in _t("app_creds"):
            return None
        roles = [r["name"] for r in rec["roles"]]
        return {
            "token": token,
            "user_id": user["id"],
            "user_name": user["name"],
            "project_id": project["id"] if project else None,
            "project_name": project["name"] if project else None,
            "domain_id": project["domain_id"] if project else user["domain_id"],
            "user_domain_id": user["domain_id"],
            "roles": roles,
            "is_admin": "admin" in roles,
            "app_cred_id": rec.get("app_cred_id"),
        }


# --------------------------------------------------------------------------- auth hook


def _is_public(req: Request) -> bool:
    if req.method in ("GET", "HEAD") and req.path in _PUBLIC_GET:
        return True
    return req.method == "POST" and req.path == "/identity/v3/auth/tokens"


def _auth_hook(req: Request) -> Response | None:
    if _is_public(req):
        return None
    ctx = validate_token(req.header("x-auth-token"))
    if ctx is None:
        # keystonemiddleware answers every service's unauthenticated call this way.
        err = _unauthorized()
        err.headers["WWW-Authenticate"] = f"Keystone uri='{public_base(req)}/identity'"
        raise err
    req.context["auth"] = ctx
    return None


router.before.append(_auth_hook)


# --------------------------------------------------------------------------- seeding


def _effective_role_names(names: list[str]) -> list[str]:
    out: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name not in out:
            out.append(name)
            todo.extend(IMPLIED.get(name, []))
    return out


def _role_by_name(name: str) -> dict[str, Any] | None:
    for r in _t("roles").values():
        if r["name"] == name:
            return r
    return None


def _assign(user_id: str, project_id: str, role_name: str) -> None:
    role = _role_by_name(role_name)
    assert role is not None
    key = f"{user_id}:{project_id}:{role['id']}"
    _t("assignments")[key] = {"user_id": user_id, "project_id": project_id, "role_id": role["id"]}


def _mk_project(name: str, description: str) -> dict[str, Any]:
    pid = _stable_id("project", name)
    project = {
        "id": pid,
        "name": name,
        "description": description,
        "domain_id": DEFAULT_DOMAIN,
        "parent_id": DEFAULT_DOMAIN,
        "enabled": True,
        "is_domain": False,
        "tags": [],
        "options": {},
    }
    _t("projects")[pid] = project
    return project


def _mk_user(name: str, password: str, email: str | None = None) -> dict[str, Any]:
    uid = _stable_id("user", name)
    user = {
        "id": uid,
        "name": name,
        "domain_id": DEFAULT_DOMAIN,
        "enabled": True,
        "email": email,
        "default_project_id": None,
        "password_hash": _hash_secret(password),
        "password_expires_at": None,
        "options": {},
        "description": "",
    }
    _t("users")[uid] = user
    return user


def seed(fresh: bool) -> None:
    with store.lock:
        if fresh or not _t("domains"):
            for name in ("domains", "projects", "users", "roles", "assignments", "tokens", "app_creds"):
                _t(name).clear()
            _t("domains")[DEFAULT_DOMAIN] = {
                "id": DEFAULT_DOMAIN,
                "name": "Default",
                "description": "The default domain",
                "enabled": True,
                "tags": [],
                "options": {},
            }
            for role in ("admin", "member", "reader", "service"):
                rid = _stable_id("role", role)
                _t("roles")[rid] = {"id": rid, "name": role, "domain_id": None, "description": None, "options": {}}
            admin_p = _mk_project("admin", "Bootstrap project for initializing the cloud.")
            demo_p = _mk_project("demo", "Demo project")
            demo2_p = _mk_project("demo-2", "Second demo project")
            service_p = _mk_project("service", "Service project")
            admin_u = _mk_user("admin", "admin", "admin@example.com")
            demo_u = _mk_user("demo", "demo", "demo@example.com")
            nova_u = _mk_user("nova", "nova")
            _assign(admin_u["id"], admin_p["id"], "admin")
            _assign(demo_u["id"], demo_p["id"], "member")
            _assign(demo_u["id"], demo2_p["id"], "member")
            _assign(nova_u["id"], service_p["id"], "admin")
            _assign(nova_u["id"], service_p["id"], "service")
        _prune_tokens()
        store.touch()
    _write_clouds_yaml()


def _write_clouds_yaml() -> None:
    auth_url = config.base_url + "/identity/v3"
    clouds = [
        ("devcloud-admin", "admin", "admin", "admin"),
        ("devcloud-demo", "demo", "demo", "demo"),
        ("devcloud-demo2", "demo", "demo", "demo-2"),
        ("devcloud-service", "nova", "nova", "service"),
    ]
    lines = ["# Written by devcloud on start; clouds for the `openstack` CLI and openstacksdk.", "clouds:"]
    for name, user, password, project in clouds:
        lines += [
            f"  {name}:",
            "    auth:",
            f"      auth_url: {auth_url}",
            f"      username: {user}",
            f"      password: {password}",
            f"      project_name: {project}",
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            f"    region_name: {REGION}",
            "    interface: public",
            "    identity_api_version: 3",
        ]
    config.state_dir.mkdir(parents=True, exist_ok=True)
    (config.state_dir / "clouds.yaml").write_text("\n".join(lines) + "\n")


MAX_TOKENS = 10000


def _prune_tokens() -> None:
    """Forget tokens expired for over an hour (allow_expired's window is shorter) and revoked ones.

    Revoked tokens must stay unusable: an unknown token is rejected just like a revoked one. Beyond
    MAX_TOKENS live tokens (benchmarks sign in a lot), the oldest are dropped.
    """
    now = time.time()
    tokens = _t("tokens")
    for tid in [t for t, rec in tokens.items() if rec["expires_at_epoch"] < now - 3600 or rec.get("revoked")]:
        del tokens[tid]
    if len(tokens) > MAX_TOKENS:
        oldest = sorted(tokens, key=lambda t: tokens[t]["issued_at_epoch"])[: len(tokens) - MAX_TOKENS]
        for tid in oldest:
            del tokens[tid]


# --------------------------------------------------------------------------- catalog


def _catalog(req: Request | None, project_id: str | None) -> list[dict[str, Any]]:
    base = public_base(req)
    services = [
        ("keystone", "identity", base + "/identity"),
        ("nova", "compute", base + "/compute/v2.1"),
        ("glance", "image", base + "/image"),
        ("cinder", "block-storage", base + f"/volume/v3/{project_id}"),
        ("cinderv3", "volumev3", base + f"/volume/v3/{project_id}"),
        ("placement", "placement", base + "/placement"),
        ("neutron", "network", base + "/networking"),
    ]
    catalog = []
    for name, stype, url in services:
        if stype in config.catalog_omits:
            continue
        endpoints = [
            {
                "id": _stable_id("endpoint", name, iface),
                "interface": iface,
                "region_id": REGION,
                "region": REGION,
                "url": url,
            }
            for iface in ("public", "internal", "admin")
        ]
        catalog.append({"id": _stable_id("service", name), "type": stype, "name": name, "endpoints": endpoints})
    return catalog


# --------------------------------------------------------------------------- representations


def _domain_ref(domain_id: str) -> dict[str, str]:
    domain = _t("domains").get(domain_id) or {"id": domain_id, "name": domain_id}
    return {"id": domain["id"], "name": domain["name"]}


def _project_view(req: Request, p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    out["links"] = {"self": f"{_v3(req)}/projects/{p['id']}"}
    return out


def _user_view(req: Request, u: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in u.items() if k != "password_hash" and (k != "email" or v)}
    out["links"] = {"self": f"{_v3(req)}/users/{u['id']}"}
    return out


def _role_view(req: Request, r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    out["links"] = {"self": f"{_v3(req)}/roles/{r['id']}"}
    return out


def _token_body(req: Request, token: str, rec: dict[str, Any], nocatalog: bool = False) -> dict[str, Any]:
    user = _t("users")[rec["user_id"]]
    body: dict[str, Any] = {
        "methods": rec["methods"],
        "user": {
            "id": user["id"],
            "name": user["name"],
            "domain": _domain_ref(user["domain_id"]),
            "password_expires_at": None,
        },
        "audit_ids": rec["audit_ids"],
        "expires_at": _iso(rec["expires_at_epoch"]),
        "issued_at": _iso(rec["issued_at_epoch"]),
    }
    if rec.get("project_id"):
        project = _t("projects")[rec["project_id"]]
        body["project"] = {"id": project["id"], "name": project["name"], "domain": _domain_ref(project["domain_id"])}
        body["is_domain"] = False
        body["roles"] = rec["roles"]
        if not nocatalog:
            body["catalog"] = _catalog(req, project["id"])
    if rec.get("app_cred_id"):
        cred = _t("app_creds").get(rec["app_cred_id"], {})
        body["application_credential"] = {
            "id": rec["app_cred_id"],
            "name": cred.get("name"),
            "restricted": not cred.get("unrestricted", False),
        }
    return {"token": body}


# --------------------------------------------------------------------------- version documents


def _version(req: Request) -> dict[str, Any]:
    return {
        "id": API_VERSION,
        "status": "stable",
        "updated": API_UPDATED,
        "links": [{"rel": "self", "href": _v3(req) + "/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


@router.route("GET", "/identity")
def versions(req: Request) -> Response:
    return json_response(300, {"versions": {"values": [_version(req)]}}, {"Location": _v3(req) + "/"})


@router.route("GET", "/identity/v3")
def version_v3(req: Request) -> Response:
    return json_response(200, {"version": _version(req)})


# --------------------------------------------------------------------------- tokens


def _find_domain_id(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    if "id" in ref:
        return ref["id"] if isinstance(ref["id"], str) and ref["id"] in _t("domains") else None
    for d in _t("domains").values():
        if d["name"] == ref.get("name"):
            return d["id"]
    return None


def _find_user_ref(ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, dict):
        raise _ks_error(400, "Invalid input for field 'user': expected an object.")
    if ref.get("id"):
        return _t("users").get(ref["id"]) if isinstance(ref["id"], str) else None
    if not isinstance(ref.get("name"), str) or not ref["name"]:
        raise _ks_error(400, "Expecting to find id or name in user - the server could not comply with the request.")
    domain_id = _find_domain_id(ref.get("domain"))
    if domain_id is None:
        if "domain" not in ref:
            raise _ks_error(400, "Expecting to find domain in user. The server could not comply with the request.")
        return None
    for u in _t("users").values():
        if u["name"] == ref["name"] and u["domain_id"] == domain_id:
            return u
    return None


def _roles_on(user_id: str, project_id: str) -> list[dict[str, str]]:
    names = [
        _t("roles")[a["role_id"]]["name"]
        for a in _t("assignments").values()
        if a["user_id"] == user_id and a["project_id"] == project_id and a["role_id"] in _t("roles")
    ]
    out = []
    for name in _effective_role_names(names):
        role = _role_by_name(name)
        if role:
            out.append({"id": role["id"], "name": role["name"]})
    return out


def _projects_of(user_id: str) -> list[dict[str, Any]]:
    pids = {a["project_id"] for a in _t("assignments").values() if a["user_id"] == user_id}
    return [p for pid, p in _t("projects").items() if pid in pids]


def _resolve_scope(scope: Any, user: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    if scope is None:
        if user.get("default_project_id"):
            project = _t("projects").get(user["default_project_id"])
            if project and _roles_on(user["id"], project["id"]):
                return project, _roles_on(user["id"], project["id"])
        return None, []
    if not isinstance(scope, dict):
        raise _ks_error(400, "Invalid input for field 'scope': expected an object.")
    if "project" not in scope:
        # Domain and system scope are not offered by devcloud.
        raise _unauthorized()
    ref = scope["project"]
    if not isinstance(ref, dict):
        raise _ks_error(400, "Invalid input for field 'project': expected an object.")
    project = None
    if ref.get("id"):
        project = _t("projects").get(ref["id"]) if isinstance(ref["id"], str) else None
    elif isinstance(ref.get("name"), str) and ref["name"]:
        domain_id = _find_domain_id(ref.get("domain"))
        if domain_id is None and "domain" not in ref:
            raise _ks_error(400, "Expecting to find domain in project. The server could not comply with the request.")
        project = next(
            (p for p in _t("projects").values() if p["name"] == ref["name"] and p["domain_id"] == domain_id), None
        )
    else:
        raise _ks_error(400, "Expecting to find id or name in project - the server could not comply with the request.")
    if project is None or not project.get("enabled", True):
        raise _unauthorized()
    roles = _roles_on(user["id"], project["id"])
    if not roles:
        raise _unauthorized()
    return project, roles


def _issue(
    user: dict[str, Any],
    project: dict[str, Any] | None,
    roles: list[dict[str, str]],
    methods: list[str],
    app_cred_id: str | None = None,
    expires_at_epoch: float | None = None,
) -> tuple[str, dict[str, Any]]:
    now = time.time()
    expires = now + config.token_ttl_seconds
    if expires_at_epoch is not None:
        expires = min(expires, expires_at_epoch)
    token = "gAAAAA" + secrets.token_urlsafe(96)
    rec = {
        "user_id": user["id"],
        "project_id": project["id"] if project else None,
        "roles": roles,
        "methods": methods,
        "issued_at_epoch": now,
        "expires_at_epoch": expires,
        "audit_ids": [secrets.token_urlsafe(16)[:22]],
        "app_cred_id": app_cred_id,
        "revoked": False,
    }
    tokens = _t("tokens")
    if len(tokens) >= 2000 and len(tokens) % 500 == 0:
        _prune_tokens()
    tokens[token] = rec
    store.touch()
    return token, rec


def _parse_expiry(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _ks_error(400, "Invalid input for field 'expires_at'.")
    text = value.rstrip("Z").replace("z", "")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    raise _ks_error(400, f"Invalid input for field 'expires_at'. The value is '{value}'.")


def _auth_password(body: dict[str, Any], scope: Any) -> tuple[str, dict[str, Any]]:
    pw = body.get("password")
    if not isinstance(pw, dict) or "user" not in pw:
        raise _ks_error(400, "Invalid input for field 'identity/password/user': 'user' is a required property")
    ref = pw["user"]
    user = _find_user_ref(ref)
    if user is None or not user.get("enabled", True) or not _check_secret(ref.get("password"), user["password_hash"]):
        raise _unauthorized()
    project, roles = _resolve_scope(scope, user)
    return _issue(user, project, roles, ["password"])


def _find_app_cred(ref: dict[str, Any]) -> dict[str, Any] | None:
    creds = _t("app_creds")
    if ref.get("id"):
        return creds.get(ref["id"]) if isinstance(ref["id"], str) else None
    user = _find_user_ref(ref.get("user"))
    if user is None:
        return None
    return next((c for c in creds.values() if c["user_id"] == user["id"] and c["name"] == ref.get("name")), None)


def _auth_app_cred(body: dict[str, Any], scope: Any) -> tuple[str, dict[str, Any]]:
    ref = body.get("application_credential")
    if not isinstance(ref, dict) or "secret" not in ref:
        raise _ks_error(
            400, "Invalid input for field 'identity/application_credential': 'secret' is a required property"
        )
    if not ref.get("id") and not (ref.get("name") and ref.get("user")):
        raise _ks_error(400, "Could not find application credential: either id or name and user must be given.")
    cred = _find_app_cred(ref)
    if cred is None or not _check_secret(ref["secret"], cred["secret_hash"]):
        raise _unauthorized()
    if cred.get("expires_at_epoch") and cred["expires_at_epoch"] <= time.time():
        raise _unauthorized()
    if scope is not None:
        # Keystone rejects an explicit scope with an application credential.
        raise _unauthorized()
    user = _t("users").get(cred["user_id"])
    project = _t("projects").get(cred["project_id"])
    if user is None or project is None or not user.get("enabled", True):
        raise _unauthorized()
    current = {r["name"] for r in _roles_on(user["id"], project["id"])}
    names = [r["name"] for r in cred["roles"] if r["name"] in current]
    if not names:
        raise _unauthorized()
    roles = [{"id": r["id"], "name": r["name"]} for n in _effective_role_names(names) if (r := _role_by_name(n))]
    return _issue(user, project, roles, ["application_credential"], cred["id"], cred.get("expires_at_epoch"))


@router.route("POST", "/identity/v3/auth/tokens")
def issue_token(req: Request) -> Response:
    body = req.json_object(style="keystone")
    auth_body = body.get("auth")
    if not isinstance(auth_body, dict):
        raise _ks_error(400, "Invalid input for field 'auth': 'auth' is a required property")
    identity = auth_body.get("identity")
    if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
        raise _ks_error(400, "Invalid input for field 'identity': 'methods' is a required property")
    methods = identity["methods"]
    scope = auth_body.get("scope")
    if scope == "unscoped":
        scope = None
    with store.lock:
        if "password" in methods:
            token, rec = _auth_password(identity, scope)
        elif "application_credential" in methods:
            token, rec = _auth_app_cred(identity, scope)
        elif "token" in methods:
            ref = identity.get("token")
            if not isinstance(ref, dict) or not ref.get("id"):
                raise _ks_error(400, "Invalid input for field 'identity/token': 'id' is a required property")
            ctx = validate_token(ref["id"])
            if ctx is None or ctx.get("app_cred_id"):
                raise _unauthorized()
            if ctx["project_id"] and not config.allow_rescope_scoped_token:
                # keystone.auth.plugins.token: ForbiddenAction(action="rescope a scoped token")
                raise _ks_error(403, "You are not authorized to perform the requested action: rescope a scoped token.")
            user = _t("users")[ctx["user_id"]]
            old = _t("tokens")[ref["id"]]
            project, roles = _resolve_scope(scope, user)
            token, rec = _issue(user, project, roles, list(dict.fromkeys([*old["methods"], "token"])))
            rec["expires_at_epoch"] = min(rec["expires_at_epoch"], old["expires_at_epoch"])
            # Keystone's audit chain: a token made from another carries its own audit id and the chain's first one.
            rec["audit_ids"] = [rec["audit_ids"][0], old["audit_ids"][-1]]
        else:
            raise _unauthorized()
        out = _token_body(req, token, rec, nocatalog=req.arg("nocatalog") is not None)
    return json_response(201, out, {"X-Subject-Token": token})


def _subject(req: Request) -> tuple[str, dict[str, Any]]:
    ctx = auth(req)
    subject = req.header("x-subject-token")
    if not subject:
        raise _ks_error(400, "Expecting to find X-Subject-Token in request headers.")
    rec = _t("tokens").get(subject)
    allow_expired = _bool_arg(req.arg("allow_expired")) or False
    valid = validate_token(subject) is not None
    if rec is not None and not valid and allow_expired and not rec.get("revoked"):
        valid = rec["expires_at_epoch"] > time.time() - 86400
    if rec is None or not valid or rec["user_id"] not in _t("users"):
        raise _ks_error(404, f"Could not find token: {subject}.")
    if rec.get("project_id") and rec["project_id"] not in _t("projects"):
        raise _ks_error(404, f"Could not find token: {subject}.")
    if not (ctx["is_admin"] or "service" in ctx["roles"] or rec["user_id"] == ctx["user_id"]):
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:validate_token.")
    return subject, rec


@router.route("GET", "/identity/v3/auth/tokens")
def validate(req: Request) -> Response:
    with store.lock:
        subject, rec = _subject(req)
        out = _token_body(req, subject, rec, nocatalog=req.arg("nocatalog") is not None)
    return json_response(200, out, {"X-Subject-Token": subject})


@router.route("DELETE", "/identity/v3/auth/tokens")
def revoke(req: Request) -> Response:
    with store.lock:
        _subject_token, rec = _subject(req)
        # Keystone revokes by audit id, and a token matches an event naming any of its audit ids: revoking the first
        # token of a chain revokes every token rescoped from it; revoking a later one leaves the rest of the chain.
        audit_id = rec["audit_ids"][0]
        for other in _t("tokens").values():
            if audit_id in other.get("audit_ids", ()):
                other["revoked"] = True
        store.touch()
    return empty_response(204)


@router.route("GET", "/identity/v3/auth/catalog")
def auth_catalog(req: Request) -> Response:
    ctx = auth(req)
    if not ctx["project_id"]:
        raise _ks_error(403, "A project-scoped token is required to produce a service catalog.")
    return json_response(200, {"catalog": _catalog(req, ctx["project_id"]), "links": _list_links(req, "/auth/catalog")})


@router.route("GET", "/identity/v3/auth/projects")
def auth_projects(req: Request) -> Response:
    ctx = auth(req)
    with store.lock:
        projects = [_project_view(req, p) for p in _projects_of(ctx["user_id"]) if p.get("enabled", True)]
    return json_response(200, {"projects": projects, "links": _list_links(req, "/auth/projects")})


@router.route("GET", "/identity/v3/auth/domains")
def auth_domains(req: Request) -> Response:
    auth(req)
    return json_response(200, {"domains": [], "links": _list_links(req, "/auth/domains")})


# --------------------------------------------------------------------------- domains, projects, users, roles


def _admin(req: Request, action: str) -> dict[str, Any]:
    ctx = auth(req)
    if not ctx["is_admin"]:
        raise _ks_error(403, f"You are not authorized to perform the requested action: {action}.")
    return ctx


def _filtered(req: Request, records: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    out = records
    for key in keys:
        value = req.arg(key)
        if value is None:
            continue
        if key == "enabled":
            want = _bool_arg(value)
            out = [r for r in out if bool(r.get("enabled", True)) == want]
        else:
            out = [r for r in out if str(r.get(key)) == value]
    return sorted(out, key=lambda r: r["name"])


@router.route("GET", "/identity/v3/domains")
def list_domains(req: Request) -> Response:
    _admin(req, "identity:list_domains")
    with store.lock:
        domains = _filtered(req, list(_t("domains").values()), ("name", "enabled"))
        items = [{**d, "links": {"self": f"{_v3(req)}/domains/{d['id']}"}} for d in domains]
    return json_response(200, {"domains": items, "links": _list_links(req, "/domains")})


@router.route("GET", "/identity/v3/domains/{domain_id}")
def show_domain(req: Request, domain_id: str) -> Response:
    ctx = auth(req)
    with store.lock:
        domain = _t("domains").get(domain_id)
        if domain is None:
            raise _ks_error(404, f"Could not find domain: {domain_id}.")
        if not ctx["is_admin"] and ctx["domain_id"] != domain_id:
            raise _ks_error(403, "You are not authorized to perform the requested action: identity:get_domain.")
        return json_response(200, {"domain": {**domain, "links": {"self": f"{_v3(req)}/domains/{domain_id}"}}})


@router.route("GET", "/identity/v3/projects")
def list_projects_api(req: Request) -> Response:
    _admin(req, "identity:list_projects")
    with store.lock:
        projects = _filtered(req, list(_t("projects").values()), ("name", "domain_id", "enabled", "parent_id"))
        items = [_project_view(req, p) for p in projects]
    return json_response(200, {"projects": items, "links": _list_links(req, "/projects")})


@router.route("GET", "/identity/v3/projects/{project_id}")
def show_project(req: Request, project_id: str) -> Response:
    ctx = auth(req)
    with store.lock:
        project = _t("projects").get(project_id)
        if project is None:
            if ctx["is_admin"]:
                raise _ks_error(404, f"Could not find project: {project_id}.")
            raise _ks_error(403, "You are not authorized to perform the requested action: identity:get_project.")
        if not ctx["is_admin"] and project_id not in {p["id"] for p in _projects_of(ctx["user_id"])}:
            raise _ks_error(403, "You are not authorized to perform the requested action: identity:get_project.")
        return json_response(200, {"project": _project_view(req, project)})


@router.route("POST", "/identity/v3/projects")
def create_project(req: Request) -> Response:
    _admin(req, "identity:create_project")
    body = req.json_object(style="keystone").get("project")
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _ks_error(400, "Invalid input for field 'name': 'name' is a required property")
    with store.lock:
        domain_id = body.get("domain_id") or DEFAULT_DOMAIN
        if domain_id not in _t("domains"):
            raise _ks_error(400, f"Could not find domain: {domain_id}.")
        if any(p["name"] == body["name"] and p["domain_id"] == domain_id for p in _t("projects").values()):
            raise _ks_error(
                409,
                f"Conflict occurred attempting to store project - it is not permitted to have two "
                f"projects with the same name in the same domain : {body['name']}.",
            )
        pid = uuid.uuid4().hex
        project = {
            "id": pid,
            "name": body["name"],
            "description": body.get("description") or "",
            "domain_id": domain_id,
            "parent_id": body.get("parent_id") or domain_id,
            "enabled": bool(body.get("enabled", True)),
            "is_domain": False,
            "tags": list(body.get("tags") or []),
            "options": {},
        }
        _t("projects")[pid] = project
        store.touch()
        return json_response(201, {"project": _project_view(req, project)})


@router.route("PATCH", "/identity/v3/projects/{project_id}")
def update_project(req: Request, project_id: str) -> Response:
    _admin(req, "identity:update_project")
    body = req.json_object(style="keystone").get("project")
    if not isinstance(body, dict):
        raise _ks_error(400, "Invalid input for field 'project': 'project' is a required property")
    allowed = {"name", "description", "enabled", "tags", "options"}
    if set(body) - allowed:
        raise _ks_error(
            400, f"Invalid input for field '{sorted(set(body) - allowed)[0]}': the attribute cannot be updated."
        )
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        raise _ks_error(400, "Invalid input for field 'name': expected a non-empty string.")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise _ks_error(400, "Invalid input for field 'enabled': expected a boolean.")
    with store.lock:
        project = _t("projects").get(project_id)
        if project is None:
            raise _ks_error(404, f"Could not find project: {project_id}.")
        if "name" in body and any(
            p["name"] == body["name"] and p["domain_id"] == project["domain_id"] and p["id"] != project_id
            for p in _t("projects").values()
        ):
            raise _ks_error(
                409,
                f"Conflict occurred attempting to store project - it is not permitted to have two "
                f"projects with the same name in the same domain : {body['name']}.",
            )
        project.update(body)
        store.touch()
        return json_response(200, {"project": _project_view(req, project)})


@router.route("DELETE", "/identity/v3/projects/{project_id}")
def delete_project(req: Request, project_id: str) -> Response:
    _admin(req, "identity:delete_project")
    with store.lock:
        if _t("projects").pop(project_id, None) is None:
            raise _ks_error(404, f"Could not find project: {project_id}.")
        for key in [k for k, a in _t("assignments").items() if a["project_id"] == project_id]:
            del _t("assignments")[key]
        store.touch()
    return empty_response(204)


@router.route("GET", "/identity/v3/users")
def list_users(req: Request) -> Response:
    _admin(req, "identity:list_users")
    with store.lock:
        users = _filtered(req, list(_t("users").values()), ("name", "domain_id", "enabled"))
        items = [_user_view(req, u) for u in users]
    return json_response(200, {"users": items, "links": _list_links(req, "/users")})


@router.route("GET", "/identity/v3/users/{user_id}")
def show_user(req: Request, user_id: str) -> Response:
    ctx = auth(req)
    if not ctx["is_admin"] and ctx["user_id"] != user_id:
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:get_user.")
    with store.lock:
        user = _t("users").get(user_id)
        if user is None:
            raise _ks_error(404, f"Could not find user: {user_id}.")
        return json_response(200, {"user": _user_view(req, user)})


@router.route("POST", "/identity/v3/users")
def create_user(req: Request) -> Response:
    _admin(req, "identity:create_user")
    body = req.json_object(style="keystone").get("user")
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _ks_error(400, "Invalid input for field 'name': 'name' is a required property")
    with store.lock:
        domain_id = body.get("domain_id") or DEFAULT_DOMAIN
        if any(u["name"] == body["name"] and u["domain_id"] == domain_id for u in _t("users").values()):
            raise _ks_error(
                409,
                f"Conflict occurred attempting to store user - Duplicate entry found with name "
                f"{body['name']} at domain ID {domain_id}.",
            )
        uid = uuid.uuid4().hex
        user = {
            "id": uid,
            "name": body["name"],
            "domain_id": domain_id,
            "enabled": bool(body.get("enabled", True)),
            "email": body.get("email"),
            "default_project_id": body.get("default_project_id"),
            "password_hash": _hash_secret(body["password"]) if isinstance(body.get("password"), str) else None,
            "password_expires_at": None,
            "options": {},
            "description": body.get("description") or "",
        }
        _t("users")[uid] = user
        store.touch()
        return json_response(201, {"user": _user_view(req, user)})


@router.route("PATCH", "/identity/v3/users/{user_id}")
def update_user(req: Request, user_id: str) -> Response:
    _admin(req, "identity:update_user")
    body = req.json_object(style="keystone").get("user")
    if not isinstance(body, dict):
        raise _ks_error(400, "Invalid input for field 'user': 'user' is a required property")
    allowed = {"name", "description", "enabled", "email", "default_project_id", "password", "options"}
    if set(body) - allowed:
        raise _ks_error(
            400, f"Invalid input for field '{sorted(set(body) - allowed)[0]}': the attribute cannot be updated."
        )
    if "password" in body and (not isinstance(body["password"], str) or not body["password"]):
        raise _ks_error(400, "Invalid input for field 'password': expected a non-empty string.")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise _ks_error(400, "Invalid input for field 'enabled': expected a boolean.")
    with store.lock:
        user = _t("users").get(user_id)
        if user is None:
            raise _ks_error(404, f"Could not find user: {user_id}.")
        changes = dict(body)
        if "password" in changes:
            user["password_hash"] = _hash_secret(changes.pop("password"))
        user.update(changes)
        store.touch()
        return json_response(200, {"user": _user_view(req, user)})


@router.route("POST", "/identity/v3/users/{user_id}/password")
def change_password(req: Request, user_id: str) -> Response:
    ctx = auth(req)
    if ctx["user_id"] != user_id:
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:change_password.")
    body = req.json_object(style="keystone").get("user")
    if not isinstance(body, dict) or not isinstance(body.get("password"), str) or not body["password"]:
        raise _ks_error(400, "Invalid input for field 'password': 'password' is a required property")
    if not isinstance(body.get("original_password"), str):
        raise _ks_error(400, "Invalid input for field 'original_password': 'original_password' is a required property")
    with store.lock:
        user = _t("users").get(user_id)
        if user is None:
            raise _ks_error(404, f"Could not find user: {user_id}.")
        if not _check_secret(body["original_password"], user["password_hash"]):
            raise _unauthorized()
        user["password_hash"] = _hash_secret(body["password"])
        # Keystone revokes the user's tokens on a password change.
        for rec in _t("tokens").values():
            if rec["user_id"] == user_id:
                rec["revoked"] = True
        store.touch()
    return empty_response(204)


@router.route("DELETE", "/identity/v3/users/{user_id}")
def delete_user(req: Request, user_id: str) -> Response:
    _admin(req, "identity:delete_user")
    with store.lock:
        if _t("users").pop(user_id, None) is None:
            raise _ks_error(404, f"Could not find user: {user_id}.")
        for key in [k for k, a in _t("assignments").items() if a["user_id"] == user_id]:
            del _t("assignments")[key]
        for key in [k for k, c in _t("app_creds").items() if c["user_id"] == user_id]:
            del _t("app_creds")[key]
        store.touch()
    return empty_response(204)


@router.route("GET", "/identity/v3/users/{user_id}/projects")
def user_projects(req: Request, user_id: str) -> Response:
    ctx = auth(req)
    if not ctx["is_admin"] and ctx["user_id"] != user_id:
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:list_user_projects.")
    with store.lock:
        if user_id not in _t("users"):
            raise _ks_error(404, f"Could not find user: {user_id}.")
        projects = _filtered(req, _projects_of(user_id), ("name", "domain_id", "enabled"))
        items = [_project_view(req, p) for p in projects]
    return json_response(200, {"projects": items, "links": _list_links(req, f"/users/{user_id}/projects")})


@router.route("GET", "/identity/v3/roles")
def list_roles(req: Request) -> Response:
    ctx = auth(req)
    if not ctx["is_admin"] and "reader" not in ctx["roles"]:
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:list_roles.")
    with store.lock:
        roles = _filtered(req, list(_t("roles").values()), ("name", "domain_id"))
        items = [_role_view(req, r) for r in roles]
    return json_response(200, {"roles": items, "links": _list_links(req, "/roles")})


@router.route("GET", "/identity/v3/roles/{role_id}")
def show_role(req: Request, role_id: str) -> Response:
    auth(req)
    with store.lock:
        role = _t("roles").get(role_id)
        if role is None:
            raise _ks_error(404, f"Could not find role: {role_id}.")
        return json_response(200, {"role": _role_view(req, role)})


@router.route("PUT", "/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")
def grant_role(req: Request, project_id: str, user_id: str, role_id: str) -> Response:
    _admin(req, "identity:create_grant")
    with store.lock:
        if project_id not in _t("projects"):
            raise _ks_error(404, f"Could not find project: {project_id}.")
        if user_id not in _t("users"):
            raise _ks_error(404, f"Could not find user: {user_id}.")
        if role_id not in _t("roles"):
            raise _ks_error(404, f"Could not find role: {role_id}.")
        _t("assignments")[f"{user_id}:{project_id}:{role_id}"] = {
            "user_id": user_id,
            "project_id": project_id,
            "role_id": role_id,
        }
        store.touch()
    return empty_response(204)


@router.route("DELETE", "/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")
def revoke_role(req: Request, project_id: str, user_id: str, role_id: str) -> Response:
    _admin(req, "identity:revoke_grant")
    with store.lock:
        if _t("assignments").pop(f"{user_id}:{project_id}:{role_id}", None) is None:
            raise _ks_error(
                404,
                f"Could not find role assignment with role: {role_id}, user or group: {user_id}, "
                f"project, domain, or system: {project_id}.",
            )
        store.touch()
    return empty_response(204)


@router.route("GET", "/identity/v3/role_assignments")
def list_role_assignments(req: Request) -> Response:
    ctx = auth(req)
    user_filter = req.arg("user.id")
    if not ctx["is_admin"] and user_filter != ctx["user_id"]:
        raise _ks_error(403, "You are not authorized to perform the requested action: identity:list_role_assignments.")
    project_filter = req.arg("scope.project.id")
    role_filter = req.arg("role.id")
    effective = req.arg("effective") is not None
    names = req.arg("include_names") is not None and _bool_arg(req.arg("include_names")) is not False
    out = []
    with store.lock:
        rows: list[tuple[str, str, str]] = []
        for a in _t("assignments").values():
            role = _t("roles").get(a["role_id"])
            if role is None:
                continue
            role_names = _effective_role_names([role["name"]]) if effective else [role["name"]]
            for rn in role_names:
                r = _role_by_name(rn)
                if r and (a["user_id"], a["project_id"], r["id"]) not in rows:
                    rows.append((a["user_id"], a["project_id"], r["id"]))
        for user_id, project_id, role_id in rows:
            if user_filter and user_id != user_filter:
                continue
            if project_filter and project_id != project_filter:
                continue
            if role_filter and role_id != role_filter:
                continue
            role_ref: dict[str, Any] = {"id": role_id}
            user_ref: dict[str, Any] = {"id": user_id}
            project_ref: dict[str, Any] = {"id": project_id}
            if names:
                role_ref["name"] = _t("roles")[role_id]["name"]
                user = _t("users").get(user_id, {})
                user_ref.update(name=user.get("name"), domain=_domain_ref(user.get("domain_id", DEFAULT_DOMAIN)))
                project = _t("projects").get(project_id, {})
                project_ref.update(
                    name=project.get("name"), domain=_domain_ref(project.get("domain_id", DEFAULT_DOMAIN))
                )
            out.append(
                {
                    "role": role_ref,
                    "user": user_ref,
                    "scope": {"project": project_ref},
                    "links": {"assignment": f"{_v3(req)}/projects/{project_id}/users/{user_id}/roles/{role_id}"},
                }
            )
    return json_response(200, {"role_assignments": out, "links": _list_links(req, "/role_assignments")})


@router.route("GET", "/identity/v3/services")
def list_services(req: Request) -> Response:
    _admin(req, "identity:list_services")
    items = [
        {
            "id": s["id"],
            "name": s["name"],
            "type": s["type"],
            "enabled": True,
            "description": "",
            "links": {"self": f"{_v3(req)}/services/{s['id']}"},
        }
        for s in _catalog(req, "$(project_id)s")
    ]
    return json_response(200, {"services": items, "links": _list_links(req, "/services")})


@router.route("GET", "/identity/v3/endpoints")
def list_endpoints(req: Request) -> Response:
    _admin(req, "identity:list_endpoints")
    items = []
    for s in _catalog(req, "$(project_id)s"):
        for e in s["endpoints"]:
            items.append(
                {
                    "id": e["id"],
                    "interface": e["interface"],
                    "region": REGION,
                    "region_id": REGION,
                    "service_id": s["id"],
                    "url": e["url"],
                    "enabled": True,
                    "links": {"self": f"{_v3(req)}/endpoints/{e['id']}"},
                }
            )
    return json_response(200, {"endpoints": items, "links": _list_links(req, "/endpoints")})


@router.route("GET", "/identity/v3/regions")
def list_regions(req: Request) -> Response:
    auth(req)
    region = {
        "id": REGION,
        "description": "",
        "parent_region_id": None,
        "links": {"self": f"{_v3(req)}/regions/{REGION}"},
    }
    return json_response(200, {"regions": [region], "links": _list_links(req, "/regions")})


# --------------------------------------------------------------------------- application credentials


def _app_cred_view(req: Request, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["id"],
        "name": c["name"],
        "description": c.get("description"),
        "user_id": c["user_id"],
        "project_id": c["project_id"],
        "roles": [{**r, "domain_id": None} for r in c["roles"]],
        "unrestricted": c.get("unrestricted", False),
        "expires_at": _iso(c["expires_at_epoch"]) if c.get("expires_at_epoch") else None,
        "access_rules": c.get("access_rules", []),
        "links": {"self": f"{_v3(req)}/users/{c['user_id']}/application_credentials/{c['id']}"},
    }


def _own_user(req: Request, user_id: str, action: str) -> dict[str, Any]:
    ctx = auth(req)
    if ctx["user_id"] != user_id and not ctx["is_admin"]:
        raise _ks_error(403, f"You are not authorized to perform the requested action: {action}.")
    if user_id not in _t("users"):
        raise _ks_error(404, f"Could not find user: {user_id}.")
    return ctx


@router.route("POST", "/identity/v3/users/{user_id}/application_credentials")
def create_app_cred(req: Request, user_id: str) -> Response:
    ctx = auth(req)
    if ctx["user_id"] != user_id:
        raise _ks_error(
            403, "You are not authorized to perform the requested action: identity:create_application_credential."
        )
    body = req.json_object(style="keystone").get("application_credential")
    if not isinstance(body, dict):
        raise _ks_error(
            400, "Invalid input for field 'application_credential': 'application_credential' is a required property"
        )
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise _ks_error(400, "Invalid input for field 'name': 'name' is a required property")
    if not ctx["project_id"]:
        raise _ks_error(400, "A project-scoped token is required to create an application credential.")
    if ctx.get("app_cred_id"):
        cred = _t("app_creds").get(ctx["app_cred_id"], {})
        if not cred.get("unrestricted"):
            raise _ks_error(
                403,
                "Using method 'application_credential' is not allowed for managing additional application credentials.",
            )
    secret = body.get("secret")
    if secret is None:
        secret = secrets.token_urlsafe(64)
    if not isinstance(secret, str) or not secret:
        raise _ks_error(400, "Invalid input for field 'secret': expected a non-empty string.")
    expires = _parse_expiry(body.get("expires_at"))
    with store.lock:
        if any(c["user_id"] == user_id and c["name"] == name for c in _t("app_creds").values()):
            raise _ks_error(409, "Conflict occurred attempting to store application_credential - Duplicate entry.")
        held = _roles_on(user_id, ctx["project_id"])
        held_ids = {r["id"] for r in held}
        wanted = body.get("roles")
        if wanted:
            if not isinstance(wanted, list):
                raise _ks_error(400, "Invalid input for field 'roles': expected an array.")
            roles = []
            for ref in wanted:
                role = None
                if isinstance(ref, dict) and isinstance(ref.get("id"), str):
                    role = _t("roles").get(ref["id"])
                elif isinstance(ref, dict) and isinstance(ref.get("name"), str):
                    role = _role_by_name(ref["name"])
                if role is None or role["id"] not in held_ids:
                    raise _ks_error(404, f"Could not find role: {ref}.")
                roles.append({"id": role["id"], "name": role["name"]})
        else:
            roles = held
        cid = uuid.uuid4().hex
        cred = {
            "id": cid,
            "name": name,
            "description": body.get("description"),
            "user_id": user_id,
            "project_id": ctx["project_id"],
            "roles": roles,
            "unrestricted": bool(body.get("unrestricted", False)),
            "expires_at_epoch": expires,
            "access_rules": body.get("access_rules") or [],
            "secret_hash": _hash_secret(secret),
        }
        _t("app_creds")[cid] = cred
        store.touch()
        view = _app_cred_view(req, cred)
    view["secret"] = secret
    return json_response(201, {"application_credential": view})


@router.route("GET", "/identity/v3/users/{user_id}/application_credentials")
def list_app_creds(req: Request, user_id: str) -> Response:
    with store.lock:
        _own_user(req, user_id, "identity:list_application_credentials")
        creds = [c for c in _t("app_creds").values() if c["user_id"] == user_id]
        if req.arg("name") is not None:
            creds = [c for c in creds if c["name"] == req.arg("name")]
        items = [_app_cred_view(req, c) for c in sorted(creds, key=lambda c: c["name"])]
    links = _list_links(req, f"/users/{user_id}/application_credentials")
    return json_response(200, {"application_credentials": items, "links": links})


@router.route("GET", "/identity/v3/users/{user_id}/application_credentials/{cred_id}")
def show_app_cred(req: Request, user_id: str, cred_id: str) -> Response:
    with store.lock:
        _own_user(req, user_id, "identity:get_application_credential")
        cred = _t("app_creds").get(cred_id)
        if cred is None or cred["user_id"] != user_id:
            raise _ks_error(404, f"Could not find Application Credential: {cred_id}.")
        return json_response(200, {"application_credential": _app_cred_view(req, cred)})


@router.route("DELETE", "/identity/v3/users/{user_id}/application_credentials/{cred_id}")
def delete_app_cred(req: Request, user_id: str, cred_id: str) -> Response:
    with store.lock:
        ctx = _own_user(req, user_id, "identity:delete_application_credential")
        cred = _t("app_creds").get(cred_id)
        if cred is None or cred["user_id"] != user_id:
            raise _ks_error(404, f"Could not find Application Credential: {cred_id}.")
        if ctx.get("app_cred_id") and not _t("app_creds").get(ctx["app_cred_id"], {}).get("unrestricted"):
            raise _ks_error(
                403,
                "Using method 'application_credential' is not allowed for managing additional application credentials.",
            )
        del _t("app_creds")[cred_id]
        # Tokens issued from it stop working (validate_token checks the credential still exists).
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- empty collections devcloud does not model


@router.route("GET", "/identity/v3/groups")
def list_groups(req: Request) -> Response:
    _admin(req, "identity:list_groups")
    return json_response(200, {"groups": [], "links": _list_links(req, "/groups")})


@router.route("GET", "/identity/v3/users/{user_id}/groups")
def list_user_groups(req: Request, user_id: str) -> Response:
    with store.lock:
        _own_user(req, user_id, "identity:list_groups_for_user")
    return json_response(200, {"groups": [], "links": _list_links(req, f"/users/{user_id}/groups")})


@router.route("GET", "/identity/v3/auth/system")
def auth_system(req: Request) -> Response:
    auth(req)
    return json_response(200, {"system": [], "links": _list_links(req, "/auth/system")})
