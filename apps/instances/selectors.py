"""Reads for the instances pages. Every function returns frozen dataclasses, never openstacksdk objects.

The list costs one Nova `servers/detail` call (at the highest microversion both sides speak: ≥ 2.47 embeds the
flavor, addresses come from Nova's own `addresses`) plus at most one Glance `id=in:` call for the images on the
page whose names are not in the short-lived name cache.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from apps.cloud.connection import COMPUTE_MICROVERSION_MAX, Credentials, connection_for, get_json, in_parallel
from apps.cloud.errors import NotFound, Unavailable, cloud_errors
from apps.instances import launch
from apps.networks import selectors as network_selectors
from dashboard.cache import cache_many, cached_many

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 20
NAME_CACHE_SECONDS = 120

# Nova statuses a row can be in while something is happening to it.
TRANSITIONAL = {
    "BUILD",
    "REBUILD",
    "REBOOT",
    "HARD_REBOOT",
    "RESIZE",
    "REVERT_RESIZE",
    "MIGRATING",
    "PASSWORD",
    "DELETED",
}
STATUSES = (
    "ACTIVE",
    "BUILD",
    "SHUTOFF",
    "PAUSED",
    "SUSPENDED",
    "VERIFY_RESIZE",
    "REBOOT",
    "HARD_REBOOT",
    "RESIZE",
    "REBUILD",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "RESCUE",
    "ERROR",
)
# Sort keys offered in the UI → Nova's sort_key.
SORTS = {
    "created": "created_at",
    "name": "display_name",
    "status": "vm_state",
    "az": "availability_zone",
    "key": "key_name",
    "power": "power_state",
    "updated": "updated_at",
}
POWER_STATES = {0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED"}
# Stratus' own bookkeeping tag: a launch tags its server `op-<operation id>` to find it again after a crash
# (apps/instances/operations.py). Not the person's: hidden from chips, the Tags section and the suggestions.
STRATUS_TAG = re.compile(r"op-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_stratus_tag(tag: str) -> bool:
    return bool(STRATUS_TAG.fullmatch(tag))


def tag_list(text: str) -> tuple[str, ...]:
    """Tags typed as "a, b" (Nova's list filters take them comma-separated; a tag never holds a comma)."""
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


# --- filters (all in the URL) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerFilters:
    q: str = ""
    name: str = ""
    status: str = ""
    flavor: str = ""
    image: str = ""
    az: str = ""
    host: str = ""
    tags: str = ""  # Nova's `tags`: servers with all of these (comma-separated)
    tags_any: str = ""  # Nova's `tags-any`: servers with any of these
    sort: str = "created"
    dir: str = "desc"
    marker: str = ""
    limit: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_query(cls, data: Any, *, is_admin: bool) -> ServerFilters:
        def get(key: str) -> str:
            return (data.get(key) or "").strip()[:255]

        status = get("status").upper()
        sort = get("sort") or "created"
        direction = get("dir") or ("desc" if sort in ("created", "updated") else "asc")
        try:
            limit = int(get("limit") or DEFAULT_PAGE_SIZE)
        except ValueError:
            limit = DEFAULT_PAGE_SIZE
        return cls(
            q=get("q"),
            name=get("name"),
            status=status if status in STATUSES else "",
            flavor=get("flavor"),
            image=get("image"),
            az=get("az"),
            host=get("host") if is_admin else "",
            tags=",".join(tag_list(get("tags"))),
            tags_any=",".join(tag_list(get("tags-any"))),
            sort=sort if sort in SORTS else "created",
            dir=direction if direction in ("asc", "desc") else "desc",
            marker=get("marker"),
            limit=limit if limit in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        )

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (new servers then do not pop into it while polling)."""
        return any((self.q, self.name, self.status, self.flavor, self.image, self.az, self.host, self.tags,
                    self.tags_any))  # fmt: skip

    def query(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of this view (with changes), without defaults."""
        values = {
            "q": self.q,
            "name": self.name,
            "status": self.status,
            "flavor": self.flavor,
            "image": self.image,
            "az": self.az,
            "host": self.host,
            "tags": self.tags,
            "tags-any": self.tags_any,
            "sort": self.sort,
            "dir": self.dir,
            "marker": self.marker,
            "limit": str(self.limit),
        }
        values.update({k.replace("_", "-") if k == "tags_any" else k: str(v) for k, v in changes.items()})
        defaults = {"sort": "created", "dir": "desc", "limit": str(DEFAULT_PAGE_SIZE)}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}

    def nova_query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"sort_key": SORTS[self.sort], "sort_dir": self.dir}
        if self.name:
            query["name"] = self.name
        if self.q:
            if _looks_like_ip(self.q):
                # Taken literally: Nova asks Neutron for the ports whose fixed IPs contain it (ip-substring-filtering,
                # on by default); a regular expression would match nothing there. Without that extension Nova
                # matches it as a regular expression from the start, which an address's digits and dots also are.
                query["ip6" if ":" in self.q else "ip"] = self.q
            elif "name" not in query:
                query["name"] = re.escape(self.q)
        if self.status:
            query["status"] = self.status
        if self.flavor:
            query["flavor"] = self.flavor
        if self.image:
            query["image"] = self.image
        if self.az:
            query["availability_zone"] = self.az
        if self.host:
            query["host"] = self.host
        if self.tags:
            query["tags"] = self.tags
        if self.tags_any:
            query["tags-any"] = self.tags_any
        return query


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(re.fullmatch(r"\d{1,3}(\.\d{1,3}){1,3}\.?", text))


