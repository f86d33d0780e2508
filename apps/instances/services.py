"""Writes for the instances pages: every change to a server is an operation run by a worker.

Views call these functions; they validate what can be validated here (quota for a launch), then dispatch one
operation per server. `DispatchError` (Redis down; re-exported here) and `QuotaExceeded` are the expected failures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from apps.cloud.connection import Credentials
from apps.instances import launch
from apps.operations.services import DispatchError, dispatch, dispatch_many

__all__ = ["DispatchError", "QuotaExceeded", "bulk_action", "launch_servers", "server_action"]

# How long the list keeps polling after an action was dispatched, even when no row looks busy yet (the worker
# may not have called Nova yet).
WATCH_SECONDS = 45

# action name → (operation kind, params builder)
SIMPLE_ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "start": ("server.start", {}),
    "stop": ("server.stop", {}),
    "reboot_soft": ("server.reboot", {"hard": False}),
    "reboot_hard": ("server.reboot", {"hard": True}),
    "pause": ("server.pause", {}),
    "unpause": ("server.unpause", {}),
    "suspend": ("server.suspend", {}),
    "resume": ("server.resume", {}),
    "unlock": ("server.unlock", {}),
    "delete": ("server.delete", {}),
    "confirm_resize": ("server.confirm_resize", {}),
    "revert_resize": ("server.revert_resize", {}),
    "shelve": ("server.shelve", {}),
    "unshelve": ("server.unshelve", {}),
    "shelve_offload": ("server.shelve_offload", {}),
    "unrescue": ("server.unrescue", {}),
}


class QuotaExceeded(Exception):
    """The launch would go over the project's quota; `message` is in Nova's words."""

    def __init__(self, message: str, field: str = "count") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def server_action(
    *, creds: Credentials, server_id: str, server_name: str, action: str, params: dict[str, Any] | None = None
) -> Any:
    """Dispatch one action on one server. `action` is a key of SIMPLE_ACTIONS or lock/rename/resize/rebuild/snapshot."""
    if action in SIMPLE_ACTIONS:
        kind, base = SIMPLE_ACTIONS[action]
        merged = {**base, **(params or {})}
    else:
        kind, merged = f"server.{action}", dict(params or {})
    return dispatch(
        creds=creds,
        kind=kind,
        target_type="server",
        target_id=server_id,
        target_name=server_name,
        params=merged,
    )


def check_launch_quota(
    *, quota: launch.Quota, count: int, vcpus: int, ram: int, ports: tuple[Any, int] = (None, 0)
) -> None:
    """Refuse a launch that Nova would refuse for quota, with Nova's own wording, before anything is created.
    `ports`: (Neutron's port QuotaUse or None, the ports the launch makes)."""
    port_quota, wanted_ports = ports
    if port_quota is not None and port_quota.limit >= 0 and port_quota.used + wanted_ports > port_quota.limit:
        # nova.exception.PortLimitExceeded, which Nova answers when Neutron's port quota would be exceeded
        raise QuotaExceeded(
            _("Maximum number of ports exceeded (Networking (Neutron): %(used)s of %(limit)s used, %(n)s more asked).")
            % {"used": port_quota.used, "limit": port_quota.limit, "n": wanted_ports}
        )
    wanted = [
        ("instances", count, quota.instances, quota.instances_used),
        ("cores", count * vcpus, quota.cores, quota.cores_used),
        ("ram", count * ram, quota.ram, quota.ram_used),
    ]
    overs = [(name, req, limit, used) for name, req, limit, used in wanted if limit >= 0 and used + req > limit]
    if overs:
        names = ", ".join(o[0] for o in overs)
        req = ", ".join(str(o[1]) for o in overs)
        used = ", ".join(str(o[3]) for o in overs)
        allowed = ", ".join(str(o[2]) for o in overs)
        # nova.exception.TooManyInstances: "Quota exceeded for %(overs)s: Requested %(req)s, but already used
        # %(used)s of %(allowed)s %(overs)s"
        raise QuotaExceeded(
            _("Quota exceeded for %(overs)s: Requested %(req)s, but already used %(used)s of %(allowed)s %(overs)s")
            % {"overs": names, "req": req, "used": used, "allowed": allowed}
        )


@dataclass(frozen=True)
class LaunchRequest:
    name: str
    count: int
    flavor_id: str
    source_type: str
    image_id: str
    volume_id: str
    volume_size: int
    delete_on_termination: bool
    key_name: str
    availability_zone: str
    user_data: str
    metadata: dict[str, str]
    description: str
    networks: Any
    security_groups: list[str] = field(default_factory=list)
    server_group: dict[str, Any] = field(default_factory=dict)  # {id, name, policy, max_server_per_host} or {}

    def names(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        return [f"{self.name}-{i}" for i in range(1, self.count + 1)]

    def params(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "flavor_id": self.flavor_id,
            "source_type": self.source_type,
            "image_id": self.image_id,
            "volume_id": self.volume_id,
            "volume_size": self.volume_size,
            "delete_on_termination": self.delete_on_termination,
            "key_name": self.key_name,
            "availability_zone": self.availability_zone,
            "user_data": self.user_data,
            "metadata": self.metadata,
            "description": self.description,
            "networks": self.networks,
            "security_groups": list(self.security_groups),
            "server_group": dict(self.server_group),
        }


def launch_servers(*, creds: Credentials, launch: LaunchRequest) -> list[Any]:
    """Dispatch one `server.launch` operation per server, all or none (in one transaction)."""
    from django.db import transaction

    with transaction.atomic():
        return [
            dispatch(
                creds=creds,
                kind="server.launch",
                target_type="server",
                target_id="",
                target_name=name,
                params=launch.params(name),
            )
            for name in launch.names()
        ]


def watch_until() -> float:
    return time.time() + WATCH_SECONDS


def bulk_action(*, creds: Credentials, action: str, targets: list[tuple[str, str]]) -> list[Any]:
    """The same action on several servers: one operation each, queued together."""
    kind, params = SIMPLE_ACTIONS[action]
    return dispatch_many(creds=creds, kind=kind, targets=targets, params=params, target_type="server")


# --- the rescue mode's admin password, shown once ---------------------------------------------------------------

RESCUE_PASSWORD_TTL = 15 * 60  # seconds the password Nova gave waits, sealed, to be seen by whoever rescued


def _rescue_operations(creds: Credentials, server_id: str) -> Any:
    from apps.operations.models import Operation, State

    return Operation.objects.filter(
        project_id=creds.project_id,
        user_id=creds.user_id,
        kind="server.rescue",
        target_id=server_id,
        state=State.SUCCEEDED,
        result__has_key="admin_pass_sealed",
    ).defer("credentials", "sealed_params")


def _forget_password(op: Any) -> None:
    from apps.operations.models import Operation

    result = {k: v for k, v in (op.result or {}).items() if k != "admin_pass_sealed"}
    Operation.objects.filter(id=op.id).update(result={**result, "admin_pass_shown": True})


def rescue_password_waiting(*, creds: Credentials, server_id: str) -> bool:
    """Whether the person's last rescue of this server left a password they have not seen (and it is not too old)."""
    from django.utils import timezone

    now = timezone.now()
    waiting = False
    for op in _rescue_operations(creds, server_id):
        if op.finished_at and (now - op.finished_at).total_seconds() < RESCUE_PASSWORD_TTL:
            waiting = True
        else:
            _forget_password(op)  # too old: erased unseen
    return waiting


def take_rescue_password(*, creds: Credentials, server_id: str) -> str | None:
    """The password, erased from the operation as it is handed out (once); None when there is none any more."""
    from django.db import transaction

    from dashboard import sealing

    if not rescue_password_waiting(creds=creds, server_id=server_id):
        return None
    with transaction.atomic():
        op = _rescue_operations(creds, server_id).select_for_update().order_by("-finished_at").first()
        if op is None:
            return None
        sealed = (op.result or {}).get("admin_pass_sealed")
        _forget_password(op)
    return sealing.unseal(sealed)
