"""Server operations run by the Celery worker (dispatched by the instances views).

Each handler looks at the server's current state first and treats "already done" as success, makes the one
call, waits for the end state, and fails with Nova's own fault or message. A launch tags its server
`op-<operation id>` and looks for that tag before creating, so a retried launch never makes a second server.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from openstack import utils as sdk_utils

from apps.cloud.errors import CloudError, Conflict, NotFound, Unavailable, cloud_errors
from apps.cloud.states import image_status_label
from apps.operations.registry import Context, SecretParam, WaitTimeout, operation_handler

BUILD_TIMEOUT = 1800
ACTION_TIMEOUT = 900


class ServerFailed(CloudError):
    """The server went to ERROR (or the action did not take): the message is Nova's fault."""

    status = 500


# --- helpers ---------------------------------------------------------------------------------------------


def find_server(ctx: Context, server_id: str) -> Any:
    """The server, or None when Nova says it does not exist."""
    if not server_id:
        return None
    try:
        with cloud_errors("compute"):
            return ctx.conn.compute.get_server(server_id)
    except NotFound:
        return None


def require_server(ctx: Context) -> Any:
    server = find_server(ctx, ctx.op.target_id)
    if server is None or (server.status or "").upper() == "DELETED":
        raise NotFound(str(_("The instance no longer exists.")), service="compute")
    return server


def fault_message(server: Any) -> str:
    fault = getattr(server, "fault", None) or {}
    return fault.get("message") or str(_("The instance went into the ERROR state."))


def settled(server: Any) -> bool:
    return not getattr(server, "task_state", None)


def wait_status(
    ctx: Context,
    server_id: str,
    statuses: set[str],
    *,
    what: Any,
    timeout: float = ACTION_TIMEOUT,
    on_poll: Callable[[Any], None] | None = None,
) -> Any:
    """Wait until the server is in one of `statuses` with no task running; ERROR fails with Nova's fault."""

    def check() -> Any:
        server = find_server(ctx, server_id)
        if server is None or (server.status or "").upper() == "DELETED":
            raise NotFound(str(_("The instance was deleted while the operation was running.")), service="compute")
        status = (server.status or "").upper()
        if status == "ERROR" and "ERROR" not in statuses:
            raise ServerFailed(fault_message(server), service="compute")
        if on_poll is not None:
            on_poll(server)
        return server if status in statuses and settled(server) else None

    return ctx.wait_for(check, what=what, timeout=timeout)


def act_once(ctx: Context, key: str, call: Callable[[], Any]) -> Any:
    """Make a call that has no "already done" state of its own (reboot, rebuild, resize, snapshot) once:
    the fact that it was made is recorded in the operation's result, so a resumed operation only waits."""
    done = (ctx.op.result or {}).get(key)
    if done:
        return done
    with cloud_errors("compute"):
        value = call()
    ctx.set_result(**{key: value if value is not None else True})
    return value


def simple_action(ctx: Context, *, done_when: set[str], step: Any, call: Callable[[Any], None], what: Any) -> None:
    """Check, act, wait: nothing to do when the server is already there; Nova gives its own reason (409)
    when its state forbids the action."""
    server = require_server(ctx)
    if not settled(server):
        # A task is running on it (perhaps ours, from an attempt a crashed worker made): let it finish first.
        def idle() -> Any:
            current = require_server(ctx)
            return current if settled(current) else None

        server = ctx.wait_for(idle, what=_("the instance's current task to finish"))
    if (server.status or "").upper() in done_when:
        ctx.step(_("Already done; nothing to change"), progress=100)
        return
    ctx.step(step, progress=10)
    with cloud_errors("compute"):
        call(server)
    wait_status(ctx, server.id, done_when, what=what)


def unanswered(exc: Unavailable) -> bool:
    """A create whose answer never came (timeout, connection cut, a gateway's 504): it may have happened."""
    cause = exc.__cause__
    status = getattr(cause, "status_code", None) or getattr(cause, "http_status", None)
    return status is None or status == 504


def unanswered_wait() -> float:
    """How long after a create was sent its server may still appear (the call's timeout, with a margin)."""
    return max(15.0, 3 * float(settings.STRATUS_CLOUD_TIMEOUT))


# --- launch ----------------------------------------------------------------------------------------------


def _networks(value: Any) -> Any:
    if value in (None, "", "auto"):
        return "auto"
    if value == "none":
        return "none"
    if isinstance(value, str):
        value = [value]
    return [{"uuid": net} for net in value]


def launch_attrs(ctx: Context, tag: str, tags_supported: bool) -> dict[str, Any]:
    p = ctx.params
    attrs: dict[str, Any] = {
        "name": p["name"],
        "flavor_id": p["flavor_id"],
        "networks": _networks(p.get("networks")),
    }
    source = p.get("source_type") or "image"
    delete_on_termination = bool(p.get("delete_on_termination", False))
    if source in ("image", "snapshot"):
        attrs["image_id"] = p["image_id"]
    elif source == "image_to_volume":
        attrs["block_device_mapping"] = [
            {
                "boot_index": 0,
                "uuid": p["image_id"],
                "source_type": "image",
                "destination_type": "volume",
                "volume_size": int(p["volume_size"]),
                "delete_on_termination": delete_on_termination,
            }
        ]
    elif source == "volume":
        attrs["block_device_mapping"] = [
            {
                "boot_index": 0,
                "uuid": p["volume_id"],
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": delete_on_termination,
            }
        ]
    else:
        raise ValueError(f"unknown source_type {source!r}")
    groups = [str(g) for g in p.get("security_groups") or []]
    if groups and attrs["networks"] != "none":
        # Ids (names in launches queued before): Nova looks each up in Neutron by name or id.
        attrs["security_groups"] = [{"name": g} for g in groups]
    for key in ("key_name", "availability_zone", "description"):
        if p.get(key):
            attrs[key] = p[key]
    if p.get("user_data"):
        attrs["user_data"] = base64.b64encode(str(p["user_data"]).encode()).decode()
    group = p.get("server_group") or {}
    if isinstance(group, dict) and group.get("id"):
        attrs["scheduler_hints"] = {"group": str(group["id"])}
    metadata = {str(k): str(v) for k, v in (p.get("metadata") or {}).items()}
    if tags_supported:
        attrs["tags"] = [tag]
    else:
        metadata["stratus_op"] = tag  # older clouds: found by name + metadata instead
    if metadata:
        attrs["metadata"] = metadata
    return attrs


