"""Reads of Networking (Neutron), through the one door (`apps.cloud`). Every function returns frozen dataclasses.

What the launch form needs costs two round trips: the networks and the project's security groups at once
(`get_json_lists`, following Neutron's pages), then the subnets of the networks kept.
Nothing here is asked when the catalog has no `network` service.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from apps.cloud.connection import (
    Credentials,
    at_once,
    connection_for,
    get_json,
    get_json_list,
    get_json_lists,
    service_endpoint,
)
from apps.cloud.errors import cloud_errors
from dashboard.cache import cache_many, cached_many

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
    security_groups_supported: bool = True  # False: Neutron answered 404 (no security-group extension)
    quota: dict[str, QuotaUse] = field(default_factory=dict)  # Neutron's, with usage: port (and others); {}: unknown

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


def network_lists(creds: Credentials) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """The Neutron lists (for get_json_lists) of the networks a project may put a NIC on or see as external. A
    member's Neutron answers exactly those to one unfiltered list; an admin's would answer every project's, so an
    admin asks for the project's own, the shared and the external ones (three filtered lists, at once; Neutron's
    filters are ANDed, so they cannot be one), each bounded by get_json_list's cap."""
    if not creds.is_admin:
        return [(SERVICE, "/networks", "networks", None)]
    return [
        (SERVICE, "/networks", "networks", {"project_id": creds.project_id}),
        (SERVICE, "/networks", "networks", {"shared": "true"}),
        (SERVICE, "/networks", "networks", {"router:external": "true"}),
    ]