# --- rows ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    network: str
    addr: str
    kind: str  # fixed / floating
    version: int


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str
    task_state: str
    vm_state: str
    power_state: int
    image_id: str
    image_name: str
    volume_backed: bool
    flavor_name: str
    vcpus: int
    ram: int
    disk: int
    addresses: tuple[Address, ...]
    key_name: str
    availability_zone: str
    created: datetime | None
    updated: datetime | None
    updated_raw: str
    locked: bool
    locked_reason: str
    fault_message: str
    fault_code: int
    host: str
    hypervisor: str
    description: str
    project_id: str
    user_id: str
    metadata: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    progress: int | None = None
    server_groups: tuple[str, ...] = ()  # Nova 2.71+ (the server's own GET, not the list)
    tags_supported: bool = True  # Nova shows tags from microversion 2.26

    @property
    def user_tags(self) -> tuple[str, ...]:
        """The tags the person sees and may change (Stratus' own bookkeeping tag left out)."""
        return tuple(t for t in self.tags if not is_stratus_tag(t))

    @property
    def fingerprint(self) -> str:
        """A short digest of everything a row shows: tells two states apart within one second of `updated`."""
        import hashlib

        return self.id[:8] + hashlib.blake2s(repr(self).encode(), digest_size=6).hexdigest()

    @property
    def power_label(self) -> str:
        return POWER_STATES.get(self.power_state, "NOSTATE")

    @property
    def in_flux(self) -> bool:
        return bool(self.task_state) or self.status in TRANSITIONAL

    @property
    def deleted(self) -> bool:
        return self.status in ("DELETED", "SOFT_DELETED")

    @property
    def badge(self) -> str:
        if self.in_flux:
            return "transition"
        if self.status == "ACTIVE":
            return "ok"
        if self.status == "ERROR":
            return "danger"
        if self.status in ("VERIFY_RESIZE",):
            return "info"
        return "warn"

    def allowed(self, *, is_admin: bool) -> frozenset[str]:
        return allowed_actions(self, is_admin=is_admin)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _addresses(raw: Any) -> tuple[Address, ...]:
    out: list[Address] = []
    for network, entries in sorted((raw or {}).items()):
        for entry in entries or []:
            out.append(
                Address(
                    network=str(network),
                    addr=str(entry.get("addr", "")),
                    kind=str(entry.get("OS-EXT-IPS:type", "fixed")),
                    version=int(entry.get("version") or 4),
                )
            )
    return tuple(out)


