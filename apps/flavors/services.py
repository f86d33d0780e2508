"""Writes for flavors (admin): quick single calls made in the request, each turned into a typed CloudError."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from apps.cloud.connection import Credentials, connection_for
from apps.cloud.errors import CloudError, cloud_errors
from dashboard.cache import optional

# The launch form keeps each project's flavors a short while (apps.instances.launch.list_flavors) with the value
# of this counter when it read them; a flavor made, changed or deleted here counts it up, so every project's launch
# form reads its flavors again at once instead of after the cache's two minutes (one made outside Stratus: then).
GENERATION_KEY = "flavors:generation"


def flavors_changed() -> None:
    with optional("the flavor lists' generation"):
        cache.add(GENERATION_KEY, 0, None)
        cache.incr(GENERATION_KEY)


@dataclass(frozen=True)
class FlavorSpec:
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    flavor_id: str = ""  # empty: Nova generates a UUID
    rxtx_factor: float | None = None
    is_public: bool = True
    description: str = ""
    extra_specs: dict[str, str] = field(default_factory=dict)
    projects: tuple[str, ...] = ()


class FieldError(CloudError):
    """Nova refused a value: `field` names the form field it belongs to ("" when it is not one field)."""

    def __init__(self, error: CloudError, field_name: str) -> None:
        super().__init__(error.message, service=error.service, request_id=error.request_id, detail=error.detail)
        self.status = error.status
        self.field = field_name


# Nova's body attribute → our form field.
_FIELDS = {
    "name": "name",
    "id": "flavor_id",
    "ram": "ram",
    "vcpus": "vcpus",
    "disk": "disk",
    "OS-FLV-EXT-DATA:ephemeral": "ephemeral",
    "swap": "swap",
    "rxtx_factor": "rxtx_factor",
    "description": "description",
    "extra_specs": "extra_specs",
}


def field_for(error: CloudError) -> str:
    """Which form field Nova's message is about ("" for the form as a whole)."""
    text = error.message
    match = re.search(r"field/attribute ([\w:.-]+)", text)
    if match:
        return _FIELDS.get(match.group(1), "extra_specs" if "extra" in text.lower() else "")
    lowered = text.lower()
    if "with name" in lowered:
        return "name"
    if "with id" in lowered or "flavor id" in lowered:
        return "flavor_id"
    if "extra spec" in lowered or "extra_spec" in lowered:
        return "extra_specs"
    return ""


def create_flavor(*, creds: Credentials, spec: FlavorSpec) -> str:
    """Create the flavor, then its extra specs and project access; returns its id.

    When a later step is refused, the flavor is deleted again so that nothing half-made is left.
    """
    conn = connection_for(creds)
    attrs: dict[str, Any] = {
        "name": spec.name,
        "vcpus": spec.vcpus,
        "ram": spec.ram,
        "disk": spec.disk,
        "ephemeral": spec.ephemeral,
        "swap": spec.swap,
        "is_public": spec.is_public,
    }
    if spec.flavor_id:
        attrs["id"] = spec.flavor_id
    if spec.rxtx_factor is not None:
        attrs["rxtx_factor"] = spec.rxtx_factor
    if spec.description:
        attrs["description"] = spec.description
    try:
        with cloud_errors("compute"):
            flavor = conn.compute.create_flavor(**attrs)
    except CloudError as exc:
        raise FieldError(exc, field_for(exc)) from exc
    try:
        with cloud_errors("compute"):
            if spec.extra_specs:
                conn.compute.create_flavor_extra_specs(flavor, dict(spec.extra_specs))
            if not spec.is_public:
                for project_id in spec.projects:
                    conn.compute.flavor_add_tenant_access(flavor, project_id)
    except CloudError as exc:
        try:
            with cloud_errors("compute"):
                conn.compute.delete_flavor(flavor, ignore_missing=True)
        except CloudError:
            pass
        name = field_for(exc)
        raise FieldError(exc, name or ("extra_specs" if spec.extra_specs else "projects")) from exc
    finally:
        flavors_changed()
    return str(flavor.id)


def set_extra_specs(*, creds: Credentials, flavor_id: str, current: dict[str, str], wanted: dict[str, str]) -> None:
    """Make the flavor's extra specs equal to `wanted`: set new or changed keys, then unset removed ones."""
    conn = connection_for(creds)
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    removed = [k for k in current if k not in wanted]
    try:
        with cloud_errors("compute"):
            if changed:
                conn.compute.create_flavor_extra_specs(flavor_id, changed)
            for key in removed:
                conn.compute.delete_flavor_extra_specs_property(flavor_id, key)
    except CloudError as exc:
        raise FieldError(exc, "extra_specs") from exc
    finally:
        flavors_changed()


def add_flavor_access(*, creds: Credentials, flavor_id: str, project_id: str) -> None:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        conn.compute.flavor_add_tenant_access(flavor_id, project_id)
    flavors_changed()


def remove_flavor_access(*, creds: Credentials, flavor_id: str, project_id: str) -> None:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        conn.compute.flavor_remove_tenant_access(flavor_id, project_id)
    flavors_changed()


def delete_flavor(*, creds: Credentials, flavor_id: str) -> None:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        conn.compute.delete_flavor(flavor_id, ignore_missing=False)
    flavors_changed()


# --- equivalent CLI commands ------------------------------------------------------------------------------


def q(value: object) -> str:
    return shlex.quote(str(value))


def cli_create(spec: FlavorSpec | None) -> str:
    if spec is None:
        return "openstack flavor create --vcpus <N> --ram <MiB> --disk <GiB> [--private --project <project>] <name>"
    parts = ["openstack flavor create"]
    if spec.flavor_id:
        parts.append(f"--id {q(spec.flavor_id)}")
    parts += [f"--vcpus {spec.vcpus}", f"--ram {spec.ram}", f"--disk {spec.disk}"]
    if spec.ephemeral:
        parts.append(f"--ephemeral {spec.ephemeral}")
    if spec.swap:
        parts.append(f"--swap {spec.swap}")
    if spec.rxtx_factor is not None:
        parts.append(f"--rxtx-factor {spec.rxtx_factor:g}")
    parts.append("--public" if spec.is_public else "--private")
    if not spec.is_public and spec.projects:
        parts.append(f"--project {q(spec.projects[0])}")
    parts += [f"--property {q(f'{k}={v}')}" for k, v in spec.extra_specs.items()]
    if spec.description:
        parts.append(f"--description {q(spec.description)}")
    parts.append(q(spec.name))
    command = " ".join(parts)
    if not spec.is_public:
        for project in spec.projects[1:]:
            command += f" && openstack flavor set --project {q(project)} {q(spec.name)}"
    return command
