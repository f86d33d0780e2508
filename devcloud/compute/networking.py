"""Nova's side of Neutron: the `networks` and `security_groups` of a server create (checked as Nova checks them),
a port per NIC at build (bound to the host; deleted with the server unless it was pre-created, then unbound),
`addresses` from the ports, os-interface, os-security-groups and the add/removeSecurityGroup actions.

Neutron is `devcloud.network` (same process, through its contract functions)."""

from __future__ import annotations

import ipaddress
from typing import Any

from devcloud import network
from devcloud.compute.common import API, bad, conflict, ctx, invalid, is_admin, not_found
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router


def _net_error(exc: HttpError) -> HttpError:
    """A Neutron error met while Nova works for the caller, answered as Nova does (its message, Nova's shape)."""
    status = exc.status if exc.status in (400, 403, 404, 409) else 500
    if status == 404:
        status = 400
    return HttpError(status, exc.message)


# --- create: requested networks and security groups --------------------------------------------------------


def resolve_requests(project_id: str, admin: bool, networks: Any, count: int) -> list[dict[str, Any]] | str:
    """Nova's validate_networks: "none", or the NICs to make [{"network_id", "port_id", "fixed_ip"}]."""
    if networks == "none":
        return "none"
    if networks in ("auto", "default"):
        available = network.available_networks(project_id)
        if len(available) > 1:
            raise conflict("Multiple possible networks found, use a Network ID to be more specific.")
        if not available:
            if networks == "default":  # no networks requested (below 2.37): Nova boots without a NIC
                return "none"
            raise bad(f"Unable to automatically allocate a network for project {project_id}")
        return [{"network_id": available[0]["id"], "port_id": None, "fixed_ip": None}]
    out: list[dict[str, Any]] = []
    for req_net in networks:
        if req_net.get("port"):
            port = network.get_port(req_net["port"])
            if port is None or (not admin and port["project_id"] != project_id):
                raise bad(f"Port {req_net['port']} could not be found.")
            if port["device_id"]:
                raise conflict(f"Port {port['id']} is still in use.")
            if not port["fixed_ips"]:
                raise bad(f"Port {port['id']} requires a FixedIP in order to be used.")
            if count > 1:
                raise bad(
                    "Unable to launch multiple instances with a single configured port ID. Please launch your "
                    "instance one by one with different ports."
                )
            out.append({"network_id": port["network_id"], "port_id": port["id"], "fixed_ip": None})
            continue
        net = network.get_network(req_net["uuid"])
        if net is None or not network.network_visible(net, project_id, admin):
            raise bad(f"Network {req_net['uuid']} could not be found.")
        if net.get("router:external") and not network.is_shared_for(net, project_id) and not admin:
            raise HttpError(403, f"It is not allowed to create an interface on external network {net['id']}")
        if not network.subnets_of(net["id"]):
            raise bad(f"Network {net['id']} requires a subnet in order to boot instances on.")
        fixed = req_net.get("fixed_ip")
        if fixed:
            if count > 1:
                raise bad("max_count cannot be greater than 1 if an fixed_ip is specified.")
            try:
                ipaddress.ip_address(fixed)
            except ValueError:
                raise invalid("fixed_ip", fixed, f"{fixed!r} is not a 'ipv4'") from None
            for p in network._t("ports").values():
                if p["network_id"] == net["id"] and any(f["ip_address"] == fixed for f in p["fixed_ips"]):
                    raise bad(f"Fixed IP address {fixed} is already in use on instance {p['device_id']}.")
        out.append({"network_id": net["id"], "port_id": None, "fixed_ip": fixed})
    return out