def find_launched(ctx: Context, tag: str, tags_supported: bool) -> Any:
    """The server an earlier attempt of this operation created, if any."""
    with cloud_errors("compute"):
        if tags_supported:
            found = list(ctx.conn.compute.servers(details=True, tags=tag))
        else:
            name = "^" + re.escape(ctx.params["name"]) + "$"
            found = [
                s
                for s in ctx.conn.compute.servers(details=True, name=name)
                if (s.metadata or {}).get("stratus_op") == tag
            ]
    found = [s for s in found if (s.status or "").upper() != "DELETED"]
    return found[0] if found else None


def _clean_user_data(value: str) -> str:
    from apps.instances.forms import clean_user_data

    return clean_user_data(value)


# Cloud-init user data may hold passwords and keys (Nova shows it to admins only): sealed on the operation row
# while the launch runs, erased when it ends; a retry asks for it again.
LAUNCH_SECRETS = {
    "user_data": SecretParam(
        label=_("User data"),
        help_text=_("This launch had user data. Stratus erases it when an operation ends, so paste it again to retry."),
        clean=_clean_user_data,
    )
}


@operation_handler("server.launch", title=_("Launch %(name)s"), label=_("Launch"), secret_params=LAUNCH_SECRETS)
def launch_server(ctx: Context) -> None:
    tag = f"op-{ctx.op.id}"
    with cloud_errors("compute"):
        tags_supported = sdk_utils.supports_microversion(ctx.conn.compute, "2.52")
    server = find_server(ctx, ctx.op.target_id) or find_launched(ctx, tag, tags_supported)
    sent_at = (ctx.op.result or {}).get("create_sent_at")
    if server is None and sent_at:
        # An earlier attempt sent a create and never saw the answer (its worker died, or the call timed out):
        # Nova may still be making that server. Look for its tag until that create must have ended.
        remaining = float(sent_at) + unanswered_wait() - time.time()
        if remaining > 0:
            ctx.step(_("Looking for the instance the interrupted attempt may have created"), progress=5)
            try:
                server = ctx.wait_for(
                    lambda: find_launched(ctx, tag, tags_supported),
                    what=_("the instance from the interrupted attempt"),
                    timeout=remaining,
                )
            except WaitTimeout:
                server = None
    if server is None:
        ctx.set_result(create_sent_at=time.time())  # written before the call: a crash mid-call leaves it
        ctx.step(_("Creating the instance"), progress=5)
        try:
            with cloud_errors("compute"):
                server = ctx.conn.compute.create_server(**launch_attrs(ctx, tag, tags_supported))
        except CloudError as exc:
            if not (isinstance(exc, Unavailable) and unanswered(exc)):
                ctx.set_result(create_sent_at=None)  # Nova answered: it made nothing
            raise
    else:
        ctx.step(_("Found the instance an earlier attempt created"), progress=5)
    ctx.set_target(server.id, ctx.params.get("name", ""))

    def progress(s: Any) -> None:
        pct = getattr(s, "progress", None)
        if pct and pct != ctx.op.progress:
            ctx._save(progress=int(pct))

    try:
        wait_status(
            ctx, server.id, {"ACTIVE"}, what=_("the instance to become active"), timeout=BUILD_TIMEOUT, on_poll=progress
        )
    except ServerFailed as exc:
        from apps.servergroups.operations import launch_failure

        raise launch_failure(ctx.params, exc) from exc  # a server group's NoValidHost in plain words


# --- delete, power, pause, suspend -----------------------------------------------------------------------


@operation_handler("server.delete", title=_("Delete %(name)s"), label=_("Delete"))
def delete_server(ctx: Context) -> None:
    server = find_server(ctx, ctx.op.target_id)
    if server is None or (server.status or "").upper() == "DELETED":
        ctx.step(_("Already deleted"), progress=100)
        return
    if getattr(server, "task_state", None) != "deleting":
        ctx.step(_("Deleting"), progress=10)
        try:
            with cloud_errors("compute"):
                ctx.conn.compute.delete_server(server)
        except NotFound:
            return

    def gone() -> bool:
        s = find_server(ctx, server.id)
        if s is not None and (s.status or "").upper() == "ERROR" and getattr(s, "task_state", None) is None:
            raise ServerFailed(fault_message(s), service="compute")
        return s is None or (s.status or "").upper() == "DELETED"

    ctx.wait_for(gone, what=_("the instance to be deleted"), timeout=ACTION_TIMEOUT)


@operation_handler("server.start", title=_("Start %(name)s"), label=_("Start"))
def start_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Starting"),
        call=lambda s: ctx.conn.compute.start_server(s),
        what=_("the instance to start"),
    )


