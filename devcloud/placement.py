"""Placement at /placement: resource providers, inventories, usages, traits, aggregates, allocations,
resource classes, traits. Microversions 1.0-1.39 via `OpenStack-API-Version: placement 1.x`.

Every call but the root version document is admin only (Placement's default policy: admin or service).
Errors use Placement's shape: {"errors": [{"status", "title", "detail", "code", "request_id"}]}.

Tables: `placement_providers` {uuid: provider}, `placement_consumers` {consumer uuid: {allocations:
{rp uuid: {rc: amount}}, project_id, user_id, generation, consumer_type}}, `placement_custom`
{"resource_classes": [...], "traits": [...]}.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from devcloud.state import store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

PREFIX = "/placement"
MIN_VERSION, MAX_VERSION = (1, 0), (1, 39)
MAX_INT = 2147483647

STANDARD_CLASSES = [
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
]

# A subset of os-traits: the ones Nova's libvirt driver reports most often.
STANDARD_TRAITS = [
    "COMPUTE_ACCELERATORS",
    "COMPUTE_ARCH_X86_64",
    "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_GRAPHICS_MODEL_VGA",
    "COMPUTE_GRAPHICS_MODEL_VIRTIO",
    "COMPUTE_IMAGE_TYPE_AMI",
    "COMPUTE_IMAGE_TYPE_ARI",
    "COMPUTE_IMAGE_TYPE_AKI",
    "COMPUTE_IMAGE_TYPE_ISO",
    "COMPUTE_IMAGE_TYPE_QCOW2",
    "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NET_VIF_MODEL_E1000",
    "COMPUTE_NET_VIF_MODEL_VIRTIO",
    "COMPUTE_NODE",
    "COMPUTE_RESCUE_BFV",
    "COMPUTE_SECURITY_UEFI_SECURE_BOOT",
    "COMPUTE_STATUS_DISABLED",
    "COMPUTE_STORAGE_BUS_IDE",
    "COMPUTE_STORAGE_BUS_SATA",
    "COMPUTE_STORAGE_BUS_SCSI",
    "COMPUTE_STORAGE_BUS_VIRTIO",
    "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG",
    "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH",
    "HW_ARCH_X86_64",
    "HW_CPU_HYPERTHREADING",
    "HW_CPU_X86_AESNI",
    "HW_CPU_X86_AVX",
    "HW_CPU_X86_AVX2",
    "HW_CPU_X86_SSE",
    "HW_CPU_X86_SSE2",
    "HW_CPU_X86_SSE41",
    "HW_CPU_X86_SSE42",
    "HW_CPU_X86_SVM",
    "HW_CPU_X86_VMX",
    "MISC_SHARES_VIA_AGGREGATE",
    "STORAGE_DISK_HDD",
    "STORAGE_DISK_SSD",
]

INVENTORY_DEFAULTS = {"reserved": 0, "min_unit": 1, "max_unit": MAX_INT, "step_size": 1, "allocation_ratio": 1.0}


class PlacementError(HttpError):
    """An error in Placement's JSON shape (with its error `code`)."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str = "placement.undefined_code",
        mv: str | None = None,
        request_id: str = "",
    ) -> None:
        headers = {"OpenStack-API-Version": f"placement {mv}", "Vary": "openstack-api-version"} if mv else {}
        super().__init__(status, detail, style="placement", headers=headers)
        self.code = code
        self.request_id = request_id

    def body(self) -> dict[str, Any]:
        return {
            "errors": [
                {
                    "status": self.status,
                    "title": HTTPStatus(self.status).phrase,
                    "detail": self.detail_text(),
                    "code": self.code,
                    "request_id": self.request_id,
                }
            ]
        }

    def detail_text(self) -> str:
        # Placement's detail is webob's body with the tags stripped: explanation, blank line, the message.
        from devcloud.image import webob_message

        text = webob_message(self.status, self.message).replace("\n", " ").replace("\r", "")
        return re.sub(r"<br */?>", "\n", text)


class CapacityExceeded(Exception):
    """`allocate()` would exceed a provider's capacity (or violate min/max unit, step size)."""


def _providers() -> dict[str, Any]:
    return store.table("placement_providers")


def _consumers() -> dict[str, Any]:
    return store.table("placement_consumers")


def _custom() -> dict[str, Any]:
    table = store.table("placement_custom")
    table.setdefault("resource_classes", [])
    table.setdefault("traits", [])
    return table


# --------------------------------------------------------------------------- microversions


def _mv(req: Request) -> tuple[int, int]:
    cached = req.context.get("placement_mv")
    if cached:
        return cached
    raw = req.header("openstack-api-version") or ""
    m = re.search(r"placement\s+(\S+)", raw)
    version = MIN_VERSION
    if m:
        text = m.group(1)
        if text == "latest":
            version = MAX_VERSION
        else:
            vm = re.fullmatch(r"(\d+)\.(\d+)", text)
            if not vm:
                raise PlacementError(400, f"invalid version string: {text}")
            version = (int(vm.group(1)), int(vm.group(2)))
            if not MIN_VERSION <= version <= MAX_VERSION:
                raise PlacementError(
                    406, f"Unacceptable version header: {text}", code="placement.undefined_code", mv="1.0"
                )
    req.context["placement_mv"] = version
    return version


def _mv_text(req: Request) -> str:
    major, minor = _mv(req)
    return f"{major}.{minor}"


def _answer(req: Request, status: int, body: Any | None = None, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"OpenStack-API-Version": f"placement {_mv_text(req)}", "Vary": "openstack-api-version", **(headers or {})}
    if body is None:
        return empty_response(status, hdrs)
    return json_response(status, body, hdrs)


def _err(req: Request, status: int, detail: str, code: str = "placement.undefined_code") -> PlacementError:
    return PlacementError(status, detail, code, mv=_mv_text(req), request_id=req.context.get("request_id", ""))