def resolve_security_groups(project_id: str, raw: Any) -> list[str]:
    """Security group ids for `security_groups` [{"name": ...}] (names or ids); unknown → 400, a name two groups
    share → 409, as Nova says."""
    if raw is None:
        raw = [{"name": "default"}]
    if not isinstance(raw, list):
        raise invalid("security_groups", raw, f"{raw!r} is not of type 'array'")
    ids: list[str] = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise invalid("security_groups", item, f"{item!r} is not valid under any of the given schemas")
        sg = network.find_security_group(project_id, name)
        if sg is None and network.security_groups_named(project_id, name) > 1:
            # Nova's NoUniqueMatch (409): a name two groups share must be given as an id.
            raise conflict(f"Multiple security_group matches found for name '{name}', use an ID to be more specific.")
        if sg is None:
            raise bad(f"Security group {name} not found for project {project_id}.")
        if sg["id"] not in ids:
            ids.append(sg["id"])
    return ids


# --- build and teardown --------------------------------------------------------------------------------------


def allocate(s: dict[str, Any]) -> None:
    """Make or bind the server's ports on its host (the compute manager's allocate_for_instance)."""
    requests = s.get("nic_requests")
    if not requests or requests == "none":
        s["nics"] = []
        return
    owner = f"compute:{s.get('az') or 'nova'}"
    nics: list[dict[str, Any]] = []
    try:
        for r in requests:
            if r["port_id"]:
                network.bind_port(r["port_id"], s["id"], owner, s["host"])
                nics.append({"port_id": r["port_id"], "preexisting": True})
            else:
                port = network.create_port(
                    s["project_id"],
                    r["network_id"],
                    fixed_ips=[{"ip_address": r["fixed_ip"]}] if r.get("fixed_ip") else None,
                    security_group_ids=list(s.get("security_group_ids") or []),
                    device_id=s["id"],
                    device_owner=owner,
                    host=s["host"],
                )
                nics.append({"port_id": port["id"], "preexisting": False})
    except HttpError:
        s["nics"] = nics
        release(s)
        raise
    s["nics"] = nics


def rebind(s: dict[str, Any]) -> None:
    """The server's ports follow it to its host (resize, unshelve); no host (offloaded) leaves them unbound."""
    owner = f"compute:{s.get('az') or 'nova'}"
    for nic in s.get("nics") or []:
        port = network.get_port(nic["port_id"])
        if port is not None and port["device_id"] == s["id"]:
            network.bind_port(port["id"], s["id"], owner, s.get("host") or "")


def release(s: dict[str, Any]) -> None:
    """On delete: ports Nova made are deleted, pre-created ones unbound."""
    for nic in s.get("nics") or []:
        if nic["preexisting"]:
            network.unbind_port(nic["port_id"])
        else:
            network.delete_port(nic["port_id"])
    s["nics"] = []


# --- addresses -------------------------------------------------------------------------------------------


class PortIndex:
    """The ports and floating IPs of every server, read once per request (server lists stay fast)."""

    def __init__(self) -> None:
        self.by_device = network.ports_by_device()
        self.fips = network.floating_ips_by_port()
        self.names: dict[str, str] = {}

    def net_name(self, network_id: str) -> str:
        if network_id not in self.names:
            net = network.get_network(network_id)
            self.names[network_id] = (net or {}).get("name") or network_id
        return self.names[network_id]

    def ports(self, s: dict[str, Any]) -> list[dict[str, Any]]:
        order = {nic["port_id"]: i for i, nic in enumerate(s.get("nics") or [])}
        return sorted(self.by_device.get(s["id"], []), key=lambda p: order.get(p["id"], len(order)))


