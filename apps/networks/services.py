"""Writes of Networking (Neutron) resources: the calls the operation handlers make (those of this app's Floating
IPs page and those of the instances app's instance page alike), the dispatchers of this app's operations, and the
equivalent `openstack` commands.

Every call is made inside `neutron_errors()`: Neutron's refusals (over quota, an address in use, no free address in
the pool, a port in use) leave as typed CloudErrors whose message names Networking (Neutron), in the reader's
language on the Activity page (the operation row stores the msgid and its arguments).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.cloud.connection import Credentials
from apps.cloud.errors import SERVICE_NAMES, AuthExpired, CloudError, NotFound, OverQuota, Unavailable, cloud_errors
from apps.networks.selectors import Rule, SecurityGroupRow
from apps.operations.i18n import freeze
from apps.operations.services import DispatchError, dispatch

__all__ = ["DispatchError", "neutron_errors", "refusal"]

SERVICE = "network"
SAYS = _("%(service)s: %(message)s")


@contextmanager
def neutron_errors(service: str = SERVICE) -> Iterator[None]:
    """Cloud calls whose refusals name the service that refused (Networking (Neutron), or Compute (Nova) for
    os-interface). Outages and expired sessions leave as they are (their messages name the service already)."""
    try:
        with cloud_errors(service):
            yield
    except (Unavailable, AuthExpired):
        raise
    except CloudError as exc:
        kind = OverQuota if "quota" in exc.message.lower() else type(exc)
        msgid, frozen = freeze(SAYS, {"service": SERVICE_NAMES.get(service, service), "message": exc.message})
        named = kind(msgid, service=exc.service, request_id=exc.request_id, detail=exc.detail or exc.message)
        named.args_for_message = frozen
        raise named from exc


def refusal(exc: CloudError) -> str:
    """A refusal in words for a form or a toast, now: "Networking (Neutron): <what Neutron said>"."""
    args = getattr(exc, "args_for_message", None)
    if args is not None:
        from apps.operations.i18n import render_text

        return render_text(exc.message, args)
    return gettext("%(service)s: %(message)s") % {"service": exc.service_name, "message": exc.message}


# --- the calls --------------------------------------------------------------------------------------------


def find_floating_ip(conn: Any, floating_ip_id: str) -> Any:
    """The floating IP (openstacksdk's), or None when Neutron says it does not exist (or is another project's)."""
    try:
        with neutron_errors():
            return conn.network.get_ip(floating_ip_id)
    except NotFound:
        return None


def floating_ips_of_port(conn: Any, port_id: str) -> list[Any]:
    with neutron_errors():
        return list(conn.network.ips(port_id=port_id))


def create_floating_ip(
    conn: Any, *, network_id: str, port_id: str = "", fixed_ip: str = "", description: str = ""
) -> Any:
    """Allocate a floating IP from an external network; with `port_id`, associated with it in the same call."""
    attrs: dict[str, Any] = {"floating_network_id": network_id}
    if port_id:
        attrs["port_id"] = port_id
        if fixed_ip:
            attrs["fixed_ip_address"] = fixed_ip
    if description:
        attrs["description"] = description
    with neutron_errors():
        return conn.network.create_ip(**attrs)


def set_floating_ip_port(conn: Any, floating_ip: Any, *, port_id: str | None, fixed_ip: str = "") -> Any:
    """Associate (port_id) or disassociate (None)."""
    attrs: dict[str, Any] = {"port_id": port_id}
    if port_id and fixed_ip:
        attrs["fixed_ip_address"] = fixed_ip
    with neutron_errors():
        return conn.network.update_ip(floating_ip, **attrs)


def delete_floating_ip(conn: Any, floating_ip_id: str) -> None:
    with neutron_errors():
        conn.network.delete_ip(floating_ip_id, ignore_missing=True)


def floating_ips_since(conn: Any, *, network_id: str, project_id: str, since: str) -> list[Any]:
    """The project's free floating IPs on this network created at or after `since` (Neutron's created_at, in
    whole seconds): what an allocation whose answer never came may have made."""
    with neutron_errors():
        found = list(conn.network.ips(floating_network_id=network_id, project_id=project_id))
    return [f for f in found if not f.port_id and (f.created_at or "") >= since]


# How long Neutron's agent may take to (un)wire a floating IP before the operation gives up on seeing it.
WIRING_TIMEOUT = 120


def wait_wired(ctx: Any, floating_ip_id: str, *, associated: bool) -> Any:
    """Wait (in an operation) until Neutron reports the floating IP ACTIVE (associated) or DOWN (free): its agent
    sets the status a moment after the API call. ERROR fails with Neutron's word for it."""

    def check() -> Any:
        fip = find_floating_ip(ctx.conn, floating_ip_id)
        if fip is None:
            raise NotFound(str(_("The floating IP no longer exists.")), service=SERVICE)
        status = (fip.status or "").upper()
        if status == "ERROR":
            msgid, frozen = freeze(
                _("%(service)s reports the floating IP %(address)s in the ERROR state."),
                {"service": SERVICE_NAMES[SERVICE], "address": fip.floating_ip_address},
            )
            err = CloudError(msgid, service=SERVICE)
            err.args_for_message = frozen
            raise err
        return fip if status == ("ACTIVE" if associated else "DOWN") else None

    what = _("the floating IP to become active") if associated else _("the floating IP to go down")
    return ctx.wait_for(check, what=what, timeout=WIRING_TIMEOUT)


