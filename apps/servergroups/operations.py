"""Operation handlers of the Server groups page (create, delete), and the plain words for a launch into a group
that Nova's scheduler could not place (NoValidHost).

A create is one Nova call, made idempotent as the security groups' are (Nova allows two groups of one name): the
groups of that name that existed before the first attempt are remembered, and a retry after a create whose answer
never came takes the new one of that name instead of making a second. A delete of a group that is gone is done.
Nova's refusals (over quota, a body it rejects) fail the operation in Nova's words, naming the service.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.cloud.connection import get_json
from apps.cloud.errors import SERVICE_NAMES, BadRequest, CloudError, NotFound
from apps.operations.i18n import freeze
from apps.operations.registry import Context, operation_handler
from apps.servergroups import selectors, services
from apps.volumes.services import named_errors


def _cli_create(op: Any) -> str:
    p = op.params or {}
    return services.cli_create(p.get("name", ""), p.get("policy", ""), p.get("max_server_per_host") or "")


def _find(ctx: Context, group_id: str) -> dict[str, Any] | None:
    try:
        with named_errors("compute"):
            return get_json(ctx.creds, "compute", f"/os-server-groups/{group_id}", conn=ctx.conn).get("server_group")
    except NotFound:
        return None


def _named(ctx: Context, name: str) -> list[str]:
    with named_errors("compute"):
        body = get_json(ctx.creds, "compute", "/os-server-groups", {"limit": 1000}, conn=ctx.conn)
    return [str(g["id"]) for g in body.get("server_groups") or [] if g.get("name") == name]


NO_RULES = _(
    "%(service)s: this cloud's Nova is older than microversion 2.64, which is needed for the rule "
    "max_server_per_host. Create the group without the rule."
)


@operation_handler(
    "server_group.create", title=_("Create the server group %(name)s"), label=_("Create server group"), cli=_cli_create
)
def create_server_group(ctx: Context) -> None:
    p = ctx.params
    name, policy, per_host = p["name"], p["policy"], int(p.get("max_server_per_host") or 0)
    result = ctx.op.result or {}
    if result.get("server_group_id") and _find(ctx, result["server_group_id"]) is not None:
        ctx.step(_("Already created"), progress=100)
        return
    if "before" in result:
        made = [g for g in _named(ctx, name) if g not in set(result["before"])]
        if made:
            ctx.set_target(made[0], name)
            ctx.set_result(server_group_id=made[0])
            ctx.step(_("Found the group an earlier attempt created"), progress=100)
            return
    else:
        ctx.set_result(before=_named(ctx, name))
    version = services.create_microversion(selectors.highest_microversion(ctx.creds))
    if per_host and not selectors.at_least(version, selectors.RULES_MICROVERSION):
        msgid, frozen = freeze(NO_RULES, {"service": SERVICE_NAMES["compute"]})
        err = BadRequest(msgid, service="compute")
        err.args_for_message = frozen
        raise err
    ctx.step(_("Creating the server group"), progress=30)
    from openstack import exceptions as sdk_exceptions

    with named_errors("compute"):
        response = ctx.conn.compute.post(
            "/os-server-groups",
            json=services.create_body(name, policy, per_host, version),
            microversion=version,
            raise_exc=False,
        )
        sdk_exceptions.raise_from_response(response)
    group = response.json().get("server_group") or {}
    ctx.set_target(str(group.get("id") or ""), name)
    ctx.set_result(server_group_id=str(group.get("id") or ""), microversion=version)


@operation_handler(
    "server_group.delete",
    title=_("Delete the server group %(name)s"),
    label=_("Delete server group"),
    cli=lambda op: services.cli_delete(op.target_id or op.target_name or "<group>"),
)
def delete_server_group(ctx: Context) -> None:
    if _find(ctx, ctx.op.target_id) is None:
        ctx.step(_("Already deleted"), progress=100)
        return
    ctx.step(_("Deleting the server group"), progress=30)
    with named_errors("compute"):
        ctx.conn.compute.delete_server_group(ctx.op.target_id, ignore_missing=True)


# --- a launch into a group that cannot be placed ------------------------------------------------------------------

NO_HOST = {
    "anti-affinity": _(
        "No host could take %(instance)s without breaking the rule of its server group %(group)s (anti-affinity: "
        "each member on a different host): every host it may use already runs a member of the group, or has no "
        "room left. Delete a member of the group, or launch into another group. Nova said: %(message)s"
    ),
    "anti-affinity-rule": _(
        "No host could take %(instance)s without breaking the rule of its server group %(group)s (anti-affinity, "
        "at most %(n)s members per host): every host it may use already runs that many members of the group, or "
        "has no room left. Delete a member of the group, or launch into another group. Nova said: %(message)s"
    ),
    "affinity": _(
        "No host could take %(instance)s without breaking the rule of its server group %(group)s (affinity: every "
        "member on the same host): the host its members run on has no room left, or cannot be used now. Free room "
        "there, or launch into another group. Nova said: %(message)s"
    ),
}


def explain_launch_fault(params: dict[str, Any], message: str) -> tuple[str, dict[str, Any]] | None:
    """(msgid, frozen args) of the plain words for a launch into a server group that Nova's scheduler could not
    place (its fault says "No valid host was found"), or None when the launch had no group or failed otherwise.
    The soft policies never refuse a host, so their NoValidHost is about room, not the group: None too."""
    group = params.get("server_group") or {}
    if not isinstance(group, dict) or not group.get("id") or "no valid host" not in message.lower():
        return None
    policy = str(group.get("policy") or "")
    per_host = int(group.get("max_server_per_host") or 0)
    key = "anti-affinity-rule" if policy == "anti-affinity" and per_host > 1 else policy
    if key not in NO_HOST:
        return None
    args = {"instance": params.get("name", ""), "group": group.get("name") or group["id"], "message": message}
    if per_host > 1:
        args["n"] = per_host
    return freeze(NO_HOST[key], args)


def launch_failure(params: dict[str, Any], exc: CloudError) -> CloudError:
    """The launch's failure, in plain words when it is a server group's NoValidHost (Nova's fault kept as the
    detail), else as it was."""
    explained = explain_launch_fault(params, exc.message)
    if explained is None:
        return exc
    msgid, frozen = explained
    again = type(exc)(msgid, service="compute", request_id=exc.request_id, detail=exc.detail or exc.message)
    again.args_for_message = frozen
    return again