def _server(d: dict[str, Any], image_names: dict[str, str]) -> Server:
    """One server as Nova returns it (JSON) → a Server row; tolerant of missing keys (down cells, old versions)."""
    flavor = d.get("flavor") or {}
    image = d.get("image") or {}
    image_id = str(image.get("id") or "") if isinstance(image, dict) else ""
    fault = d.get("fault") or {}
    volumes = tuple(
        str(v.get("id", "")) for v in (d.get("os-extended-volumes:volumes_attached") or []) if isinstance(v, dict)
    )
    return Server(
        id=str(d.get("id", "")),
        name=str(d.get("name") or ""),
        status=str(d.get("status") or "UNKNOWN").upper(),
        task_state=str(d.get("OS-EXT-STS:task_state") or ""),
        vm_state=str(d.get("OS-EXT-STS:vm_state") or ""),
        power_state=int(d.get("OS-EXT-STS:power_state") or 0),
        image_id=image_id,
        image_name=image_names.get(image_id, ""),
        volume_backed=not image_id,
        flavor_name=str(flavor.get("original_name") or flavor.get("name") or flavor.get("id") or ""),
        vcpus=int(flavor.get("vcpus") or 0),
        ram=int(flavor.get("ram") or 0),
        disk=int(flavor.get("disk") or 0),
        addresses=_addresses(d.get("addresses")),
        key_name=str(d.get("key_name") or ""),
        availability_zone=str(d.get("OS-EXT-AZ:availability_zone") or ""),
        created=_parse_time(d.get("created")),
        updated=_parse_time(d.get("updated")),
        updated_raw=str(d.get("updated") or ""),
        locked=bool(d.get("locked")),
        locked_reason=str(d.get("locked_reason") or ""),
        fault_message=str(fault.get("message") or "") if isinstance(fault, dict) else "",
        fault_code=int(fault.get("code") or 0) if isinstance(fault, dict) else 0,
        host=str(d.get("OS-EXT-SRV-ATTR:host") or ""),
        hypervisor=str(d.get("OS-EXT-SRV-ATTR:hypervisor_hostname") or ""),
        description=str(d.get("description") or ""),
        project_id=str(d.get("tenant_id") or ""),
        user_id=str(d.get("user_id") or ""),
        metadata=tuple(sorted((str(k), str(v)) for k, v in (d.get("metadata") or {}).items())),
        tags=tuple(str(t) for t in (d.get("tags") or ())),
        volumes=volumes,
        progress=d.get("progress"),
        server_groups=tuple(str(g) for g in (d.get("server_groups") or ())),
        tags_supported="tags" in d,
    )


