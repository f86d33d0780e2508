"""Operation handlers of the Volumes page: create (blank, from an image, from a volume snapshot), extend, delete.
Each looks at Cinder's current state first and treats "already done" as success, makes the one call, and waits for
Cinder's end state; a refusal or an `error*` status fails the operation in Cinder's words, naming the service.

A create is tagged with the volume metadata `stratus_op=<operation id>`: a retry after a create whose answer never
came looks for that volume (Cinder filters its list by metadata) before making a second one.
"""

from __future__ import annotations

import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.cloud.errors import SERVICE_NAMES, CloudError, NotFound, Unavailable
from apps.operations.i18n import freeze
from apps.operations.registry import Context, operation_handler
from apps.volumes import services
from apps.volumes.services import named_errors

TIMEOUT = 1800


def _failed(text: Any, **args: Any) -> CloudError:
    msgid, frozen = freeze(text, {"service": SERVICE_NAMES["volume"], **args})
    err = CloudError(msgid, service="volume")
    err.args_for_message = frozen
    return err


def _cli_create(op: Any) -> str:
    return services.cli_create(op.params or {})


def _made_by(ctx: Context) -> Any:
    """The volume an earlier attempt of this operation created, if any."""
    with named_errors():
        found = list(ctx.conn.block_storage.volumes(details=True, metadata={"stratus_op": str(ctx.op.id)}))
    return found[0] if found else None


def wait_volume(ctx: Context, volume_id: str, *, done: Any, what: Any) -> Any:
    """Wait until `done(volume)`; a volume in an error status fails with Cinder's word for it."""

    def check() -> Any:
        vol = services.find_volume(ctx.conn, volume_id)
        if vol is None:
            raise NotFound(str(_("The volume no longer exists.")), service="volume")
        status = vol.status or ""
        if status.startswith("error"):
            raise _failed(_("%(service)s reports the volume in the %(status)s state."), status=status)
        return vol if done(vol) else None

    return ctx.wait_for(check, what=what, timeout=TIMEOUT)


@operation_handler("volume.create", title=_("Create the volume %(name)s"), label=_("Create volume"), cli=_cli_create)
def create_volume(ctx: Context) -> None:
    p = ctx.params
    result = ctx.op.result or {}
    vol = services.find_volume(ctx.conn, result["volume_id"]) if result.get("volume_id") else None
    if vol is None and result.get("create_sent_at"):
        vol = _made_by(ctx)
        if vol is not None:
            ctx.step(_("Found the volume an earlier attempt created"), progress=10)
    if vol is None:
        attrs: dict[str, Any] = {"name": p["name"], "metadata": {"stratus_op": str(ctx.op.id)}}
        if p.get("size"):
            attrs["size"] = int(p["size"])
        source = p.get("source") or "blank"
        if source == "image":
            attrs["image_id"] = p["image_id"]
        elif source == "snapshot":
            attrs["snapshot_id"] = p["snapshot_id"]
        for key in ("volume_type", "availability_zone", "description"):
            if p.get(key):
                attrs[key] = p[key]
        ctx.set_result(create_sent_at=time.time())  # before the call: a crash mid-call leaves it
        ctx.step(_("Creating the volume"), progress=10)
        try:
            with named_errors():
                vol = ctx.conn.block_storage.create_volume(**attrs)
        except Unavailable:
            raise  # perhaps made: the retry looks for it
        except CloudError:
            ctx.set_result(create_sent_at=None)  # Cinder answered: it made nothing
            raise
    ctx.set_result(volume_id=vol.id)
    ctx.set_target(vol.id, p["name"])
    wait_volume(ctx, vol.id, done=lambda v: v.status == "available", what=_("the volume to become available"))


@operation_handler(
    "volume.extend",
    title=_("Extend the volume %(name)s"),
    label=_("Extend volume"),
    cli=lambda op: services.cli_extend(op.target_id, (op.params or {}).get("new_size", "")),
)
def extend_volume(ctx: Context) -> None:
    new_size = int(ctx.params["new_size"])
    vol = services.find_volume(ctx.conn, ctx.op.target_id)
    if vol is None:
        raise NotFound(str(_("The volume no longer exists.")), service="volume")
    if int(vol.size or 0) >= new_size and vol.status != "extending" and (ctx.op.result or {}).get("extend_sent"):
        ctx.step(_("Already extended"), progress=100)
        return
    if vol.status != "extending":
        ctx.step(_("Extending to %(size)s GiB"), progress=10, size=new_size)
        with named_errors():
            ctx.conn.block_storage.extend_volume(vol, new_size)
        ctx.set_result(extend_sent=True)
    wait_volume(
        ctx,
        vol.id,
        done=lambda v: v.status != "extending" and int(v.size or 0) >= new_size,
        what=_("the volume to be extended"),
    )


@operation_handler(
    "volume.delete",
    title=_("Delete the volume %(name)s"),
    label=_("Delete volume"),
    cli=lambda op: services.cli_delete(op.target_id),
)
def delete_volume(ctx: Context) -> None:
    vol = services.find_volume(ctx.conn, ctx.op.target_id)
    if vol is None:
        ctx.step(_("Already deleted"), progress=100)
        return
    if vol.status != "deleting":
        ctx.step(_("Deleting"), progress=10)
        try:
            with named_errors():
                ctx.conn.block_storage.delete_volume(vol, ignore_missing=False)
        except NotFound:
            return

    def gone() -> bool:
        current = services.find_volume(ctx.conn, vol.id)
        if current is not None and (current.status or "").startswith("error"):
            raise _failed(_("%(service)s reports the volume in the %(status)s state."), status=current.status)
        return current is None

    ctx.wait_for(gone, what=_("the volume to be deleted"), timeout=TIMEOUT)
