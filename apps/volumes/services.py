"""Writes of Block Storage (Cinder) volumes: the dispatchers of the Volumes page's operations, the calls the handlers
make (this app's and the instances app's attach/detach), and the equivalent `openstack` commands.

Every call is made inside `named_errors()`: a refusal leaves as a typed CloudError whose message names the service
that refused ("Block Storage (Cinder): …", "Compute (Nova): …"), in the reader's language on the Activity page.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.cloud.connection import Credentials
from apps.cloud.errors import SERVICE_NAMES, AuthExpired, CloudError, NotFound, OverQuota, Unavailable, cloud_errors
from apps.operations.i18n import freeze
from apps.operations.services import DispatchError, dispatch

__all__ = ["DispatchError", "named_errors"]

SERVICE = "volume"
TARGET = "volume"
SAYS = _("%(service)s: %(message)s")


@contextmanager
def named_errors(service: str = SERVICE) -> Iterator[None]:
    """Cloud calls whose refusals name the service that refused. Outages and expired sessions leave as they are
    (their messages name the service already)."""
    try:
        with cloud_errors(service):
            yield
    except (Unavailable, AuthExpired):
        raise
    except CloudError as exc:
        kind = OverQuota if "quota" in exc.message.lower() or "exceed" in exc.message.lower() else type(exc)
        msgid, frozen = freeze(SAYS, {"service": SERVICE_NAMES.get(service, service), "message": exc.message})
        named = kind(msgid, service=exc.service, request_id=exc.request_id, detail=exc.detail or exc.message)
        named.args_for_message = frozen
        raise named from exc


def find_volume(conn: Any, volume_id: str) -> Any:
    """openstacksdk's volume, or None when Cinder says there is no such volume."""
    try:
        with named_errors():
            return conn.block_storage.get_volume(volume_id)
    except NotFound:
        return None


def attached_to(volume: Any, server_id: str) -> bool:
    return any((a or {}).get("server_id") == server_id for a in (volume.attachments or []))


# --- the Volumes page's operations --------------------------------------------------------------------------------


def create_volume(*, creds: Credentials, params: dict[str, Any]) -> Any:
    """`params`: name, size, source ("blank", "image", "snapshot"), image_id, snapshot_id, volume_type,
    availability_zone, description."""
    return dispatch(creds=creds, kind="volume.create", target_type=TARGET, target_name=params["name"], params=params)


def extend_volume(*, creds: Credentials, volume_id: str, name: str, new_size: int) -> Any:
    return dispatch(
        creds=creds,
        kind="volume.extend",
        target_type=TARGET,
        target_id=volume_id,
        target_name=name,
        params={"new_size": int(new_size)},
    )


def delete_volume(*, creds: Credentials, volume_id: str, name: str) -> Any:
    return dispatch(creds=creds, kind="volume.delete", target_type=TARGET, target_id=volume_id, target_name=name)


# --- equivalent CLI commands -------------------------------------------------------------------------------------


def q(value: Any) -> str:
    return shlex.quote(str(value))


def cli_create(p: dict[str, Any]) -> str:
    parts = ["openstack volume create"]
    source = p.get("source") or "blank"
    if p.get("size"):
        parts.append(f"--size {q(p['size'])}")
    elif source == "blank":
        parts.append("--size <size-gb>")
    if source == "image":
        parts.append(f"--image {q(p.get('image_id') or '<image>')}")
    elif source == "snapshot":
        parts.append(f"--snapshot {q(p.get('snapshot_id') or '<snapshot>')}")
    if p.get("volume_type"):
        parts.append(f"--type {q(p['volume_type'])}")
    if p.get("availability_zone"):
        parts.append(f"--availability-zone {q(p['availability_zone'])}")
    if p.get("description"):
        parts.append(f"--description {q(p['description'])}")
    parts.append(q(p.get("name") or "<name>"))
    return " ".join(parts)


def cli_extend(volume_id: str, new_size: Any = "") -> str:
    return f"openstack volume set --size {q(new_size) if new_size else '<size-gb>'} {q(volume_id)}"


def cli_delete(volume_id: str) -> str:
    return f"openstack volume delete {q(volume_id)}"


def cli_list() -> str:
    return "openstack volume list --long"


def cli_attach(server_id: str, volume_id: str = "", device: str = "") -> str:
    dev = f" --device {q(device)}" if device else ""
    return f"openstack server add volume{dev} {q(server_id)} {q(volume_id) if volume_id else '<volume>'}"


def cli_detach(server_id: str, volume_id: str) -> str:
    return f"openstack server remove volume {q(server_id)} {q(volume_id)}"
