"""Neutron v2.0 at /networking (devstack's layout): networks, subnets, ports, security groups and rules, floating
IPs, routers, quotas and extensions, with Neutron's body shapes, filters, `fields=`, paging, policy and errors
(`{"NeutronError": {"type", "message", "detail"}}`).

Compute calls the contract functions at the end of the file (ports for servers, security groups by name, the
networks a project may boot on); they never take a request.
"""

from __future__ import annotations

import ipaddress
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from devcloud.config import config
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

PREFIX = "/networking"
API = PREFIX + "/v2.0"

DEFAULT_QUOTAS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "subnetpool": -1,
    "rbac_policy": 10,
}
# quota resource -> table
_QUOTA_TABLE = {
    "network": "networks",
    "subnet": "subnets",
    "port": "ports",
    "router": "routers",
    "floatingip": "floatingips",
    "security_group": "security_groups",
    "security_group_rule": "security_group_rules",
}

EXTENSIONS = [
    ("security-group", "security-group", "The security groups extension."),
    (
        "router",
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks "
        "via a NAT gateway.",
    ),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
    ("port-security", "Port Security", "Provides port security"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"),
    (
        "ip-substring-filtering",
        "IP address substring filtering",
        "Provides IP address substring filtering when listing ports",
    ),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
    (
        "standard-attr-timestamp",
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
    ),
    (
        "standard-attr-revisions",
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),
    ("fields", "Fields", "Select the attributes of resources in answers with fields=."),
    (
        "ext-gw-mode",
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
    ),
    ("network-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
]


# --------------------------------------------------------------------------- errors and helpers


def error(status: int, kind: str, message: str) -> HttpError:
    """A Neutron error: {"NeutronError": {"type": kind, "message": message, "detail": ""}}."""
    return HttpError(status, message, kind=kind, style="neutron")


def _not_found(resource: str, rid: str) -> HttpError:
    kind = {
        "network": "NetworkNotFound",
        "subnet": "SubnetNotFound",
        "port": "PortNotFound",
        "router": "RouterNotFound",
        "floatingip": "FloatingIPNotFound",
        "security_group": "SecurityGroupNotFound",
        "security_group_rule": "SecurityGroupRuleNotFound",
    }[resource]
    messages = {
        "security_group": f"Security group {rid} does not exist",
        "security_group_rule": f"Security group rule {rid} does not exist",
        "floatingip": f"Floating IP {rid} could not be found",
    }
    label = {"network": "Network", "subnet": "Subnet", "port": "Port", "router": "Router"}.get(resource, resource)
    return error(404, kind, messages.get(resource, f"{label} {rid} could not be found."))


def _bad(message: str) -> HttpError:
    return error(400, "HTTPBadRequest", message)


def _invalid(attr: str, reason: str) -> HttpError:
    return error(400, "HTTPBadRequest", f"Invalid input for {attr}. Reason: {reason}.")


def _policy(rule: str) -> HttpError:
    return error(403, "PolicyNotAuthorized", f"({rule}) is disallowed by policy")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _t(name: str) -> dict[str, Any]:
    return store.table("net_" + name)


def _stable(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "devcloud:network:" + ":".join(parts)))


def _ctx(req: Request) -> dict[str, Any]:
    from devcloud import identity

    return identity.auth(req)


def _std(project_id: str, **fields: Any) -> dict[str, Any]:
    now = _now()
    rec = {
        "id": fields.pop("id", None) or str(uuid.uuid4()),
        "project_id": project_id,
        "description": "",
        "tags": [],
        "created_at": now,
        "updated_at": now,
        "revision_number": 0,
    }
    rec.update(fields)
    return rec


def _bump(rec: dict[str, Any]) -> None:
    rec["updated_at"] = _now()
    rec["revision_number"] = rec.get("revision_number", 0) + 1
    store.touch()


def _body(req: Request, key: str) -> dict[str, Any]:
    if not req.raw_body:
        raise _bad("Resource body required")
    try:
        import json

        body = json.loads(req.raw_body)
    except (ValueError, UnicodeDecodeError):
        raise _bad("Malformed request body") from None
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise _bad(f"Unable to find '{key}' in request body")
    return body[key]


def _check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        raise _bad(f"Unrecognized attribute(s) '{', '.join(extra)}'")


def _as_bool(value: Any, attr: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _invalid(attr, f"'{value}' cannot be converted to boolean")


def _as_str(value: Any, attr: str, max_len: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(attr, f"'{value}' is not a valid string")
    if len(value) > max_len:
        raise _invalid(attr, f"'{value}' exceeds maximum length of {max_len}")
    return value


def _owner_for_create(req: Request, body: dict[str, Any], resource: str) -> str:
    ctx = _ctx(req)
    owner = body.get("project_id") or body.get("tenant_id") or ctx["project_id"]
    if body.get("project_id") and body.get("tenant_id") and body["project_id"] != body["tenant_id"]:
        raise _bad("'project_id' and 'tenant_id' do not match")
    if owner != ctx["project_id"] and not ctx["is_admin"]:
        raise _policy(f"rule:create_{resource}")
    return owner


# --------------------------------------------------------------------------- visibility


def _shared_for(net: dict[str, Any], project_id: str | None) -> bool:
    """Neutron's `shared` as the caller sees it: shared with everyone, or (RBAC) with the caller's project."""
    return bool(net.get("shared")) or (project_id is not None and project_id in net.get("shared_with", []))


def _net_visible(net: dict[str, Any], ctx: dict[str, Any]) -> bool:
    return (
        ctx["is_admin"]
        or net["project_id"] == ctx["project_id"]
        or _shared_for(net, ctx["project_id"])
        or bool(net.get("router:external"))
    )


def _visible(resource: str, rec: dict[str, Any], ctx: dict[str, Any]) -> bool:
    if ctx["is_admin"] or rec["project_id"] == ctx["project_id"]:
        return True
    if resource == "network":
        return _net_visible(rec, ctx)
    if resource == "subnet":
        net = _t("networks").get(rec["network_id"])
        return net is not None and (_shared_for(net, ctx["project_id"]) or bool(net.get("router:external")))
    if resource == "port":
        net = _t("networks").get(rec["network_id"])
        return net is not None and net["project_id"] == ctx["project_id"]
    return False


def _get(resource: str, rid: str, ctx: dict[str, Any]) -> dict[str, Any]:
    rec = _t(_QUOTA_TABLE[resource]).get(rid)
    if rec is None or not _visible(resource, rec, ctx):
        raise _not_found(resource, rid)
    return rec


def _get_owned(resource: str, rid: str, ctx: dict[str, Any], action: str) -> dict[str, Any]:
    """The record for a write: 404 when invisible, 403 when visible but someone else's (a shared network)."""
    rec = _get(resource, rid, ctx)
    if not ctx["is_admin"] and rec["project_id"] != ctx["project_id"]:
        raise _policy(f"rule:{action}_{resource}")
    return rec


# --------------------------------------------------------------------------- views


def _net_view(net: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": net["id"],
        "name": net["name"],
        "tenant_id": net["project_id"],
        "project_id": net["project_id"],
        "admin_state_up": net["admin_state_up"],
        "status": "ACTIVE" if net["admin_state_up"] else "DOWN",
        "subnets": [s["id"] for s in _t("subnets").values() if s["network_id"] == net["id"]],
        "shared": _shared_for(net, ctx["project_id"]),
        "router:external": bool(net.get("router:external")),
        "is_default": bool(net.get("is_default")),
        "mtu": net["mtu"],
        "port_security_enabled": net.get("port_security_enabled", True),
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "l2_adjacency": True,
        "description": net["description"],
        "tags": list(net["tags"]),
        "created_at": net["created_at"],
        "updated_at": net["updated_at"],
        "revision_number": net["revision_number"],
    }
    if ctx["is_admin"]:
        out["provider:network_type"] = net.get("provider:network_type", "vxlan")
        out["provider:physical_network"] = net.get("provider:physical_network")
        out["provider:segmentation_id"] = net.get("provider:segmentation_id")
    return out


def _subnet_view(sub: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "network_id",
        "ip_version",
        "cidr",
        "gateway_ip",
        "allocation_pools",
        "host_routes",
        "dns_nameservers",
        "enable_dhcp",
        "ipv6_ra_mode",
        "ipv6_address_mode",
        "description",
        "created_at",
        "updated_at",
        "revision_number",
    )
    out = {k: sub[k] for k in keys}
    out.update(
        tenant_id=sub["project_id"],
        project_id=sub["project_id"],
        tags=list(sub["tags"]),
        subnetpool_id=None,
        service_types=[],
        segment_id=None,
    )
    return out


def _port_view(port: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": port["id"],
        "name": port["name"],
        "network_id": port["network_id"],
        "tenant_id": port["project_id"],
        "project_id": port["project_id"],
        "mac_address": port["mac_address"],
        "admin_state_up": port["admin_state_up"],
        "status": port["status"],
        "device_id": port["device_id"],
        "device_owner": port["device_owner"],
        "fixed_ips": [dict(f) for f in port["fixed_ips"]],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "security_groups": list(port["security_groups"]),
        "port_security_enabled": port["port_security_enabled"],
        "binding:vnic_type": "normal",
        "ip_allocation": "immediate",
        "description": port["description"],
        "tags": list(port["tags"]),
        "created_at": port["created_at"],
        "updated_at": port["updated_at"],
        "revision_number": port["revision_number"],
    }
    if ctx["is_admin"]:
        bound = bool(port.get("binding:host_id"))
        out["binding:host_id"] = port.get("binding:host_id") or ""
        out["binding:profile"] = {}
        out["binding:vif_type"] = "ovs" if bound else "unbound"
        out["binding:vif_details"] = {"port_filter": True, "connectivity": "l2"} if bound else {}
    return out


def _sg_view(sg: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    rules = [_rule_view(r, ctx) for r in _t("security_group_rules").values() if r["security_group_id"] == sg["id"]]
    return {
        "id": sg["id"],
        "name": sg["name"],
        "tenant_id": sg["project_id"],
        "project_id": sg["project_id"],
        "description": sg["description"],
        "security_group_rules": rules,
        "stateful": True,
        "shared": False,
        "tags": list(sg["tags"]),
        "created_at": sg["created_at"],
        "updated_at": sg["updated_at"],
        "revision_number": sg["revision_number"],
    }


def _rule_view(rule: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    sg = _t("security_groups").get(rule["security_group_id"]) or {}
    keys = (
        "id",
        "security_group_id",
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "remote_ip_prefix",
        "remote_group_id",
        "description",
        "created_at",
        "updated_at",
        "revision_number",
    )
    out = {k: rule[k] for k in keys}
    out.update(
        tenant_id=rule["project_id"],
        project_id=rule["project_id"],
        remote_address_group_id=None,
        normalized_cidr=_normalized(rule["remote_ip_prefix"]),
        belongs_to_default_sg=sg.get("name") == "default",
        tags=[],
    )
    return out


def _normalized(prefix: str | None) -> str | None:
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rules of a group the same for Neutron (SecurityGroupRuleExists): 0.0.0.0/0 and ::/0 are "any",
    as no prefix is."""
    prefix = rule["remote_ip_prefix"]
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    same = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_group_id")
    return (*(rule[k] for k in same), prefix)


def _fip_view(fip: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": fip["id"],
        "tenant_id": fip["project_id"],
        "project_id": fip["project_id"],
        "floating_ip_address": fip["floating_ip_address"],
        "floating_network_id": fip["floating_network_id"],
        "router_id": fip["router_id"],
        "port_id": fip["port_id"],
        "fixed_ip_address": fip["fixed_ip_address"],
        "status": _fip_status(fip),
        "port_details": None,
        "port_forwardings": [],
        "description": fip["description"],
        "tags": list(fip["tags"]),
        "created_at": fip["created_at"],
        "updated_at": fip["updated_at"],
        "revision_number": fip["revision_number"],
    }
    port = _t("ports").get(fip["port_id"]) if fip["port_id"] else None
    if port is not None:
        out["port_details"] = {
            k: port[k]
            for k in ("name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner")
        }
    return out


def _router_view(router_rec: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    gw = router_rec.get("external_gateway_info")
    gw_out = None
    if gw:
        gw_out = {
            "network_id": gw["network_id"],
            "enable_snat": gw.get("enable_snat", True),
            "external_fixed_ips": [dict(f) for f in gw.get("external_fixed_ips", [])],
        }
    return {
        "id": router_rec["id"],
        "name": router_rec["name"],
        "tenant_id": router_rec["project_id"],
        "project_id": router_rec["project_id"],
        "admin_state_up": router_rec["admin_state_up"],
        "status": "ACTIVE" if router_rec["admin_state_up"] else "DOWN",
        "external_gateway_info": gw_out,
        "routes": [],
        "distributed": False,
        "ha": False,
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "flavor_id": None,
        "description": router_rec["description"],
        "tags": list(router_rec["tags"]),
        "created_at": router_rec["created_at"],
        "updated_at": router_rec["updated_at"],
        "revision_number": router_rec["revision_number"],
    }


_VIEWS: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "network": _net_view,
    "subnet": _subnet_view,
    "port": _port_view,
    "security_group": _sg_view,
    "security_group_rule": _rule_view,
    "floatingip": _fip_view,
    "router": _router_view,
}
_COLLECTION = {
    "network": "networks",
    "subnet": "subnets",
    "port": "ports",
    "security_group": "security-groups",
    "security_group_rule": "security-group-rules",
    "floatingip": "floatingips",
    "router": "routers",
}


# --------------------------------------------------------------------------- list: filters, fields, sorting, paging

_NON_FILTERS = {"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir", "verbose"}


def _fields(req: Request) -> list[str]:
    out: list[str] = []
    for value in req.args("fields"):
        out.extend(f for f in value.split(",") if f)
    return out


def _select(view: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return view
    return {k: view[k] for k in fields if k in view}


def _matches(value: Any, wanted: list[str], attr: str) -> bool:
    if attr == "fixed_ips":
        # fixed_ips=ip_address=10.0.0.3 / subnet_id=<id> / ip_address_substr=10.0
        for w in wanted:
            key, _, val = w.partition("=")
            for f in value:
                if key == "ip_address_substr" and val in f["ip_address"]:
                    return True
                if f.get(key) == val:
                    return True
        return False
    if isinstance(value, list):
        return any(str(w) in [str(v) for v in value] for w in wanted)
    if isinstance(value, bool):
        return any(w.lower() in (("true", "1") if value else ("false", "0")) for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(value) in wanted


def _list(req: Request, resource: str, records: list[dict[str, Any]]) -> Response:
    ctx = _ctx(req)
    view_fn = _VIEWS[resource]
    views = [view_fn(r, ctx) for r in records if _visible(resource, r, ctx)]
    known = set(views[0]) if views else set(view_fn(_sample(resource), ctx))
    for attr, wanted in req.query.items():
        if attr in _NON_FILTERS:
            continue
        if attr == "tags":
            tags = [t for w in wanted for t in w.split(",")]
            views = [v for v in views if all(t in v.get("tags", []) for t in tags)]
            continue
        if attr not in known:
            raise _bad(f"[{attr}] is invalid attribute for filtering")
        views = [v for v in views if _matches(v.get(attr), wanted, attr)]
    sort_keys = req.args("sort_key")
    sort_dirs = req.args("sort_dir")
    for i in reversed(range(len(sort_keys))):
        key = sort_keys[i]
        if key not in known:
            raise _bad(f"{key} is invalid attribute for sort_keys")
        direction = sort_dirs[i] if i < len(sort_dirs) else "asc"
        if direction not in ("asc", "desc"):
            raise _bad(f"{direction} is invalid value for sort_dir")
        views.sort(key=lambda v, k=key: (v.get(k) is None, str(v.get(k))), reverse=direction == "desc")
    limit_raw = req.arg("limit")
    marker = req.arg("marker")
    reverse = (req.arg("page_reverse") or "").lower() == "true"
    collection = {"security_group": "security_groups", "security_group_rule": "security_group_rules"}.get(
        resource, _COLLECTION[resource]
    )
    body: dict[str, Any] = {}
    if limit_raw is not None or marker:
        limit = None
        if limit_raw not in (None, ""):
            try:
                limit = int(limit_raw)
            except ValueError:
                raise _bad(f"Limit must be an integer 0 or greater and not '{limit_raw}'") from None
            if limit < 0:
                raise _bad(f"Limit must be an integer 0 or greater and not '{limit_raw}'")
            limit = limit or None
        ids = [v["id"] for v in views]
        if reverse:
            end = ids.index(marker) if marker in ids else len(ids)
            if marker and marker not in ids:
                raise _not_found(resource, marker)
            start = max(0, end - limit) if limit else 0
            page = views[start:end]
            more_before, more_after = start > 0, bool(marker)
        else:
            start = 0
            if marker:
                if marker not in ids:
                    raise _not_found(resource, marker)
                start = ids.index(marker) + 1
            page = views[start : start + limit] if limit else views[start:]
            more_before, more_after = bool(marker), bool(limit) and start + limit < len(views)
        links = []
        base = _public(req) + API + "/" + _COLLECTION[resource]
        keep = [(k, v) for k, vs in req.query.items() if k not in ("marker", "page_reverse") for v in vs]
        if more_after and page:
            links.append({"rel": "next", "href": base + "?" + urlencode(keep + [("marker", page[-1]["id"])])})
        if more_before and page:
            q = keep + [("marker", page[0]["id"]), ("page_reverse", "True")]
            links.append({"rel": "previous", "href": base + "?" + urlencode(q)})
        views = page
        if links:
            body[f"{collection}_links"] = links
    fields = _fields(req)
    body[collection] = [_select(v, fields) for v in views]
    return json_response(200, body)


def _sample(resource: str) -> dict[str, Any]:
    base = _std("", name="", admin_state_up=True, mtu=1450, network_id="", security_group_id="")
    base.update(
        {
            "ip_version": 4,
            "cidr": "",
            "gateway_ip": None,
            "allocation_pools": [],
            "host_routes": [],
            "dns_nameservers": [],
            "enable_dhcp": True,
            "ipv6_ra_mode": None,
            "ipv6_address_mode": None,
            "mac_address": "",
            "status": "DOWN",
            "device_id": "",
            "device_owner": "",
            "fixed_ips": [],
            "security_groups": [],
            "port_security_enabled": True,
            "direction": "",
            "ethertype": "",
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
            "remote_group_id": None,
            "floating_ip_address": "",
            "floating_network_id": "",
            "router_id": None,
            "port_id": None,
            "fixed_ip_address": None,
            "external_gateway_info": None,
        }
    )
    return base


def _public(req: Request) -> str:
    from devcloud import identity

    return identity.public_base(req)


def _show(req: Request, resource: str, rec: dict[str, Any], status: int = 200) -> Response:
    view = _VIEWS[resource](rec, _ctx(req))
    return json_response(status, {resource: _select(view, _fields(req))})


# --------------------------------------------------------------------------- quotas


def _quota_table() -> dict[str, Any]:
    return store.table("net_quotas")


def quota_for(project_id: str) -> dict[str, int]:
    return {**DEFAULT_QUOTAS, **_quota_table().get(project_id, {})}


def _used(project_id: str, resource: str) -> int:
    table = _QUOTA_TABLE.get(resource)
    if table is None:
        return 0
    return sum(1 for r in _t(table).values() if r["project_id"] == project_id)


def _check_quota(project_id: str, resource: str, count: int = 1) -> None:
    limit = quota_for(project_id)[resource]
    if limit >= 0 and _used(project_id, resource) + count > limit:
        raise error(409, "OverQuota", f"Quota exceeded for resources: ['{resource}'].")


# --------------------------------------------------------------------------- security groups


def _default_rules(sg_id: str, project_id: str) -> None:
    rules = _t("security_group_rules")
    for ethertype in ("IPv4", "IPv6"):
        for direction, remote in (("egress", None), ("ingress", sg_id)):
            rule = _new_rule(project_id, sg_id, direction, ethertype, None, None, None, None, remote)
            rules[rule["id"]] = rule


def ensure_default_sg(project_id: str | None) -> dict[str, Any] | None:
    """The project's `default` security group, made with Neutron's default rules on first use."""
    if not project_id:
        return None
    with store.lock:
        for sg in _t("security_groups").values():
            if sg["project_id"] == project_id and sg["name"] == "default":
                return sg
        sg = _std(project_id, id=_stable("default-sg", project_id), name="default")
        sg["description"] = "Default security group"
        _t("security_groups")[sg["id"]] = sg
        _default_rules(sg["id"], project_id)
        store.touch()
        return sg


def _new_rule(
    project_id: str,
    sg_id: str,
    direction: str,
    ethertype: str,
    protocol: str | None,
    pmin: int | None,
    pmax: int | None,
    prefix: str | None,
    remote_group: str | None,
    description: str = "",
) -> dict[str, Any]:
    return _std(
        project_id,
        security_group_id=sg_id,
        direction=direction,
        ethertype=ethertype,
        protocol=protocol,
        port_range_min=pmin,
        port_range_max=pmax,
        remote_ip_prefix=prefix,
        remote_group_id=remote_group,
        description=description,
    )


_IPV6_ONLY = {
    *("ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route"),
    *("41", "44", "58", "59", "60", "43"),
}
_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "gre": 47, "any": None}


def _parse_rule(body: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    _check_keys(
        body,
        {
            "security_group_id",
            "direction",
            "ethertype",
            "protocol",
            "port_range_min",
            "port_range_max",
            "remote_ip_prefix",
            "remote_group_id",
            "remote_address_group_id",
            "description",
            "tenant_id",
            "project_id",
        },
    )
    sg_id = body.get("security_group_id")
    if not sg_id:
        raise _bad("Failed to parse request. Required attribute 'security_group_id' not specified")
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise _invalid("direction", f"{direction!r} is not in ['ingress', 'egress']".replace('"', "'"))
    ethertype = body.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise _invalid("ethertype", f"'{ethertype}' is not in ['IPv4', 'IPv6']")
    protocol = body.get("protocol")
    if protocol is not None:
        protocol = str(protocol).lower()
        if protocol == "any":
            protocol = None
        elif protocol not in _PROTOCOLS and not (protocol.isdigit() and 0 <= int(protocol) <= 255):
            raise error(
                400,
                "SecurityGroupRuleInvalidProtocol",
                f"Security group rule protocol {protocol} not supported. Only protocol values "
                "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'icmp', 'icmpv6', 'igmp', 'ipip', 'ipv6-encap', "
                "'ipv6-frag', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', "
                "'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.",
            )
    ports: list[int | None] = []
    for attr in ("port_range_min", "port_range_max"):
        value = body.get(attr)
        if value is None or value == "":
            ports.append(None)
            continue
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise _invalid(attr, f"'{value}' is not an integer") from None
        ports.append(n)
    pmin, pmax = ports
    if (pmin is not None or pmax is not None) and protocol is None:
        raise error(400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
    if protocol in ("tcp", "udp", "sctp", "6", "17", "132"):
        for n in (pmin, pmax):
            if n is not None and not 0 <= n <= 65535:
                raise error(400, "SecurityGroupInvalidPortValue", f"Invalid value for port {n}.")
        if pmin is not None and pmax is not None and pmin > pmax:
            raise error(
                400,
                "SecurityGroupInvalidPortRange",
                "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            )
        if pmin is not None and pmax is None:
            pmax = pmin
    elif protocol in ("icmp", "ipv6-icmp", "icmpv6", "1", "58"):
        for n, field, name in ((pmin, "port_range_min", "type"), (pmax, "port_range_max", "code")):
            if n is not None and not 0 <= n <= 255:
                raise error(
                    400,
                    "SecurityGroupInvalidIcmpValue",
                    f"Invalid value for ICMP {field} ({name}) {n}. It must be 0 to 255.",
                )
        if pmin is None and pmax is not None:
            raise error(
                400,
                "SecurityGroupMissingIcmpType",
                f"ICMP code (port-range-max) {pmax} is provided but ICMP type (port-range-min) is missing.",
            )
    prefix = body.get("remote_ip_prefix")
    remote_group = body.get("remote_group_id")
    if prefix is not None and remote_group is not None:
        raise error(
            400,
            "SecurityGroupRemoteGroupAndRemoteIpPrefix",
            "Only remote_ip_prefix or remote_group_id may be provided.",
        )
    if prefix is not None:
        try:
            # Neutron keeps the prefix as given, with its mask added (10.0.0.5 -> 10.0.0.5/32, host bits kept);
            # `normalized_cidr` is its network. 0.0.0.0/0 is stored as given and only compared as "any".
            iface = ipaddress.ip_interface(str(prefix))
        except ValueError:
            raise _invalid("remote_ip_prefix", f"'{prefix}' is not a valid IP subnet") from None
        if f"IPv{iface.version}" != ethertype:
            raise error(
                400,
                "SecurityGroupRuleParameterConflict",
                f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
            )
        prefix = str(iface)
    if protocol in _IPV6_ONLY and ethertype == "IPv4":
        raise error(
            400,
            "SecurityGroupEthertypeConflictWithProtocol",
            f"Invalid ethertype {ethertype} for protocol {protocol}.",
        )
    if ethertype == "IPv6" and protocol in ("icmp", "icmpv6", "1"):
        protocol = "58" if protocol == "1" else "ipv6-icmp"  # Neutron converts the legacy names
    if remote_group is not None:
        _get("security_group", str(remote_group), ctx)
    return {
        "security_group_id": sg_id,
        "direction": direction,
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": pmin,
        "port_range_max": pmax,
        "remote_ip_prefix": prefix,
        "remote_group_id": remote_group,
        "description": _as_str(body.get("description"), "description"),
    }


# --------------------------------------------------------------------------- IP allocation


def _used_ips(network_id: str) -> set[str]:
    used = {f["ip_address"] for p in _t("ports").values() if p["network_id"] == network_id for f in p["fixed_ips"]}
    used |= {f["floating_ip_address"] for f in _t("floatingips").values() if f["floating_network_id"] == network_id}
    return used


def _allocate(sub: dict[str, Any], wanted: str | None = None) -> str:
    used = _used_ips(sub["network_id"])
    net = ipaddress.ip_network(sub["cidr"])
    if wanted is not None:
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError:
            raise _invalid("fixed_ips", f"'{wanted}' is not a valid IP address") from None
        if addr not in net:
            raise _bad(f"IP address {wanted} is not a valid IP for the specified subnet.")
        if str(addr) in used or str(addr) == sub["gateway_ip"]:
            raise error(
                409, "IpAddressAlreadyAllocated", f"IP address {wanted} already allocated in subnet {sub['id']}"
            )
        return str(addr)
    for pool in sub["allocation_pools"]:
        start, end = int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"]))
        for n in range(start, min(end, start + 65536) + 1):
            candidate = str(ipaddress.ip_address(n))
            if candidate not in used and candidate != sub["gateway_ip"]:
                return candidate
    raise error(409, "IpAddressGenerationFailure", f"No more IP addresses available on network {sub['network_id']}.")


def _mac() -> str:
    used = {p["mac_address"] for p in _t("ports").values()}
    while True:
        mac = "fa:16:3e:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))
        if mac not in used:
            return mac


def _fixed_ips_for(net: dict[str, Any], requested: Any, ctx: dict[str, Any]) -> list[dict[str, str]]:
    subnets = [s for s in _t("subnets").values() if s["network_id"] == net["id"]]
    if requested is None:
        v4 = [s for s in subnets if s["ip_version"] == 4][:1]
        v6 = [s for s in subnets if s["ip_version"] == 6][:1]
        return [{"subnet_id": s["id"], "ip_address": _allocate(s)} for s in v4 + v6]
    if not isinstance(requested, list):
        raise _invalid("fixed_ips", f"Invalid data format for fixed IP: '{requested}'")
    out: list[dict[str, str]] = []
    for item in requested:
        if not isinstance(item, dict) or not (set(item) <= {"subnet_id", "ip_address"}) or not item:
            raise _invalid("fixed_ips", f"Invalid data format for fixed IP: '{item}'")
        sub = None
        if item.get("subnet_id"):
            sub = _t("subnets").get(item["subnet_id"])
            if sub is None or not _visible("subnet", sub, ctx):
                raise _not_found("subnet", item["subnet_id"])
            if sub["network_id"] != net["id"]:
                raise _bad(
                    f"Failed to create port on network {net['id']}, because fixed_ips included invalid "
                    f"subnet {sub['id']}"
                )
        elif item.get("ip_address"):
            for s in subnets:
                try:
                    if ipaddress.ip_address(item["ip_address"]) in ipaddress.ip_network(s["cidr"]):
                        sub = s
                        break
                except ValueError:
                    raise _invalid("fixed_ips", f"'{item['ip_address']}' is not a valid IP address") from None
            if sub is None:
                raise _bad(f"IP address {item['ip_address']} is not a valid IP for the specified subnet.")
        assert sub is not None
        ip = _allocate(sub, item.get("ip_address"))
        out.append({"subnet_id": sub["id"], "ip_address": ip})
    return out


# --------------------------------------------------------------------------- versions and extensions


def _versions_body(req: Request) -> dict[str, Any]:
    return {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": _public(req) + API + "/", "rel": "self"}],
            }
        ]
    }


@router.route("GET", PREFIX)
def versions(req: Request) -> Response:
    return json_response(200, _versions_body(req))


@router.route("GET", API)
def version_v2(req: Request) -> Response:
    names = ["subnet", "network", "port", "router", "floatingip", "security_group", "security_group_rule", "quota"]
    resources = [
        {
            "name": name,
            "collection": _COLLECTION.get(name, "quotas"),
            "links": [{"href": _public(req) + API + "/" + _COLLECTION.get(name, "quotas"), "rel": "self"}],
        }
        for name in names
    ]
    return json_response(200, {"resources": resources})


def _ext_view(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "links": [],
        "updated": "2013-01-01T10:00:00-00:00",
    }


@router.route("GET", API + "/extensions")
def list_extensions(req: Request) -> Response:
    return json_response(200, {"extensions": [_ext_view(*e) for e in EXTENSIONS]})


@router.route("GET", API + "/extensions/{alias}")
def show_extension(req: Request, alias: str) -> Response:
    for e in EXTENSIONS:
        if e[0] == alias:
            return json_response(200, {"extension": _ext_view(*e)})
    raise error(404, "HTTPNotFound", f"Extension with alias {alias} does not exist")


# --------------------------------------------------------------------------- networks


@router.route("GET", API + "/networks")
def list_networks(req: Request) -> Response:
    with store.lock:
        ensure_default_sg(_ctx(req)["project_id"])
        return _list(req, "network", list(_t("networks").values()))


@router.route("GET", API + "/networks/{net_id}")
def show_network(req: Request, net_id: str) -> Response:
    with store.lock:
        return _show(req, "network", _get("network", net_id, _ctx(req)))


def _net_attrs(body: dict[str, Any], ctx: dict[str, Any], rec: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in body:
        out["name"] = _as_str(body["name"], "name")
    if "description" in body:
        out["description"] = _as_str(body["description"], "description")
    if "admin_state_up" in body:
        out["admin_state_up"] = _as_bool(body["admin_state_up"], "admin_state_up")
    if "port_security_enabled" in body:
        out["port_security_enabled"] = _as_bool(body["port_security_enabled"], "port_security_enabled")
    if "mtu" in body:
        try:
            out["mtu"] = int(body["mtu"])
        except (TypeError, ValueError):
            raise _invalid("mtu", f"'{body['mtu']}' is not an integer") from None
        if not 68 <= out["mtu"] <= 9000:
            raise _invalid("mtu", f"'{out['mtu']}' is too small - must be at least '68'")
    action = "create" if rec is None else "update"
    for attr, rule in (("shared", "shared"), ("router:external", "router:external"), ("is_default", "is_default")):
        if attr in body:
            value = _as_bool(body[attr], attr)
            current = bool(rec.get(attr)) if rec else False
            if value != current and not ctx["is_admin"]:
                raise _policy(f"rule:{action}_network and rule:{action}_network:{rule}")
            out[attr] = value
    for attr in ("provider:network_type", "provider:physical_network", "provider:segmentation_id"):
        if attr in body:
            if not ctx["is_admin"]:
                raise _policy(f"rule:{action}_network and rule:{action}_network:{attr}")
            out[attr] = body[attr]
    return out


_NET_KEYS = {
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "port_security_enabled",
    "tenant_id",
    "project_id",
    "is_default",
    "availability_zone_hints",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "qos_policy_id",
    "dns_domain",
}


@router.route("POST", API + "/networks")
def create_network(req: Request) -> Response:
    body = _body(req, "network")
    _check_keys(body, _NET_KEYS)
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "network")
        attrs = _net_attrs(body, ctx, None)
        _check_quota(owner, "network")
        net = _new_network(owner, attrs.pop("name", ""), **attrs)
        return _show(req, "network", net, 201)


def _new_network(project_id: str, name: str, **attrs: Any) -> dict[str, Any]:
    net = _std(project_id, name=name, admin_state_up=True, mtu=1450, shared=False, port_security_enabled=True)
    net["router:external"] = False
    net["shared_with"] = []
    net["provider:network_type"] = "vxlan"
    net["provider:physical_network"] = None
    net["provider:segmentation_id"] = random.randint(100, 4000)
    net.update(attrs)
    _t("networks")[net["id"]] = net
    store.touch()
    return net


@router.route("PUT", API + "/networks/{net_id}")
def update_network(req: Request, net_id: str) -> Response:
    body = _body(req, "network")
    _check_keys(body, _NET_KEYS - {"tenant_id", "project_id"})
    ctx = _ctx(req)
    with store.lock:
        net = _get_owned("network", net_id, ctx, "update")
        net.update(_net_attrs(body, ctx, net))
        _bump(net)
        return _show(req, "network", net)


@router.route("DELETE", API + "/networks/{net_id}")
def delete_network(req: Request, net_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        _get_owned("network", net_id, ctx, "delete")
        in_use = [p for p in _t("ports").values() if p["network_id"] == net_id and p["device_owner"] != "network:dhcp"]
        if in_use or any(f["floating_network_id"] == net_id for f in _t("floatingips").values()):
            raise error(
                409,
                "NetworkInUse",
                f"Unable to complete operation on network {net_id}. There are one or "
                "more ports still in use on the network.",
            )
        for sid in [s["id"] for s in _t("subnets").values() if s["network_id"] == net_id]:
            _t("subnets").pop(sid, None)
        _t("networks").pop(net_id, None)
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- subnets


_SUBNET_KEYS = {
    "name",
    "description",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "allocation_pools",
    "host_routes",
    "dns_nameservers",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "tenant_id",
    "project_id",
    "subnetpool_id",
    "prefixlen",
    "use_default_subnetpool",
    "service_types",
    "segment_id",
}


def _parse_cidr(cidr: Any, ip_version: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(cidr, str) or "/" not in cidr:
        raise _invalid("cidr", f"'{cidr}' is not a valid IP subnet")
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise _invalid("cidr", f"'{cidr}' is not a valid IP subnet") from None
    if str(net) != cidr and str(net.network_address) != cidr.split("/")[0]:
        raise _invalid("cidr", f"'{cidr}' isn't a recommended IP subnet")
    if net.version != ip_version:
        raise _bad(f"Invalid input for operation: Cidr {cidr} does not match ip_version {ip_version}")
    if net.num_addresses < 4 and net.version == 4:
        raise _bad(f"Invalid input for operation: CIDR {cidr} too small, need at least 4 addresses.")
    return net


@router.route("GET", API + "/subnets")
def list_subnets(req: Request) -> Response:
    with store.lock:
        return _list(req, "subnet", list(_t("subnets").values()))


@router.route("GET", API + "/subnets/{subnet_id}")
def show_subnet(req: Request, subnet_id: str) -> Response:
    with store.lock:
        return _show(req, "subnet", _get("subnet", subnet_id, _ctx(req)))


def _pools(raw: Any, net: ipaddress.IPv4Network | ipaddress.IPv6Network, gateway: str | None) -> list[dict[str, str]]:
    if raw is None:
        hosts_first = net.network_address + 1
        last = net.broadcast_address - (1 if net.version == 4 else 0)
        pools: list[dict[str, str]] = []
        start = hosts_first
        if gateway and ipaddress.ip_address(gateway) == start:
            start = start + 1
        if gateway and start < ipaddress.ip_address(gateway) <= last:
            gw = ipaddress.ip_address(gateway)
            if gw > start:
                pools.append({"start": str(start), "end": str(gw - 1)})
            start = gw + 1
        if start <= last:
            pools.append({"start": str(start), "end": str(last)})
        return pools
    if not isinstance(raw, list):
        raise _invalid("allocation_pools", f"Invalid data format for IP pool: '{raw}'")
    out = []
    for pool in raw:
        if not isinstance(pool, dict) or set(pool) != {"start", "end"}:
            raise _invalid("allocation_pools", f"Invalid data format for IP pool: '{pool}'")
        try:
            start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        except ValueError:
            raise _invalid("allocation_pools", f"Invalid data format for IP pool: '{pool}'") from None
        if start not in net or end not in net or start > end:
            raise error(
                400, "InvalidAllocationPool", f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}."
            )
        if gateway and start <= ipaddress.ip_address(gateway) <= end:
            raise error(
                409,
                "GatewayConflictWithAllocationPools",
                f"Gateway ip {gateway} conflicts with allocation pool {start}-{end}",
            )
        out.append({"start": str(start), "end": str(end)})
    return out


@router.route("POST", API + "/subnets")
def create_subnet(req: Request) -> Response:
    body = _body(req, "subnet")
    _check_keys(body, _SUBNET_KEYS)
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "subnet")
        net_id = body.get("network_id")
        if not net_id:
            raise _bad("Failed to parse request. Required attribute 'network_id' not specified")
        net = _get("network", str(net_id), ctx)
        if not ctx["is_admin"] and net["project_id"] != ctx["project_id"]:
            raise _policy("rule:create_subnet and rule:create_subnet:network_owner")  # not the network's owner
        ip_version = body.get("ip_version", 4)
        if ip_version not in (4, 6, "4", "6"):
            raise _invalid("ip_version", f"{ip_version} is not in [4, 6]")
        ip_version = int(ip_version)
        if "cidr" not in body or body["cidr"] is None:
            raise _bad("Bad subnets request: a subnetpool must be specified in the absence of a cidr.")
        cidr = _parse_cidr(body["cidr"], ip_version)
        for other in _t("subnets").values():
            if other["network_id"] == net["id"] and ipaddress.ip_network(other["cidr"]).overlaps(cidr):
                raise _bad(
                    f"Invalid input for operation: Requested subnet with cidr: {cidr} for network: "
                    f"{net['id']} overlaps with another subnet."
                )
        gateway: str | None
        if "gateway_ip" in body:
            gateway = body["gateway_ip"]
            if gateway is not None:
                try:
                    if ipaddress.ip_address(gateway) not in cidr:
                        raise _bad(f"Invalid input for operation: Gateway IP {gateway} is not in subnet {cidr}.")
                except ValueError:
                    raise _invalid("gateway_ip", f"'{gateway}' is not a valid IP address") from None
        else:
            gateway = str(cidr.network_address + 1)
        pools = _pools(body.get("allocation_pools"), cidr, gateway)
        dns = body.get("dns_nameservers") or []
        if not isinstance(dns, list):
            raise _invalid("dns_nameservers", f"'{dns}' is not a list")
        _check_quota(owner, "subnet")
        sub = _new_subnet(
            owner,
            net["id"],
            str(cidr),
            name=_as_str(body.get("name"), "name"),
            gateway_ip=gateway,
            allocation_pools=pools,
            enable_dhcp=_as_bool(body.get("enable_dhcp", True), "enable_dhcp"),
            dns_nameservers=list(dns),
            host_routes=list(body.get("host_routes") or []),
            description=_as_str(body.get("description"), "description"),
            ipv6_ra_mode=body.get("ipv6_ra_mode"),
            ipv6_address_mode=body.get("ipv6_address_mode"),
        )
        return _show(req, "subnet", sub, 201)


def _new_subnet(project_id: str, network_id: str, cidr: str, **attrs: Any) -> dict[str, Any]:
    net = ipaddress.ip_network(cidr)
    gateway = attrs.pop("gateway_ip", str(net.network_address + 1))
    sub = _std(
        project_id,
        name="",
        network_id=network_id,
        ip_version=net.version,
        cidr=cidr,
        gateway_ip=gateway,
        allocation_pools=_pools(None, net, gateway),
        host_routes=[],
        dns_nameservers=[],
        enable_dhcp=True,
        ipv6_ra_mode=None,
        ipv6_address_mode=None,
    )
    sub.update(attrs)
    _t("subnets")[sub["id"]] = sub
    store.touch()
    return sub


@router.route("PUT", API + "/subnets/{subnet_id}")
def update_subnet(req: Request, subnet_id: str) -> Response:
    body = _body(req, "subnet")
    _check_keys(
        body, {"name", "description", "enable_dhcp", "dns_nameservers", "host_routes", "gateway_ip", "allocation_pools"}
    )
    ctx = _ctx(req)
    with store.lock:
        sub = _get_owned("subnet", subnet_id, ctx, "update")
        net = ipaddress.ip_network(sub["cidr"])
        if "name" in body:
            sub["name"] = _as_str(body["name"], "name")
        if "description" in body:
            sub["description"] = _as_str(body["description"], "description")
        if "enable_dhcp" in body:
            sub["enable_dhcp"] = _as_bool(body["enable_dhcp"], "enable_dhcp")
        if "dns_nameservers" in body:
            sub["dns_nameservers"] = list(body["dns_nameservers"] or [])
        if "host_routes" in body:
            sub["host_routes"] = list(body["host_routes"] or [])
        if "gateway_ip" in body:
            sub["gateway_ip"] = body["gateway_ip"]
        if "allocation_pools" in body:
            sub["allocation_pools"] = _pools(body["allocation_pools"], net, sub["gateway_ip"])
        _bump(sub)
        return _show(req, "subnet", sub)


@router.route("DELETE", API + "/subnets/{subnet_id}")
def delete_subnet(req: Request, subnet_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        _get_owned("subnet", subnet_id, ctx, "delete")
        if any(f["subnet_id"] == subnet_id for p in _t("ports").values() for f in p["fixed_ips"]):
            raise error(
                409,
                "SubnetInUse",
                f"Unable to complete operation on subnet {subnet_id}: One or more ports "
                "have an IP allocation from this subnet.",
            )
        _t("subnets").pop(subnet_id, None)
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- ports


_PORT_KEYS = {
    "name",
    "description",
    "network_id",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "security_groups",
    "port_security_enabled",
    "tenant_id",
    "project_id",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
    "allowed_address_pairs",
    "extra_dhcp_opts",
    "dns_name",
    "qos_policy_id",
    "tags",
}


def _sg_ids(raw: Any, project_id: str, ctx: dict[str, Any]) -> list[str]:
    if not isinstance(raw, list):
        raise _invalid("security_groups", f"'{raw}' is not a list")
    out = []
    for sg_id in raw:
        sg = _t("security_groups").get(str(sg_id))
        if sg is None or (sg["project_id"] != project_id and not ctx["is_admin"]):
            raise _not_found("security_group", str(sg_id))
        if sg["id"] not in out:
            out.append(sg["id"])
    return out


@router.route("GET", API + "/ports")
def list_ports(req: Request) -> Response:
    with store.lock:
        return _list(req, "port", list(_t("ports").values()))


@router.route("GET", API + "/ports/{port_id}")
def show_port(req: Request, port_id: str) -> Response:
    with store.lock:
        return _show(req, "port", _get("port", port_id, _ctx(req)))


@router.route("POST", API + "/ports")
def create_port_api(req: Request) -> Response:
    body = _body(req, "port")
    _check_keys(body, _PORT_KEYS)
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "port")
        net_id = body.get("network_id")
        if not net_id:
            raise _bad("Failed to parse request. Required attribute 'network_id' not specified")
        net = _get("network", str(net_id), ctx)
        if "binding:host_id" in body and not ctx["is_admin"]:
            raise _policy("rule:create_port and rule:create_port:binding:host_id")
        if (
            not ctx["is_admin"]
            and net["project_id"] != owner
            and not _shared_for(net, owner)
            and str(body.get("device_owner") or "") != "network:floatingip"
        ):
            raise _policy("rule:create_port and rule:create_port:network")
        port = create_port(
            owner,
            net["id"],
            name=_as_str(body.get("name"), "name"),
            description=_as_str(body.get("description"), "description"),
            fixed_ips=body.get("fixed_ips"),
            security_group_ids=(
                _sg_ids(body["security_groups"], owner, ctx) if body.get("security_groups") is not None else None
            ),
            port_security_enabled=_as_bool(body.get("port_security_enabled", True), "port_security_enabled"),
            admin_state_up=_as_bool(body.get("admin_state_up", True), "admin_state_up"),
            device_id=_as_str(body.get("device_id"), "device_id"),
            device_owner=_as_str(body.get("device_owner"), "device_owner"),
            host=body.get("binding:host_id") or "",
            mac_address=body.get("mac_address"),
            ctx=ctx,
        )
        return _show(req, "port", port, 201)


@router.route("PUT", API + "/ports/{port_id}")
def update_port(req: Request, port_id: str) -> Response:
    body = _body(req, "port")
    _check_keys(body, _PORT_KEYS - {"network_id", "tenant_id", "project_id"})
    ctx = _ctx(req)
    with store.lock:
        port = _get_owned("port", port_id, ctx, "update")
        for attr in ("name", "description", "device_id", "device_owner"):
            if attr in body:
                port[attr] = _as_str(body[attr], attr)
        if "admin_state_up" in body:
            port["admin_state_up"] = _as_bool(body["admin_state_up"], "admin_state_up")
        if "port_security_enabled" in body:
            port["port_security_enabled"] = _as_bool(body["port_security_enabled"], "port_security_enabled")
            if not port["port_security_enabled"] and port["security_groups"] and "security_groups" not in body:
                raise error(
                    409,
                    "PortSecurityPortHasSecurityGroup",
                    "Port has security group associated. Cannot disable port security or ip address until "
                    "security group is removed",
                )
        if "security_groups" in body:
            ids = _sg_ids(body["security_groups"] or [], port["project_id"], ctx)
            if ids and not port["port_security_enabled"]:
                raise error(
                    400,
                    "PortSecurityAndIPRequiredForSecurityGroups",
                    "Port security must be enabled and port must have an IP address in order to use security groups.",
                )
            port["security_groups"] = ids
        if "binding:host_id" in body:
            if not ctx["is_admin"]:
                raise _policy("rule:update_port and rule:update_port:binding:host_id")
            port["binding:host_id"] = body["binding:host_id"] or ""
        if "fixed_ips" in body:
            net = _t("networks")[port["network_id"]]
            old = port["fixed_ips"]
            port["fixed_ips"] = []
            try:
                port["fixed_ips"] = _fixed_ips_for(net, body["fixed_ips"], ctx)
            except HttpError:
                port["fixed_ips"] = old
                raise
        _refresh_status(port)
        _bump(port)
        return _show(req, "port", port)


@router.route("DELETE", API + "/ports/{port_id}")
def delete_port_api(req: Request, port_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        port = _get_owned("port", port_id, ctx, "delete")
        if port["device_owner"] in ("network:router_interface", "network:router_gateway", "network:floatingip"):
            raise error(
                409,
                "ServicePortInUse",
                f"Port {port_id} cannot be deleted directly via the port API: has device owner {port['device_owner']}.",
            )
        delete_port(port_id)
    return empty_response(204)


def _refresh_status(port: dict[str, Any]) -> None:
    if port["device_owner"].startswith("network:"):
        port["status"] = "ACTIVE" if port["admin_state_up"] else "DOWN"
    else:
        bound = bool(port.get("binding:host_id")) and bool(port["device_id"])
        port["status"] = "ACTIVE" if bound and port["admin_state_up"] else "DOWN"


# --------------------------------------------------------------------------- security groups (HTTP)


@router.route("GET", API + "/security-groups")
def list_security_groups(req: Request) -> Response:
    with store.lock:
        ensure_default_sg(_ctx(req)["project_id"])
        return _list(req, "security_group", list(_t("security_groups").values()))


@router.route("GET", API + "/security-groups/{sg_id}")
def show_security_group(req: Request, sg_id: str) -> Response:
    with store.lock:
        return _show(req, "security_group", _get("security_group", sg_id, _ctx(req)))


@router.route("POST", API + "/security-groups")
def create_security_group(req: Request) -> Response:
    body = _body(req, "security_group")
    _check_keys(body, {"name", "description", "tenant_id", "project_id", "stateful", "tags"})
    _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "security_group")
        ensure_default_sg(owner)
        name = _as_str(body.get("name"), "name")
        if name == "default":
            raise error(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
        _check_quota(owner, "security_group")
        _check_quota(owner, "security_group_rule", 2)
        sg = _std(owner, name=name, description=_as_str(body.get("description"), "description"))
        _t("security_groups")[sg["id"]] = sg
        for ethertype in ("IPv4", "IPv6"):
            rule = _new_rule(owner, sg["id"], "egress", ethertype, None, None, None, None, None)
            _t("security_group_rules")[rule["id"]] = rule
        store.touch()
        return _show(req, "security_group", sg, 201)


@router.route("PUT", API + "/security-groups/{sg_id}")
def update_security_group(req: Request, sg_id: str) -> Response:
    body = _body(req, "security_group")
    _check_keys(body, {"name", "description", "stateful"})
    ctx = _ctx(req)
    with store.lock:
        sg = _get_owned("security_group", sg_id, ctx, "update")
        if "name" in body:
            name = _as_str(body["name"], "name")
            if sg["name"] == "default" and name != "default":
                raise error(409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
            sg["name"] = name
        if "description" in body:
            sg["description"] = _as_str(body["description"], "description")
        _bump(sg)
        return _show(req, "security_group", sg)


@router.route("DELETE", API + "/security-groups/{sg_id}")
def delete_security_group(req: Request, sg_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        sg = _get_owned("security_group", sg_id, ctx, "delete")
        if sg["name"] == "default" and not ctx["is_admin"]:
            raise error(
                409, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group."
            )
        if any(sg_id in p["security_groups"] for p in _t("ports").values()):
            raise error(409, "SecurityGroupInUse", f"Security Group {sg_id} in use.")
        # Its rules go with it, and so do other groups' rules naming it as their remote group (Neutron's
        # remote_group_id is a foreign key ON DELETE CASCADE).
        rules = _t("security_group_rules")
        for rid in [r["id"] for r in rules.values() if sg_id in (r["security_group_id"], r["remote_group_id"])]:
            rules.pop(rid, None)
        _t("security_groups").pop(sg_id, None)
        store.touch()
    return empty_response(204)


@router.route("GET", API + "/security-group-rules")
def list_security_group_rules(req: Request) -> Response:
    with store.lock:
        ensure_default_sg(_ctx(req)["project_id"])
        return _list(req, "security_group_rule", list(_t("security_group_rules").values()))


@router.route("GET", API + "/security-group-rules/{rule_id}")
def show_security_group_rule(req: Request, rule_id: str) -> Response:
    with store.lock:
        return _show(req, "security_group_rule", _get("security_group_rule", rule_id, _ctx(req)))


@router.route("POST", API + "/security-group-rules")
def create_security_group_rule(req: Request) -> Response:
    body = _body(req, "security_group_rule")
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "security_group_rule")
        attrs = _parse_rule(body, ctx)
        sg = _get("security_group", attrs["security_group_id"], ctx)
        if not ctx["is_admin"] and sg["project_id"] != ctx["project_id"]:
            raise _not_found("security_group", sg["id"])
        for other in _t("security_group_rules").values():
            if other["security_group_id"] == sg["id"] and _rule_key(other) == _rule_key(attrs):
                raise error(
                    409, "SecurityGroupRuleExists", f"Security group rule already exists. Rule id is {other['id']}."
                )
        _check_quota(owner, "security_group_rule")
        rule = _new_rule(
            sg["project_id"],
            sg["id"],
            attrs["direction"],
            attrs["ethertype"],
            attrs["protocol"],
            attrs["port_range_min"],
            attrs["port_range_max"],
            attrs["remote_ip_prefix"],
            attrs["remote_group_id"],
            attrs["description"],
        )
        _t("security_group_rules")[rule["id"]] = rule
        _bump(sg)
        return _show(req, "security_group_rule", rule, 201)


@router.route("DELETE", API + "/security-group-rules/{rule_id}")
def delete_security_group_rule(req: Request, rule_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        rule = _get_owned("security_group_rule", rule_id, ctx, "delete")
        _t("security_group_rules").pop(rule["id"], None)
        sg = _t("security_groups").get(rule["security_group_id"])
        if sg is not None:
            _bump(sg)  # a rule removed is a change of its group (revision_number, updated_at)
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- floating IPs


def _router_for(port: dict[str, Any], ext_net_id: str) -> dict[str, Any] | None:
    """A router with its gateway on `ext_net_id` and an interface on one of the port's subnets."""
    subnet_ids = {f["subnet_id"] for f in port["fixed_ips"]}
    for rtr in _t("routers").values():
        gw = rtr.get("external_gateway_info") or {}
        if gw.get("network_id") != ext_net_id:
            continue
        for p in _t("ports").values():
            if (
                p["device_id"] == rtr["id"]
                and p["device_owner"] == "network:router_interface"
                and subnet_ids & {f["subnet_id"] for f in p["fixed_ips"]}
            ):
                return rtr
    return None


def _fip_status(fip: dict[str, Any]) -> str:
    """ACTIVE while associated, DOWN while not, as Neutron's L3 agent (or OVN) reports it: a moment after the API
    call (devcloud's transition time), the status the floating IP had before."""
    settled = "ACTIVE" if fip["port_id"] else "DOWN"
    if float(fip.get("status_settles_at") or 0) > time.time():
        return str(fip.get("status_before") or settled)
    return settled


def _set_association(fip: dict[str, Any], **fields: Any) -> None:
    """Associate or disassociate; the status follows a moment later (see _fip_status)."""
    before = _fip_status(fip)
    fip.update(**fields)
    settled = "ACTIVE" if fip["port_id"] else "DOWN"
    lag = settled != before and config.transition_seconds > 0
    fip.update(status_before=before, status_settles_at=time.time() + config.transition_seconds if lag else 0)


def _associate(fip: dict[str, Any], port_id: str | None, fixed_ip: str | None, ctx: dict[str, Any]) -> None:
    if port_id is None:
        _set_association(fip, port_id=None, fixed_ip_address=None, router_id=None)
        return
    port = _t("ports").get(port_id)
    if port is None or not (ctx["is_admin"] or port["project_id"] == fip["project_id"] == ctx["project_id"]):
        raise _not_found("port", port_id)
    v4 = [f for f in port["fixed_ips"] if ipaddress.ip_address(f["ip_address"]).version == 4]
    if fixed_ip is not None:
        chosen = [f for f in v4 if f["ip_address"] == fixed_ip]
        if not chosen:
            raise _bad(f"Port {port_id} does not have fixed ip {fixed_ip}")
    else:
        chosen = v4
    if not chosen:
        raise _bad(
            f"Bad floatingip request: Port {port_id} does not have any IPv4 address. Floating IP cannot be "
            "associated with it."
        )
    for other in _t("floatingips").values():
        if (
            other["id"] != fip["id"]
            and other["port_id"] == port_id
            and other["fixed_ip_address"] == chosen[0]["ip_address"]
        ):
            raise error(
                409,
                "FloatingIPPortAlreadyAssociated",
                f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) with port "
                f"{port_id} using fixed IP {chosen[0]['ip_address']}, as that fixed IP already has a "
                f"floating IP on external network {other['floating_network_id']}.",
            )
    rtr = _router_for(port, fip["floating_network_id"])
    if rtr is None:
        raise error(
            404,
            "ExternalGatewayForFloatingIPNotFound",
            f"External network {fip['floating_network_id']} is not reachable from subnet "
            f"{chosen[0]['subnet_id']}.  Therefore, cannot associate Port {port_id} with a Floating IP.",
        )
    _set_association(fip, port_id=port_id, fixed_ip_address=chosen[0]["ip_address"], router_id=rtr["id"])


@router.route("GET", API + "/floatingips")
def list_floatingips(req: Request) -> Response:
    with store.lock:
        return _list(req, "floatingip", list(_t("floatingips").values()))


@router.route("GET", API + "/floatingips/{fip_id}")
def show_floatingip(req: Request, fip_id: str) -> Response:
    with store.lock:
        return _show(req, "floatingip", _get("floatingip", fip_id, _ctx(req)))


@router.route("POST", API + "/floatingips")
def create_floatingip(req: Request) -> Response:
    body = _body(req, "floatingip")
    _check_keys(
        body,
        {
            "floating_network_id",
            "floating_ip_address",
            "subnet_id",
            "port_id",
            "fixed_ip_address",
            "description",
            "tenant_id",
            "project_id",
            "dns_name",
            "dns_domain",
            "qos_policy_id",
        },
    )
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "floatingip")
        net_id = body.get("floating_network_id")
        if not net_id:
            raise _bad("Failed to parse request. Required attribute 'floating_network_id' not specified")
        net = _get("network", str(net_id), ctx)
        if not net.get("router:external"):
            raise _bad(f"Bad floatingip request: Network {net_id} is not a valid external network.")
        subnets = [s for s in _t("subnets").values() if s["network_id"] == net["id"] and s["ip_version"] == 4]
        if body.get("subnet_id"):
            subnets = [s for s in subnets if s["id"] == body["subnet_id"]]
            if not subnets:
                raise _not_found("subnet", str(body["subnet_id"]))
        if not subnets:
            raise _bad(f"Bad floatingip request: Network {net_id} does not contain any IPv4 subnet")
        if body.get("floating_ip_address") and not ctx["is_admin"]:
            raise _policy("rule:create_floatingip and rule:create_floatingip:floating_ip_address")
        _check_quota(owner, "floatingip")
        address = None
        if body.get("floating_ip_address"):
            for s in subnets:
                if ipaddress.ip_address(body["floating_ip_address"]) in ipaddress.ip_network(s["cidr"]):
                    address = _allocate(s, body["floating_ip_address"])
            if address is None:
                raise _bad(f"IP address {body['floating_ip_address']} is not a valid IP for the specified subnet.")
        else:
            last_error: HttpError | None = None
            for s in subnets:
                try:
                    address = _allocate(s)
                    break
                except HttpError as e:
                    last_error = e
            if address is None:
                assert last_error is not None
                raise last_error
        fip = _std(
            owner,
            floating_ip_address=address,
            floating_network_id=net["id"],
            router_id=None,
            port_id=None,
            fixed_ip_address=None,
            description=_as_str(body.get("description"), "description"),
        )
        if body.get("port_id"):
            _associate(fip, str(body["port_id"]), body.get("fixed_ip_address"), ctx)
        _t("floatingips")[fip["id"]] = fip
        store.touch()
        return _show(req, "floatingip", fip, 201)


@router.route("PUT", API + "/floatingips/{fip_id}")
def update_floatingip(req: Request, fip_id: str) -> Response:
    body = _body(req, "floatingip")
    _check_keys(body, {"port_id", "fixed_ip_address", "description", "qos_policy_id"})
    ctx = _ctx(req)
    with store.lock:
        fip = _get_owned("floatingip", fip_id, ctx, "update")
        if "port_id" in body:
            _associate(fip, body["port_id"], body.get("fixed_ip_address"), ctx)
        if "description" in body:
            fip["description"] = _as_str(body["description"], "description")
        _bump(fip)
        return _show(req, "floatingip", fip)


@router.route("DELETE", API + "/floatingips/{fip_id}")
def delete_floatingip(req: Request, fip_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        _get_owned("floatingip", fip_id, ctx, "delete")
        _t("floatingips").pop(fip_id, None)
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- routers


def _set_gateway(rtr: dict[str, Any], info: Any, ctx: dict[str, Any]) -> None:
    old_gw = [
        p["id"]
        for p in _t("ports").values()
        if p["device_id"] == rtr["id"] and p["device_owner"] == "network:router_gateway"
    ]
    if not info:
        if any(f["router_id"] == rtr["id"] for f in _t("floatingips").values()):
            raise error(
                409,
                "RouterExternalGatewayInUseByFloatingIp",
                f"Gateway cannot be updated for router {rtr['id']}, since a gateway to external network "
                f"{(rtr.get('external_gateway_info') or {}).get('network_id')} is required by one or more "
                "floating IPs.",
            )
        for pid in old_gw:
            _t("ports").pop(pid, None)
        rtr["external_gateway_info"] = None
        return
    if not isinstance(info, dict) or not info.get("network_id"):
        raise _invalid("external_gateway_info", f"'{info}' is not a valid gateway")
    net = _get("network", str(info["network_id"]), ctx)
    if not net.get("router:external"):
        raise _bad(f"Bad router request: Network {net['id']} is not an external network.")
    if "enable_snat" in info and not ctx["is_admin"]:
        raise _policy("rule:update_router and rule:update_router:external_gateway_info:enable_snat")
    for pid in old_gw:
        _t("ports").pop(pid, None)
    port = create_port(
        "",
        net["id"],
        device_id=rtr["id"],
        device_owner="network:router_gateway",
        fixed_ips=info.get("external_fixed_ips"),
        security_group_ids=[],
        ctx={"is_admin": True, "project_id": ""},
    )
    rtr["external_gateway_info"] = {
        "network_id": net["id"],
        "enable_snat": _as_bool(info.get("enable_snat", True), "enable_snat"),
        "external_fixed_ips": [dict(f) for f in port["fixed_ips"]],
    }


@router.route("GET", API + "/routers")
def list_routers(req: Request) -> Response:
    with store.lock:
        return _list(req, "router", list(_t("routers").values()))


@router.route("GET", API + "/routers/{router_id}")
def show_router(req: Request, router_id: str) -> Response:
    with store.lock:
        return _show(req, "router", _get("router", router_id, _ctx(req)))


@router.route("POST", API + "/routers")
def create_router(req: Request) -> Response:
    body = _body(req, "router")
    _check_keys(
        body,
        {
            "name",
            "description",
            "admin_state_up",
            "external_gateway_info",
            "tenant_id",
            "project_id",
            "distributed",
            "ha",
            "availability_zone_hints",
            "flavor_id",
        },
    )
    ctx = _ctx(req)
    with store.lock:
        owner = _owner_for_create(req, body, "router")
        _check_quota(owner, "router")
        rtr = _std(
            owner,
            name=_as_str(body.get("name"), "name"),
            description=_as_str(body.get("description"), "description"),
            admin_state_up=_as_bool(body.get("admin_state_up", True), "admin_state_up"),
            external_gateway_info=None,
        )
        if body.get("external_gateway_info"):
            _set_gateway(rtr, body["external_gateway_info"], ctx)
        _t("routers")[rtr["id"]] = rtr
        store.touch()
        return _show(req, "router", rtr, 201)


@router.route("PUT", API + "/routers/{router_id}")
def update_router(req: Request, router_id: str) -> Response:
    body = _body(req, "router")
    _check_keys(body, {"name", "description", "admin_state_up", "external_gateway_info", "routes"})
    ctx = _ctx(req)
    with store.lock:
        rtr = _get_owned("router", router_id, ctx, "update")
        if "name" in body:
            rtr["name"] = _as_str(body["name"], "name")
        if "description" in body:
            rtr["description"] = _as_str(body["description"], "description")
        if "admin_state_up" in body:
            rtr["admin_state_up"] = _as_bool(body["admin_state_up"], "admin_state_up")
        if "external_gateway_info" in body:
            _set_gateway(rtr, body["external_gateway_info"], ctx)
        _bump(rtr)
        return _show(req, "router", rtr)


@router.route("DELETE", API + "/routers/{router_id}")
def delete_router(req: Request, router_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        rtr = _get_owned("router", router_id, ctx, "delete")
        if any(
            p["device_id"] == router_id and p["device_owner"] == "network:router_interface"
            for p in _t("ports").values()
        ):
            raise error(409, "RouterInUse", f"Router {router_id} still has ports")
        _set_gateway(rtr, None, ctx)
        _t("routers").pop(router_id, None)
        store.touch()
    return empty_response(204)


def _interface_body(rtr: dict[str, Any], port: dict[str, Any]) -> dict[str, Any]:
    subnet_ids = [f["subnet_id"] for f in port["fixed_ips"]]
    return {
        "id": rtr["id"],
        "tenant_id": rtr["project_id"],
        "project_id": rtr["project_id"],
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
        "tags": [],
    }


def add_interface(rtr: dict[str, Any], info: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    if bool(info.get("subnet_id")) == bool(info.get("port_id")):
        raise _bad("Bad router request: Either subnet_id or port_id must be specified.")
    if info.get("subnet_id"):
        sub = _get("subnet", str(info["subnet_id"]), ctx)
        if not sub["gateway_ip"]:
            raise _bad("Bad router request: Subnet for router interface must have a gateway IP.")
        for p in _t("ports").values():
            if p["device_id"] == rtr["id"] and any(f["subnet_id"] == sub["id"] for f in p["fixed_ips"]):
                raise _bad(f"Bad router request: Router already has a port on subnet {sub['id']}.")
        port = _new_port_record(
            rtr["project_id"],
            sub["network_id"],
            [{"subnet_id": sub["id"], "ip_address": sub["gateway_ip"]}],
            device_id=rtr["id"],
            device_owner="network:router_interface",
            security_groups=[],
        )
    else:
        port = _get("port", str(info["port_id"]), ctx)
        if port["device_id"]:
            raise error(
                409,
                "PortInUse",
                f"Unable to complete operation on port {port['id']} for network "
                f"{port['network_id']}. Port already has an attached device {port['device_id']}.",
            )
        port.update(device_id=rtr["id"], device_owner="network:router_interface", security_groups=[])
    _refresh_status(port)
    store.touch()
    return port


@router.route("PUT", API + "/routers/{router_id}/add_router_interface")
def add_router_interface(req: Request, router_id: str) -> Response:
    body = _json_body(req)
    ctx = _ctx(req)
    with store.lock:
        rtr = _get_owned("router", router_id, ctx, "add_router_interface")
        port = add_interface(rtr, body, ctx)
        _bump(rtr)
        return json_response(200, _interface_body(rtr, port))


def _json_body(req: Request) -> dict[str, Any]:
    import json

    try:
        body = json.loads(req.raw_body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _bad("Malformed request body") from None
    if not isinstance(body, dict):
        raise _bad("Malformed request body")
    return body


@router.route("PUT", API + "/routers/{router_id}/remove_router_interface")
def remove_router_interface(req: Request, router_id: str) -> Response:
    body = _json_body(req)
    ctx = _ctx(req)
    with store.lock:
        rtr = _get_owned("router", router_id, ctx, "remove_router_interface")
        ports = [
            p
            for p in _t("ports").values()
            if p["device_id"] == router_id and p["device_owner"] == "network:router_interface"
        ]
        if body.get("port_id"):
            ports = [p for p in ports if p["id"] == body["port_id"]]
            if not ports:
                raise error(
                    404,
                    "RouterInterfaceNotFound",
                    f"Router {router_id} does not have an interface with id {body['port_id']}",
                )
        elif body.get("subnet_id"):
            ports = [p for p in ports if any(f["subnet_id"] == body["subnet_id"] for f in p["fixed_ips"])]
            if not ports:
                raise error(
                    404,
                    "RouterInterfaceNotFoundForSubnet",
                    f"Router {router_id} has no interface on subnet {body['subnet_id']}",
                )
        else:
            raise _bad("Bad router request: Either subnet_id or port_id must be specified.")
        port = ports[0]
        subnet_ids = {f["subnet_id"] for f in port["fixed_ips"]}
        for fip in _t("floatingips").values():
            if fip["router_id"] == router_id and fip["port_id"]:
                fport = _t("ports").get(fip["port_id"]) or {"fixed_ips": []}
                if subnet_ids & {f["subnet_id"] for f in fport["fixed_ips"]}:
                    raise error(
                        409,
                        "RouterInterfaceInUseByFloatingIP",
                        f"Router interface for subnet {sorted(subnet_ids)[0]} on router {router_id} cannot "
                        "be deleted, as it is required by one or more floating IPs.",
                    )
        out = _interface_body(rtr, port)
        _t("ports").pop(port["id"], None)
        _bump(rtr)
        return json_response(200, out)


# --------------------------------------------------------------------------- quotas (HTTP)


def _quota_target(req: Request, project_id: str) -> dict[str, Any]:
    ctx = _ctx(req)
    if not ctx["is_admin"] and project_id != ctx["project_id"]:
        raise _policy("rule:get_quota")
    return ctx


@router.route("GET", API + "/quotas")
def list_quotas(req: Request) -> Response:
    ctx = _ctx(req)
    if not ctx["is_admin"]:
        raise _policy("rule:get_quota")
    with store.lock:
        items = [{"project_id": pid, "tenant_id": pid, **quota_for(pid)} for pid in _quota_table()]
    return json_response(200, {"quotas": items})


@router.route("GET", API + "/quotas/{project_id}")
def show_quota(req: Request, project_id: str) -> Response:
    _quota_target(req, project_id)
    with store.lock:
        return json_response(200, {"quota": quota_for(project_id)})


@router.route("GET", API + "/quotas/{project_id}/default")
def show_default_quota(req: Request, project_id: str) -> Response:
    _quota_target(req, project_id)
    return json_response(200, {"quota": dict(DEFAULT_QUOTAS)})


@router.route("GET", API + "/quotas/{project_id}/details")
def show_quota_details(req: Request, project_id: str) -> Response:
    _quota_target(req, project_id)
    with store.lock:
        quota = quota_for(project_id)
        out = {res: {"limit": limit, "used": _used(project_id, res), "reserved": 0} for res, limit in quota.items()}
    return json_response(200, {"quota": out})


@router.route("PUT", API + "/quotas/{project_id}")
def update_quota(req: Request, project_id: str) -> Response:
    ctx = _ctx(req)
    if not ctx["is_admin"]:
        raise _policy("rule:update_quota")
    body = _body(req, "quota")
    _check_keys(body, set(DEFAULT_QUOTAS) | {"force", "check_limit"})
    with store.lock:
        current = dict(_quota_table().get(project_id, {}))
        for res, value in body.items():
            if res in ("force", "check_limit"):
                continue
            try:
                n = int(value)
            except (TypeError, ValueError):
                raise _invalid(res, f"'{value}' is not an integer") from None
            if n < -1:
                raise _invalid(res, f"'{n}' should be greater or equal to -1")
            if body.get("check_limit") and n >= 0 and _used(project_id, res) > n:
                raise _bad(
                    f"Quota limit {n} for {res} must be greater than or equal to already used {_used(project_id, res)}"
                )
            current[res] = n
        _quota_table()[project_id] = current
        store.touch()
        return json_response(200, {"quota": quota_for(project_id)})


@router.route("DELETE", API + "/quotas/{project_id}")
def reset_quota(req: Request, project_id: str) -> Response:
    ctx = _ctx(req)
    if not ctx["is_admin"]:
        raise _policy("rule:delete_quota")
    with store.lock:
        _quota_table().pop(project_id, None)
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- seed

PUBLIC_CIDR = "172.24.4.0/24"
SHARED_CIDR = "192.168.233.0/24"
PRIVATE_CIDR = "10.0.0.0/24"


def seed(fresh: bool) -> None:
    if not fresh and _t("networks"):
        return
    from devcloud import identity

    admin = identity.find_project("admin")
    assert admin is not None
    public = _new_network(admin["id"], "public", id=_stable("net", "public"), mtu=1500)
    public["router:external"] = True
    public["is_default"] = True
    public.update(
        {"provider:network_type": "flat", "provider:physical_network": "public", "provider:segmentation_id": None}
    )
    _new_subnet(
        admin["id"], public["id"], PUBLIC_CIDR, id=_stable("subnet", "public"), name="public-subnet", enable_dhcp=False
    )
    # The provider network `shared` is shared (Neutron's RBAC access_as_shared) with demo-2 only, so that the
    # `demo` project keeps exactly one network Nova's `auto` can pick, and `demo-2` sees two (auto is ambiguous).
    demo2 = identity.find_project("demo-2")
    shared = _new_network(admin["id"], "shared", id=_stable("net", "shared"), mtu=1500)
    shared["shared_with"] = [demo2["id"]] if demo2 else []
    shared.update(
        {"provider:network_type": "flat", "provider:physical_network": "shared", "provider:segmentation_id": None}
    )
    _new_subnet(admin["id"], shared["id"], SHARED_CIDR, id=_stable("subnet", "shared"), name="shared-subnet")
    for name in ("demo", "demo-2"):
        project = identity.find_project(name)
        if project is None:
            continue
        pid = project["id"]
        net = _new_network(pid, "private", id=_stable("net", "private", name))
        sub = _new_subnet(
            pid,
            net["id"],
            PRIVATE_CIDR,
            id=_stable("subnet", "private", name),
            name="private-subnet",
            dns_nameservers=[],
        )
        rtr = _std(pid, id=_stable("router", name), name="router1", admin_state_up=True, external_gateway_info=None)
        _t("routers")[rtr["id"]] = rtr
        _set_gateway(rtr, {"network_id": public["id"]}, {"is_admin": True, "project_id": pid})
        add_interface(rtr, {"subnet_id": sub["id"]}, {"is_admin": True, "project_id": pid})
        ensure_default_sg(pid)
    store.touch()


# --------------------------------------------------------------------------- contract for compute


def _new_port_record(
    project_id: str,
    network_id: str,
    fixed_ips: list[dict[str, str]],
    *,
    name: str = "",
    description: str = "",
    device_id: str = "",
    device_owner: str = "",
    security_groups: list[str],
    port_security_enabled: bool = True,
    admin_state_up: bool = True,
    host: str = "",
    mac_address: str | None = None,
) -> dict[str, Any]:
    port = _std(
        project_id,
        name=name,
        description=description,
        network_id=network_id,
        mac_address=mac_address or _mac(),
        admin_state_up=admin_state_up,
        status="DOWN",
        device_id=device_id,
        device_owner=device_owner,
        fixed_ips=fixed_ips,
        security_groups=security_groups,
        port_security_enabled=port_security_enabled,
    )
    port["binding:host_id"] = host
    _refresh_status(port)
    _t("ports")[port["id"]] = port
    store.touch()
    return port


def create_port(
    project_id: str,
    network_id: str,
    *,
    fixed_ips: Any = None,
    security_group_ids: list[str] | None = None,
    device_id: str = "",
    device_owner: str = "",
    host: str = "",
    name: str = "",
    description: str = "",
    port_security_enabled: bool = True,
    admin_state_up: bool = True,
    mac_address: str | None = None,
    ctx: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new port with fixed IPs from the network's subnets (raises a Neutron HttpError: quota, no free IP, ...).

    `security_group_ids` None means the project's `default` group (none when port security is off or the port
    belongs to the network itself, device_owner network:*)."""
    ctx = ctx or {"is_admin": True, "project_id": project_id}
    with store.lock:
        net = _t("networks").get(network_id)
        if net is None:
            raise _not_found("network", network_id)
        if project_id:
            _check_quota(project_id, "port")
        taken = {p["mac_address"] for p in _t("ports").values() if p["network_id"] == network_id}
        if mac_address is not None and mac_address in taken:
            raise error(
                409,
                "MacAddressInUse",
                f"Unable to complete operation for network {network_id}. The mac address {mac_address} is in use.",
            )
        ips = _fixed_ips_for(net, fixed_ips, ctx)
        if security_group_ids is None:
            if port_security_enabled and not device_owner.startswith("network:") and project_id:
                sg = ensure_default_sg(project_id)
                security_group_ids = [sg["id"]] if sg else []
            else:
                security_group_ids = []
        elif security_group_ids and not port_security_enabled:
            raise error(
                400,
                "PortSecurityAndIPRequiredForSecurityGroups",
                "Port security must be enabled and port must have an IP address in order to use security groups.",
            )
        return _new_port_record(
            project_id,
            network_id,
            ips,
            name=name,
            description=description,
            device_id=device_id,
            device_owner=device_owner,
            security_groups=security_group_ids,
            port_security_enabled=port_security_enabled,
            admin_state_up=admin_state_up,
            host=host,
            mac_address=mac_address,
        )


def get_network(network_id: str) -> dict[str, Any] | None:
    return _t("networks").get(network_id)


def get_port(port_id: str) -> dict[str, Any] | None:
    return _t("ports").get(port_id)


def network_visible(net: dict[str, Any], project_id: str, is_admin: bool = False) -> bool:
    return _net_visible(net, {"project_id": project_id, "is_admin": is_admin})


def is_shared_for(net: dict[str, Any], project_id: str) -> bool:
    return _shared_for(net, project_id)


def available_networks(project_id: str) -> list[dict[str, Any]]:
    """The networks Nova's `auto` (and no `networks`) choose from: the project's own non-shared networks (admin
    state up) and the networks shared with it; external networks that are not shared are not among them."""
    own = [
        n
        for n in _t("networks").values()
        if n["project_id"] == project_id and not _shared_for(n, project_id) and n["admin_state_up"]
    ]
    return own + [n for n in _t("networks").values() if _shared_for(n, project_id) and n not in own]


def subnets_of(network_id: str) -> list[dict[str, Any]]:
    return [s for s in _t("subnets").values() if s["network_id"] == network_id]


def bind_port(port_id: str, device_id: str, device_owner: str, host: str) -> None:
    with store.lock:
        port = _t("ports").get(port_id)
        if port is None:
            return
        port.update(device_id=device_id, device_owner=device_owner)
        port["binding:host_id"] = host
        _refresh_status(port)
        _bump(port)


def unbind_port(port_id: str) -> None:
    """What Nova does to a port it did not create when the server goes: clears the device and the binding."""
    bind_port(port_id, "", "", "")


def delete_port(port_id: str) -> None:
    """Deletes the port; floating IPs on it are disassociated (status DOWN)."""
    with store.lock:
        _t("ports").pop(port_id, None)
        for fip in _t("floatingips").values():
            if fip["port_id"] == port_id:
                _set_association(fip, port_id=None, fixed_ip_address=None, router_id=None)
                _bump(fip)
        store.touch()


def ports_of_device(device_id: str) -> list[dict[str, Any]]:
    return [p for p in _t("ports").values() if p["device_id"] == device_id]


def ports_by_device() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in _t("ports").values():
        if p["device_id"]:
            out.setdefault(p["device_id"], []).append(p)
    return out


def floating_ips_by_port() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in _t("floatingips").values():
        if f["port_id"]:
            out.setdefault(f["port_id"], []).append(f)
    return out


def find_security_group(project_id: str, name_or_id: str) -> dict[str, Any] | None:
    """The project's security group by id or name (`default` made on first use); None when unknown or ambiguous."""
    ensure_default_sg(project_id)
    groups = [sg for sg in _t("security_groups").values() if sg["project_id"] == project_id]
    for sg in groups:
        if sg["id"] == name_or_id:
            return sg
    named = [sg for sg in groups if sg["name"] == name_or_id]
    return named[0] if len(named) == 1 else None


def security_groups_named(project_id: str, name: str) -> int:
    """How many of the project's security groups have this name (Neutron allows several)."""
    return sum(1 for sg in _t("security_groups").values() if sg["project_id"] == project_id and sg["name"] == name)


def get_security_group(sg_id: str) -> dict[str, Any] | None:
    return _t("security_groups").get(sg_id)


def rules_of(sg_id: str) -> list[dict[str, Any]]:
    return [r for r in _t("security_group_rules").values() if r["security_group_id"] == sg_id]


def set_port_security_groups(port_id: str, sg_ids: list[str]) -> None:
    with store.lock:
        port = _t("ports").get(port_id)
        if port is not None:
            port["security_groups"] = list(sg_ids)
            _bump(port)