@operation_handler("server.stop", title=_("Stop %(name)s"), label=_("Stop"))
def stop_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"SHUTOFF"},
        step=_("Stopping"),
        call=lambda s: ctx.conn.compute.stop_server(s),
        what=_("the instance to stop"),
    )


@operation_handler("server.pause", title=_("Pause %(name)s"), label=_("Pause"))
def pause_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"PAUSED"},
        step=_("Pausing"),
        call=lambda s: ctx.conn.compute.pause_server(s),
        what=_("the instance to pause"),
    )


@operation_handler("server.unpause", title=_("Unpause %(name)s"), label=_("Unpause"))
def unpause_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Unpausing"),
        call=lambda s: ctx.conn.compute.unpause_server(s),
        what=_("the instance to run again"),
    )


@operation_handler("server.suspend", title=_("Suspend %(name)s"), label=_("Suspend"))
def suspend_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"SUSPENDED"},
        step=_("Suspending"),
        call=lambda s: ctx.conn.compute.suspend_server(s),
        what=_("the instance to suspend"),
    )


@operation_handler("server.resume", title=_("Resume %(name)s"), label=_("Resume"))
def resume_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Resuming"),
        call=lambda s: ctx.conn.compute.resume_server(s),
        what=_("the instance to resume"),
    )


@operation_handler("server.reboot", title=_("Reboot %(name)s"), label=_("Reboot"))
def reboot_server(ctx: Context) -> None:
    server = require_server(ctx)
    hard = bool(ctx.params.get("hard"))
    ctx.step(_("Rebooting (hard)") if hard else _("Rebooting"), progress=10)
    act_once(ctx, "reboot_requested", lambda: ctx.conn.compute.reboot_server(server, "HARD" if hard else "SOFT"))
    wait_status(ctx, server.id, {"ACTIVE"}, what=_("the instance to come back"))


# --- lock, rename ----------------------------------------------------------------------------------------


@operation_handler("server.lock", title=_("Lock %(name)s"), label=_("Lock"))
def lock_server(ctx: Context) -> None:
    server = require_server(ctx)
    if server.is_locked:
        ctx.step(_("Already locked"), progress=100)
        return
    reason = (ctx.params.get("reason") or "").strip()
    ctx.step(_("Locking"), progress=20)
    with cloud_errors("compute"):
        if reason and sdk_utils.supports_microversion(ctx.conn.compute, "2.73"):
            ctx.conn.compute.lock_server(server, locked_reason=reason[:255])
        else:
            ctx.conn.compute.lock_server(server)
    ctx.wait_for(lambda: require_server(ctx).is_locked, what=_("the instance to be locked"), timeout=60)


@operation_handler("server.unlock", title=_("Unlock %(name)s"), label=_("Unlock"))
def unlock_server(ctx: Context) -> None:
    server = require_server(ctx)
    if not server.is_locked:
        ctx.step(_("Already unlocked"), progress=100)
        return
    ctx.step(_("Unlocking"), progress=20)
    with cloud_errors("compute"):
        ctx.conn.compute.unlock_server(server)
    ctx.wait_for(lambda: not require_server(ctx).is_locked, what=_("the instance to be unlocked"), timeout=60)


@operation_handler("server.rename", title=_("Rename %(name)s"), label=_("Rename"))
def rename_server(ctx: Context) -> None:
    server = require_server(ctx)
    new_name = ctx.params["name"]
    if server.name != new_name:
        ctx.step(_("Renaming to %(new)s"), progress=20, new=new_name)
        with cloud_errors("compute"):
            ctx.conn.compute.update_server(server, name=new_name)
    ctx.set_result(old_name=server.name, name=new_name)


# --- resize, rebuild, snapshot ---------------------------------------------------------------------------


@operation_handler("server.resize", title=_("Resize %(name)s"), label=_("Resize"))
def resize_server(ctx: Context) -> None:
    server = require_server(ctx)
    if (server.status or "").upper() == "VERIFY_RESIZE" and settled(server):
        ctx.step(_("Already resized; waiting for confirmation"), progress=100)
        return
    ctx.step(_("Resizing"), progress=10)
    act_once(ctx, "resize_requested", lambda: ctx.conn.compute.resize_server(server, ctx.params["flavor_id"]))
    seen: dict[str, bool] = {"moving": False}

    def watch(s: Any) -> None:
        status = (s.status or "").upper()
        if status != "ACTIVE" or not settled(s):
            seen["moving"] = True
        elif seen["moving"]:
            raise ServerFailed(
                str(_("Nova did not resize the instance; it is active again as it was. See its action log.")),
                service="compute",
            )

    wait_status(ctx, server.id, {"VERIFY_RESIZE"}, what=_("the resize to finish"), on_poll=watch)


@operation_handler("server.confirm_resize", title=_("Confirm the resize of %(name)s"), label=_("Confirm resize"))
def confirm_resize(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Confirming the resize"),
        call=lambda s: ctx.conn.compute.confirm_server_resize(s),
        what=_("the instance to be active"),
    )


@operation_handler("server.revert_resize", title=_("Revert the resize of %(name)s"), label=_("Revert resize"))
def revert_resize(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Reverting the resize"),
        call=lambda s: ctx.conn.compute.revert_server_resize(s),
        what=_("the instance to be active"),
    )


@operation_handler("server.rebuild", title=_("Rebuild %(name)s"), label=_("Rebuild"))
def rebuild_server(ctx: Context) -> None:
    server = require_server(ctx)
    ctx.step(_("Rebuilding"), progress=10)
    act_once(ctx, "rebuild_requested", lambda: ctx.conn.compute.rebuild_server(server, ctx.params["image_id"]))
    wait_status(ctx, server.id, {"ACTIVE"}, what=_("the rebuild to finish"), timeout=BUILD_TIMEOUT)


