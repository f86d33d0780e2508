"""Reads of Nova's server groups (`os-server-groups`), through the one door (`apps.cloud`), as frozen dataclasses.

The Server groups page costs one Nova call (`GET /os-server-groups`, at the highest microversion both sides speak:
`policy` and `rules` from 2.64, the `policies` list before), plus the names of the member instances
(apps.snapshots.selectors.server_names: a short per-project cache, else one `GET /servers/{id}` each, at once).
The launch form's choice is the same list without the member names. An instance's page names its group from the
`server_groups` Nova puts in the server from 2.71 (one `GET /os-server-groups/{id}`, only for a server in a group);
before 2.71 it says nothing rather than list every group on each render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.cloud.connection import (
    COMPUTE_MICROVERSION_MAX,
    Credentials,
    compute_max_microversion,
    connection_for,
    get_json,
)
from apps.cloud.errors import NotFound, cloud_errors

POLICIES = ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity")
POLICY_LABELS = {
    "anti-affinity": _("Anti-affinity"),
    "affinity": _("Affinity"),
    "soft-anti-affinity": _("Soft anti-affinity"),
    "soft-affinity": _("Soft affinity"),
}
POLICY_HELP = {
    "anti-affinity": _("Every member on a different host. A launch fails when no host is left without a member."),
    "affinity": _("Every member on the same host. A launch fails when that host is full."),
    "soft-anti-affinity": _("Members spread over different hosts when possible; never refused for it."),
    "soft-affinity": _("Members together on one host when possible; never refused for it."),
}
RULES_MICROVERSION = "2.64"  # `policy` + `rules` (max_server_per_host) instead of `policies`
SOFT_MICROVERSION = "2.15"  # soft-affinity and soft-anti-affinity


@dataclass(frozen=True)
class Member:
    id: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class ServerGroup:
    id: str
    name: str
    policy: str
    rules: tuple[tuple[str, str], ...]
    members: tuple[Member, ...]

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def policy_label(self) -> str:
        return str(POLICY_LABELS.get(self.policy, self.policy))

    @property
    def policy_help(self) -> str:
        return str(POLICY_HELP.get(self.policy, ""))

    @property
    def max_server_per_host(self) -> int:
        value = dict(self.rules).get("max_server_per_host", "")
        return int(value) if str(value).isdigit() else 0


def _group(raw: dict[str, Any], names: dict[str, str] | None = None) -> ServerGroup:
    names = names or {}
    policies = raw.get("policies") or []
    policy = raw.get("policy") or (policies[0] if isinstance(policies, list) and policies else "")
    rules = raw.get("rules") or {}
    return ServerGroup(
        id=str(raw.get("id") or ""),
        name=str(raw.get("name") or ""),
        policy=str(policy or ""),
        rules=tuple(sorted((str(k), str(v)) for k, v in rules.items())) if isinstance(rules, dict) else (),
        members=tuple(Member(id=str(m), name=names.get(str(m), "")) for m in raw.get("members") or []),
    )


def _raw_groups(creds: Credentials, conn: Any = None) -> list[dict[str, Any]]:
    body = get_json(creds, "compute", "/os-server-groups", {"limit": 1000}, conn=conn)
    return [g for g in body.get("server_groups") or [] if isinstance(g, dict)]


def list_server_groups(creds: Credentials) -> list[ServerGroup]:
    """The project's server groups by name, each with the names of its member instances."""
    from apps.snapshots.selectors import server_names

    raw = _raw_groups(creds)
    ids = [str(m) for g in raw for m in g.get("members") or []]
    names = server_names(creds, ids) if ids else {}
    return sorted((_group(g, names) for g in raw), key=lambda g: (g.label.lower(), g.id))


def group_choices(creds: Credentials, conn: Any = None) -> list[ServerGroup]:
    """The groups a launch can go into (the member names are not asked for)."""
    return sorted((_group(g) for g in _raw_groups(creds, conn)), key=lambda g: (g.label.lower(), g.id))


def launch_groups(creds: Credentials, conn: Any = None) -> list[ServerGroup]:
    """The launch form's choice: `group_choices`, or none when Nova will not list them for this user (a policy that
    forbids it): the form then offers no group rather than failing."""
    from apps.cloud.errors import Forbidden

    try:
        return group_choices(creds, conn)
    except (Forbidden, NotFound):
        return []


def get_server_group(creds: Credentials, group_id: str) -> ServerGroup:
    """The group (NotFound, naming Nova, when the project has no such group)."""
    return _group(get_json(creds, "compute", f"/os-server-groups/{group_id}").get("server_group") or {"id": group_id})


def highest_microversion(creds: Credentials) -> str:
    """The highest compute microversion both sides speak (Stratus' cap, STRATUS_COMPUTE_MICROVERSION_MAX, included);
    "2.1" for a Nova without microversions."""
    from django.conf import settings
    from keystoneauth1 import discover

    conn = connection_for(creds)
    with cloud_errors("compute"):
        highest = compute_max_microversion(conn)
    if not highest:
        return "2.1"
    cap = getattr(settings, "STRATUS_COMPUTE_MICROVERSION_MAX", None) or COMPUTE_MICROVERSION_MAX
    both = min(discover.normalize_version_number(highest), discover.normalize_version_number(cap))
    return str(discover.version_to_string(both))


def at_least(version: str, wanted: str) -> bool:
    from keystoneauth1 import discover

    return bool(discover.normalize_version_number(version) >= discover.normalize_version_number(wanted))


def supports(creds: Credentials, microversion: str) -> bool:
    """Whether Stratus and the cloud's Nova both speak this microversion."""
    return at_least(highest_microversion(creds), microversion)


def supports_rules(creds: Credentials) -> bool:
    return supports(creds, RULES_MICROVERSION)


def group_of_server(creds: Credentials, group_ids: tuple[str, ...]) -> ServerGroup | None:
    """The server's group from the ids Nova gives with the server (2.71+), or None: no group, or one this project
    cannot see any more (a group deleted leaves its members in place)."""
    if not group_ids:
        return None
    try:
        return get_server_group(creds, group_ids[0])
    except NotFound:
        return None
