"""Reads for flavors: the list (one `flavors/detail` call, extra specs embedded at 2.61), one flavor, its access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.cloud.connection import Credentials, connection_for, get_json, get_json_list
from apps.cloud.errors import cloud_errors

# Our column names → Nova's flavor sort keys.
SORT_KEYS = {
    "name": "name",
    "id": "flavorid",
    "vcpus": "vcpus",
    "ram": "memory_mb",
    "disk": "root_gb",
    "ephemeral": "ephemeral_gb",
    "swap": "swap",
    "rxtx": "rxtx_factor",
}
DEFAULT_SORT = "name"


@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int
    swap: int
    rxtx_factor: float | None
    is_public: bool
    is_disabled: bool
    description: str
    extra_specs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FlavorAccess:
    project_id: str
    project_name: str


@dataclass(frozen=True)
class FlavorDetail:
    flavor: Flavor
    access: tuple[FlavorAccess, ...]
    server_count: int | None  # servers using it (admins only); None when unknown


@dataclass(frozen=True)
class Project:
    id: str
    name: str


def _to_flavor(raw: dict[str, Any]) -> Flavor:
    swap = raw.get("swap")
    return Flavor(
        id=str(raw.get("id", "")),
        name=raw.get("name") or "",
        vcpus=int(raw.get("vcpus") or 0),
        ram=int(raw.get("ram") or 0),
        disk=int(raw.get("disk") or 0),
        ephemeral=int(raw.get("OS-FLV-EXT-DATA:ephemeral") or 0),
        swap=int(swap) if swap and str(swap).strip() else 0,
        rxtx_factor=raw.get("rxtx_factor"),
        is_public=bool(raw.get("os-flavor-access:is_public", True)),
        is_disabled=bool(raw.get("OS-FLV-DISABLED:disabled", False)),
        description=raw.get("description") or "",
        extra_specs=tuple(sorted((str(k), str(v)) for k, v in (raw.get("extra_specs") or {}).items())),
    )


def parse_sort(raw: str | None) -> tuple[str, str]:
    """`-ram` → ("ram", "desc"); unknown columns fall back to the name."""
    raw = (raw or "").strip()
    direction = "desc" if raw.startswith("-") else "asc"
    column = raw.lstrip("-")
    if column not in SORT_KEYS:
        return DEFAULT_SORT, "asc"
    return column, direction


def list_flavors(*, creds: Credentials, sort: str = DEFAULT_SORT, direction: str = "asc") -> list[Flavor]:
    """Every flavor the user can use (members: public + private ones shared with the project; admins: all).

    One `GET /flavors/detail` (more past Nova's page size), sorted by Nova itself; Nova's JSON is read as it is
    (building an openstacksdk resource per flavor took most of the page's time).
    """
    # is_public=None: admins see public and private flavors; Nova ignores it for members and shows the public ones
    # plus the private ones their project has access to.
    params = {"is_public": "None", "sort_key": SORT_KEYS.get(sort, "name"), "sort_dir": direction}
    return [_to_flavor(r) for r in get_json_list(creds, "/flavors/detail", "flavors", params)]


def get_flavor(*, creds: Credentials, flavor_id: str) -> Flavor:
    return _to_flavor(get_json(creds, "compute", f"/flavors/{flavor_id}").get("flavor") or {})


def list_projects(*, creds: Credentials) -> list[Project]:
    """Projects an admin can grant flavor access to (Keystone)."""
    conn = connection_for(creds)
    with cloud_errors("identity"):
        raws = list(conn.identity.projects())  # type: ignore[union-attr]  # a v3 proxy: Stratus signs in with v3
    return sorted((Project(id=p.id, name=p.name or p.id) for p in raws), key=lambda p: p.name.lower())


def get_flavor_detail(*, creds: Credentials, flavor_id: str) -> FlavorDetail:
    """The flavor, and for admins its access list (private flavors) and how many servers use it."""
    flavor = get_flavor(creds=creds, flavor_id=flavor_id)
    access: tuple[FlavorAccess, ...] = ()
    server_count: int | None = None
    if creds.is_admin:
        conn = connection_for(creds)
        if not flavor.is_public:
            with cloud_errors("compute"):
                entries = conn.compute.get_flavor_access(flavor.id)
            names = {p.id: p.name for p in list_projects(creds=creds)}
            access = tuple(
                FlavorAccess(project_id=e["tenant_id"], project_name=names.get(e["tenant_id"], "")) for e in entries
            )
        with cloud_errors("compute"):
            # One page, counted as it comes (a hint, capped at 1000): openstacksdk's paging of this list gave up
            # with "Endless pagination loop detected" against a real Nova 34, which made the page a 503.
            response = conn.compute.get(
                "/servers", params={"all_tenants": "True", "flavor": flavor.id, "limit": 1000}, raise_exc=True
            )
            server_count = len(response.json().get("servers", []))
    return FlavorDetail(flavor=flavor, access=access, server_count=server_count)
