"""What the instance forms offer: the launch form's choices (flavors, images and snapshots, volumes, key pairs,
zones, networks and security groups, the quota) and the images of rebuild. Reads only, each returning frozen
dataclasses; apps/instances/selectors.py reads the instances themselves.

Opening the launch form costs Nova's flavors (short-cached per project and flavor generation), key pairs and zones
(with the server groups at the same time), limits, Glance's active images, Cinder's available volumes (when the
catalog has a volume service) and, with Neutron, what apps.networks.selectors.launch_networking reads at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from apps.cloud.connection import Credentials, at_once, connection_for, get_json
from apps.cloud.errors import cloud_errors
from apps.flavors import services as flavor_services
from apps.networks import selectors as network_selectors
from apps.networks.selectors import Network, SecurityGroup
from apps.servergroups import selectors as servergroup_selectors
from dashboard.cache import cache_many, cached_many

CHOICES_CACHE_SECONDS = 120  # flavors: names and sizes rarely change, and a flavor change bumps the generation


@dataclass(frozen=True)
class FlavorChoice:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0


@dataclass(frozen=True)
class ImageChoice:
    id: str
    name: str
    min_disk: int
    min_ram: int
    size: int
    is_snapshot: bool


@dataclass(frozen=True)
class VolumeChoice:
    id: str
    name: str
    size: int
    bootable: bool


@dataclass(frozen=True)
class Quota:
    instances: int  # -1: unlimited
    instances_used: int
    cores: int
    cores_used: int
    ram: int
    ram_used: int


@dataclass(frozen=True)
class LaunchChoices:
    flavors: list[FlavorChoice]
    images: list[ImageChoice]
    snapshots: list[ImageChoice]
    volumes: list[VolumeChoice]
    keypairs: list[str]
    zones: list[str]
    networks: tuple[Network, ...]  # what the project sees (usable first); empty when the cloud has no Neutron
    has_network_service: bool
    has_volume_service: bool
    quota: Quota
    warnings: list[str] = field(default_factory=list)
    security_groups: tuple[SecurityGroup, ...] = ()  # the project's (Neutron); empty without Neutron
    security_groups_supported: bool = True  # False: Neutron has no security-group extension (404)
    network_quota: dict[str, Any] = field(default_factory=dict)  # Neutron's QuotaUse by resource ("port"); {}: unknown
    server_groups: list[Any] = field(default_factory=list)  # apps.servergroups.selectors.ServerGroup, by name

    @property
    def usable_networks(self) -> tuple[Network, ...]:
        """The networks an instance of the project can have a NIC on (not someone else's external network)."""
        return tuple(n for n in self.networks if n.usable)

    @property
    def picks_networks(self) -> bool:
        """The form lists networks to attach. Not when the project can use none, even with a network service: then
        Nova's "auto" needs Neutron's auto-allocated topology, which many clouds lack (Nova refuses the boot), so
        the choice is none or auto, none first, as without a network service."""
        return self.has_network_service and bool(self.usable_networks)


def _has_service(creds: Credentials, service_type: str) -> bool:
    return any(s.get("type") == service_type for s in creds.body.get("catalog", []))


def list_flavors(creds: Credentials) -> list[FlavorChoice]:
    """Flavors the project may use (cached a short while per project: names and sizes rarely change)."""
    key = f"instances:flavors:{creds.project_id}"
    got = cached_many([key, flavor_services.GENERATION_KEY], "cached flavors")  # one round trip
    generation = got.get(flavor_services.GENERATION_KEY, 0)
    cached = got.get(key)
    if isinstance(cached, dict) and cached.get("generation") == generation:
        return [FlavorChoice(**f) for f in cached["flavors"]]
    conn = connection_for(creds)
    with cloud_errors("compute"):
        flavors = [
            FlavorChoice(
                id=f.id,
                name=f.name or f.id,
                vcpus=int(f.vcpus or 0),
                ram=int(f.ram or 0),
                disk=int(f.disk or 0),
                ephemeral=int(f.ephemeral or 0),
            )
            for f in conn.compute.flavors(details=True)
        ]
    flavors.sort(key=lambda f: (f.vcpus, f.ram, f.disk, f.name))
    value = {"generation": generation, "flavors": [asdict(f) for f in flavors]}  # the cache holds JSON
    cache_many({key: value}, CHOICES_CACHE_SECONDS, "caching flavors")
    return flavors


def _image_choice(img: dict[str, Any]) -> ImageChoice:
    return ImageChoice(
        id=str(img["id"]),
        name=str(img.get("name") or img["id"]),
        min_disk=int(img.get("min_disk") or 0),
        min_ram=int(img.get("min_ram") or 0),
        size=int(img.get("size") or 0),
        is_snapshot=img.get("image_type") == "snapshot",
    )


def _active_images(creds: Credentials) -> list[ImageChoice]:
    """Every active image the project can see, from Glance's JSON (following its `next` links)."""
    conn = connection_for(creds)
    images: list[ImageChoice] = []
    params: dict[str, Any] | None = {"status": "active", "limit": 500}
    path = "/images"
    for _page in range(20):  # at most 10,000 images
        body = get_json(creds, "image", path, params, conn=conn)
        images.extend(_image_choice(i) for i in body.get("images", []))
        nxt = body.get("next")
        if not nxt:
            break
        # Glance's `next` is "/v2/images?marker=..."; the image endpoint already ends in /v2.
        path, params = nxt.removeprefix("/v2"), None
    return sorted(images, key=lambda i: i.name.lower())


def get_quota(creds: Credentials) -> Quota:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        absolute = conn.compute.get_limits().absolute
    return Quota(
        instances=int(absolute.instances if absolute.instances is not None else -1),
        instances_used=int(absolute.instances_used or 0),
        cores=int(absolute.total_cores if absolute.total_cores is not None else -1),
        cores_used=int(absolute.total_cores_used or 0),
        ram=int(absolute.total_ram if absolute.total_ram is not None else -1),
        ram_used=int(absolute.total_ram_used or 0),
    )


def launch_choices(creds: Credentials) -> LaunchChoices:
    conn = connection_for(creds)
    flavors = list_flavors(creds)
    all_images = _active_images(creds)

    def compute_lists() -> tuple[list[str], list[str]]:
        with cloud_errors("compute"):
            keypairs = sorted(k.name for k in conn.compute.keypairs())
            zones = sorted(
                z.name for z in conn.compute.availability_zones() if (z.state or {}).get("available", True) and z.name
            )
        return keypairs, zones

    # The server groups at the same time as the key pairs and zones: one more call, not one more wait.
    (keypairs, zones), server_groups = at_once(compute_lists, lambda: servergroup_selectors.launch_groups(creds, conn))
    has_volume = _has_service(creds, "volumev3") or _has_service(creds, "block-storage")
    volumes: list[VolumeChoice] = []
    warnings: list[str] = []
    if has_volume:
        body = get_json(creds, "block_storage", "/volumes/detail", {"status": "available", "limit": 1000}, conn=conn)
        volumes = [
            VolumeChoice(
                id=str(v["id"]),
                name=str(v.get("name") or v["id"]),
                size=int(v.get("size") or 0),
                bootable=str(v.get("bootable")).lower() == "true",
            )
            for v in body.get("volumes", [])
        ]
    has_network = network_selectors.has_network_service(creds)
    networking = network_selectors.launch_networking(creds) if has_network else None
    return LaunchChoices(
        flavors=flavors,
        images=[i for i in all_images if not i.is_snapshot],
        snapshots=[i for i in all_images if i.is_snapshot],
        volumes=volumes,
        keypairs=keypairs,
        zones=zones,
        networks=networking.networks if networking else (),
        security_groups=networking.security_groups if networking else (),
        security_groups_supported=networking.security_groups_supported if networking else True,
        network_quota=dict(networking.quota) if networking else {},
        has_network_service=has_network,
        has_volume_service=has_volume,
        quota=get_quota(creds),
        warnings=warnings,
        server_groups=server_groups,
    )


def list_images(creds: Credentials) -> list[ImageChoice]:
    return _active_images(creds)