def _compute_get(creds: Credentials, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET on Nova at the highest microversion both sides speak, parsed as plain JSON (openstacksdk's Server
    resources cost ~25 ms each to build). Not capped by STRATUS_COMPUTE_MICROVERSION_MAX: the list relies on
    what recent microversions embed (the flavor, from 2.47)."""
    return get_json(creds, "compute", path, params, microversion_max=COMPUTE_MICROVERSION_MAX)


# Which actions Nova accepts in which state (nova/compute/api.py check_instance_state), so that the UI offers
# only what would work.
_ACTION_VM_STATES = {
    "start": {"stopped"},
    "stop": {"active", "error"},
    "reboot_soft": {"active"},
    "reboot_hard": {"active", "stopped", "paused", "suspended", "error"},
    "pause": {"active"},
    "unpause": {"paused"},
    "suspend": {"active"},
    "resume": {"suspended"},
    "resize": {"active", "stopped"},
    "confirm_resize": {"resized"},
    "revert_resize": {"resized"},
    "rebuild": {"active", "stopped", "error"},
    "snapshot": {"active", "stopped", "paused", "suspended"},
    "shelve": {"active", "stopped", "paused", "suspended"},
    "unshelve": {"shelved", "shelved_offloaded"},
    "shelve_offload": {"shelved"},
    "rescue": {"active", "stopped", "error"},
    "unrescue": {"rescued"},
    "backup": {"active", "stopped", "paused", "suspended"},
}
# Actions Nova's default policy gives admins only (nova/policies/shelve.py: shelve_offload is ADMIN).
_ADMIN_ONLY = {"shelve_offload"}


def allowed_actions(server: Server, *, is_admin: bool) -> frozenset[str]:
    if server.deleted or server.task_state == "deleting":
        return frozenset()
    allowed: set[str] = {"rename"}
    allowed.add("unlock" if server.locked else "lock")
    if server.locked and not is_admin:
        # Nova refuses every other action on a locked server for non-admins.
        return frozenset(allowed)
    allowed.add("delete")
    if not server.task_state:
        allowed |= {a for a, states in _ACTION_VM_STATES.items() if server.vm_state in states}
    if not is_admin:
        allowed -= _ADMIN_ONLY
    if server.volume_backed:
        allowed.discard("backup")  # Nova: "Backup is not supported for volume-backed instances."
    return frozenset(allowed)


@dataclass(frozen=True)
class ServerPage:
    servers: list[Server]
    filters: ServerFilters
    has_next: bool
    next_marker: str
    since: str  # changes-since cursor for live updates (Nova's own clock)
    sorted_as_asked: bool = True  # False: Nova could not sort by the column asked; newest first instead
    floating: network_selectors.FloatingIP | None = None  # the search was this floating IP (see _floating_match)

    @property
    def in_flux_ids(self) -> list[str]:
        return [s.id for s in self.servers if s.in_flux]


def image_names(creds: Credentials, image_ids: Iterable[str]) -> dict[str, str]:
    """Names of these images: from the short cache, else one Glance `GET /v2/images?id=in:...` call."""
    ids = sorted({i for i in image_ids if i})
    if not ids:
        return {}
    keys = {f"instances:image-name:{creds.project_id}:{i}": i for i in ids}
    cached = cached_many(list(keys), "cached image names")
    names = {keys[k]: v for k, v in cached.items()}
    missing = [i for i in ids if i not in names]
    if missing:
        body = get_json(creds, "image", "/images", {"id": "in:" + ",".join(missing), "limit": len(missing)})
        found = {str(i["id"]): str(i.get("name") or "") for i in body.get("images", [])}
        names.update(found)
        # Images no longer visible are remembered as "" too, so that the page does not ask again.
        cache_many(
            {f"instances:image-name:{creds.project_id}:{i}": found.get(i, "") for i in missing},
            NAME_CACHE_SECONDS,
            "caching image names",
        )
    return names


def _image_ids(raw: list[dict[str, Any]]) -> set[str]:
    return {str(s["image"].get("id") or "") for s in raw if isinstance(s.get("image"), dict)}


# Columns a server still being scheduled (a Nova "build request") may have empty: Nova 2025.2 answers 500 when it
# sorts two such servers by one of them ('<' between None and None).
NULLABLE_SORT_KEYS = {"updated_at", "key_name", "availability_zone"}


def list_servers(creds: Credentials, filters: ServerFilters) -> ServerPage:
    query = filters.nova_query()
    floating = _floating_match(creds, filters.q)
    if floating is not None:
        if not floating.fixed_ip:  # a floating IP bound to nothing: no instance has it
            return ServerPage(servers=[], filters=filters, has_next=False, next_marker="", since="", floating=floating)
        query.pop("ip6", None)
        query["ip"] = floating.fixed_ip  # the address it is associated with (Nova matches fixed IPs only)
    query["limit"] = filters.limit + 1  # one more than shown tells whether there is a next page
    if filters.marker:
        query["marker"] = filters.marker
    sorted_as_asked = True
    try:
        raw = _compute_get(creds, "/servers/detail", query).get("servers", [])
    except Unavailable:
        if query["sort_key"] not in NULLABLE_SORT_KEYS:
            raise
        # Nova could not sort by that column while servers are being built: newest first instead, and say so.
        query.update(sort_key="created_at", sort_dir="desc")
        query.pop("marker", None)
        raw = _compute_get(creds, "/servers/detail", query).get("servers", [])
        sorted_as_asked = False
    has_next = len(raw) > filters.limit
    raw = raw[: filters.limit]
    if floating is not None and floating.device_id:  # not another instance whose fixed IP contains that address
        raw = [s for s in raw if str(s.get("id", "")) == floating.device_id]
    names = image_names(creds, _image_ids(raw))
    servers = [_server(s, names) for s in raw]
    since = max((s.updated_raw for s in servers), default="")
    return ServerPage(
        servers=servers,
        filters=filters,
        has_next=has_next,
        next_marker=servers[-1].id if has_next and servers else "",
        since=since,
        sorted_as_asked=sorted_as_asked,
        floating=floating,
    )


def _floating_match(creds: Credentials, text: str) -> network_selectors.FloatingIP | None:
    """The project's floating IP with exactly this address, when the search is a whole IPv4 address and the cloud has
    Neutron (one call): Nova's `ip` filter never looks at floating IPs, so the list asks for the fixed IP it is
    associated with instead. A partial address matches fixed IPs only (the search box says so)."""
    try:
        if ipaddress.ip_address(text).version != 4:
            return None
    except ValueError:
        return None
    if not network_selectors.has_network_service(creds):
        return None
    return network_selectors.floating_ip_by_address(creds, text)


def changed_servers(creds: Credentials, *, since: str, limit: int = 200) -> list[Server]:
    """Servers of the project changed since `since` (Nova's `changes-since`; includes recently deleted ones).

    In Nova's default order (newest first): asking Nova to sort by `updated_at` fails with a 500 while two or
    more servers are still build requests (their `updated_at` is null; seen on Nova 2025.2)."""
    raw = _compute_get(creds, "/servers/detail", {"changes-since": since, "limit": limit}).get("servers", [])
    live = [s for s in raw if str(s.get("status") or "").upper() != "DELETED"]
    names = image_names(creds, _image_ids(live))
    return [_server(s, names) for s in raw]


def servers_by_id(creds: Credentials, server_ids: list[str]) -> tuple[list[Server], list[str]]:
    """These servers as Nova shows them now (one GET each, at once in the thread pool: Nova's list filters by id
    for admins only), and the ids of those that no longer exist."""
    ids = list(dict.fromkeys(server_ids))
    if not ids:
        return [], []
    conn = connection_for(creds)

    def fetch(server_id: str) -> dict[str, Any] | None:
        try:
            path = f"/servers/{server_id}"
            return get_json(creds, "compute", path, microversion_max=COMPUTE_MICROVERSION_MAX, conn=conn)["server"]
        except NotFound:
            return None

    # The first in this thread (it discovers Nova's endpoint and microversion once), the rest at once.
    raws = [fetch(ids[0]), *in_parallel(fetch, ids[1:])]
    live = [raw for raw in raws if raw and str(raw.get("status") or "").upper() != "DELETED"]
    names = image_names(creds, _image_ids(live))
    found: list[Server] = []
    gone: list[str] = []
    for server_id, raw in zip(ids, raws, strict=True):
        server = _server(raw, names) if raw else None
        if server is None or server.deleted:
            gone.append(server_id)
        else:
            found.append(server)
    return found, gone


def get_server(creds: Credentials, server_id: str) -> Server:
    raw = _compute_get(creds, f"/servers/{server_id}").get("server", {})
    return _server(raw, image_names(creds, _image_ids([raw])))


# --- detail tabs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionEvent:
    event: str
    result: str
    start_time: str
    finish_time: str
    traceback: str = ""


@dataclass(frozen=True)
class InstanceAction:
    request_id: str
    action: str
    start_time: str
    user_id: str
    message: str
    events: tuple[ActionEvent, ...] = ()

    @property
    def failed(self) -> bool:
        return any(e.result and e.result.lower() == "error" for e in self.events) or bool(self.message)


def console_log(creds: Credentials, server_id: str, *, lines: int | None) -> str:
    """The last `lines` lines of the console log (all of it when None). Nova answers `length` with
    `'\n'.join(log.split('\n')[-length:])`, so a log that ends in a newline gives one line fewer than asked:
    one more is asked and the answer cut to `lines`."""
    conn = connection_for(creds)
    with cloud_errors("compute"):
        out = conn.compute.get_server_console_output(server_id, length=lines + 1 if lines else lines)
    text = (out or {}).get("output", "") if isinstance(out, dict) else str(out or "")
    return last_lines(text, lines) if lines else text


def last_lines(text: str, lines: int) -> str:
    parts = text.split("\n")
    ends_in_newline = len(parts) > 1 and parts[-1] == ""
    kept = (parts[:-1] if ends_in_newline else parts)[-lines:]
    return "\n".join(kept) + ("\n" if ends_in_newline else "")


def instance_actions(creds: Credentials, server_id: str, *, limit: int = 50) -> list[InstanceAction]:
    """The server's action log, newest first: one call. Nova's list has no events; `action_events` fetches one
    action's when the person opens it (Horizon's tab shows none)."""
    conn = connection_for(creds)
    with cloud_errors("compute"):
        actions = list(conn.compute.server_actions(server_id))
    actions.sort(key=lambda a: a.start_time or "", reverse=True)
    return [
        InstanceAction(
            request_id=a.request_id,
            action=a.action or "",
            start_time=str(a.start_time or ""),
            user_id=a.user_id or "",
            message=a.message or "",
        )
        for a in actions[:limit]
    ]


def action_events(creds: Credentials, server_id: str, request_id: str) -> tuple[ActionEvent, ...]:
    """One action's events (`GET /servers/{id}/os-instance-actions/{request_id}`)."""
    conn = connection_for(creds)
    with cloud_errors("compute"):
        detail = conn.compute.get_server_action(request_id, server_id)

    def field(e: Any, name: str) -> str:
        value = e.get(name) if isinstance(e, dict) else getattr(e, name, "")
        return str(value or "")

    return tuple(
        ActionEvent(
            event=field(e, "event"),
            result=field(e, "result"),
            start_time=field(e, "start_time"),
            finish_time=field(e, "finish_time"),
            traceback=field(e, "traceback"),
        )
        for e in (detail.events or [])
    )


def filter_images(creds: Credentials) -> list[tuple[str, str]]:
    """(id, name) of the images the project can see, for the list's image filter (short-cached)."""
    key = f"instances:filter-images:{creds.project_id}"
    cached = cached_many([key], "cached choices").get(key)
    if cached is not None:
        return cached
    images = [(i.id, i.name) for i in launch.list_images(creds)]
    cache_many({key: images}, NAME_CACHE_SECONDS, "caching choices")
    return images


def tag_suggestions_key(project_id: str) -> str:
    return f"instances:tags:{project_id}"


def forget_tag_suggestions(project_id: str) -> None:
    """After a tag was added or removed: the next filter panel asks Nova again."""
    from django.core.cache import cache

    from dashboard.cache import optional

    with optional("forgetting tag suggestions"):
        cache.delete(tag_suggestions_key(project_id))


def tag_suggestions(creds: Credentials, *, limit: int = 200) -> list[str]:
    """Tags on the project's newest servers (at most `limit` of them, one Nova call, short-cached) for the list's tag
    filters: Nova has no list of a project's tags. Stratus' own bookkeeping tags are left out."""
    key = tag_suggestions_key(creds.project_id)
    cached = cached_many([key], "cached choices").get(key)
    if cached is not None:
        return list(cached)
    raw = _compute_get(creds, "/servers/detail", {"limit": limit}).get("servers", [])
    tags = sorted({str(t) for s in raw for t in (s.get("tags") or ()) if not is_stratus_tag(str(t))}, key=str.lower)
    cache_many({key: tags}, NAME_CACHE_SECONDS, "caching choices")
    return tags


def list_zones(creds: Credentials) -> list[str]:
    key = f"instances:zones:{creds.project_id}"
    cached = cached_many([key], "cached choices").get(key)
    if cached is not None:
        return cached
    conn = connection_for(creds)
    with cloud_errors("compute"):
        zones = sorted(z.name for z in conn.compute.availability_zones() if z.name)
    cache_many({key: zones}, NAME_CACHE_SECONDS, "caching choices")
    return zones