@operation_handler("server.snapshot", title=_("Snapshot %(name)s"), label=pgettext_lazy("operation", "Snapshot"))
def snapshot_server(ctx: Context) -> None:
    server = require_server(ctx)
    name = ctx.params["name"]
    image_id = (ctx.op.result or {}).get("image_id")
    if not image_id:
        ctx.step(_("Creating the snapshot %(snapshot)s"), progress=10, snapshot=name)
        with cloud_errors("compute"):
            image_id = server.create_image(ctx.conn.compute, name, {"stratus_op": str(ctx.op.id)})
        ctx.set_result(image_id=image_id)

    outcome: dict[str, bool] = {}

    def image_active() -> bool:
        try:
            with cloud_errors("image"):
                image = ctx.conn.image.get_image(image_id)
        except NotFound:
            # Gone before this worker saw it active (a person may delete it as soon as the list shows it): what
            # Nova recorded of the snapshot says whether it was saved.
            outcome["gone"] = True
            return snapshot_saved(ctx, server.id)
        status = (image.status or "").lower()
        if status in ("killed", "deleted", "pending_delete"):
            said = image_status_label(status)
            raise ServerFailed(
                str(_("The snapshot failed: Glance reports it as %(status)s.") % {"status": said}), service="image"
            )
        return status == "active"

    ctx.wait_for(image_active, what=_("the snapshot image to become active"), timeout=BUILD_TIMEOUT)
    if outcome.get("gone"):
        ctx.step(_("Nova saved the snapshot; it has been deleted since"), progress=100)


def snapshot_saved(ctx: Context, server_id: str) -> bool:
    """Whether Nova's last createImage action on the server finished well (True), is still running (False), or
    failed (ServerFailed). Its events are Nova's own record (os-instance-actions, microversion ≥ 2.51 for members).
    """
    with cloud_errors("compute"):
        actions = [a for a in ctx.conn.compute.server_actions(server_id) if a.action == "createImage"]
    if not actions:
        raise ServerFailed(str(_("The snapshot image was deleted before it was saved.")), service="image")
    latest = max(actions, key=lambda a: a.start_time or "")
    with cloud_errors("compute"):
        detail = ctx.conn.compute.get_server_action(latest.request_id, server_id)
    if detail is None:  # listed, then gone (openstacksdk answers None for a missing action by default)
        said = _("The snapshot image was deleted and Nova no longer shows its record: it may not have been saved.")
        raise ServerFailed(str(said), service="compute")
    events = list(detail.events or [])

    def field(event: Any, name: str) -> str:
        value = event.get(name) if isinstance(event, dict) else getattr(event, name, "")
        return str(value or "")

    if detail.message or any(field(e, "result").lower() == "error" for e in events):
        raise ServerFailed(
            str(_("The snapshot failed: %(message)s") % {"message": detail.message or "createImage"}),
            service="compute",
        )
    if not events:  # a cloud that shows no events: the snapshot is over when the server has no task left
        current = find_server(ctx, server_id)
        return current is None or settled(current)
    return all(field(e, "finish_time") and field(e, "result").lower() == "success" for e in events)


# --- interfaces and floating IPs (Nova's os-interface; Neutron through apps/networks/services.py) ---------------


def _interfaces(ctx: Context, server_id: str) -> list[Any]:
    from apps.networks.services import neutron_errors

    with neutron_errors("compute"):
        return list(ctx.conn.compute.server_interfaces(server_id))


@operation_handler("server.attach_interface", title=_("Attach an interface to %(name)s"), label=_("Attach interface"))
def attach_interface(ctx: Context) -> None:
    """Nova's os-interface attach, of a network (a new port) or of an existing free port. A retry after an attach
    whose answer never came finds the port that attach made (a port on that network the server did not have)."""
    from apps.networks import services as network_services

    server = require_server(ctx)
    port_id, net_id = ctx.params.get("port_id") or "", ctx.params.get("net_id") or ""
    fixed_ip = ctx.params.get("fixed_ip") or ""
    current = _interfaces(ctx, server.id)
    before = (ctx.op.result or {}).get("ports_before")
    if port_id and any(i.port_id == port_id for i in current):
        ctx.step(_("Already attached"), progress=100)
        return
    if net_id and before is not None:
        made = [i for i in current if i.net_id == net_id and i.port_id not in before]
        if made:
            ctx.step(_("Found the interface an earlier attempt attached"), progress=90)
            ctx.set_result(port_id=made[0].port_id)
            return
    if port_id:
        port = network_services.find_port(ctx.conn, port_id)
        if port is not None and port.device_id:
            raise Conflict(
                str(_("Networking (Neutron): the port %(port)s is in use by another device.")) % {"port": port_id},
                service="network",
            )
    if net_id and fixed_ip and network_services.ports_with_ip(ctx.conn, network_id=net_id, ip_address=fixed_ip):
        raise Conflict(
            str(_("Networking (Neutron): the IP address %(ip)s is already in use on that network.")) % {"ip": fixed_ip},
            service="network",
        )
    ctx.set_result(ports_before=[i.port_id for i in current])
    ctx.step(_("Attaching the interface"), progress=20)
    attrs: dict[str, Any] = {"port_id": port_id} if port_id else {"net_id": net_id}
    if net_id and fixed_ip:
        attrs["fixed_ips"] = [{"ip_address": fixed_ip}]
    with network_services.neutron_errors("compute"):
        attached = ctx.conn.compute.create_server_interface(server, **attrs)
    ctx.set_result(port_id=attached.port_id)
    ctx.wait_for(
        lambda: any(i.port_id == attached.port_id for i in _interfaces(ctx, server.id)),
        what=_("the interface to be attached"),
        timeout=ACTION_TIMEOUT,
    )


