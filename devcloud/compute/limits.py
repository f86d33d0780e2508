"""/limits and /os-quota-sets: Nova's default quotas, per-project overrides (admin), usage from servers."""

from __future__ import annotations

import re
from typing import Any

from devcloud.compute.common import bad, body_of, check_int, ctx, invalid, is_admin, require_admin
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"

DEFAULTS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "fixed_ips": -1,
    "floating_ips": -1,
    "security_groups": -1,
    "security_group_rules": -1,
}
_NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
_FILES = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def table() -> dict[str, Any]:
    return store.table("quotas")


def classes() -> dict[str, Any]:
    return store.table("quota_classes")


def class_quota(name: str) -> dict[str, int]:
    """A quota class as Nova's DbQuotaDriver reads it: its own values, else the configured defaults."""
    return {**DEFAULTS, **classes().get(name, {})}


def defaults() -> dict[str, int]:
    """Every project's default quota: the `default` quota class (os-quota-class-sets/default)."""
    return class_quota("default")


def project_quota(project_id: str) -> dict[str, int]:
    return {**defaults(), **table().get(project_id, {})}


def usage(project_id: str) -> dict[str, int]:
    from devcloud.compute import servers

    instances = cores = ram = 0
    for s in servers.table().values():
        if s["project_id"] == project_id and not s.get("deleted"):
            instances += 1
            cores += s["flavor"]["vcpus"]
            ram += s["flavor"]["ram"]
    return {"instances": instances, "cores": cores, "ram": ram}


