"""Writes of Nova's server groups: the dispatchers of the Server groups page's operations (create, delete), the
request body Nova takes at the microversion spoken, and the equivalent `openstack` commands.

Nova changed the body at 2.64: before it, `{"name", "policies": [policy]}`; from it, `{"name", "policy", "rules"}`
(`max_server_per_host` for anti-affinity only). The soft policies need 2.15. Refusals leave as CloudErrors naming
the service ("Compute (Nova): …", apps.volumes.services.named_errors).
"""

from __future__ import annotations

import shlex
from typing import Any

from apps.cloud.connection import Credentials
from apps.operations.services import DispatchError, dispatch
from apps.servergroups.selectors import RULES_MICROVERSION, SOFT_MICROVERSION, at_least

__all__ = ["DispatchError", "create_body", "create_server_group", "delete_server_group"]

TARGET = "server_group"


def create_server_group(*, creds: Credentials, name: str, policy: str, max_server_per_host: int = 0) -> Any:
    params = {"name": name, "policy": policy, "max_server_per_host": int(max_server_per_host or 0)}
    return dispatch(creds=creds, kind="server_group.create", target_type=TARGET, target_name=name, params=params)


def delete_server_group(*, creds: Credentials, group_id: str, name: str) -> Any:
    return dispatch(creds=creds, kind="server_group.delete", target_type=TARGET, target_id=group_id, target_name=name)


def create_microversion(highest: str) -> str:
    """The microversion to create a group at: 2.64 when the cloud speaks it (the `policy` + `rules` form), else
    2.15 (the `policies` form, soft policies known), else 2.1."""
    for version in (RULES_MICROVERSION, SOFT_MICROVERSION):
        if at_least(highest, version):
            return version
    return "2.1"


def create_body(name: str, policy: str, max_server_per_host: int, microversion: str) -> dict[str, Any]:
    """Nova's request body at this microversion."""
    if at_least(microversion, RULES_MICROVERSION):
        group: dict[str, Any] = {"name": name, "policy": policy}
        if max_server_per_host:
            group["rules"] = {"max_server_per_host": int(max_server_per_host)}
        return {"server_group": group}
    return {"server_group": {"name": name, "policies": [policy]}}


# --- equivalent CLI commands -------------------------------------------------------------------------------------


def q(value: Any) -> str:
    return shlex.quote(str(value))


def cli_create(name: str = "", policy: str = "", max_server_per_host: Any = "") -> str:
    parts = ["openstack"]
    if max_server_per_host:
        parts.append(f"--os-compute-api-version {RULES_MICROVERSION}")
    elif policy.startswith("soft-"):
        parts.append(f"--os-compute-api-version {SOFT_MICROVERSION}")
    parts.append(f"server group create --policy {q(policy or '<policy>')}")
    if max_server_per_host:
        parts.append(f"--rule max_server_per_host={q(max_server_per_host)}")
    parts.append(q(name) if name else "<name>")
    return " ".join(parts)


def cli_delete(group_id: str) -> str:
    return f"openstack server group delete {q(group_id)}"


def cli_list() -> str:
    return "openstack server group list --long"


def cli_hint(group_id: str) -> str:
    return f"--hint group={q(group_id)}"