def _route(method: str, path: str, min_mv: tuple[int, int] = MIN_VERSION, policy: str = "") -> Callable:
    """Register an admin-only Placement handler that exists from microversion `min_mv` on."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        def handler(req: Request, **kw: str) -> Response:
            mv = _mv(req)
            ctx = req.context.get("auth")
            if ctx is None:
                raise PlacementError(401, "The request you have made requires authentication.")
            if not (ctx.get("is_admin") or "service" in ctx.get("roles", [])):
                raise _err(req, 403, f"Policy does not allow {policy or 'placement'} to be performed.")
            if mv < min_mv:
                raise _err(req, 404, "The resource could not be found.")
            return fn(req, **kw)

        router.route(method, PREFIX + path)(handler)
        return fn

    return register


def _json(req: Request) -> Any:
    try:
        return req.json(style="placement")
    except HttpError:
        raise _err(req, 400, "Malformed JSON: the request body is empty or is not valid JSON.")


def _json_object(req: Request) -> dict[str, Any]:
    body = _json(req)
    if not isinstance(body, dict):
        raise _err(req, 400, "JSON does not validate: the request body must be an object.")
    return body


# --------------------------------------------------------------------------- model helpers


def _all_classes() -> list[str]:
    return STANDARD_CLASSES + list(_custom()["resource_classes"])


def _all_traits() -> list[str]:
    return STANDARD_TRAITS + list(_custom()["traits"])


def _capacity_of(inv: dict[str, Any]) -> int:
    return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])


def _usage_of(rp_uuid: str) -> dict[str, int]:
    used: dict[str, int] = {}
    for consumer in _consumers().values():
        for rc, amount in consumer["allocations"].get(rp_uuid, {}).items():
            used[rc] = used.get(rc, 0) + amount
    return used


def _get_rp(req: Request | None, rp_uuid: str) -> dict[str, Any]:
    rp = _providers().get(rp_uuid)
    if rp is None:
        if req is None:
            raise KeyError(rp_uuid)
        raise _err(req, 404, f"No resource provider with uuid {rp_uuid} found")
    return rp


def _bump(rp: dict[str, Any]) -> None:
    rp["generation"] += 1
    store.touch()


def _new_provider(rp_uuid: str, name: str, parent: str | None = None) -> dict[str, Any]:
    root = rp_uuid
    if parent:
        root = _providers()[parent]["root_provider_uuid"]
    return {
        "uuid": rp_uuid,
        "name": name,
        "generation": 0,
        "parent_provider_uuid": parent,
        "root_provider_uuid": root,
        "inventories": {},
        "traits": [],
        "aggregates": [],
    }


def _full_inventory(rc: str, raw: dict[str, Any], req: Request | None = None) -> dict[str, Any]:
    def bad(msg: str) -> Exception:
        if req is None:
            return ValueError(msg)
        return _err(req, 400, f"JSON does not validate: {msg}")

    if not isinstance(raw, dict):
        raise bad(f"inventory for {rc} must be an object")
    if "total" not in raw:
        raise bad("'total' is a required property")
    inv = dict(INVENTORY_DEFAULTS)
    for key, value in raw.items():
        if key == "resource_provider_generation":
            continue
        if key not in ("total", *INVENTORY_DEFAULTS):
            raise bad(f"Additional properties are not allowed ('{key}' was unexpected)")
        if key == "allocation_ratio":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise bad(f"{value!r} is not valid under the schema for 'allocation_ratio'")
            inv[key] = float(value)
        else:
            minimum = 0 if key == "reserved" else 1
            if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
                raise bad(f"{value!r} is not valid under the schema for '{key}' (integer, minimum {minimum})")
            inv[key] = value
    if inv["reserved"] > inv["total"] and req is not None:
        raise _err(
            req,
            400,
            f"Unable to update inventory for resource provider: Invalid inventory for '{rc}': reserved value "
            f"({inv['reserved']}) is greater than total ({inv['total']}).",
        )
    if inv["min_unit"] > inv["max_unit"] and req is not None:
        raise _err(req, 400, f"Invalid inventory for '{rc}': min_unit greater than max_unit.")
    return inv


def _check_rc_known(req: Request, rc: str) -> None:
    if rc not in _all_classes():
        raise _err(
            req,
            400,
            f"Unknown resource class in inventory for resource provider: {rc}",
            code="placement.undefined_code",
        )


# --------------------------------------------------------------------------- contract API


def ensure_provider(rp_uuid: str, name: str, inventories: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Create the provider if missing and set its inventories (bumping the generation when they change)."""
    with store.lock:
        rp = _providers().get(rp_uuid)
        if rp is None:
            rp = _new_provider(rp_uuid, name)
            _providers()[rp_uuid] = rp
            store.touch()
        elif rp["name"] != name:
            rp["name"] = name
            _bump(rp)
        new = {rc: _full_inventory(rc, inv) for rc, inv in inventories.items()}
        if new != rp["inventories"]:
            rp["inventories"] = new
            _bump(rp)
        return _clone(rp)


def _clone(rp: dict[str, Any]) -> dict[str, Any]:
    return {
        **rp,
        "inventories": {k: dict(v) for k, v in rp["inventories"].items()},
        "traits": list(rp["traits"]),
        "aggregates": list(rp["aggregates"]),
    }


def get_provider(rp_uuid: str) -> dict[str, Any] | None:
    with store.lock:
        rp = _providers().get(rp_uuid)
        return _clone(rp) if rp else None


def capacity(rp_uuid: str) -> dict[str, int]:
    """{resource class: (total - reserved) * allocation_ratio}."""
    with store.lock:
        rp = _providers().get(rp_uuid)
        if rp is None:
            return {}
        return {rc: _capacity_of(inv) for rc, inv in rp["inventories"].items()}


def usages(rp_uuid: str) -> dict[str, int]:
    """{resource class: amount allocated} for the provider (0 for every inventory class not in use)."""
    with store.lock:
        rp = _providers().get(rp_uuid)
        used = _usage_of(rp_uuid)
        if rp is not None:
            for rc in rp["inventories"]:
                used.setdefault(rc, 0)
        return used


