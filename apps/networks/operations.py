"""Operation handlers for floating IPs as resources (the Floating IPs page): allocate, release, associate with a
port, disassociate. Each looks at Neutron's current state first and treats "already done" as success. An instance
page's floating IP and interface actions are the instances app's (apps/instances/operations.py); both use the
calls of apps/networks/services.py."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.cloud.errors import SERVICE_NAMES, CloudError, Conflict, NotFound, Unavailable, cloud_errors
from apps.networks import services
from apps.operations.i18n import freeze
from apps.operations.registry import Context, operation_handler


def _require(ctx: Context) -> Any:
    fip = services.find_floating_ip(ctx.conn, ctx.op.target_id)
    if fip is None:
        raise NotFound(str(_("The floating IP no longer exists.")), service="network")
    return fip


@operation_handler("floatingip.create", title=_("Allocate a floating IP from %(name)s"), label=_("Allocate"))
def allocate_floating_ip(ctx: Context) -> None:
    network_id = ctx.params["network_id"]
    sent_at = (ctx.op.result or {}).get("create_sent_at")
    fip = None
    if sent_at:
        # An earlier attempt's create got no answer: Neutron may have allocated it. Take the project's free one
        # on that network made since then rather than a second.
        since = datetime.fromtimestamp(float(sent_at) - 1, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        made = services.floating_ips_since(
            ctx.conn, network_id=network_id, project_id=ctx.creds.project_id, since=since
        )
        fip = max(made, key=lambda f: f.created_at or "", default=None)
        if fip is not None:
            ctx.step(_("Found the floating IP an earlier attempt allocated"), progress=50)
    if fip is None:
        ctx.set_result(create_sent_at=time.time())  # before the call: a crash mid-call leaves it
        ctx.step(
            _("Allocating a floating IP from %(network)s"), progress=20, network=ctx.params.get("network_name", "")
        )
        try:
            fip = services.create_floating_ip(
                ctx.conn, network_id=network_id, description=ctx.params.get("description") or ""
            )
        except Unavailable:
            raise  # perhaps made: the retry looks for it
        except Exception:
            ctx.set_result(create_sent_at=None)  # Neutron answered: it made nothing
            raise
    ctx.set_result(create_sent_at=None, floating_ip=fip.floating_ip_address)
    ctx.set_target(fip.id, fip.floating_ip_address)


@operation_handler("floatingip.delete", title=_("Release the floating IP %(name)s"), label=_("Release"))
def release_floating_ip(ctx: Context) -> None:
    fip = services.find_floating_ip(ctx.conn, ctx.op.target_id)
    if fip is None:
        ctx.step(_("Already released"), progress=100)
        return
    ctx.step(_("Releasing"), progress=30)
    services.delete_floating_ip(ctx.conn, fip.id)


@operation_handler("floatingip.associate", title=_("Associate the floating IP %(name)s"), label=_("Associate"))
def associate_floating_ip(ctx: Context) -> None:
    fip = _require(ctx)
    port_id, fixed_ip = ctx.params["port_id"], ctx.params.get("fixed_ip") or ""
    if fip.port_id == port_id and (not fixed_ip or fip.fixed_ip_address == fixed_ip):
        ctx.step(_("Already associated"), progress=50)
    else:
        if fip.port_id:
            raise Conflict(
                str(_("The floating IP %(address)s is associated with another port; disassociate it first."))
                % {"address": fip.floating_ip_address},
                service="network",
            )
        ctx.step(
            _("Associating %(address)s with %(server)s"),
            progress=20,
            address=fip.floating_ip_address,
            server=ctx.params.get("server_name") or port_id,
        )
        fip = services.set_floating_ip_port(ctx.conn, fip, port_id=port_id, fixed_ip=fixed_ip)
    services.wait_wired(ctx, fip.id, associated=True)


@operation_handler("floatingip.disassociate", title=_("Disassociate the floating IP %(name)s"), label=_("Disassociate"))
def disassociate_floating_ip(ctx: Context) -> None:
    fip = _require(ctx)
    if fip.port_id:
        ctx.step(_("Disassociating %(address)s"), progress=20, address=fip.floating_ip_address)
        services.set_floating_ip_port(ctx.conn, fip, port_id=None)
    else:
        ctx.step(_("Already disassociated"), progress=50)
    services.wait_wired(ctx, fip.id, associated=False)


# --- security groups and their rules ----------------------------------------------------------------------------
# Each is one Neutron call, made idempotent: a group already made by an interrupted attempt of the same operation is
# found again (Neutron allows two groups of one name, so the groups of that name that existed before the first
# attempt are remembered); a rule already made answers 409 SecurityGroupRuleExists, which is success only for an
# attempt that follows one that sent the create; a delete of what is gone is done. Neutron's refusals (over quota, a
# rule that exists, a group in use) fail the operation with Neutron's words, naming the service.

RULE_ATTRS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "description",
)


def _group_ref(op: Any) -> str:
    return op.target_id or op.target_name or "<group>"


def _find_group(ctx: Context, group_id: str) -> Any:
    try:
        with services.neutron_errors():
            return ctx.conn.network.get_security_group(group_id)
    except NotFound:
        return None


def _named(ctx: Context, name: str) -> list[Any]:
    with services.neutron_errors():
        return list(ctx.conn.network.security_groups(name=name, project_id=ctx.creds.project_id))


@operation_handler(
    "security_group.create",
    title=_("Create the security group %(name)s"),
    label=_("Create security group"),
    cli=lambda op: services.cli_create_group(op.params.get("name", ""), op.params.get("description", "")),
)
def create_security_group(ctx: Context) -> None:
    name, description = ctx.params["name"], ctx.params.get("description") or ""
    result = ctx.op.result or {}
    if result.get("security_group_id") and _find_group(ctx, result["security_group_id"]) is not None:
        ctx.step(_("Already created"), progress=100)
        return
    if "before" in result:
        # An earlier attempt sent the create: a group of this name that was not there before it is that one.
        made = [g for g in _named(ctx, name) if g.id not in set(result["before"])]
        if made:
            ctx.set_target(made[0].id, name)
            ctx.set_result(security_group_id=made[0].id)
            ctx.step(_("Found the group an earlier attempt created"), progress=100)
            return
    else:
        ctx.set_result(before=[g.id for g in _named(ctx, name)], sent_at=time.time())
    ctx.step(_("Creating the security group"), progress=30)
    with services.neutron_errors():
        group = ctx.conn.network.create_security_group(name=name, description=description)
    ctx.set_target(group.id, name)
    ctx.set_result(security_group_id=group.id)


@operation_handler(
    "security_group.delete",
    title=_("Delete the security group %(name)s"),
    label=_("Delete security group"),
    cli=lambda op: services.cli_delete_group(_group_ref(op)),
)
def delete_security_group(ctx: Context) -> None:
    if _find_group(ctx, ctx.op.target_id) is None:
        ctx.step(_("Already deleted"), progress=100)
        return
    ctx.step(_("Deleting the security group"), progress=30)
    try:
        with cloud_errors(services.SERVICE):
            ctx.conn.network.delete_security_group(ctx.op.target_id, ignore_missing=True)
    except Conflict as exc:
        if "in use" not in exc.message.lower():
            raise
        msgid, frozen = freeze(IN_USE, {"message": exc.message})
        err = Conflict(msgid, service=services.SERVICE, request_id=exc.request_id, detail=exc.message)
        err.args_for_message = frozen
        raise err from exc
    except CloudError as exc:
        if isinstance(exc, Unavailable):
            raise
        msgid, frozen = freeze(services.SAYS, {"service": SERVICE_NAMES[services.SERVICE], "message": exc.message})
        again = type(exc)(msgid, service=services.SERVICE, request_id=exc.request_id, detail=exc.message)
        again.args_for_message = frozen
        raise again from exc


IN_USE = _(
    "Networking (Neutron) will not delete a security group that instances use: remove it from them first (on "
    "each instance's Security groups tab). Neutron said: %(message)s"
)


RULE_EXISTS = re.compile(r"Rule id is ([0-9a-fA-F-]{36})")


@operation_handler(
    "security_group_rule.create",
    title=_("Add a rule to %(name)s"),
    label=_("Add security group rule"),
    cli=lambda op: services.cli_create_rule(_group_ref(op), op.params),
)
def create_security_group_rule(ctx: Context) -> None:
    result = ctx.op.result or {}
    if result.get("rule_id"):
        ctx.step(_("Already added"), progress=100)
        return
    attrs = {k: ctx.params.get(k) for k in RULE_ATTRS}
    attrs = {k: v for k, v in attrs.items() if v not in (None, "")}
    sent_before = bool(result.get("sent_at"))
    ctx.set_result(sent_at=time.time())
    ctx.step(_("Adding the rule"), progress=30)
    try:
        with services.neutron_errors():
            rule = ctx.conn.network.create_security_group_rule(security_group_id=ctx.op.target_id, **attrs)
    except Conflict as exc:
        found = RULE_EXISTS.search(exc.detail or exc.message)
        if not (sent_before and found):  # a rule the group had before this operation: the person is told so
            raise
        ctx.set_result(rule_id=found.group(1))
        ctx.step(_("Found the rule an earlier attempt added"), progress=100)
        return
    ctx.set_result(rule_id=rule.id)


@operation_handler(
    "security_group_rule.delete",
    title=_("Remove a rule from %(name)s"),
    label=_("Remove security group rule"),
    cli=lambda op: services.cli_delete_rule(op.params.get("rule_id", "<rule>")),
)
def delete_security_group_rule(ctx: Context) -> None:
    rule_id = ctx.params["rule_id"]
    ctx.step(_("Removing the rule"), progress=30)
    try:
        with services.neutron_errors():
            ctx.conn.network.delete_security_group_rule(rule_id, ignore_missing=False)
    except NotFound:
        ctx.step(_("Already removed"), progress=100)