def check_quota(project_id: str, count: int, vcpus: int, ram: int, min_count: int | None = None) -> int:
    """How many of `count` servers fit (at least min_count), else 403 in Nova's words."""
    quota = project_quota(project_id)
    used = usage(project_id)
    want = {"instances": 1, "cores": vcpus, "ram": ram}
    allowed = count
    for res, per in want.items():
        limit = quota[res]
        if limit < 0 or per == 0:
            continue
        allowed = min(allowed, max(0, (limit - used[res]) // per))
    need = min_count if min_count is not None else count
    if allowed < need:
        overs = [r for r, per in want.items() if quota[r] >= 0 and used[r] + per * need > quota[r]]
        res = overs[0] if overs else "instances"
        raise HttpError(
            403,
            f"Quota exceeded for {res}: Requested {want[res] * need}, but already used {used[res]} "
            f"of {quota[res]} {res}",
            "forbidden",
        )
    return allowed


def check_resize_quota(project_id: str, extra_vcpus: int, extra_ram: int) -> None:
    quota = project_quota(project_id)
    used = usage(project_id)
    for res, extra in (("cores", extra_vcpus), ("ram", extra_ram)):
        if extra > 0 and quota[res] >= 0 and used[res] + extra > quota[res]:
            raise HttpError(
                403,
                f"Quota exceeded for {res}: Requested {extra}, but already used {used[res]} of {quota[res]} {res}",
                "forbidden",
            )


def _visible_keys(v: int) -> list[str]:
    keys = list(DEFAULTS)
    if v >= 36:
        keys = [k for k in keys if k not in _NETWORK]
    if v >= 57:
        keys = [k for k in keys if k not in _FILES]
    return keys


@router.route("GET", API + "/limits")
def show_limits(req: Request) -> Response:
    v = mv(req)
    project_id = ctx(req)["project_id"]
    tenant = req.arg("tenant_id")
    if tenant and tenant != project_id and is_admin(req):
        project_id = tenant
    with store.lock:
        from devcloud.compute import servergroups

        q = project_quota(project_id)
        used = usage(project_id)
        groups_used = servergroups.count_for(project_id)
    absolute: dict[str, int] = {
        "maxServerMeta": q["metadata_items"],
        "maxTotalInstances": q["instances"],
        "maxTotalCores": q["cores"],
        "maxTotalRAMSize": q["ram"],
        "maxTotalKeypairs": q["key_pairs"],
        "maxServerGroups": q["server_groups"],
        "maxServerGroupMembers": q["server_group_members"],
        "totalInstancesUsed": used["instances"],
        "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": groups_used,
    }
    if v < 39:
        absolute["maxImageMeta"] = q["metadata_items"]
    if v < 57:
        absolute["maxPersonality"] = q["injected_files"]
        absolute["maxPersonalitySize"] = q["injected_file_content_bytes"]
    if v < 36:
        absolute.update(
            {
                "maxSecurityGroups": q["security_groups"],
                "maxSecurityGroupRules": q["security_group_rules"],
                "maxTotalFloatingIps": q["floating_ips"],
                "totalSecurityGroupsUsed": 0,
                "totalFloatingIpsUsed": 0,
            }
        )
    return json_response(200, {"limits": {"absolute": absolute, "rate": []}})


def _known_project(project_id: str) -> None:
    from devcloud import identity

    try:
        known = identity.get_project(project_id)
    except Exception:
        known = {"id": project_id}
    if known is None:
        raise bad(f"Project ID {project_id} is not a valid project.")


def _quota_body(req: Request, project_id: str, quota: dict[str, int], detail: bool = False) -> dict[str, Any]:
    v = mv(req)
    out: dict[str, Any] = {"id": project_id}
    used = usage(project_id) if detail else {}
    for k in _visible_keys(v):
        if detail:
            out[k] = {"limit": quota[k], "in_use": used.get(k, 0), "reserved": 0}
        else:
            out[k] = quota[k]
    if detail and "key_pairs" in out:
        out["key_pairs"]["in_use"] = 0
    return out


def _check_access(req: Request, project_id: str, rule: str) -> None:
    if project_id != ctx(req)["project_id"]:
        require_admin(req, rule)


@router.route("GET", API + "/os-quota-sets/{project_id}")
def show_quota(req: Request, project_id: str) -> Response:
    _check_access(req, project_id, "os_compute_api:os-quota-sets:show")
    with store.lock:
        return json_response(200, {"quota_set": _quota_body(req, project_id, project_quota(project_id))})


@router.route("GET", API + "/os-quota-sets/{project_id}/defaults")
def show_quota_defaults(req: Request, project_id: str) -> Response:
    with store.lock:
        return json_response(200, {"quota_set": _quota_body(req, project_id, defaults())})


@router.route("GET", API + "/os-quota-sets/{project_id}/detail")
def show_quota_detail(req: Request, project_id: str) -> Response:
    _check_access(req, project_id, "os_compute_api:os-quota-sets:detail")
    with store.lock:
        return json_response(200, {"quota_set": _quota_body(req, project_id, project_quota(project_id), True)})


@router.route("PUT", API + "/os-quota-sets/{project_id}")
def update_quota(req: Request, project_id: str) -> Response:
    require_admin(req, "os_compute_api:os-quota-sets:update")
    v = mv(req)
    body = body_of(req, "quota_set")
    keys = set(_visible_keys(v)) | {"force"}
    changes: dict[str, int] = {}
    for k, val in body.items():
        if k not in keys:
            raise invalid("quota_set", body, f"Additional properties are not allowed ({k!r} was unexpected)")
        if k == "force":
            continue
        changes[k] = check_int(val, k, -1)
    _known_project(project_id)
    with store.lock:
        force = str(body.get("force", "false")).lower() in ("true", "1")
        used = usage(project_id)
        for k, val in changes.items():
            if not force and val >= 0 and used.get(k, 0) > val:
                raise bad(
                    f"Quota limit {val} for {k} must be greater than or equal to already used and reserved {used[k]}."
                )
        table().setdefault(project_id, {}).update(changes)
        store.touch()
        out = _quota_body(req, project_id, project_quota(project_id))
        out.pop("id")
        return json_response(200, {"quota_set": out})


@router.route("DELETE", API + "/os-quota-sets/{project_id}")
def delete_quota(req: Request, project_id: str) -> Response:
    require_admin(req, "os_compute_api:os-quota-sets:delete")
    with store.lock:
        table().pop(project_id, None)
        store.touch()
    return empty_response(202)


# --- os-quota-class-sets (admin): the `default` class is every project's default quota ------------------------

_CLASS_FILTERED_V250 = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
_CLASS_FILTERED_V257 = _CLASS_FILTERED_V250 | set(_FILES)
_SERVER_GROUPS = {"server_groups", "server_group_members"}


def _class_keys(v: int, shown: bool) -> list[str]:
    """The resources a quota class answer shows (`shown`) or an update may set, as Nova's QuotaClassSetsController:
    2.50 drops the network ones and adds the server group ones to the answer (an update takes those at any
    version), 2.57 drops the injected file ones."""
    filtered = _CLASS_FILTERED_V257 if v >= 57 else _CLASS_FILTERED_V250 if v >= 50 else set()
    keys = [k for k in DEFAULTS if k not in filtered]
    if shown and v < 50:
        keys = [k for k in keys if k not in _SERVER_GROUPS]
    return keys


def _class_body(req: Request, name: str | None, quota: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": name} if name is not None else {}
    out.update({k: quota[k] for k in _class_keys(mv(req), True)})
    return {"quota_class_set": out}


@router.route("GET", API + "/os-quota-class-sets/{class_name}")
def show_quota_class(req: Request, class_name: str) -> Response:
    require_admin(req, "os_compute_api:os-quota-class-sets:show")
    with store.lock:
        return json_response(200, _class_body(req, class_name, class_quota(class_name)))


@router.route("PUT", API + "/os-quota-class-sets/{class_name}")
def update_quota_class(req: Request, class_name: str) -> Response:
    body = body_of(req, "quota_class_set")  # Nova validates the body before the policy check
    allowed = _class_keys(mv(req), False)
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        listed = ", ".join(repr(k) for k in extra)
        verb = "was" if len(extra) == 1 else "were"
        raise invalid("quota_class_set", body, f"Additional properties are not allowed ({listed} {verb} unexpected)")
    changes = {k: _quota_value(val, k) for k, val in body.items()}
    require_admin(req, "os_compute_api:os-quota-class-sets:update")
    if len(class_name) > 255:
        raise bad(f"quota_class_name has {len(class_name)} characters, more than 255.")
    with store.lock:
        classes().setdefault(class_name, {}).update(changes)
        store.touch()
        return json_response(200, _class_body(req, None, class_quota(class_name)))


def _quota_value(value: Any, field: str) -> int:
    """Nova's quota value schema: an integer or a string matching '^-?[0-9]+$', from -1 to 2**31 - 1."""
    if isinstance(value, str) and not re.match(r"^-?[0-9]+$", value):
        raise invalid(field, value, f"{value!r} does not match '^-?[0-9]+$'")
    return check_int(value, field, -1)