def find_port(conn: Any, port_id: str) -> Any:
    try:
        with neutron_errors():
            return conn.network.get_port(port_id)
    except NotFound:
        return None


def ports_of_device(conn: Any, device_id: str) -> list[Any]:
    with neutron_errors():
        return list(conn.network.ports(device_id=device_id))


def ports_with_ip(conn: Any, *, network_id: str, ip_address: str) -> list[Any]:
    with neutron_errors():
        return list(conn.network.ports(network_id=network_id, fixed_ips=[f"ip_address={ip_address}"]))


# --- operations of the Floating IPs page ------------------------------------------------------------------


def allocate_floating_ip(*, creds: Credentials, network_id: str, network_name: str, description: str = "") -> Any:
    return dispatch(
        creds=creds,
        kind="floatingip.create",
        target_type="floatingip",
        target_name=network_name,
        params={"network_id": network_id, "network_name": network_name, "description": description},
    )


def release_floating_ip(*, creds: Credentials, floating_ip_id: str, address: str) -> Any:
    return dispatch(
        creds=creds, kind="floatingip.delete", target_type="floatingip", target_id=floating_ip_id, target_name=address
    )


def associate_floating_ip(
    *, creds: Credentials, floating_ip_id: str, address: str, port_id: str, fixed_ip: str, server_name: str
) -> Any:
    return dispatch(
        creds=creds,
        kind="floatingip.associate",
        target_type="floatingip",
        target_id=floating_ip_id,
        target_name=address,
        params={"port_id": port_id, "fixed_ip": fixed_ip, "server_name": server_name},
    )


def disassociate_floating_ip(*, creds: Credentials, floating_ip_id: str, address: str) -> Any:
    return dispatch(
        creds=creds,
        kind="floatingip.disassociate",
        target_type="floatingip",
        target_id=floating_ip_id,
        target_name=address,
    )


# --- equivalent CLI commands ------------------------------------------------------------------------------


def q(value: object) -> str:
    return shlex.quote(str(value))


def cli_list(*, all_projects: bool) -> str:
    return "openstack floating ip list --long" + (" --all-projects" if all_projects else "")


def cli_create(network: str = "", *, port_id: str = "", fixed_ip: str = "", description: str = "") -> str:
    parts = ["openstack floating ip create"]
    if port_id:
        parts.append(f"--port {q(port_id)}")
        if fixed_ip:
            parts.append(f"--fixed-ip-address {q(fixed_ip)}")
    if description:
        parts.append(f"--description {q(description)}")
    parts.append(q(network) if network else "<external-network>")
    return " ".join(parts)


def cli_delete(address: str) -> str:
    return f"openstack floating ip delete {q(address)}"