@operation_handler("server.detach_interface", title=_("Detach an interface from %(name)s"), label=_("Detach interface"))
def detach_interface(ctx: Context) -> None:
    """Nova detaches in the background (202): the operation waits until the port is no longer listed."""
    from apps.networks.services import neutron_errors

    server = require_server(ctx)
    port_id = ctx.params["port_id"]
    if not any(i.port_id == port_id for i in _interfaces(ctx, server.id)):
        ctx.step(_("Already detached"), progress=100)
        return
    ctx.step(_("Detaching the interface"), progress=20)
    try:
        with neutron_errors("compute"):
            ctx.conn.compute.delete_server_interface(port_id, server=server)
    except NotFound:
        return
    ctx.wait_for(
        lambda: not any(i.port_id == port_id for i in _interfaces(ctx, server.id)),
        what=_("the interface to be detached"),
        timeout=ACTION_TIMEOUT,
    )


@operation_handler(
    "server.add_floating_ip", title=_("Associate a floating IP with %(name)s"), label=_("Associate floating IP")
)
def add_floating_ip(ctx: Context) -> None:
    """A free floating IP of the project (`floating_ip_id`), or a new one allocated from `network_id` and associated
    in the same Neutron call, to one of the server's ports (and fixed IP). A fixed IP holds one floating IP per
    external network, so a retry that finds one there is done."""
    from apps.networks import services as network_services

    server = require_server(ctx)
    port_id, fixed_ip = ctx.params["port_id"], ctx.params.get("fixed_ip") or ""
    on_port = network_services.floating_ips_of_port(ctx.conn, port_id)
    fip_id = ctx.params.get("floating_ip_id") or ""
    done = [f for f in on_port if (not fixed_ip or f.fixed_ip_address == fixed_ip) and (not fip_id or f.id == fip_id)]
    if fip_id and not done:
        fip = network_services.find_floating_ip(ctx.conn, fip_id)
        if fip is None:
            raise NotFound(str(_("The floating IP no longer exists.")), service="network")
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
            server=server.name,
        )
        fip = network_services.set_floating_ip_port(ctx.conn, fip, port_id=port_id, fixed_ip=fixed_ip)
    elif not done:
        network = ctx.params.get("network_name") or ctx.params["network_id"]
        ctx.step(
            _("Allocating a floating IP from %(network)s for %(server)s"),
            progress=20,
            network=network,
            server=server.name,
        )
        fip = network_services.create_floating_ip(
            ctx.conn, network_id=ctx.params["network_id"], port_id=port_id, fixed_ip=fixed_ip
        )
    else:
        fip = done[0]
        ctx.step(_("Already associated"), progress=50)
    ctx.set_result(floating_ip_id=fip.id, floating_ip=fip.floating_ip_address)
    network_services.wait_wired(ctx, fip.id, associated=True)


@operation_handler(
    "server.remove_floating_ip",
    title=_("Disassociate a floating IP from %(name)s"),
    label=_("Disassociate floating IP"),
)
def remove_floating_ip(ctx: Context) -> None:
    """Disassociate the floating IP from the server's port; with `release`, delete it afterwards."""
    from apps.networks import services as network_services

    fip_id, release = ctx.params["floating_ip_id"], bool(ctx.params.get("release"))
    fip = network_services.find_floating_ip(ctx.conn, fip_id)
    if fip is None:
        ctx.step(_("Already released") if release else _("The floating IP no longer exists"), progress=100)
        return
    if fip.port_id:
        ctx.step(_("Disassociating %(address)s"), progress=20, address=fip.floating_ip_address)
        network_services.set_floating_ip_port(ctx.conn, fip, port_id=None)
    if release:
        ctx.step(_("Releasing %(address)s"), progress=70, address=fip.floating_ip_address)
        network_services.delete_floating_ip(ctx.conn, fip.id)
        return
    network_services.wait_wired(ctx, fip.id, associated=False)


# --- security groups (Nova's addSecurityGroup/removeSecurityGroup; the groups live on the server's Neutron ports) --


def _ports_with_group(ctx: Context, server_id: str, group_id: str) -> tuple[int, int]:
    """(how many of the server's ports have the group, how many ports it has): Neutron's view, which Nova's actions
    change on every port at once."""
    from apps.networks import services as network_services

    ports = network_services.ports_of_device(ctx.conn, server_id)
    return sum(1 for p in ports if group_id in (p.security_group_ids or [])), len(ports)


def _group_cli(verb: str) -> Callable[[Any], str]:
    def command(op: Any) -> str:
        from apps.instances.cli import security_group_command

        return security_group_command(verb, op.target_id or "<server>", op.params.get("group_ref") or "<group>")

    return command


