"""Operation handlers for compute services: disable (with a reason) and enable. Run by the Celery worker."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.cloud.errors import cloud_errors
from apps.hypervisors import selectors
from apps.operations.registry import Context, operation_handler

BINARY = "nova-compute"


def _current(ctx: Context) -> selectors.ComputeService:
    # By host: the page may have shown an integer id (compute API pinned below 2.53); the writes need the UUID.
    return selectors.service_on_host(creds=ctx.creds, host=ctx.op.target_name, binary=BINARY)


@operation_handler("service.disable", title=_("Disable the compute service on %(name)s"))
def disable_service(ctx: Context) -> None:
    reason = (ctx.params.get("reason") or "").strip()
    service = _current(ctx)
    if service.status == "disabled" and service.disabled_reason == reason:
        return  # already done
    ctx.step(_("Disabling the compute service on %(host)s"), host=service.host)
    with cloud_errors("compute"):
        ctx.conn.compute.disable_service(
            service.id, host=service.host, binary=service.binary or BINARY, disabled_reason=reason or None
        )
    ctx.wait_for(lambda: _current(ctx).status == "disabled", what=_("the service to be disabled"), timeout=60)


@operation_handler("service.enable", title=_("Enable the compute service on %(name)s"))
def enable_service(ctx: Context) -> None:
    service = _current(ctx)
    if service.status == "enabled":
        return  # already done
    ctx.step(_("Enabling the compute service on %(host)s"), host=service.host)
    with cloud_errors("compute"):
        ctx.conn.compute.enable_service(service.id, host=service.host, binary=service.binary or BINARY)
    ctx.wait_for(lambda: _current(ctx).status == "enabled", what=_("the service to be enabled"), timeout=60)