def cli_set_port(address: str, port_id: str = "", fixed_ip: str = "") -> str:
    fixed = f" --fixed-ip-address {q(fixed_ip)}" if fixed_ip else ""
    return f"openstack floating ip set --port {q(port_id) if port_id else '<port>'}{fixed} {q(address)}"


def cli_unset_port(address: str) -> str:
    return f"openstack floating ip unset --port {q(address)}"


# --- security groups and their rules --------------------------------------------------------------------------
# Horizon makes these calls in the request. Stratus queues them as operations (apps/networks/operations.py), as it
# does every other write: each appears in Activity, with its toast, its steps, its equivalent `openstack` command
# and the same retry of a 502/503/504 or a lost connection. A create that is one quick call costs the person nothing
# for it: the page shows the operation as a pending row at once, and the poll that follows (every 2 s while one is
# pending) shows the group or the rule Neutron made.

TARGET = "security_group"


def create_security_group(*, creds: Credentials, name: str, description: str) -> Any:
    return dispatch(
        creds=creds,
        kind="security_group.create",
        target_type=TARGET,
        target_name=name,
        params={"name": name, "description": description},
    )


def delete_security_group(*, creds: Credentials, group: SecurityGroupRow) -> Any:
    return dispatch(
        creds=creds, kind="security_group.delete", target_type=TARGET, target_id=group.id, target_name=group.name
    )


def create_security_group_rule(*, creds: Credentials, group: SecurityGroupRow, rule: dict[str, Any]) -> Any:
    """`rule`: RuleForm.rule_params() (Neutron's attributes, and the remote group's name for the CLI)."""
    return dispatch(
        creds=creds,
        kind="security_group_rule.create",
        target_type=TARGET,
        target_id=group.id,
        target_name=group.name,
        params={**rule, "security_group_id": group.id},
    )


def delete_security_group_rule(*, creds: Credentials, group: SecurityGroupRow, rule: Rule) -> Any:
    return dispatch(
        creds=creds,
        kind="security_group_rule.delete",
        target_type=TARGET,
        target_id=group.id,
        target_name=group.name,
        params={"rule_id": rule.id, "summary": rule_summary(rule)},
    )


def rule_summary(rule: Rule) -> str:
    """One line for a rule in words Neutron uses: "ingress IPv4 tcp 22 0.0.0.0/0"."""
    parts = [rule.direction, rule.ethertype, rule.protocol or "any", rule.ports, rule.remote]
    return " ".join(p for p in parts if p)


def cli_create_group(name: str = "", description: str = "") -> str:
    parts = ["openstack security group create"]
    if description:
        parts.append(f"--description {q(description)}")
    parts.append(q(name) if name else "<name>")
    return " ".join(parts)


def cli_delete_group(group_ref: str) -> str:
    return f"openstack security group delete {q(group_ref)}"


def cli_create_rule(group_ref: str, rule: dict[str, Any]) -> str:
    """`openstack security group rule create …` for Neutron's attributes (as RuleForm.rule_params gives them)."""
    parts = ["openstack security group rule create", f"--{rule.get('direction') or 'ingress'}"]
    parts.append(f"--ethertype {rule.get('ethertype') or 'IPv4'}")
    protocol = rule.get("protocol") or "any"
    parts.append(f"--protocol {q(protocol)}")
    pmin, pmax = rule.get("port_range_min"), rule.get("port_range_max")
    if pmin is not None:
        if protocol in ("icmp", "ipv6-icmp", "icmpv6", "1", "58"):
            parts.append(f"--icmp-type {pmin}" + (f" --icmp-code {pmax}" if pmax is not None else ""))
        else:
            parts.append(f"--dst-port {pmin}" if pmax in (None, pmin) else f"--dst-port {pmin}:{pmax}")
    if rule.get("remote_group_id"):
        parts.append(f"--remote-group {q(rule.get('remote_group_id'))}")
    else:
        parts.append(f"--remote-ip {q(rule.get('remote_ip_prefix') or '0.0.0.0/0')}")
    if rule.get("description"):
        parts.append(f"--description {q(rule['description'])}")
    parts.append(q(group_ref))
    return " ".join(parts)


def cli_delete_rule(rule_id: str) -> str:
    return f"openstack security group rule delete {q(rule_id)}"