def _check_fit(allocs: dict[str, dict[str, int]], consumer_uuid: str) -> str | None:
    """None when the allocations fit (ignoring what `consumer_uuid` holds now), else the reason."""
    for rp_uuid, resources in allocs.items():
        rp = _providers().get(rp_uuid)
        if rp is None:
            return f"Allocation for resource provider '{rp_uuid}' that does not exist."
        used = _usage_of(rp_uuid)
        mine = _consumers().get(consumer_uuid, {}).get("allocations", {}).get(rp_uuid, {})
        for rc, amount in resources.items():
            inv = rp["inventories"].get(rc)
            if inv is None:
                return f"Inventory for '{rc}' on resource provider '{rp_uuid}' invalid."
            if amount < inv["min_unit"] or amount > inv["max_unit"] or amount % inv["step_size"]:
                return (
                    f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider "
                    f"'{rp_uuid}'. The requested amount would violate inventory constraints."
                )
            if used.get(rc, 0) - mine.get(rc, 0) + amount > _capacity_of(inv):
                return (
                    f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider "
                    f"'{rp_uuid}'. The requested amount would exceed the capacity."
                )
    return None


def _write_consumer(
    consumer_uuid: str,
    allocs: dict[str, dict[str, int]],
    project_id: str | None,
    user_id: str | None,
    consumer_type: str | None = None,
) -> None:
    consumers = _consumers()
    old = consumers.get(consumer_uuid)
    touched = set(allocs) | set(old["allocations"] if old else {})
    allocs = {rp: {rc: n for rc, n in res.items() if n > 0} for rp, res in allocs.items()}
    allocs = {rp: res for rp, res in allocs.items() if res}
    if not allocs:
        consumers.pop(consumer_uuid, None)
    else:
        consumers[consumer_uuid] = {
            "allocations": allocs,
            "project_id": project_id if project_id is not None else (old or {}).get("project_id"),
            "user_id": user_id if user_id is not None else (old or {}).get("user_id"),
            "generation": (old["generation"] + 1) if old else 1,
            "consumer_type": consumer_type or (old or {}).get("consumer_type") or "unknown",
        }
    for rp_uuid in touched:
        rp = _providers().get(rp_uuid)
        if rp is not None:
            _bump(rp)
    store.touch()


def allocate(consumer_uuid: str, provider_uuid: str, resources: dict[str, int], project_id: str, user_id: str) -> None:
    """Replace the consumer's allocations with `resources` on one provider. Raises CapacityExceeded."""
    with store.lock:
        allocs = {provider_uuid: {rc: int(n) for rc, n in resources.items() if int(n) > 0}}
        reason = _check_fit(allocs, consumer_uuid)
        if reason:
            raise CapacityExceeded(reason)
        _write_consumer(consumer_uuid, allocs, project_id, user_id, "INSTANCE")


def free(consumer_uuid: str) -> None:
    """Drop every allocation of the consumer (no error when it has none)."""
    with store.lock:
        if consumer_uuid in _consumers():
            _write_consumer(consumer_uuid, {}, None, None)


def set_traits(rp_uuid: str, traits: list[str]) -> None:
    with store.lock:
        rp = _providers().get(rp_uuid)
        if rp is None:
            raise KeyError(rp_uuid)
        for trait in traits:
            if trait not in _all_traits():
                _custom()["traits"].append(trait)
        if sorted(traits) != sorted(rp["traits"]):
            rp["traits"] = sorted(set(traits))
            _bump(rp)


def allocations_for(consumer_uuid: str) -> dict[str, dict[str, int]]:
    with store.lock:
        consumer = _consumers().get(consumer_uuid)
        return {rp: dict(res) for rp, res in (consumer or {}).get("allocations", {}).items()}


# --------------------------------------------------------------------------- representations


def _rp_view(req: Request, rp: dict[str, Any]) -> dict[str, Any]:
    mv = _mv(req)
    base = f"{PREFIX}/resource_providers/{rp['uuid']}"
    links = [
        {"rel": "self", "href": base},
        {"rel": "inventories", "href": base + "/inventories"},
        {"rel": "usages", "href": base + "/usages"},
    ]
    if mv >= (1, 1):
        links.append({"rel": "aggregates", "href": base + "/aggregates"})
    if mv >= (1, 6):
        links.append({"rel": "traits", "href": base + "/traits"})
    if mv >= (1, 11):
        links.append({"rel": "allocations", "href": base + "/allocations"})
    out: dict[str, Any] = {"generation": rp["generation"], "uuid": rp["uuid"], "name": rp["name"], "links": links}
    if mv >= (1, 14):
        out["parent_provider_uuid"] = rp["parent_provider_uuid"]
        out["root_provider_uuid"] = rp["root_provider_uuid"]
    return out


# --------------------------------------------------------------------------- root


@router.route("GET", PREFIX)
def root(req: Request) -> Response:
    body = {
        "versions": [
            {
                "id": "v1.0",
                "max_version": f"{MAX_VERSION[0]}.{MAX_VERSION[1]}",
                "min_version": f"{MIN_VERSION[0]}.{MIN_VERSION[1]}",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": ""}],
            }
        ]
    }
    return _answer(req, 200, body)


# --------------------------------------------------------------------------- resource providers


