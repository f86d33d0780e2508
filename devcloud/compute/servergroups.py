"""os-server-groups: affinity / anti-affinity (and soft-) groups that the scheduler honours via the
`group` scheduler hint; members are added at create and removed at delete."""

from __future__ import annotations

import uuid
from typing import Any

from devcloud.compute import limits
from devcloud.compute.common import body_of, check_string, check_unexpected, ctx, invalid, is_admin, not_found
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"
POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def table() -> dict[str, Any]:
    return store.table("server_groups")


def count_for(project_id: str) -> int:
    return sum(1 for g in table().values() if g["project_id"] == project_id)


def groups_of(server_id: str) -> list[str]:
    return [g["id"] for g in table().values() if server_id in g["members"]]


def _view(req: Request, g: dict[str, Any]) -> dict[str, Any]:
    v = mv(req)
    out: dict[str, Any] = {"id": g["id"], "name": g["name"], "members": list(g["members"])}
    if v >= 64:
        out["policy"] = g["policy"]
        out["rules"] = dict(g.get("rules") or {})
    else:
        out["policies"] = [g["policy"]]
        out["metadata"] = {}
    if v >= 13:
        out["project_id"] = g["project_id"]
        out["user_id"] = g["user_id"]
    return out


def _rules(value: Any) -> dict[str, Any]:
    """Nova's 2.64 schema: an object whose only property is `max_server_per_host`, a positive integer (an int, or a
    string of digits as the CLI's `--rule max_server_per_host=N` sends it), stored as an int."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("rules", value, f"{value!r} is not of type 'object'")
    check_unexpected(value, "rules", {"max_server_per_host"})
    if "max_server_per_host" not in value:
        return {}
    n = value["max_server_per_host"]
    if isinstance(n, bool) or not isinstance(n, (int, str)):
        raise invalid("max_server_per_host", n, f"{n!r} is not of type 'integer', 'string'")
    if isinstance(n, str):
        if not n or not n.isdigit():
            reason = f"{n!r} is too short" if not n else f"{n!r} does not match '^[0-9]*$'"
            raise invalid("max_server_per_host", n, reason)
        n = int(n)
    if n < 1:
        raise invalid("max_server_per_host", n, f"{n} is less than the minimum of 1")
    return {"max_server_per_host": n}


def _find(req: Request, group_id: str) -> dict[str, Any]:
    g = table().get(group_id)
    if g is None or (not is_admin(req) and g["project_id"] != ctx(req)["project_id"]):
        raise not_found(f"Instance group {group_id} could not be found.")
    return g


@router.route("GET", API + "/os-server-groups")
def list_groups(req: Request) -> Response:
    with store.lock:
        everyone = is_admin(req) and (req.arg("all_projects") or "").lower() in ("1", "true", "yes", "")
        everyone = everyone and "all_projects" in req.query
        pid = ctx(req)["project_id"]
        items = [g for g in table().values() if everyone or g["project_id"] == pid]
        items.sort(key=lambda g: g["created"])
        offset = int(req.arg("offset") or 0)
        limit = int(req.arg("limit") or 1000)
        return json_response(200, {"server_groups": [_view(req, g) for g in items[offset : offset + limit]]})


@router.route("POST", API + "/os-server-groups")
def create_group(req: Request) -> Response:
    v = mv(req)
    body = body_of(req, "server_group")
    if v >= 64:
        check_unexpected(body, "server_group", {"name", "policy", "rules"})
        policy = body.get("policy")
        if policy is None:
            raise invalid("server_group", body, "'policy' is a required property")
    else:
        check_unexpected(body, "server_group", {"name", "policies"})
        policies = body.get("policies")
        if not isinstance(policies, list) or len(policies) != 1:
            raise invalid("policies", policies, f"{policies!r} is not valid under any of the given schemas")
        policy = policies[0]
    allowed = POLICIES if v >= 15 else POLICIES[:2]
    if policy not in allowed:
        raise invalid("policy", policy, f"{policy!r} is not one of {list(allowed)}")
    rules = _rules(body.get("rules")) if v >= 64 else {}
    if rules and policy != "anti-affinity":
        raise HttpError(400, "Only anti-affinity policy supports rules.", "badRequest")
    name = check_string(body.get("name"), "name", 1, 255)
    caller = ctx(req)
    with store.lock:
        quota = limits.project_quota(caller["project_id"])["server_groups"]
        if 0 <= quota <= count_for(caller["project_id"]):
            raise HttpError(403, "Quota exceeded, too many server groups.", "forbidden")
        from devcloud.state import now_iso

        g = {
            "id": str(uuid.uuid4()),
            "name": name,
            "policy": policy,
            "rules": rules,
            "members": [],
            "project_id": caller["project_id"],
            "user_id": caller["user_id"],
            "created": now_iso(),
        }
        table()[g["id"]] = g
        store.touch()
        return json_response(200, {"server_group": _view(req, g)})


@router.route("GET", API + "/os-server-groups/{group_id}")
def show_group(req: Request, group_id: str) -> Response:
    with store.lock:
        return json_response(200, {"server_group": _view(req, _find(req, group_id))})


@router.route("DELETE", API + "/os-server-groups/{group_id}")
def delete_group(req: Request, group_id: str) -> Response:
    with store.lock:
        _find(req, group_id)
        del table()[group_id]
        store.touch()
    return empty_response(204)


def check_hint(req: Request, hints: dict[str, Any], count: int) -> dict[str, Any] | None:
    """Validate a `group` hint at create time; returns the group (or None)."""
    group_id = hints.get("group")
    if not group_id:
        return None
    if isinstance(group_id, list):
        group_id = group_id[0]
    g = table().get(str(group_id))
    if g is None or (not is_admin(req) and g["project_id"] != ctx(req)["project_id"]):
        raise HttpError(400, f"Invalid server group {group_id}", "badRequest")
    quota = limits.project_quota(g["project_id"])["server_group_members"]
    if 0 <= quota < len(g["members"]) + count:
        raise HttpError(403, "Quota exceeded, too many servers in group", "forbidden")
    return g


def allowed_hosts(server: dict[str, Any], candidates: list[str]) -> list[str]:
    """Filter candidate hosts by the hard policies of the server's groups."""
    from devcloud.compute import servers

    out = list(candidates)
    for g in table().values():
        if server["id"] not in g["members"]:
            continue
        others = {
            servers.table()[m].get("host")
            for m in g["members"]
            if m != server["id"] and m in servers.table() and servers.table()[m].get("host")
        }
        if g["policy"] == "affinity" and others:
            out = [h for h in out if h in others]
        elif g["policy"] == "anti-affinity":
            max_per_host = int((g.get("rules") or {}).get("max_server_per_host", 1))
            counts: dict[str, int] = {}
            for m in g["members"]:
                host = servers.table().get(m, {}).get("host") if m != server["id"] else None
                if host:
                    counts[host] = counts.get(host, 0) + 1
            out = [h for h in out if counts.get(h, 0) < max_per_host]
    return out


def soft_weight(server: dict[str, Any], host: str) -> int:
    """Nova's ServerGroupSoftAffinityWeigher / SoftAntiAffinityWeigher: the soft policies never refuse a host, they
    rank it by how many of the group's other members it runs (more first for soft-affinity, fewer for
    soft-anti-affinity). Higher is better."""
    from devcloud.compute import servers

    weight = 0
    for g in table().values():
        if server["id"] not in g["members"] or g["policy"] not in ("soft-affinity", "soft-anti-affinity"):
            continue
        here = sum(1 for m in g["members"] if m != server["id"] and servers.table().get(m, {}).get("host") == host)
        weight += here if g["policy"] == "soft-affinity" else -here
    return weight


def remove_member(server_id: str) -> None:
    for g in table().values():
        if server_id in g["members"]:
            g["members"].remove(server_id)