def _merged(lists: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for raw in (n for page in lists for n in page):
        seen.setdefault(str(raw.get("id", "")), raw)
    return list(seen.values())


# Neutron quota resources the launch form shows (with their usage): a port per NIC per instance.
LAUNCH_QUOTAS = ("port", "floatingip", "security_group")


def launch_networking(creds: Credentials) -> LaunchNetworking:
    """The networks a launch in this project can use or see (with their subnets), the project's security groups and
    Neutron's quota with usage (`GET /quotas/{project}/details`): one round trip for those (at once), then one for
    the subnets of the networks kept.

    A Neutron without the security-group extension (404) offers none, and says so; one without quota details (404,
    or 403 by policy) shows no Neutron quota."""
    from apps.cloud.errors import Forbidden, NotFound

    project = creds.project_id
    conn = connection_for(creds)
    with cloud_errors(SERVICE):
        service_endpoint(conn, SERVICE)
    nets = network_lists(creds)
    answers = at_once(
        *(lambda g=g: _paged(creds, conn, g[1], g[2], g[3] or {}) for g in nets),
        lambda: _maybe(
            lambda: _paged(creds, conn, "/security-groups", "security_groups", {"project_id": project}), NotFound
        ),
        lambda: _maybe(
            lambda: get_json(creds, SERVICE, f"/quotas/{project}/details", conn=conn).get("quota"), NotFound, Forbidden
        ),
    )
    raw_nets, raw_groups, raw_quota = _merged(answers[: len(nets)]), answers[-2], answers[-1]
    networks = _networks_of(creds, raw_nets)
    groups = [
        SecurityGroup(
            id=str(g.get("id", "")),
            name=str(g.get("name") or g.get("id", "")),
            description=str(g.get("description") or ""),
        )
        for g in raw_groups or []
        if _project_of(g) in ("", project)
    ]
    groups.sort(key=lambda g: (g.name != "default", g.name.lower()))
    return LaunchNetworking(
        networks=networks,
        security_groups=tuple(groups),
        security_groups_supported=raw_groups is not None,
        quota=_quota(raw_quota if isinstance(raw_quota, dict) else None, LAUNCH_QUOTAS),
    )


def _networks_of(creds: Credentials, raw_nets: list[dict[str, Any]]) -> tuple[Network, ...]:
    """The project's own, the shared and the external networks of a Neutron list (an admin's holds every
    project's), with their subnets (one more round trip), usable ones first."""
    project = creds.project_id
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
    return tuple(networks)


# --- ports and floating IPs ----------------------------------------------------------------------------------
#
# An instance's Interfaces and Floating IPs sections cost one round trip after the server itself: its ports
# (`ports?device_id=`) and the floating IPs of its project at once; network names come from a short cache (one
# `networks?id=` GET for those it does not know). The Floating IPs page costs one round trip (the floating IPs and
# the external networks at once), plus one Nova list for the names of the instances they are bound to.

NAME_CACHE_SECONDS = 120
# Port statuses Neutron reports while it is still wiring the port.
PORT_IN_FLUX = {"BUILD"}


@dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str

    @property
    def version(self) -> int:
        try:
            return ipaddress.ip_address(self.ip_address).version
        except ValueError:
            return 4


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    network_id: str
    network_name: str
    mac_address: str
    status: str
    fixed_ips: tuple[FixedIP, ...]
    device_id: str
    device_owner: str
    project_id: str

    @property
    def ipv4(self) -> tuple[FixedIP, ...]:
        """The fixed IPs a floating IP can be associated with (Neutron's floating IPs are IPv4)."""
        return tuple(f for f in self.fixed_ips if f.version == 4)

    @property
    def free(self) -> bool:
        """Not bound to anything: a port a server can take (Nova's attach refuses a port in use)."""
        return not self.device_id and not self.device_owner.startswith("network:")

    @property
    def on_instance(self) -> bool:
        return bool(self.device_id) and self.device_owner.startswith("compute:")

    @property
    def in_flux(self) -> bool:
        return self.status in PORT_IN_FLUX

    @property
    def label(self) -> str:
        ips = ", ".join(f.ip_address for f in self.fixed_ips)
        name = self.name or self.id[:8]
        return f"{name} ({ips})" if ips else name


@dataclass(frozen=True)
class FloatingIP:
    id: str
    address: str
    network_id: str
    network_name: str
    status: str  # ACTIVE, DOWN, ERROR
    port_id: str
    fixed_ip: str
    project_id: str
    description: str = ""
    device_id: str = ""  # the bound port's device (Neutron's fip-port-details), "" when unknown
    device_owner: str = ""
    server_name: str = ""  # the instance the port belongs to, when the page looked it up
    project_name: str = ""

    @property
    def associated(self) -> bool:
        return bool(self.port_id)

    @property
    def on_instance(self) -> bool:
        return bool(self.device_id) and self.device_owner.startswith("compute:")

    @property
    def in_flux(self) -> bool:
        """Neutron reports the status of an (un)association once its agent has (un)wired it: ACTIVE while bound,
        DOWN while free; a floating IP between the two is being changed."""
        return (self.associated and self.status == "DOWN") or (not self.associated and self.status == "ACTIVE")

    @property
    def badge(self) -> str:
        if self.status == "ERROR":
            return "danger"
        if self.in_flux:
            return "transition"
        return "ok" if self.status == "ACTIVE" else "info"


def _port(raw: dict[str, Any], names: dict[str, str]) -> Port:
    net_id = str(raw.get("network_id") or "")
    return Port(
        id=str(raw.get("id", "")),
        name=str(raw.get("name") or ""),
        network_id=net_id,
        network_name=names.get(net_id) or net_id,
        mac_address=str(raw.get("mac_address") or ""),
        status=str(raw.get("status") or "").upper(),
        fixed_ips=tuple(
            FixedIP(subnet_id=str(f.get("subnet_id") or ""), ip_address=str(f.get("ip_address") or ""))
            for f in raw.get("fixed_ips") or []
            if isinstance(f, dict)
        ),
        device_id=str(raw.get("device_id") or ""),
        device_owner=str(raw.get("device_owner") or ""),
        project_id=_project_of(raw),
    )


def _floating_ip(raw: dict[str, Any], names: dict[str, str], ports: dict[str, Port] | None = None) -> FloatingIP:
    net_id = str(raw.get("floating_network_id") or "")
    port_id = str(raw.get("port_id") or "")
    details: dict[str, Any] = raw["port_details"] if isinstance(raw.get("port_details"), dict) else {}
    port = (ports or {}).get(port_id)
    return FloatingIP(
        id=str(raw.get("id", "")),
        address=str(raw.get("floating_ip_address") or ""),
        network_id=net_id,
        network_name=names.get(net_id) or net_id,
        status=str(raw.get("status") or "").upper(),
        port_id=port_id,
        fixed_ip=str(raw.get("fixed_ip_address") or ""),
        project_id=_project_of(raw),
        description=str(raw.get("description") or ""),
        device_id=str(details.get("device_id") or (port.device_id if port else "")),
        device_owner=str(details.get("device_owner") or (port.device_owner if port else "")),
    )


def network_names(creds: Credentials, network_ids: Any, known: dict[str, str] | None = None) -> dict[str, str]:
    """Names of these networks: from `known`, the short cache, else one `networks?id=...` GET."""
    names = dict(known or {})
    ids = sorted({i for i in network_ids if i and i not in names})
    if not ids:
        return names
    keys = {f"networks:name:{creds.project_id}:{i}": i for i in ids}
    names.update({keys[k]: v for k, v in cached_many(list(keys), "cached network names").items()})
    missing = [i for i in ids if i not in names]
    if missing:
        raw = get_json_list(creds, "/networks", "networks", {"id": missing, "fields": ["id", "name"]}, service=SERVICE)
        found = {str(n.get("id", "")): str(n.get("name") or n.get("id", "")) for n in raw}
        names.update(found)
        cache_many(
            {f"networks:name:{creds.project_id}:{i}": found.get(i, i) for i in missing},
            NAME_CACHE_SECONDS,
            "caching network names",
        )
    return names


@dataclass(frozen=True)
class ServerNetworking:
    ports: tuple[Port, ...]
    floating_ips: tuple[FloatingIP, ...]  # those on the server's ports
    security: ServerSecurityGroups | None = None  # its groups (on its ports) and the project's others

    def floating_ips_of(self, port_id: str) -> tuple[FloatingIP, ...]:
        return tuple(f for f in self.floating_ips if f.port_id == port_id)

    @property
    def fixed_ipv4(self) -> tuple[tuple[Port, FixedIP], ...]:
        """(port, fixed IP) pairs a floating IP can go to."""
        return tuple((p, f) for p in self.ports for f in p.ipv4)

    @property
    def in_flux(self) -> bool:
        return any(p.in_flux for p in self.ports) or any(f.in_flux for f in self.floating_ips)


def server_networking(creds: Credentials, *, server_id: str, project_id: str) -> ServerNetworking:
    """The server's ports (by network name), the floating IPs on them (Neutron's own view, not Nova's cache) and its
    security groups with the project's others: three lists at once (a Neutron without security groups answers 404
    to theirs: the section says so)."""
    from apps.cloud.errors import NotFound

    conn = connection_for(creds)
    with cloud_errors(SERVICE):
        service_endpoint(conn, SERVICE)
    scoped = {"project_id": project_id} if project_id else {}
    raw_ports, raw_fips, raw_groups = at_once(
        lambda: _paged(creds, conn, "/ports", "ports", {"device_id": server_id}),
        lambda: _paged(creds, conn, "/floatingips", "floatingips", {"project_id": project_id}),
        lambda: _maybe(lambda: _paged(creds, conn, "/security-groups", "security_groups", scoped), NotFound),
    )
    port_ids = {str(p.get("id", "")) for p in raw_ports}
    raw_fips = [f for f in raw_fips if str(f.get("port_id") or "") in port_ids]
    names = network_names(
        creds,
        [str(p.get("network_id") or "") for p in raw_ports]
        + [str(f.get("floating_network_id") or "") for f in raw_fips],
    )
    ports = sorted((_port(p, names) for p in raw_ports), key=lambda p: (p.network_name.lower(), p.id))
    fips = sorted((_floating_ip(f, names) for f in raw_fips), key=lambda f: f.address)
    return ServerNetworking(
        ports=tuple(ports), floating_ips=tuple(fips), security=_server_groups(raw_ports, raw_groups)
    )


@dataclass(frozen=True)
class AttachChoices:
    networks: tuple[Network, ...]  # usable ones (the project's own and shared), not external
    ports: tuple[Port, ...]  # the project's free ports


def attach_choices(creds: Credentials) -> AttachChoices:
    """What an instance of the project can be given: a network it may have a NIC on (as the launch form offers),
    or one of the project's free ports. Two round trips (networks and ports at once, then the subnets)."""
    nets = network_lists(creds)
    *net_pages, raw_ports = get_json_lists(
        creds, [*nets, (SERVICE, "/ports", "ports", {"project_id": creds.project_id})]
    )
    networks = _networks_of(creds, _merged(net_pages))
    names = {n.id: n.name for n in networks}
    ports = [_port(p, names) for p in raw_ports]
    free = sorted((p for p in ports if p.free and p.fixed_ips), key=lambda p: (p.network_name.lower(), p.label))
    return AttachChoices(networks=tuple(n for n in networks if n.usable), ports=tuple(free))


@dataclass(frozen=True)
class Pool:
    """An external network floating IPs are allocated from."""

    id: str
    name: str


@dataclass(frozen=True)
class FloatingIPChoices:
    free: tuple[FloatingIP, ...]  # the project's floating IPs bound to nothing
    pools: tuple[Pool, ...]


def _pools(raw_nets: list[dict[str, Any]]) -> tuple[Pool, ...]:
    pools = [Pool(id=str(n.get("id", "")), name=str(n.get("name") or n.get("id", ""))) for n in raw_nets]
    return tuple(sorted(pools, key=lambda p: (p.name.lower(), p.id)))


def floating_ip_choices(creds: Credentials) -> FloatingIPChoices:
    """The project's free floating IPs and the external networks to allocate one from: one round trip."""
    raw_fips, raw_nets = get_json_lists(
        creds,
        [
            (SERVICE, "/floatingips", "floatingips", {"project_id": creds.project_id}),
            (SERVICE, "/networks", "networks", {"router:external": "true"}),
        ],
    )
    pools = _pools(raw_nets)
    names = {p.id: p.name for p in pools}
    free = sorted(
        (_floating_ip(f, names) for f in raw_fips if not f.get("port_id")), key=lambda f: (f.network_name, f.address)
    )
    return FloatingIPChoices(free=tuple(free), pools=pools)


def list_pools(creds: Credentials) -> tuple[Pool, ...]:
    return _pools(get_json_list(creds, "/networks", "networks", {"router:external": "true"}, service=SERVICE))


@dataclass(frozen=True)
class FloatingIPPage:
    floating_ips: tuple[FloatingIP, ...]
    pools: tuple[Pool, ...]
    all_projects: bool  # an admin's Neutron lists every project's

    @property
    def in_flux(self) -> bool:
        return any(f.in_flux for f in self.floating_ips)


def list_floating_ips(creds: Credentials) -> FloatingIPPage:
    """The floating IPs Neutron shows (a member: the project's; an admin: every project's), with the names of
    their pools, of the instances they are bound to (one Nova list, when some are) and, for an admin, of their
    projects (one Keystone list)."""
    raw_fips, raw_nets = get_json_lists(
        creds,
        [
            (SERVICE, "/floatingips", "floatingips", None),
            (SERVICE, "/networks", "networks", {"router:external": "true"}),
        ],
    )
    pools = _pools(raw_nets)
    names = network_names(
        creds, [str(f.get("floating_network_id") or "") for f in raw_fips], {p.id: p.name for p in pools}
    )
    missing_details = [str(f["port_id"]) for f in raw_fips if f.get("port_id") and not f.get("port_details")]
    ports: dict[str, Port] = {}
    if missing_details:  # a Neutron without fip-port-details: the ports themselves, in one GET
        raw_ports = get_json_list(creds, "/ports", "ports", {"id": missing_details}, service=SERVICE)
        ports = {str(p.get("id", "")): _port(p, names) for p in raw_ports}
    fips = [_floating_ip(f, names, ports) for f in raw_fips]
    servers = (
        _server_names(creds, {f.device_id for f in fips if f.on_instance}) if any(f.on_instance for f in fips) else {}
    )
    projects = _project_names(creds) if creds.is_admin else {}
    fips = [
        replace(f, server_name=servers.get(f.device_id, ""), project_name=projects.get(f.project_id, "")) for f in fips
    ]
    fips.sort(key=lambda f: (f.project_id != creds.project_id, f.project_name, _address_key(f.address)))
    return FloatingIPPage(floating_ips=tuple(fips), pools=pools, all_projects=creds.is_admin)


def _address_key(address: str) -> tuple[int, int]:
    try:
        ip = ipaddress.ip_address(address)
        return ip.version, int(ip)
    except ValueError:
        return 0, 0


def _server_names(creds: Credentials, ids: set[str]) -> dict[str, str]:
    """Names of the project's instances (an admin's: every project's), from Nova's short list (ids and names)."""
    params: dict[str, Any] = {"limit": 1000}
    if creds.is_admin:
        params["all_tenants"] = 1
    raw = get_json_list(creds, "/servers", "servers", params)
    return {str(s.get("id", "")): str(s.get("name") or "") for s in raw if str(s.get("id", "")) in ids}


def _project_names(creds: Credentials) -> dict[str, str]:
    from apps.flavors.selectors import list_projects

    return {p.id: p.name for p in list_projects(creds=creds)}


def get_floating_ip(creds: Credentials, floating_ip_id: str) -> FloatingIP:
    """One floating IP the caller can see (NotFound otherwise: Neutron hides other projects' from members)."""
    raw = get_json(creds, SERVICE, f"/floatingips/{floating_ip_id}").get("floatingip") or {}
    names = network_names(creds, [str(raw.get("floating_network_id") or "")])
    return _floating_ip(raw, names)


def instance_ports(creds: Credentials) -> tuple[tuple[Port, str], ...]:
    """The project's ports on instances with an IPv4 address, and each instance's name: what a floating IP can be
    associated with from the Floating IPs page (one round trip: the ports and Nova's short list at once)."""
    raw_ports, raw_servers = get_json_lists(
        creds,
        [
            (SERVICE, "/ports", "ports", {"project_id": creds.project_id}),
            ("compute", "/servers", "servers", {"limit": 1000}),
        ],
    )
    servers = {str(s.get("id", "")): str(s.get("name") or "") for s in raw_servers}
    raw_ports = [p for p in raw_ports if str(p.get("device_id") or "") in servers]
    names = network_names(creds, [str(p.get("network_id") or "") for p in raw_ports])
    ports = [_port(p, names) for p in raw_ports]
    rows = [(p, servers[p.device_id]) for p in ports if p.on_instance and p.ipv4]
    return tuple(sorted(rows, key=lambda r: (r[1].lower(), r[0].network_name, r[0].id)))


def floating_ip_by_address(creds: Credentials, address: str) -> FloatingIP | None:
    """The floating IP with this address that the caller's Neutron shows (one GET), or None."""
    raw = get_json(creds, SERVICE, "/floatingips", {"floating_ip_address": address}).get("floatingips") or []
    return _floating_ip(raw[0], {}) if raw else None


# --- security groups and their rules (the Security groups pages and an instance's section) --------------------------

# Neutron's protocol names, and the numbers it also takes (0–255); "any" is no protocol.
PROTOCOL_NAMES = (
    "tcp",
    "udp",
    "icmp",
    "ipv6-icmp",
    "sctp",
    "gre",
    "ah",
    "dccp",
    "egp",
    "esp",
    "igmp",
    "ipip",
    "ipv6-encap",
    "ipv6-frag",
    "ipv6-nonxt",
    "ipv6-opts",
    "ipv6-route",
    "ospf",
    "pgm",
    "rsvp",
    "udplite",
    "vrrp",
    "icmpv6",
)
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "udplite", "dccp", "6", "17", "132", "136", "33"}
ICMP_PROTOCOLS = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}
IPV6_ONLY_PROTOCOLS = {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route"}
IPV6_ONLY_PROTOCOLS |= {"41", "43", "44", "58", "59", "60"}
ANY_PREFIXES = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Rule:
    id: str
    group_id: str
    direction: str  # ingress / egress
    ethertype: str  # IPv4 / IPv6
    protocol: str  # "" for any
    port_min: int | None
    port_max: int | None
    remote_ip_prefix: str  # "" for none
    remote_group_id: str  # "" for none
    remote_group_name: str = ""
    description: str = ""

    @property
    def is_icmp(self) -> bool:
        return self.protocol in ICMP_PROTOCOLS

    @property
    def ports(self) -> str:
        """ "22", "8000–8080", "" for every port (or every ICMP type); ICMP: "type 8", "type 8 code 0"."""
        if self.port_min is None and self.port_max is None:
            return ""
        if self.is_icmp:
            return f"{self.port_min}" if self.port_max is None else f"{self.port_min}/{self.port_max}"
        if self.port_max is None or self.port_min == self.port_max:
            return str(self.port_min)
        return f"{self.port_min}–{self.port_max}"

    @property
    def remote_any(self) -> bool:
        return not self.remote_group_id and (not self.remote_ip_prefix or self.remote_ip_prefix in ANY_PREFIXES)

    @property
    def remote(self) -> str:
        """The remote as the table shows it: a CIDR (0.0.0.0/0 for any), or a group's name."""
        if self.remote_group_id:
            return self.remote_group_name or self.remote_group_id
        return self.remote_ip_prefix or ("::/0" if self.ethertype == "IPv6" else "0.0.0.0/0")


@dataclass(frozen=True)
class SecurityGroupRow:
    id: str
    name: str
    description: str
    project_id: str
    rules: tuple[Rule, ...]
    instances: int | None = None  # the project's instances whose ports have the group (None: not counted)

    @property
    def is_default(self) -> bool:
        return self.name == "default"

    @property
    def ingress(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.direction == "ingress")


@dataclass(frozen=True)
class QuotaUse:
    key: str  # Neutron's resource name: security_group, security_group_rule, port, floatingip
    limit: int  # -1: no limit
    used: int

    @property
    def unlimited(self) -> bool:
        return self.limit < 0

    @property
    def left(self) -> int | None:
        return None if self.limit < 0 else max(0, self.limit - self.used)


@dataclass(frozen=True)
class SecurityGroupList:
    groups: tuple[SecurityGroupRow, ...]
    quota: dict[str, QuotaUse]  # empty when Neutron does not say (no quota_details extension, or not allowed)
    available: bool = True  # False: this Neutron has no security groups (the extension is off: 404)


def _paged(creds: Credentials, conn: Any, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return get_json_list(creds, path, key, params, service=SERVICE, conn=conn)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _rule(raw: dict[str, Any], names: dict[str, str]) -> Rule:
    remote_group = str(raw.get("remote_group_id") or "")
    return Rule(
        id=str(raw.get("id", "")),
        group_id=str(raw.get("security_group_id", "")),
        direction=str(raw.get("direction") or "ingress"),
        ethertype=str(raw.get("ethertype") or "IPv4"),
        protocol=str(raw.get("protocol") or "").lower(),
        port_min=_int(raw.get("port_range_min")),
        port_max=_int(raw.get("port_range_max")),
        remote_ip_prefix=str(raw.get("remote_ip_prefix") or ""),
        remote_group_id=remote_group,
        remote_group_name=names.get(remote_group, ""),
        description=str(raw.get("description") or ""),
    )


def _rule_order(rule: Rule) -> tuple[Any, ...]:
    return (rule.direction != "ingress", rule.ethertype, rule.protocol or "~", rule.port_min or 0, rule.remote, rule.id)


def _group(raw: dict[str, Any], names: dict[str, str], instances: int | None = None) -> SecurityGroupRow:
    rules = [_rule(r, names) for r in raw.get("security_group_rules") or []]
    return SecurityGroupRow(
        id=str(raw.get("id", "")),
        name=str(raw.get("name") or ""),
        description=str(raw.get("description") or ""),
        project_id=_project_of(raw),
        rules=tuple(sorted(rules, key=_rule_order)),
        instances=instances,
    )


def _quota(raw: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, QuotaUse]:
    """Neutron's `GET /quotas/{project}/details`: {resource: {"limit", "used", "reserved"}}."""
    out: dict[str, QuotaUse] = {}
    for key in keys:
        entry = (raw or {}).get(key)
        if isinstance(entry, dict) and _int(entry.get("limit")) is not None:
            out[key] = QuotaUse(key=key, limit=int(entry["limit"]), used=_int(entry.get("used")) or 0)
    return out


def _maybe(call: Any, *missing: type[Exception]) -> Any:
    """The call's answer, or None when the service answers one of `missing` (an extension it lacks)."""
    try:
        return call()
    except missing:
        return None


def _in_use(ports: list[dict[str, Any]]) -> dict[str, int]:
    """How many instances have each group on one of their ports (an instance's ports count once)."""
    seen: dict[str, set[str]] = {}
    for port in ports:
        if not str(port.get("device_owner") or "").startswith("compute:") or not port.get("device_id"):
            continue
        for gid in port.get("security_groups") or []:
            seen.setdefault(str(gid), set()).add(str(port["device_id"]))
    return {gid: len(devices) for gid, devices in seen.items()}


def list_security_groups(creds: Credentials, *, all_projects: bool = False) -> SecurityGroupList:
    """The project's security groups with their rules, how many of its instances use each, and the project's
    Neutron quota for groups and rules: three calls at once (groups, ports with three fields, quota details).

    A member's Neutron answers its project's groups (and any shared with it); an admin's answers every project's,
    so an admin asks for the project's unless `all_projects`."""
    from apps.cloud.errors import Forbidden, NotFound

    scoped = {"project_id": creds.project_id} if creds.is_admin and not all_projects else {}
    port_query = {**scoped, "fields": ["device_id", "device_owner", "security_groups"]}
    conn = connection_for(creds)
    with cloud_errors(SERVICE):
        service_endpoint(conn, SERVICE)
    raw_groups, ports, quota = at_once(
        lambda: _maybe(
            lambda: _paged(creds, conn, "/security-groups", "security_groups", scoped),
            NotFound,
        ),
        lambda: _maybe(lambda: _paged(creds, conn, "/ports", "ports", port_query), NotFound),
        lambda: _maybe(
            lambda: get_json(creds, SERVICE, f"/quotas/{creds.project_id}/details", conn=conn).get("quota"),
            NotFound,
            Forbidden,
        ),
    )
    if raw_groups is None:
        return SecurityGroupList(groups=(), quota={}, available=False)
    names = {str(g.get("id")): str(g.get("name") or "") for g in raw_groups}
    counts = _in_use(ports or []) if ports is not None else None
    groups = [_group(g, names, counts.get(str(g.get("id")), 0) if counts is not None else None) for g in raw_groups]
    groups.sort(key=lambda g: (g.project_id != creds.project_id, g.project_id, not g.is_default, g.name.lower(), g.id))
    return SecurityGroupList(
        groups=tuple(groups), quota=_quota(quota, ("security_group", "security_group_rule")), available=True
    )


@dataclass(frozen=True)
class SecurityGroupDetail:
    group: SecurityGroupRow
    others: tuple[SecurityGroupRow, ...]  # the other groups of its project (remote groups for a rule), by name


def get_security_group(creds: Credentials, group_id: str) -> SecurityGroupDetail:
    """One group with its rules, and its project's groups (the names of remote groups, the choices for a new rule's
    remote group): two calls at once. A group Neutron does not show this user is NotFound."""
    conn = connection_for(creds)
    with cloud_errors(SERVICE):
        service_endpoint(conn, SERVICE)
    raw, listed = at_once(
        lambda: get_json(creds, SERVICE, f"/security-groups/{group_id}", conn=conn)["security_group"],
        lambda: _paged(creds, conn, "/security-groups", "security_groups", {"fields": ["id", "name", "project_id"]}),
    )
    project = _project_of(raw)
    same = [g for g in listed if _project_of(g) == project]
    names = {str(g.get("id")): str(g.get("name") or "") for g in same}
    others = [_group(g, names) for g in same]
    others.sort(key=lambda g: (not g.is_default, g.name.lower(), g.id))
    return SecurityGroupDetail(group=_group(raw, names), others=tuple(others))


@dataclass(frozen=True)
class ServerSecurityGroups:
    """An instance's groups as Neutron has them on its ports (Nova's addSecurityGroup sets them on every port)."""

    ports: int  # the instance's ports (none: security groups have nothing to apply to)
    groups: tuple[SecurityGroupRow, ...]  # on at least one of its ports
    partial: frozenset[str]  # ids of the groups on some of its ports, not all
    available: tuple[SecurityGroupRow, ...]  # the project's other groups, to add
    supported: bool = True  # False: this Neutron has no security groups (extension off)

    @property
    def names(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for g in (*self.groups, *self.available):
            counts[g.name] = counts.get(g.name, 0) + 1
        return counts


def _server_groups(ports: list[dict[str, Any]], raw_groups: list[dict[str, Any]] | None) -> ServerSecurityGroups:
    """The groups on the server's ports (Nova's addSecurityGroup sets a group on every port), among its project's."""
    if raw_groups is None:
        return ServerSecurityGroups(ports=len(ports), groups=(), partial=frozenset(), available=(), supported=False)
    names = {str(g.get("id")): str(g.get("name") or "") for g in raw_groups}
    by_port = [set(map(str, p.get("security_groups") or [])) for p in ports]
    on_any = set().union(*by_port) if by_port else set()
    on_all = set.intersection(*by_port) if by_port else set()
    groups = [_group(g, names) for g in raw_groups]
    groups.sort(key=lambda g: (not g.is_default, g.name.lower(), g.id))
    known = {g.id for g in groups}
    # A group on a port that the project's list does not show (another project's, shared): named by its id.
    strangers = [
        SecurityGroupRow(id=gid, name=gid, description="", project_id="", rules=()) for gid in sorted(on_any - known)
    ]
    return ServerSecurityGroups(
        ports=len(ports),
        groups=tuple([g for g in groups if g.id in on_any] + strangers),
        partial=frozenset(on_any - on_all),
        available=tuple(g for g in groups if g.id not in on_any),
    )


def find_security_group(creds: Credentials, group_id: str) -> SecurityGroupRow:
    """One group with its rules (one call; remote groups by id). NotFound when Neutron does not show it."""
    raw = get_json(creds, SERVICE, f"/security-groups/{group_id}")["security_group"]
    return _group(raw, {})