def _parse_resources(req: Request, text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        rc, _, amount = part.partition(":")
        rc = rc.strip()
        if not rc or not amount.strip().isdigit():
            raise _err(
                req,
                400,
                f"Badly formed resources parameter. Expected resources query string parameter in "
                f"form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.",
            )
        if rc not in _all_classes():
            raise _err(req, 400, f"Invalid resource class in resources parameter: No such resource class {rc}.")
        out[rc] = int(amount)
    return out


def _in_list(text: str) -> list[str]:
    return text[3:].split(",") if text.startswith("in:") else [text]


@_route("GET", "/resource_providers", policy="placement:resource_providers:list")
def list_providers(req: Request) -> Response:
    mv = _mv(req)
    with store.lock:
        rps = list(_providers().values())
        if req.arg("name") is not None:
            rps = [r for r in rps if r["name"] == req.arg("name")]
        if req.arg("uuid") is not None:
            rps = [r for r in rps if r["uuid"] == req.arg("uuid")]
        if req.arg("in_tree") is not None and mv >= (1, 14):
            anchor = _providers().get(req.arg("in_tree", ""))
            if anchor is None:
                raise _err(req, 400, f"Invalid uuid value: {req.arg('in_tree')}")
            rps = [r for r in rps if r["root_provider_uuid"] == anchor["root_provider_uuid"]]
        if mv >= (1, 3):
            for member_of in req.args("member_of"):
                negate = member_of.startswith("!") and mv >= (1, 32)
                aggs = _in_list(member_of[1:] if negate else member_of)
                if negate:
                    rps = [r for r in rps if not set(aggs) & set(r["aggregates"])]
                else:
                    rps = [r for r in rps if set(aggs) & set(r["aggregates"])]
        if req.arg("resources") is not None and mv >= (1, 4):
            wanted = _parse_resources(req, req.arg("resources", ""))
            fit = []
            for r in rps:
                used = _usage_of(r["uuid"])
                if all(
                    rc in r["inventories"]
                    and used.get(rc, 0) + n <= _capacity_of(r["inventories"][rc])
                    and n <= r["inventories"][rc]["max_unit"]
                    for rc, n in wanted.items()
                ):
                    fit.append(r)
            rps = fit
        if req.arg("required") is not None and mv >= (1, 18):
            for trait in req.arg("required", "").split(","):
                trait = trait.strip()
                if trait.startswith("!") and mv >= (1, 22):
                    rps = [r for r in rps if trait[1:] not in r["traits"]]
                else:
                    if trait not in _all_traits():
                        raise _err(req, 400, f"No such trait(s): {trait}")
                    rps = [r for r in rps if trait in r["traits"]]
        items = [_rp_view(req, r) for r in sorted(rps, key=lambda r: r["name"])]
    return _answer(req, 200, {"resource_providers": items})


@_route("POST", "/resource_providers", policy="placement:resource_providers:create")
def create_provider(req: Request) -> Response:
    body = _json_object(req)
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 200:
        raise _err(req, 400, "JSON does not validate: 'name' is a required property")
    rp_uuid = body.get("uuid") or str(uuidlib.uuid4())
    try:
        rp_uuid = str(uuidlib.UUID(str(rp_uuid)))
    except ValueError:
        raise _err(req, 400, f"JSON does not validate: '{rp_uuid}' is not a 'uuid'")
    parent = body.get("parent_provider_uuid")
    if parent is not None and not isinstance(parent, str):
        raise _err(req, 400, f"JSON does not validate: {parent!r} is not a 'uuid'")
    with store.lock:
        if parent is not None and parent not in _providers():
            raise _err(
                req, 400, f"parent provider UUID {parent} does not exist.", code="placement.resource_provider.not_found"
            )
        if rp_uuid in _providers():
            raise _err(
                req,
                409,
                f"Conflicting resource provider uuid: {rp_uuid} already exists.",
                code="placement.duplicate_name",
            )
        if any(r["name"] == name for r in _providers().values()):
            raise _err(
                req, 409, f"Conflicting resource provider name: {name} already exists.", code="placement.duplicate_name"
            )
        rp = _new_provider(rp_uuid, name, parent)
        _providers()[rp_uuid] = rp
        store.touch()
        location = {"Location": f"{PREFIX}/resource_providers/{rp_uuid}"}
        if _mv(req) >= (1, 20):
            return _answer(req, 200, _rp_view(req, rp), location)
        return _answer(req, 201, None, location)


@_route("GET", "/resource_providers/{rp_uuid}", policy="placement:resource_providers:show")
def show_provider(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        return _answer(req, 200, _rp_view(req, _get_rp(req, rp_uuid)))


@_route("PUT", "/resource_providers/{rp_uuid}", policy="placement:resource_providers:update")
def update_provider(req: Request, rp_uuid: str) -> Response:
    body = _json_object(req)
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 200:
        raise _err(req, 400, "JSON does not validate: 'name' is a required property")
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        if any(r["name"] == name and r["uuid"] != rp_uuid for r in _providers().values()):
            raise _err(
                req, 409, f"Conflicting resource provider name: {name} already exists.", code="placement.duplicate_name"
            )
        if "parent_provider_uuid" in body and _mv(req) >= (1, 14):
            parent = body["parent_provider_uuid"]
            if parent is not None and not isinstance(parent, str):
                raise _err(req, 400, f"JSON does not validate: {parent!r} is not a 'uuid'")
            if parent != rp["parent_provider_uuid"]:
                if parent is None or rp["parent_provider_uuid"] is not None:
                    raise _err(req, 400, "Un-parenting or re-parenting a provider is not supported.")
                if parent not in _providers() or parent == rp_uuid:
                    raise _err(req, 400, f"parent provider UUID {parent} does not exist.")
                rp["parent_provider_uuid"] = parent
                rp["root_provider_uuid"] = _providers()[parent]["root_provider_uuid"]
        rp["name"] = name
        _bump(rp)
        return _answer(req, 200, _rp_view(req, rp))


@_route("DELETE", "/resource_providers/{rp_uuid}", policy="placement:resource_providers:delete")
def delete_provider(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        _get_rp(req, rp_uuid)
        if _usage_of(rp_uuid):
            raise _err(
                req,
                409,
                f"Unable to delete resource provider {rp_uuid}: Resource provider has allocations.",
                code="placement.resource_provider.inuse",
            )
        if any(r["parent_provider_uuid"] == rp_uuid for r in _providers().values()):
            raise _err(
                req,
                409,
                f"Unable to delete parent resource provider {rp_uuid}: It has child resource providers.",
                code="placement.resource_provider.cannot_delete_parent",
            )
        del _providers()[rp_uuid]
        store.touch()
    return _answer(req, 204)


# --------------------------------------------------------------------------- inventories


def _check_generation(req: Request, rp: dict[str, Any], body: dict[str, Any]) -> None:
    if "resource_provider_generation" not in body:
        raise _err(req, 400, "JSON does not validate: 'resource_provider_generation' is a required property")
    if body["resource_provider_generation"] != rp["generation"]:
        raise _err(req, 409, "resource provider generation conflict", code="placement.concurrent_update")


def _inventories_body(rp: dict[str, Any]) -> dict[str, Any]:
    return {
        "inventories": {rc: dict(inv) for rc, inv in rp["inventories"].items()},
        "resource_provider_generation": rp["generation"],
    }


def _check_inuse(req: Request, rp: dict[str, Any], new: dict[str, dict[str, Any]]) -> None:
    used = _usage_of(rp["uuid"])
    for rc, amount in used.items():
        if amount and rc not in new:
            raise _err(
                req,
                409,
                f"update conflict: Inventory for '{rc}' on resource provider '{rp['uuid']}' in use.",
                code="placement.inventory.inuse",
            )


@_route("GET", "/resource_providers/{rp_uuid}/inventories", policy="placement:resource_providers:inventories:list")
def list_inventories(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        return _answer(req, 200, _inventories_body(_get_rp(req, rp_uuid)))


@_route("PUT", "/resource_providers/{rp_uuid}/inventories", policy="placement:resource_providers:inventories:update")
def put_inventories(req: Request, rp_uuid: str) -> Response:
    body = _json_object(req)
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        _check_generation(req, rp, body)
        raw = body.get("inventories")
        if not isinstance(raw, dict):
            raise _err(req, 400, "JSON does not validate: 'inventories' is a required property")
        new = {}
        for rc, inv in raw.items():
            _check_rc_known(req, rc)
            new[rc] = _full_inventory(rc, inv, req)
        _check_inuse(req, rp, new)
        rp["inventories"] = new
        _bump(rp)
        return _answer(req, 200, _inventories_body(rp))


@_route("POST", "/resource_providers/{rp_uuid}/inventories", policy="placement:resource_providers:inventories:create")
def post_inventory(req: Request, rp_uuid: str) -> Response:
    body = _json_object(req)
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        _check_generation(req, rp, body)
        rc = body.get("resource_class")
        if not isinstance(rc, str):
            raise _err(req, 400, "JSON does not validate: 'resource_class' is a required property")
        _check_rc_known(req, rc)
        if rc in rp["inventories"]:
            raise _err(req, 409, f"Update to inventory failed: inventory for {rc} already exists.")
        rp["inventories"][rc] = _full_inventory(rc, {k: v for k, v in body.items() if k != "resource_class"}, req)
        _bump(rp)
        inv = {**rp["inventories"][rc], "resource_provider_generation": rp["generation"]}
        return _answer(req, 201, inv, {"Location": f"{PREFIX}/resource_providers/{rp_uuid}/inventories/{rc}"})


@_route(
    "DELETE",
    "/resource_providers/{rp_uuid}/inventories",
    min_mv=(1, 5),
    policy="placement:resource_providers:inventories:delete",
)
def delete_inventories(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        _check_inuse(req, rp, {})
        rp["inventories"] = {}
        _bump(rp)
    return _answer(req, 204)


@_route("GET", "/resource_providers/{rp_uuid}/inventories/{rc}", policy="placement:resource_providers:inventories:show")
def show_inventory(req: Request, rp_uuid: str, rc: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        if rc not in rp["inventories"]:
            raise _err(req, 404, f"No inventory of class {rc} for {rp_uuid}")
        return _answer(req, 200, {**rp["inventories"][rc], "resource_provider_generation": rp["generation"]})


@_route(
    "PUT", "/resource_providers/{rp_uuid}/inventories/{rc}", policy="placement:resource_providers:inventories:update"
)
def put_inventory(req: Request, rp_uuid: str, rc: str) -> Response:
    body = _json_object(req)
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        _check_generation(req, rp, body)
        _check_rc_known(req, rc)
        if rc not in rp["inventories"]:
            raise _err(req, 400, f"No inventory record with resource class for resource provider {rp_uuid}")
        rp["inventories"][rc] = _full_inventory(rc, body, req)
        _bump(rp)
        return _answer(req, 200, {**rp["inventories"][rc], "resource_provider_generation": rp["generation"]})


@_route(
    "DELETE", "/resource_providers/{rp_uuid}/inventories/{rc}", policy="placement:resource_providers:inventories:delete"
)
def delete_inventory(req: Request, rp_uuid: str, rc: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        if rc not in rp["inventories"]:
            raise _err(req, 404, f"No inventory of class {rc} found for delete")
        remaining = {k: v for k, v in rp["inventories"].items() if k != rc}
        _check_inuse(req, rp, remaining)
        rp["inventories"] = remaining
        _bump(rp)
    return _answer(req, 204)


# --------------------------------------------------------------------------- usages, allocations per provider


@_route("GET", "/resource_providers/{rp_uuid}/usages", policy="placement:resource_providers:usages")
def provider_usages(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        used = dict.fromkeys(rp["inventories"], 0)
        used.update(_usage_of(rp_uuid))
        return _answer(req, 200, {"usages": used, "resource_provider_generation": rp["generation"]})


@_route(
    "GET",
    "/resource_providers/{rp_uuid}/allocations",
    min_mv=(1, 0),
    policy="placement:resource_providers:allocations:list",
)
def provider_allocations(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        allocs = {
            cid: {"resources": dict(c["allocations"][rp_uuid])}
            for cid, c in _consumers().items()
            if rp_uuid in c["allocations"]
        }
        return _answer(req, 200, {"allocations": allocs, "resource_provider_generation": rp["generation"]})


# --------------------------------------------------------------------------- traits and aggregates per provider


@_route("GET", "/resource_providers/{rp_uuid}/traits", min_mv=(1, 6), policy="placement:resource_providers:traits:list")
def provider_traits(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        return _answer(req, 200, {"traits": sorted(rp["traits"]), "resource_provider_generation": rp["generation"]})


@_route(
    "PUT", "/resource_providers/{rp_uuid}/traits", min_mv=(1, 6), policy="placement:resource_providers:traits:update"
)
def put_provider_traits(req: Request, rp_uuid: str) -> Response:
    body = _json_object(req)
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        _check_generation(req, rp, body)
        traits = body.get("traits")
        if not isinstance(traits, list) or not all(isinstance(t, str) for t in traits):
            raise _err(req, 400, "JSON does not validate: 'traits' is a required property")
        unknown = [t for t in traits if t not in _all_traits()]
        if unknown:
            raise _err(req, 400, f"No such trait(s): {', '.join(unknown)}")
        rp["traits"] = sorted(set(traits))
        _bump(rp)
        return _answer(req, 200, {"traits": rp["traits"], "resource_provider_generation": rp["generation"]})


@_route(
    "DELETE", "/resource_providers/{rp_uuid}/traits", min_mv=(1, 6), policy="placement:resource_providers:traits:delete"
)
def delete_provider_traits(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        rp["traits"] = []
        _bump(rp)
    return _answer(req, 204)


@_route(
    "GET",
    "/resource_providers/{rp_uuid}/aggregates",
    min_mv=(1, 1),
    policy="placement:resource_providers:aggregates:list",
)
def provider_aggregates(req: Request, rp_uuid: str) -> Response:
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        body: dict[str, Any] = {"aggregates": list(rp["aggregates"])}
        if _mv(req) >= (1, 19):
            body["resource_provider_generation"] = rp["generation"]
        return _answer(req, 200, body)


@_route(
    "PUT",
    "/resource_providers/{rp_uuid}/aggregates",
    min_mv=(1, 1),
    policy="placement:resource_providers:aggregates:update",
)
def put_provider_aggregates(req: Request, rp_uuid: str) -> Response:
    body = _json(req)
    with store.lock:
        rp = _get_rp(req, rp_uuid)
        if _mv(req) >= (1, 19):
            if not isinstance(body, dict):
                raise _err(req, 400, "JSON does not validate: the body must be an object")
            _check_generation(req, rp, body)
            aggs = body.get("aggregates")
        else:
            aggs = body
        if not isinstance(aggs, list):
            raise _err(req, 400, "JSON does not validate: 'aggregates' must be an array of UUIDs")
        for agg in aggs:
            try:
                uuidlib.UUID(str(agg))
            except ValueError:
                raise _err(req, 400, f"JSON does not validate: '{agg}' is not a 'uuid'")
        rp["aggregates"] = list(dict.fromkeys(aggs))
        _bump(rp)
        out: dict[str, Any] = {"aggregates": rp["aggregates"]}
        if _mv(req) >= (1, 19):
            out["resource_provider_generation"] = rp["generation"]
        return _answer(req, 200, out)


# --------------------------------------------------------------------------- allocations


def _consumer_body(req: Request, consumer_uuid: str) -> dict[str, Any]:
    mv = _mv(req)
    consumer = _consumers().get(consumer_uuid)
    if consumer is None:
        return {"allocations": {}}
    allocs = {}
    for rp_uuid, res in consumer["allocations"].items():
        rp = _providers().get(rp_uuid, {"generation": 0})
        allocs[rp_uuid] = {"generation": rp["generation"], "resources": dict(res)}
    body: dict[str, Any] = {"allocations": allocs}
    if mv >= (1, 12):
        body["project_id"] = consumer["project_id"]
        body["user_id"] = consumer["user_id"]
    if mv >= (1, 28):
        body["consumer_generation"] = consumer["generation"]
    if mv >= (1, 38):
        body["consumer_type"] = consumer["consumer_type"]
    return body


def _parse_allocations(req: Request, raw: Any) -> dict[str, dict[str, int]]:
    """Accept the dict form (1.12+) and the list form (older)."""
    mv = _mv(req)
    allocs: dict[str, dict[str, int]] = {}
    if mv >= (1, 12):
        if not isinstance(raw, dict):
            raise _err(req, 400, "JSON does not validate: 'allocations' must be an object")
        items = [(rp, v.get("resources") if isinstance(v, dict) else None) for rp, v in raw.items()]
    else:
        if not isinstance(raw, list) or not raw:
            raise _err(req, 400, "JSON does not validate: 'allocations' must be a non-empty array")
        items = []
        for entry in raw:
            if not isinstance(entry, dict) or not isinstance(entry.get("resource_provider"), dict):
                raise _err(req, 400, "JSON does not validate: 'resource_provider' is a required property")
            items.append((entry["resource_provider"].get("uuid"), entry.get("resources")))
    for rp_uuid, resources in items:
        if not isinstance(resources, dict) or (not resources and mv >= (1, 12)):
            raise _err(
                req, 400, "JSON does not validate: 'resources' is a required property with at least one resource class"
            )
        for rc, amount in resources.items():
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise _err(req, 400, f"JSON does not validate: {amount!r} is less than the minimum of 1")
            if rc not in _all_classes():
                raise _err(req, 400, f"Unable to allocate inventory: No such resource class {rc}.")
        allocs[str(rp_uuid)] = dict(resources)
    return allocs


def _apply_consumer(req: Request, consumer_uuid: str, body: Any) -> None:
    mv = _mv(req)
    if not isinstance(body, dict) or "allocations" not in body:
        raise _err(req, 400, "JSON does not validate: 'allocations' is a required property")
    project_id, user_id = body.get("project_id"), body.get("user_id")
    if mv >= (1, 8) and (not isinstance(project_id, str) or not isinstance(user_id, str)):
        raise _err(req, 400, "JSON does not validate: 'project_id' and 'user_id' are required properties")
    allocs = {} if (mv >= (1, 28) and body["allocations"] == {}) else _parse_allocations(req, body["allocations"])
    existing = _consumers().get(consumer_uuid)
    if mv >= (1, 28):
        if "consumer_generation" not in body:
            raise _err(req, 400, "JSON does not validate: 'consumer_generation' is a required property")
        expected = existing["generation"] if existing else None
        if body["consumer_generation"] != expected:
            raise _err(
                req,
                409,
                f"consumer generation conflict - expected {expected} but got {body['consumer_generation']}",
                code="placement.concurrent_update",
            )
    for rp_uuid in allocs:
        if rp_uuid not in _providers():
            raise _err(req, 400, f"Allocation for resource provider '{rp_uuid}' that does not exist.")
    reason = _check_fit(allocs, consumer_uuid)
    if reason:
        raise _err(req, 409, reason)
    consumer_type = None
    if mv >= (1, 38):
        consumer_type = body.get("consumer_type")
        if not isinstance(consumer_type, str) or not re.fullmatch(r"[A-Z0-9_]+", consumer_type):
            raise _err(req, 400, "JSON does not validate: 'consumer_type' is a required property")
    _write_consumer(consumer_uuid, allocs, project_id, user_id, consumer_type)


@_route("GET", "/allocations/{consumer_uuid}", policy="placement:allocations:list")
def show_allocations(req: Request, consumer_uuid: str) -> Response:
    with store.lock:
        return _answer(req, 200, _consumer_body(req, consumer_uuid))


@_route("PUT", "/allocations/{consumer_uuid}", policy="placement:allocations:update")
def put_allocations(req: Request, consumer_uuid: str) -> Response:
    body = _json(req)
    with store.lock:
        _apply_consumer(req, consumer_uuid, body)
    return _answer(req, 204)


@_route("POST", "/allocations", min_mv=(1, 13), policy="placement:allocations:manage")
def post_allocations(req: Request) -> Response:
    body = _json_object(req)
    with store.lock:
        # Validate everything first: all or nothing.
        saved = {k: dict(v) for k, v in _consumers().items()}
        generations = {k: v["generation"] for k, v in _providers().items()}
        try:
            for consumer_uuid, entry in body.items():
                _apply_consumer(req, consumer_uuid, entry)
        except HttpError:
            _consumers().clear()
            _consumers().update(saved)
            for k, g in generations.items():
                if k in _providers():
                    _providers()[k]["generation"] = g
            raise
    return _answer(req, 204)


@_route("DELETE", "/allocations/{consumer_uuid}", policy="placement:allocations:delete")
def delete_allocations(req: Request, consumer_uuid: str) -> Response:
    with store.lock:
        if consumer_uuid not in _consumers():
            raise _err(req, 404, f"No allocations for consumer '{consumer_uuid}'")
        _write_consumer(consumer_uuid, {}, None, None)
    return _answer(req, 204)


@_route("GET", "/allocation_candidates", min_mv=(1, 10), policy="placement:allocation_candidates:list")
def allocation_candidates(req: Request) -> Response:
    """Single-provider candidates (no nested or sharing providers): each provider that alone satisfies
    `resources` (and `required` traits, `member_of` aggregates, `in_tree`)."""
    mv = _mv(req)
    text = req.arg("resources")
    if not text:
        raise _err(req, 400, "Invalid query string parameters: 'resources' is a required property")
    wanted = _parse_resources(req, text)
    if any(n < 1 for n in wanted.values()):
        raise _err(req, 400, "Invalid query string parameters: resource amounts must be at least 1")
    limit = req.arg("limit")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise _err(req, 400, f"Invalid query string parameters: '{limit}' is not a positive integer")
    with store.lock:
        rps = sorted(_providers().values(), key=lambda r: r["name"])
        required = [t.strip() for t in (req.arg("required") or "").split(",") if t.strip()] if mv >= (1, 17) else []
        for trait in required:
            if trait.startswith("!") and mv >= (1, 22):
                rps = [r for r in rps if trait[1:] not in r["traits"]]
            elif trait not in _all_traits():
                raise _err(req, 400, f"Invalid query string parameters: No such trait(s): {trait}")
            else:
                rps = [r for r in rps if trait in r["traits"]]
        if mv >= (1, 21):
            for member_of in req.args("member_of"):
                aggs = _in_list(member_of)
                rps = [r for r in rps if set(aggs) & set(r["aggregates"])]
        if req.arg("in_tree") and mv >= (1, 31):
            anchor = _providers().get(req.arg("in_tree", ""))
            rps = [r for r in rps if anchor and r["root_provider_uuid"] == anchor["root_provider_uuid"]]
        requests: list[dict[str, Any]] = []
        summaries: dict[str, Any] = {}
        for rp in rps:
            used = _usage_of(rp["uuid"])
            ok = True
            for rc, n in wanted.items():
                inv = rp["inventories"].get(rc)
                if (
                    inv is None
                    or n < inv["min_unit"]
                    or n > inv["max_unit"]
                    or n % inv["step_size"]
                    or used.get(rc, 0) + n > _capacity_of(inv)
                ):
                    ok = False
                    break
            if not ok:
                continue
            if mv >= (1, 12):
                entry: dict[str, Any] = {"allocations": {rp["uuid"]: {"resources": dict(wanted)}}}
                if mv >= (1, 34):
                    entry["mappings"] = {"": [rp["uuid"]]}
            else:
                entry = {"allocations": [{"resource_provider": {"uuid": rp["uuid"]}, "resources": dict(wanted)}]}
            requests.append(entry)
            classes = rp["inventories"] if mv >= (1, 27) else wanted
            summary: dict[str, Any] = {
                "resources": {
                    rc: {"capacity": _capacity_of(rp["inventories"][rc]), "used": used.get(rc, 0)} for rc in classes
                }
            }
            if mv >= (1, 17):
                summary["traits"] = sorted(rp["traits"])
            if mv >= (1, 29):
                summary["parent_provider_uuid"] = rp["parent_provider_uuid"]
                summary["root_provider_uuid"] = rp["root_provider_uuid"]
            summaries[rp["uuid"]] = summary
            if limit is not None and len(requests) >= int(limit):
                break
    return _answer(req, 200, {"allocation_requests": requests, "provider_summaries": summaries})


@_route("GET", "/usages", min_mv=(1, 9), policy="placement:usages")
def project_usages(req: Request) -> Response:
    project_id = req.arg("project_id")
    if not project_id:
        raise _err(req, 400, "Invalid query string parameters: 'project_id' is a required property")
    user_id = req.arg("user_id")
    by_type = _mv(req) >= (1, 38)
    wanted_type = req.arg("consumer_type") if by_type else None
    totals: dict[str, int] = {}
    grouped: dict[str, dict[str, int]] = {}
    with store.lock:
        for consumer in _consumers().values():
            if consumer["project_id"] != project_id or (user_id and consumer["user_id"] != user_id):
                continue
            ctype = consumer.get("consumer_type") or "unknown"
            if wanted_type and wanted_type not in ("all", ctype):
                continue
            for group in (
                grouped.setdefault(ctype, {"consumer_count": 0}),
                grouped.setdefault("all", {"consumer_count": 0}),
            ):
                group["consumer_count"] += 1
            for res in consumer["allocations"].values():
                for rc, n in res.items():
                    totals[rc] = totals.get(rc, 0) + n
                    for key in (ctype, "all"):
                        grouped[key][rc] = grouped[key].get(rc, 0) + n
    if by_type:
        # 1.38: usages grouped by consumer type, plus "all".
        grouped.setdefault("all", {"consumer_count": 0})
        if wanted_type:
            grouped = {wanted_type: grouped.get(wanted_type, {"consumer_count": 0})}
        return _answer(req, 200, {"usages": grouped})
    return _answer(req, 200, {"usages": totals})


# --------------------------------------------------------------------------- resource classes


def _rc_view(name: str) -> dict[str, Any]:
    return {"name": name, "links": [{"rel": "self", "href": f"{PREFIX}/resource_classes/{name}"}]}


@_route("GET", "/resource_classes", min_mv=(1, 2), policy="placement:resource_classes:list")
def list_classes(req: Request) -> Response:
    with store.lock:
        return _answer(req, 200, {"resource_classes": [_rc_view(n) for n in _all_classes()]})


@_route("GET", "/resource_classes/{name}", min_mv=(1, 2), policy="placement:resource_classes:show")
def show_class(req: Request, name: str) -> Response:
    with store.lock:
        if name not in _all_classes():
            raise _err(req, 404, f"No such resource class {name}.")
    return _answer(req, 200, _rc_view(name))


def _check_custom(req: Request, name: Any, kind: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"CUSTOM_[A-Z0-9_]+", name) or len(name) > 255:
        raise _err(req, 400, f"JSON does not validate: '{name}' does not match '^CUSTOM\\_[A-Z0-9_]+$' ({kind})")
    return name


@_route("POST", "/resource_classes", min_mv=(1, 2), policy="placement:resource_classes:create")
def create_class(req: Request) -> Response:
    name = _check_custom(req, _json_object(req).get("name"), "resource class")
    with store.lock:
        if name in _all_classes():
            raise _err(req, 409, f"Conflicting resource class already exists: {name}", code="placement.duplicate_name")
        _custom()["resource_classes"].append(name)
        store.touch()
    return _answer(req, 201, None, {"Location": f"{PREFIX}/resource_classes/{name}"})


@_route("PUT", "/resource_classes/{name}", min_mv=(1, 2), policy="placement:resource_classes:update")
def put_class(req: Request, name: str) -> Response:
    _check_custom(req, name, "resource class")
    with store.lock:
        if name in _all_classes():
            return _answer(req, 204)
        _custom()["resource_classes"].append(name)
        store.touch()
    return _answer(req, 201, None, {"Location": f"{PREFIX}/resource_classes/{name}"})


@_route("DELETE", "/resource_classes/{name}", min_mv=(1, 2), policy="placement:resource_classes:delete")
def delete_class(req: Request, name: str) -> Response:
    with store.lock:
        if name in STANDARD_CLASSES:
            raise _err(req, 400, f"Cannot delete standard resource class {name}: ")
        if name not in _custom()["resource_classes"]:
            raise _err(req, 404, f"No such resource class {name}.")
        if any(name in rp["inventories"] for rp in _providers().values()):
            raise _err(req, 409, f"Unable to delete resource class {name}. Class is in use in inventory.")
        _custom()["resource_classes"].remove(name)
        store.touch()
    return _answer(req, 204)


# --------------------------------------------------------------------------- traits


@_route("GET", "/traits", min_mv=(1, 6), policy="placement:traits:list")
def list_traits(req: Request) -> Response:
    with store.lock:
        traits = _all_traits()
        name = req.arg("name")
        if name is not None:
            if name.startswith("in:"):
                wanted = set(name[3:].split(","))
                traits = [t for t in traits if t in wanted]
            elif name.startswith("startswith:"):
                traits = [t for t in traits if t.startswith(name[len("startswith:") :])]
            else:
                raise _err(
                    req,
                    400,
                    f"Badly formatted name parameter. Expected name query string parameter in "
                    f'form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "{name}"',
                )
        associated = req.arg("associated")
        if associated is not None:
            used = {t for rp in _providers().values() for t in rp["traits"]}
            want = associated.lower() in ("true", "1", "yes")
            traits = [t for t in traits if (t in used) == want]
    return _answer(req, 200, {"traits": sorted(traits)})


@_route("GET", "/traits/{name}", min_mv=(1, 6), policy="placement:traits:show")
def show_trait(req: Request, name: str) -> Response:
    with store.lock:
        if name not in _all_traits():
            raise _err(req, 404, f"No such trait(s): {name}")
    return _answer(req, 204)


@_route("PUT", "/traits/{name}", min_mv=(1, 6), policy="placement:traits:update")
def put_trait(req: Request, name: str) -> Response:
    _check_custom(req, name, "trait")
    with store.lock:
        if name in _all_traits():
            return _answer(req, 204, None, {"Location": f"{PREFIX}/traits/{name}"})
        _custom()["traits"].append(name)
        store.touch()
    return _answer(req, 201, None, {"Location": f"{PREFIX}/traits/{name}"})


@_route("DELETE", "/traits/{name}", min_mv=(1, 6), policy="placement:traits:delete")
def delete_trait(req: Request, name: str) -> Response:
    with store.lock:
        if name in STANDARD_TRAITS:
            raise _err(req, 400, f"Cannot delete standard trait {name}.")
        if name not in _custom()["traits"]:
            raise _err(req, 404, f"No such trait(s): {name}")
        if any(name in rp["traits"] for rp in _providers().values()):
            raise _err(req, 409, f"The trait {name} is in use by a resource provider.")
        _custom()["traits"].remove(name)
        store.touch()
    return _answer(req, 204)


def seed(fresh: bool) -> None:
    if fresh:
        _providers().clear()
        _consumers().clear()
        store.table("placement_custom").clear()
    _custom()
