"""Writes for snapshots: creating one is an operation (`server.snapshot`, run by a worker that follows the
image from queued to active); deleting one is a single Glance call made in the request."""

from __future__ import annotations

import shlex
from typing import Any

from apps.cloud.connection import Credentials, connection_for
from apps.cloud.errors import cloud_errors


def create_snapshot(*, creds: Credentials, server_id: str, server_name: str, name: str) -> Any:
    """Dispatch the snapshot operation; returns the Operation. Raises DispatchError when the queue is down."""
    from apps.operations.services import dispatch  # imported here: the operations app is optional at import time

    return dispatch(
        creds=creds,
        kind="server.snapshot",
        target_type="server",
        target_id=server_id,
        target_name=server_name,
        params={"name": name},
    )


def delete_snapshot(*, creds: Credentials, image_id: str) -> None:
    """Delete the snapshot image. Glance refuses a protected one (Forbidden, with its reason)."""
    conn = connection_for(creds)
    with cloud_errors("image"):
        conn.image.delete_image(image_id, ignore_missing=False)


# --- equivalent CLI commands ------------------------------------------------------------------------------


def q(value: object) -> str:
    return shlex.quote(str(value))


def cli_list(project_id: str, kind: str = "snapshot") -> str:
    return f"openstack image list --property image_type={q(kind)} --project {q(project_id)} --long"


def cli_create(server: str = "", name: str = "") -> str:
    name_arg = q(name) if name else "<name>"
    server_arg = q(server) if server else "<server>"
    return f"openstack server image create --wait --name {name_arg} {server_arg}"


def cli_show(image_id: str) -> str:
    return f"openstack image show {q(image_id)}"


def cli_delete(image_id: str) -> str:
    return f"openstack image delete {q(image_id)}"


def cli_launch(image_id: str) -> str:
    return f"openstack server create --image {q(image_id)} --flavor <flavor> --network <network> <name>"