def addresses(s: dict[str, Any], index: PortIndex) -> dict[str, list[dict[str, Any]]]:
    if "nics" not in s:
        return dict(s.get("addresses") or {})  # a bench-seeded server: its stored addresses
    out: dict[str, list[dict[str, Any]]] = {}
    for port in index.ports(s):
        entries = out.setdefault(index.net_name(port["network_id"]), [])
        for f in port["fixed_ips"]:
            version = ipaddress.ip_address(f["ip_address"]).version
            entries.append(
                {
                    "version": version,
                    "addr": f["ip_address"],
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
            for fip in index.fips.get(port["id"], []):
                if fip["fixed_ip_address"] == f["ip_address"]:
                    entries.append(
                        {
                            "version": 4,
                            "addr": fip["floating_ip_address"],
                            "OS-EXT-IPS:type": "floating",
                            "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                        }
                    )
    return out


def ip_filter(items: list[dict[str, Any]], wanted: list[str]) -> list[dict[str, Any]]:
    """Nova's `ip` and `ip6` filters where Neutron has `ip-substring-filtering` (as devcloud's does): Nova asks
    Neutron for the ports whose fixed IPs contain the text (`fixed_ips=ip_address_substr=...`, the text taken
    literally, no regular expression) and keeps their devices. Floating IPs are not matched (Nova never looks at
    them). A bench-seeded server without ports is matched on the fixed addresses it stores."""
    texts = [w for w in wanted if w]
    devices = {
        p["device_id"]
        for p in network._t("ports").values()
        if p["device_id"] and any(t in f["ip_address"] for f in p["fixed_ips"] for t in texts)
    }

    def stored(s: dict[str, Any]) -> bool:
        return any(
            t in a.get("addr", "")
            for entries in (s.get("addresses") or {}).values()
            for a in entries
            if a.get("OS-EXT-IPS:type", "fixed") == "fixed"
            for t in texts
        )

    return [s for s in items if s["id"] in devices or ("nics" not in s and stored(s))]


def security_group_names(s: dict[str, Any], index: PortIndex) -> list[dict[str, str]] | None:
    if "nics" not in s:
        return None if s.get("networks") == "none" else [{"name": "default"}]
    ports = index.ports(s)
    if not ports:
        return None
    names: list[str] = []
    for port in ports:
        for sg_id in port["security_groups"]:
            sg = network.get_security_group(sg_id)
            if sg is not None and sg["name"] not in names:
                names.append(sg["name"])
    return [{"name": n} for n in names]


# --- os-interface ------------------------------------------------------------------------------------------


def _server(req: Request, server_id: str) -> dict[str, Any]:
    from devcloud.compute import servers

    return servers.find(req, server_id)


def _attachment(req: Request, port: dict[str, Any]) -> dict[str, Any]:
    out = {
        "net_id": port["network_id"],
        "port_id": port["id"],
        "mac_addr": port["mac_address"],
        "port_state": port["status"],
        "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port["fixed_ips"]],
    }
    if mv(req) >= 70:
        out["tag"] = None
    return out


@router.route("GET", API + "/servers/{server_id}/os-interface")
def list_interfaces(req: Request, server_id: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        ports = PortIndex().ports(s)
        return json_response(200, {"interfaceAttachments": [_attachment(req, p) for p in ports]})


@router.route("GET", API + "/servers/{server_id}/os-interface/{port_id}")
def show_interface(req: Request, server_id: str, port_id: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        port = network.get_port(port_id)
        if port is None:
            raise not_found(f"Port {port_id} could not be found.")
        if port["device_id"] != s["id"]:
            raise not_found(f"Instance {s['id']} does not have a port with id {port_id}")
        return json_response(200, {"interfaceAttachment": _attachment(req, port)})


def _check_attachable(s: dict[str, Any], action: str) -> None:
    if s["vm_state"] not in ("active", "paused", "stopped") or s.get("task_state"):
        raise conflict(f"Cannot '{action}' instance {s['id']} while it is in vm_state {s['vm_state']}")


@router.route("POST", API + "/servers/{server_id}/os-interface")
def attach_interface(req: Request, server_id: str) -> Response:
    from devcloud.compute.common import body_of, check_unexpected

    body = body_of(req, "interfaceAttachment")
    check_unexpected(body, "interfaceAttachment", {"net_id", "port_id", "fixed_ips", "tag"})
    caller = ctx(req)
    admin = is_admin(req)
    with store.lock:
        s = _server(req, server_id)
        from devcloud.compute.servers import check_locked, touch

        check_locked(req, s)
        _check_attachable(s, "attach_interface")
        if body.get("net_id") and body.get("port_id"):
            raise bad("Must not input both network_id and port_id")
        fixed = None
        fixed_ips = body.get("fixed_ips")
        if fixed_ips:
            if not body.get("net_id"):
                raise bad("Must input network_id when request IP address")
            if not isinstance(fixed_ips, list) or len(fixed_ips) != 1 or not isinstance(fixed_ips[0], dict):
                raise invalid("fixed_ips", fixed_ips, f"{fixed_ips!r} is not valid")
            fixed = fixed_ips[0].get("ip_address")
        # Nova's attach answers 404 for a port or network that does not exist (PortNotFound, NetworkNotFound, as
        # its controller maps them) and 400 for another project's port (PortNotUsable), unlike a server create.
        if body.get("port_id"):
            port = network.get_port(str(body["port_id"]))
            if port is None:
                raise not_found(f"Port {body['port_id']} could not be found.")
            if not admin and port["project_id"] != s["project_id"]:
                raise bad(f"Port {port['id']} not usable for instance {s['id']}.")
            request = {"port": body["port_id"]}
        elif body.get("net_id"):
            net = network.get_network(str(body["net_id"]))
            if net is None or not network.network_visible(net, s["project_id"], admin):
                raise not_found(f"Network {body['net_id']} could not be found.")
            request = {"uuid": body["net_id"], "fixed_ip": fixed}
        else:
            requests = resolve_requests(s["project_id"], admin, "auto", 1)
            assert isinstance(requests, list)
            request = {"uuid": requests[0]["network_id"]}
        (nic,) = resolve_requests(s["project_id"], admin, [request], 1)  # type: ignore[misc]
        sg_ids = [] if nic["port_id"] else [network.ensure_default_sg(s["project_id"])["id"]]  # type: ignore[index]
        owner = f"compute:{s.get('az') or 'nova'}"
        try:
            if nic["port_id"]:
                network.bind_port(nic["port_id"], s["id"], owner, s["host"] or "")
                port = network.get_port(nic["port_id"])
                s.setdefault("nics", []).append({"port_id": nic["port_id"], "preexisting": True})
            else:
                port = network.create_port(
                    s["project_id"],
                    nic["network_id"],
                    fixed_ips=[{"ip_address": fixed}] if fixed else None,
                    security_group_ids=sg_ids,
                    device_id=s["id"],
                    device_owner=owner,
                    host=s["host"] or "",
                )
                s.setdefault("nics", []).append({"port_id": port["id"], "preexisting": False})
        except HttpError as exc:
            raise _net_error(exc) from None
        assert port is not None
        del caller
        touch(s)
        return json_response(200, {"interfaceAttachment": _attachment(req, port)})


@router.route("DELETE", API + "/servers/{server_id}/os-interface/{port_id}")
def detach_interface(req: Request, server_id: str, port_id: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        from devcloud.compute.servers import check_locked, touch

        check_locked(req, s)
        _check_attachable(s, "detach_interface")
        port = network.get_port(port_id)
        if port is None or port["device_id"] != s["id"]:
            raise not_found(f"Port {port_id} is not attached")
        nics = s.get("nics") or []
        nic = next((n for n in nics if n["port_id"] == port_id), {"port_id": port_id, "preexisting": True})
        if nic["preexisting"]:
            network.unbind_port(port_id)
        else:
            network.delete_port(port_id)
        s["nics"] = [n for n in nics if n["port_id"] != port_id]
        touch(s)
    return empty_response(202)


# --- security groups on a server -----------------------------------------------------------------------------


def _nova_rule(rule: dict[str, Any], sg: dict[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = {}
    if rule["remote_group_id"]:
        remote = network.get_security_group(rule["remote_group_id"]) or {}
        group = {"name": remote.get("name"), "tenant_id": remote.get("project_id")}
    return {
        "id": rule["id"],
        "parent_group_id": sg["id"],
        "ip_protocol": rule["protocol"],
        "from_port": rule["port_range_min"] if rule["port_range_min"] is not None else -1,
        "to_port": rule["port_range_max"] if rule["port_range_max"] is not None else -1,
        "ip_range": {"cidr": rule["remote_ip_prefix"]} if rule["remote_ip_prefix"] and not group else {},
        "group": group,
    }


def _nova_group(sg: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sg["id"],
        "name": sg["name"],
        "description": sg["description"],
        "tenant_id": sg["project_id"],
        "rules": [_nova_rule(r, sg) for r in network.rules_of(sg["id"]) if r["direction"] == "ingress"],
    }


@router.route("GET", API + "/servers/{server_id}/os-security-groups")
def server_security_groups(req: Request, server_id: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        seen: list[str] = []
        for port in PortIndex().ports(s):
            for sg_id in port["security_groups"]:
                if sg_id not in seen:
                    seen.append(sg_id)
        groups = [network.get_security_group(i) for i in seen]
        return json_response(200, {"security_groups": [_nova_group(g) for g in groups if g is not None]})


def _sg_action(req: Request, s: dict[str, Any], args: Any, add: bool) -> Response:
    action = "addSecurityGroup" if add else "removeSecurityGroup"
    if not isinstance(args, dict) or not isinstance(args.get("name"), str) or not args["name"].strip():
        raise bad(f"Missing parameter name in {action}" if isinstance(args, dict) else "Malformed request body")
    name = args["name"].strip()
    sg = network.find_security_group(s["project_id"], name)
    if sg is None:
        raise not_found(f"Security group {name} not found for project {s['project_id']}.")
    ports = PortIndex().ports(s)
    if not ports:
        raise bad("Network requires port_security_enabled and subnet associated in order to apply security groups.")
    if add:
        if all(sg["id"] in p["security_groups"] for p in ports):
            raise bad(f"Security group {name} is already associated with the instance {s['id']}")
        for p in ports:
            if not p["port_security_enabled"]:
                raise bad(
                    "Network requires port_security_enabled and subnet associated in order to apply security groups."
                )
            if sg["id"] not in p["security_groups"]:
                network.set_port_security_groups(p["id"], [*p["security_groups"], sg["id"]])
    else:
        if not any(sg["id"] in p["security_groups"] for p in ports):
            raise bad(f"Security group {name} not associated with the instance {s['id']}")
        for p in ports:
            network.set_port_security_groups(p["id"], [i for i in p["security_groups"] if i != sg["id"]])
    from devcloud.compute.servers import touch

    touch(s)
    return empty_response(202)


def add_security_group(req: Request, s: dict[str, Any], args: Any) -> Response:
    return _sg_action(req, s, args, True)


def remove_security_group(req: Request, s: dict[str, Any], args: Any) -> Response:
    return _sg_action(req, s, args, False)


# --- /servers/{id}/ips -------------------------------------------------------------------------------------


def _ips_view(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"version": a["version"], "addr": a["addr"]} for a in entries]


@router.route("GET", API + "/servers/{server_id}/ips")
def list_ips(req: Request, server_id: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        found = addresses(s, PortIndex())
        return json_response(200, {"addresses": {net: _ips_view(entries) for net, entries in found.items()}})


@router.route("GET", API + "/servers/{server_id}/ips/{network_label}")
def show_ips(req: Request, server_id: str, network_label: str) -> Response:
    with store.lock:
        s = _server(req, server_id)
        found = addresses(s, PortIndex())
        if network_label not in found:
            raise not_found("Instance is not a member of specified network")
        return json_response(200, {network_label: _ips_view(found[network_label])})