@operation_handler(
    "server.add_security_group",
    title=_("Add a security group to %(name)s"),
    label=_("Add security group"),
    cli=_group_cli("add"),
)
def add_security_group(ctx: Context) -> None:
    """By id (Nova takes a name or an id; two of the project's groups may share a name, and Nova refuses that name)."""
    from apps.networks.services import neutron_errors

    server = require_server(ctx)
    group_id, group = ctx.params["group_id"], ctx.params.get("group_name") or ctx.params["group_id"]
    have, ports = _ports_with_group(ctx, server.id, group_id)
    if ports and have == ports:
        ctx.step(_("The instance has the group %(group)s already"), progress=100, group=group)
        return
    ctx.step(_("Adding the security group %(group)s"), progress=20, group=group)
    with neutron_errors("compute"):
        ctx.conn.compute.add_security_group_to_server(server, group_id)

    def on_every_port() -> bool:
        have, ports = _ports_with_group(ctx, server.id, group_id)
        return have == ports

    ctx.wait_for(on_every_port, what=_("the group to be on the instance's ports"), timeout=120)


@operation_handler(
    "server.remove_security_group",
    title=_("Remove a security group from %(name)s"),
    label=_("Remove security group"),
    cli=_group_cli("remove"),
)
def remove_security_group(ctx: Context) -> None:
    from apps.networks.services import neutron_errors

    server = require_server(ctx)
    group_id, group = ctx.params["group_id"], ctx.params.get("group_name") or ctx.params["group_id"]
    if _ports_with_group(ctx, server.id, group_id)[0] == 0:
        ctx.step(_("The instance does not have the group %(group)s"), progress=100, group=group)
        return
    ctx.step(_("Removing the security group %(group)s"), progress=20, group=group)
    with neutron_errors("compute"):
        ctx.conn.compute.remove_security_group_from_server(server, group_id)
    ctx.wait_for(
        lambda: _ports_with_group(ctx, server.id, group_id)[0] == 0,
        what=_("the group to leave the instance's ports"),
        timeout=120,
    )


# --- volumes (Nova's os-volume_attachments; Cinder through apps/volumes/services.py) ----------------------------------


def _attached_volume_ids(ctx: Context, server_id: str) -> set[str]:
    from apps.volumes.services import named_errors

    with named_errors("compute"):
        return {a.volume_id for a in ctx.conn.compute.volume_attachments(server_id)}


def _volume_cli(verb: str) -> Callable[[Any], str]:
    def command(op: Any) -> str:
        from apps.volumes import services as volume_services

        p, server = op.params or {}, op.target_id or "<server>"
        if verb == "add":
            return volume_services.cli_attach(server, p.get("volume_id", ""), p.get("device", ""))
        return volume_services.cli_detach(server, p.get("volume_id", "<volume>"))

    return command


@operation_handler(
    "server.attach_volume",
    title=_("Attach a volume to %(name)s"),
    label=_("Attach volume"),
    cli=_volume_cli("add"),
)
def attach_volume(ctx: Context) -> None:
    """Nova's attach (Cinder's volume: reserved → attaching → in-use); done when Cinder shows the volume in use by
    this server. A volume Nova already lists on the server is attached already (the retry of a lost answer)."""
    from apps.volumes import services as volume_services
    from apps.volumes.operations import wait_volume

    server = require_server(ctx)
    volume_id, device = ctx.params["volume_id"], ctx.params.get("device") or ""
    label = ctx.params.get("volume_name") or volume_id
    if volume_id in _attached_volume_ids(ctx, server.id):
        ctx.step(_("Nova has the volume on the instance already"), progress=50)
    else:
        ctx.step(_("Attaching the volume %(volume)s"), progress=20, volume=label)
        attrs: dict[str, Any] = {"volume_id": volume_id}
        if device:
            attrs["device"] = device
        with volume_services.named_errors("compute"):
            ctx.conn.compute.create_volume_attachment(server, **attrs)
    wait_volume(
        ctx,
        volume_id,
        done=lambda v: v.status == "in-use" and volume_services.attached_to(v, server.id),
        what=_("the volume to be in use"),
    )


@operation_handler(
    "server.detach_volume",
    title=_("Detach a volume from %(name)s"),
    label=_("Detach volume"),
    cli=_volume_cli("remove"),
)
def detach_volume(ctx: Context) -> None:
    """Nova detaches in the background (202): done when Nova no longer lists the volume and Cinder no longer shows
    it attached to this server. Nova refuses the root volume of a server booted from a volume (400)."""
    from apps.volumes import services as volume_services

    server = require_server(ctx)
    volume_id = ctx.params["volume_id"]
    label = ctx.params.get("volume_name") or volume_id
    if volume_id not in _attached_volume_ids(ctx, server.id):
        ctx.step(_("Already detached"), progress=100)
        return
    ctx.step(_("Detaching the volume %(volume)s"), progress=20, volume=label)
    try:
        with volume_services.named_errors("compute"):
            ctx.conn.compute.delete_volume_attachment(server, volume_id)
    except NotFound:
        return

    def detached() -> bool:
        if volume_id in _attached_volume_ids(ctx, server.id):
            return False
        vol = volume_services.find_volume(ctx.conn, volume_id)
        return vol is None or (vol.status != "detaching" and not volume_services.attached_to(vol, server.id))

    ctx.wait_for(detached, what=_("the volume to be detached"), timeout=ACTION_TIMEOUT)


# --- shelve, rescue, backup ------------------------------------------------------------------------------------

# A shelved server whose cloud offloads it at once (Nova's shelved_offload_time 0, the default) ends SHELVED_OFFLOADED;
# elsewhere it stays SHELVED (on its host) until the offload time passes: both are the end of a shelve.
SHELVED = {"SHELVED", "SHELVED_OFFLOADED"}


