"""Reads of Networking (Neutron), through the one door (`apps.cloud`). Every function returns frozen dataclasses.

What the launch form needs costs two round trips: the networks and the project's security groups at once
(`get_json_lists`, following Neutron's pages), then the subnets of the networks kept.
Nothing here is asked when the catalog has no `network` service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.cloud.connection import Credentials, get_json_lists

SERVICE = "network"
# Network ids per subnets GET (36 characters each in the URL).
SUBNET_IDS_PER_GET = 100


def has_network_service(creds: Credentials) -> bool:
    """Whether the cloud's catalog (in the token) has Neutron: type `network`."""
    return any(s.get("type") == SERVICE for s in creds.body.get("catalog", []))


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    cidr: str
    ip_version: int


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    subnets: tuple[Subnet, ...]
    shared: bool
    external: bool
    own: bool  # the project's own network
    admin_state_up: bool = True

    @property
    def usable(self) -> bool:
        """Whether an instance of the project can have a NIC on it: Neutron lets a member create a port on its own
        networks and on shared ones, never on someone else's external network (Nova refuses it too)."""
        if not self.admin_state_up:
            return False
        return self.own or self.shared

    @property
    def unusable_reason(self) -> str:
        """A key for why not: "external" or "down" ("" when usable); the form says it in words."""
        if self.usable:
            return ""
        if not self.admin_state_up:
            return "down"
        return "external" if self.external else "other"


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class LaunchNetworking:
    networks: tuple[Network, ...]  # usable ones first (the project's own, then shared), then the others
    security_groups: tuple[SecurityGroup, ...]

    @property
    def usable(self) -> tuple[Network, ...]:
        return tuple(n for n in self.networks if n.usable)


def _subnet(raw: dict[str, Any]) -> Subnet:
    return Subnet(
        id=str(raw.get("id", "")),
        name=str(raw.get("name") or ""),
        cidr=str(raw.get("cidr") or ""),
        ip_version=int(raw.get("ip_version") or 4),
    )


def _project_of(raw: dict[str, Any]) -> str:
    return str(raw.get("project_id") or raw.get("tenant_id") or "")


def launch_networking(creds: Credentials) -> LaunchNetworking:
    """The networks a launch in this project can see (with their subnets) and the project's security groups.

    An admin's Neutron answers every project's networks and groups: only the project's own, the shared and the
    external ones are kept, and the project's own groups (Nova finds a group named at launch in the project)."""
    project = creds.project_id
    raw_nets, raw_groups = get_json_lists(
        creds,
        [
            (SERVICE, "/networks", "networks", None),
            (SERVICE, "/security-groups", "security_groups", {"project_id": project}),
        ],
    )
    kept = [raw for raw in raw_nets if _project_of(raw) == project or raw.get("shared") or raw.get("router:external")]
    # Only the subnets of these networks (Neutron's filter takes repeated `network_id=`), a hundred per GET so that
    # the URL stays short; an admin's unfiltered list would be every subnet of the cloud.
    ids = [str(raw.get("id", "")) for raw in kept]
    chunks = [ids[i : i + SUBNET_IDS_PER_GET] for i in range(0, len(ids), SUBNET_IDS_PER_GET)]
    pages = get_json_lists(creds, [(SERVICE, "/subnets", "subnets", {"network_id": c}) for c in chunks])
    subnets: dict[str, list[Subnet]] = {}
    for raw in (s for page in pages for s in page):
        subnets.setdefault(str(raw.get("network_id", "")), []).append(_subnet(raw))
    networks: list[Network] = []
    for raw in kept:  # not another project's network, listed to an admin
        own = _project_of(raw) == project
        shared = bool(raw.get("shared"))
        external = bool(raw.get("router:external"))
        net_id = str(raw.get("id", ""))
        networks.append(
            Network(
                id=net_id,
                name=str(raw.get("name") or net_id),
                subnets=tuple(sorted(subnets.get(net_id, []), key=lambda s: (s.ip_version, s.cidr))),
                shared=shared,
                external=external,
                own=own,
                admin_state_up=raw.get("admin_state_up", True) is not False,
            )
        )
    networks.sort(key=lambda n: (not n.usable, not n.own, n.name.lower(), n.id))
    groups = [
        SecurityGroup(
            id=str(g.get("id", "")),
            name=str(g.get("name") or g.get("id", "")),
            description=str(g.get("description") or ""),
        )
        for g in raw_groups
        if _project_of(g) in ("", project)
    ]
    groups.sort(key=lambda g: (g.name != "default", g.name.lower()))
    return LaunchNetworking(networks=tuple(networks), security_groups=tuple(groups))