@operation_handler("server.shelve", title=_("Shelve %(name)s"), label=_("Shelve"))
def shelve_server(ctx: Context) -> None:
    """Asked of Nova even when the server looks shelved already: the person asked to shelve what they saw, and a
    server shelved meanwhile (by another tab, another person) gets Nova's own refusal on the operation. A resumed
    operation whose call was made only waits."""
    server = require_server(ctx)
    ctx.step(_("Shelving"), progress=10)
    act_once(ctx, "shelve_requested", lambda: ctx.conn.compute.shelve_server(server))
    wait_status(ctx, server.id, SHELVED, what=_("the instance to be shelved"))


@operation_handler("server.shelve_offload", title=_("Offload %(name)s"), label=_("Shelve offload"))
def shelve_offload_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"SHELVED_OFFLOADED"},
        step=_("Offloading the shelved instance"),
        call=lambda s: ctx.conn.compute.shelve_offload_server(s),
        what=_("the instance to be offloaded"),
    )


@operation_handler("server.unshelve", title=_("Unshelve %(name)s"), label=_("Unshelve"))
def unshelve_server(ctx: Context) -> None:
    """Into an availability zone when one was chosen (Nova takes it from microversion 2.77)."""
    zone = (ctx.params.get("availability_zone") or "").strip()

    def call(server: Any) -> None:
        if zone:
            if not sdk_utils.supports_microversion(ctx.conn.compute, "2.77"):
                raise Conflict(
                    str(_("This cloud's Compute (Nova) cannot unshelve into a chosen zone (microversion 2.77).")),
                    service="compute",
                )
            ctx.conn.compute.unshelve_server(server, availability_zone=zone)
        else:
            ctx.conn.compute.unshelve_server(server)

    simple_action(ctx, done_when={"ACTIVE"}, step=_("Unshelving"), call=call, what=_("the instance to be active"))


def _rescue_call(ctx: Context, server: Any) -> dict[str, Any]:
    """Nova's rescue answers the rescue mode's admin password ({"adminPass": …}) unless the cloud is configured
    not to ([api] enable_instance_password = False): kept sealed on the operation's result until its owner has
    seen it once (apps/instances/services.take_rescue_password)."""
    from dashboard import sealing

    body: dict[str, Any] = {}
    if ctx.params.get("image_id"):
        body["rescue_image_ref"] = ctx.params["image_id"]
    response = server._action(ctx.conn.compute, {"rescue": body})
    try:
        password = (response.json() or {}).get("adminPass")
    except ValueError:
        password = None
    return {"admin_pass_sealed": sealing.seal(str(password))} if password else {"no_password": True}


@operation_handler("server.rescue", title=_("Rescue %(name)s"), label=_("Rescue"))
def rescue_server(ctx: Context) -> None:
    server = require_server(ctx)
    if (server.status or "").upper() == "RESCUE" and not (ctx.op.result or {}).get("rescue_requested"):
        ctx.step(_("Already in rescue mode"), progress=100)
        return
    ctx.step(_("Starting the rescue mode"), progress=10)
    done = (ctx.op.result or {}).get("rescue_requested")
    if not done:
        with cloud_errors("compute"):
            answer = _rescue_call(ctx, server)
        ctx.set_result(rescue_requested=True, **answer)
    wait_status(ctx, server.id, {"RESCUE"}, what=_("the instance to be in rescue mode"))


@operation_handler("server.unrescue", title=_("Unrescue %(name)s"), label=_("Unrescue"))
def unrescue_server(ctx: Context) -> None:
    simple_action(
        ctx,
        done_when={"ACTIVE"},
        step=_("Leaving the rescue mode"),
        call=lambda s: ctx.conn.compute.unrescue_server(s),
        what=_("the instance to be active"),
    )


@operation_handler("server.backup", title=_("Back up %(name)s"), label=_("Back up"))
def backup_server(ctx: Context) -> None:
    """Nova's createBackup: a snapshot image with image_type=backup and backup_type; Nova then deletes this server's
    oldest backups of that type beyond `rotation`."""
    server = require_server(ctx)
    name = ctx.params["name"]
    image_id: str = str((ctx.op.result or {}).get("image_id") or "")
    if not image_id:
        ctx.step(_("Creating the backup %(backup)s"), progress=10, backup=name)
        with cloud_errors("compute"):
            made = ctx.conn.compute.backup_server(
                server, name, ctx.params.get("backup_type") or "daily", int(ctx.params.get("rotation") or 1)
            )
        image_id = str(getattr(made, "id", made) or "")  # the image's id (openstacksdk may give the Image)
        ctx.set_result(image_id=image_id)

    def saved() -> bool:
        if not image_id:  # a cloud answering without the image's id (before 2.45, no Location): the task says
            return settled(require_server(ctx))
        try:
            with cloud_errors("image"):
                image = ctx.conn.image.get_image(image_id)
        except NotFound:  # rotated away at once (rotation 0) or deleted: what Nova recorded says how it went
            return snapshot_saved_as(ctx, server.id, "createBackup")
        status = (image.status or "").lower()
        if status in ("killed", "deleted", "pending_delete"):
            said = image_status_label(status)
            raise ServerFailed(
                str(_("The backup failed: Glance reports it as %(status)s.") % {"status": said}), service="image"
            )
        return status == "active" and settled(require_server(ctx))

    ctx.wait_for(saved, what=_("the backup image to become active"), timeout=BUILD_TIMEOUT)


def snapshot_saved_as(ctx: Context, server_id: str, action: str) -> bool:
    """Whether Nova's last `action` on the server has finished well (its instance-action record)."""
    with cloud_errors("compute"):
        actions = [a for a in ctx.conn.compute.server_actions(server_id) if a.action == action]
    if not actions:
        return settled(require_server(ctx))
    latest = max(actions, key=lambda a: a.start_time or "")
    if latest.message:
        raise ServerFailed(str(latest.message), service="compute")
    return settled(require_server(ctx))


# --- metadata and tags (Nova's per-key endpoints: a change never overwrites another person's change to another key) --

TAGS_MICROVERSION = "2.26"


def _nova_write(ctx: Context, method: str, path: str, *, body: Any = None, microversion: str | None = None) -> None:
    """One write to Nova at `path` (the key or tag quoted by the caller): openstacksdk's metadata and tag helpers put
    the key into the URL as it is, which a key with a space or a tag with '?' would break. Nova's refusals (the
    metadata_items quota, a state that forbids it) fail the operation naming Compute (Nova)."""
    from openstack import exceptions as sdk_exceptions

    from apps.volumes.services import named_errors

    with named_errors("compute"):
        kwargs: dict[str, Any] = {"microversion": microversion, "raise_exc": False}
        if body is not None:
            kwargs["json"] = body
        response = getattr(ctx.conn.compute, method)(path, **kwargs)
        sdk_exceptions.raise_from_response(response)


def _server_path(server_id: str, *parts: str) -> str:
    from urllib.parse import quote

    return "/".join([f"/servers/{server_id}", *(quote(p, safe="") for p in parts)])


def _metadata_cli(verb: str) -> Callable[[Any], str]:
    def command(op: Any) -> str:
        from apps.instances.cli import metadata_command

        p = op.params or {}
        return metadata_command(verb, op.target_id or "<server>", p.get("key", ""), p.get("value", ""))

    return command


def _tag_cli(verb: str) -> Callable[[Any], str]:
    def command(op: Any) -> str:
        from apps.instances.cli import tag_command

        return tag_command(verb, op.target_id or "<server>", (op.params or {}).get("tag", ""))

    return command


@operation_handler(
    "server.set_metadata",
    title=_("Set metadata on %(name)s"),
    label=_("Set metadata"),
    cli=_metadata_cli("set"),
)
def set_metadata(ctx: Context) -> None:
    """Nova's `PUT /servers/{id}/metadata/{key}`: that one key, created or given its new value."""
    server = require_server(ctx)
    key, value = str(ctx.params["key"]), str(ctx.params.get("value", ""))
    if (server.metadata or {}).get(key) == value:
        ctx.step(_("The instance has %(key)s = %(value)s already"), progress=100, key=key, value=value)
        return
    ctx.step(_("Setting %(key)s"), progress=30, key=key)
    _nova_write(ctx, "put", _server_path(server.id, "metadata", key), body={"meta": {key: value}})


@operation_handler(
    "server.delete_metadata",
    title=_("Remove metadata from %(name)s"),
    label=_("Remove metadata"),
    cli=_metadata_cli("unset"),
)
def delete_metadata(ctx: Context) -> None:
    """Nova's `DELETE /servers/{id}/metadata/{key}`."""
    server = require_server(ctx)
    key = str(ctx.params["key"])
    if key not in (server.metadata or {}):
        ctx.step(_("The instance has no metadata %(key)s"), progress=100, key=key)
        return
    ctx.step(_("Removing %(key)s"), progress=30, key=key)
    try:
        _nova_write(ctx, "delete", _server_path(server.id, "metadata", key))
    except NotFound:
        return


def _require_tags(ctx: Context) -> None:
    with cloud_errors("compute"):
        supported = sdk_utils.supports_microversion(ctx.conn.compute, TAGS_MICROVERSION)
    if not supported:
        raise Conflict(
            str(_("This cloud's Compute (Nova) has no server tags: they need microversion 2.26.")), service="compute"
        )


@operation_handler("server.add_tag", title=_("Tag %(name)s"), label=_("Add tag"), cli=_tag_cli("set"))
def add_tag(ctx: Context) -> None:
    """Nova's `PUT /servers/{id}/tags/{tag}` (2.26+): 201 added, 204 there already."""
    from apps.instances.selectors import forget_tag_suggestions

    _require_tags(ctx)
    server = require_server(ctx)
    tag = str(ctx.params["tag"])
    if tag in (server.tags or []):
        ctx.step(_("The instance has the tag %(tag)s already"), progress=100, tag=tag)
        return
    ctx.step(_("Adding the tag %(tag)s"), progress=30, tag=tag)
    _nova_write(ctx, "put", _server_path(server.id, "tags", tag), microversion=TAGS_MICROVERSION)
    forget_tag_suggestions(ctx.op.project_id)


@operation_handler("server.remove_tag", title=_("Untag %(name)s"), label=_("Remove tag"), cli=_tag_cli("unset"))
def remove_tag(ctx: Context) -> None:
    """Nova's `DELETE /servers/{id}/tags/{tag}` (2.26+). Never Stratus' own bookkeeping tag (`op-<operation id>`)."""
    from apps.instances.selectors import forget_tag_suggestions, is_stratus_tag

    tag = str(ctx.params["tag"])
    if is_stratus_tag(tag):
        raise Conflict(str(_("That tag is Stratus' own record of the launch; it is not removed.")), service="compute")
    _require_tags(ctx)
    server = require_server(ctx)
    if tag not in (server.tags or []):
        ctx.step(_("The instance does not have the tag %(tag)s"), progress=100, tag=tag)
        return
    ctx.step(_("Removing the tag %(tag)s"), progress=30, tag=tag)
    try:
        _nova_write(ctx, "delete", _server_path(server.id, "tags", tag), microversion=TAGS_MICROVERSION)
    except NotFound:
        return
    forget_tag_suggestions(ctx.op.project_id)
