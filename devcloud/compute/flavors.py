"""Flavors: list/detail/show, create/delete/update (admin), extra specs, access lists for private flavors."""

from __future__ import annotations

import re
from typing import Any

from devcloud.compute.common import (
    bad,
    body_of,
    check_int,
    check_string,
    check_unexpected,
    conflict,
    ctx,
    invalid,
    is_admin,
    links,
    new_uuid,
    next_link,
    not_found,
    page,
    parse_bool,
    require,
    require_admin,
)
from devcloud.compute.microversions import mv
from devcloud.state import now_iso, store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"

# devstack's flavors (id, name, ram MiB, disk GiB, vcpus)
SEED = [
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
    ("c1", "cirros256", 256, 1, 1),
    ("d1", "ds512M", 512, 5, 1),
    ("d2", "ds1G", 1024, 10, 1),
    ("d3", "ds2G", 2048, 10, 2),
    ("d4", "ds4G", 4096, 20, 4),
]

_NAME_RE = re.compile(r"^(?! )[^\x00-\x1f/]*(?<! )$")
_ID_RE = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")


def table() -> dict[str, Any]:
    return store.table("flavors")


def seed(fresh: bool) -> None:
    if not fresh and table():
        return
    for fid, name, ram, disk, vcpus in SEED:
        table()[fid] = _record(fid, name, ram, disk, vcpus)


def _record(
    fid: str,
    name: str,
    ram: int,
    disk: int,
    vcpus: int,
    ephemeral: int = 0,
    swap: int = 0,
    rxtx: float = 1.0,
    is_public: bool = True,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "id": fid,
        "name": name,
        "ram": ram,
        "disk": disk,
        "vcpus": vcpus,
        "ephemeral": ephemeral,
        "swap": swap,
        "rxtx_factor": rxtx,
        "is_public": is_public,
        "disabled": False,
        "description": description,
        "extra_specs": {},
        "access": [],
        "created_at": now_iso(),
    }


def visible(req: Request, flavor: dict[str, Any]) -> bool:
    if flavor["is_public"] or is_admin(req):
        return True
    return ctx(req)["project_id"] in flavor["access"]


def get_flavor(flavor_id: str) -> dict[str, Any] | None:
    return table().get(str(flavor_id))


def find_for(req: Request, flavor_id: str) -> dict[str, Any]:
    flavor = table().get(str(flavor_id))
    if flavor is None or not visible(req, flavor):
        raise not_found(f"Flavor {flavor_id} could not be found.")
    return flavor


def view(req: Request, f: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    v = mv(req)
    out: dict[str, Any] = {"id": f["id"], "name": f["name"], "links": links(req, "flavors", f["id"])}
    if v >= 55:
        out["description"] = f.get("description")
    if not detail:
        return out
    out.update(
        {
            "ram": f["ram"],
            "disk": f["disk"],
            "vcpus": f["vcpus"],
            "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"],
            "swap": f["swap"] if (f["swap"] or v >= 75) else "",
            "rxtx_factor": f["rxtx_factor"],
            "os-flavor-access:is_public": f["is_public"],
            "OS-FLV-DISABLED:disabled": f["disabled"],
        }
    )
    if v >= 61:
        out["extra_specs"] = dict(f["extra_specs"])
    return out


def embedded(f: dict[str, Any]) -> dict[str, Any]:
    """The copy of a flavor a server keeps (Nova stores the flavor on the instance)."""
    return {
        "id": f["id"],
        "name": f["name"],
        "vcpus": f["vcpus"],
        "ram": f["ram"],
        "disk": f["disk"],
        "ephemeral": f["ephemeral"],
        "swap": f["swap"],
        "extra_specs": dict(f["extra_specs"]),
    }


def _sort_value(f: dict[str, Any], key: str) -> Any:
    mapping = {
        "flavorid": "id",
        "id": "id",
        "name": "name",
        "memory_mb": "ram",
        "root_gb": "disk",
        "vcpus": "vcpus",
        "ephemeral_gb": "ephemeral",
        "swap": "swap",
        "rxtx_factor": "rxtx_factor",
        "created_at": "created_at",
        "description": "description",
        "disabled": "disabled",
        "is_public": "is_public",
    }
    value = f.get(mapping[key])
    return (value is None, value if value is not None else "")


def _list(req: Request, detail: bool) -> Response:
    with store.lock:
        items = [f for f in table().values() if visible(req, f)]
        raw_public = req.arg("is_public")
        if raw_public is not None and is_admin(req):
            low = raw_public.lower()
            if low not in ("none", "all"):
                want = low in ("true", "1", "yes", "t", "y", "on")
                items = [f for f in items if f["is_public"] == want]
        elif not is_admin(req):
            pass  # members see public flavors and the private ones their project may use
        else:
            # admins without is_public see the public flavors (Nova's default is_public=True)
            items = [f for f in items if f["is_public"]]
        for param, field in (("minDisk", "disk"), ("minRam", "ram")):
            raw = req.arg(param)
            if raw is not None:
                try:
                    threshold = int(raw)
                except ValueError:
                    raise bad(f"Invalid {param} filter [{raw}]") from None
                items = [f for f in items if f[field] >= threshold]
        sort_key = req.arg("sort_key", "flavorid")
        sort_dir = req.arg("sort_dir", "asc")
        if sort_key not in (
            "created_at",
            "description",
            "disabled",
            "ephemeral_gb",
            "flavorid",
            "id",
            "is_public",
            "memory_mb",
            "name",
            "root_gb",
            "rxtx_factor",
            "swap",
            "vcpus",
        ):
            raise invalid("sort_key", sort_key, f"{sort_key!r} is not one of the valid sort keys")
        if sort_dir not in ("asc", "desc"):
            raise invalid("sort_dir", sort_dir, f"{sort_dir!r} is not one of ['asc', 'desc']")
        items.sort(key=lambda f: _sort_value(f, sort_key), reverse=sort_dir == "desc")
        chunk, nxt = page(req, items)
        body: dict[str, Any] = {"flavors": [view(req, f, detail) for f in chunk]}
        if nxt:
            body["flavors_links"] = next_link(req, "flavors/detail" if detail else "flavors", nxt)
        return json_response(200, body)


@router.route("GET", API + "/flavors")
def list_flavors(req: Request) -> Response:
    return _list(req, detail=False)


@router.route("GET", API + "/flavors/detail")
def list_flavors_detail(req: Request) -> Response:
    return _list(req, detail=True)


@router.route("GET", API + "/flavors/{flavor_id}")
def show_flavor(req: Request, flavor_id: str) -> Response:
    with store.lock:
        return json_response(200, {"flavor": view(req, find_for(req, flavor_id))})


@router.route("POST", API + "/flavors")
def create_flavor(req: Request) -> Response:
    require_admin(req, "os_compute_api:os-flavor-manage:create")
    body = body_of(req, "flavor")
    allowed = {"name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor"}
    allowed.add("os-flavor-access:is_public")
    if mv(req) >= 55:
        allowed.add("description")
    check_unexpected(body, "flavor", allowed)
    name = check_string(require(body, "flavor", "name"), "name", 1, 255)
    assert name is not None
    if not _NAME_RE.match(name):
        raise invalid("name", name, f"{name!r} does not match '^(?! )[^\\x00-\\x1f/]*(?<! )$'")
    fid = _flavor_id(body.get("id"))
    ram = check_int(require(body, "flavor", "ram"), "ram", 1)
    vcpus = check_int(require(body, "flavor", "vcpus"), "vcpus", 1)
    disk = check_int(require(body, "flavor", "disk"), "disk", 0)
    ephemeral = check_int(body.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0)
    swap = check_int(body.get("swap", 0), "swap", 0)
    rxtx = body.get("rxtx_factor", 1.0)
    if isinstance(rxtx, bool) or not isinstance(rxtx, (int, float, str)):
        raise invalid("rxtx_factor", rxtx, f"{rxtx!r} is not of type 'number', 'string'")
    try:
        rxtx = float(rxtx)
    except ValueError:
        raise invalid("rxtx_factor", rxtx, f"{rxtx!r} does not match '^[0-9]+(\\.[0-9]+)?$'") from None
    if rxtx <= 0:
        raise invalid("rxtx_factor", rxtx, f"{rxtx} is less than or equal to the minimum of 0")
    is_public = parse_bool(body.get("os-flavor-access:is_public", True), "os-flavor-access:is_public")
    description = check_string(body.get("description"), "description", 0, 65535, nullable=True)
    with store.lock:
        if any(f["name"] == name for f in table().values()):
            raise conflict(f"Flavor with name {name} already exists.")
        if fid in table():
            raise conflict(f"Flavor with ID {fid} already exists.")
        flavor = _record(fid, name, ram, disk, vcpus, ephemeral, swap, rxtx, is_public, description)
        table()[fid] = flavor
        store.touch()
        return json_response(200, {"flavor": view(req, flavor)})


def _flavor_id(raw: Any) -> str:
    """Nova's schema takes a string, a number or null for `id` (the pattern and lengths bind strings only), and
    nova.compute.flavors.create stores str(id), or a new UUID when the id is empty, 0 or null."""
    if isinstance(raw, str):
        check_string(raw, "id", 1, 255)
        if not _ID_RE.match(raw):
            raise invalid("id", raw, f"{raw!r} does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'")
    elif raw is not None and (isinstance(raw, bool) or not isinstance(raw, (int, float))):
        raise invalid("id", raw, f"{raw!r} is not of type 'string', 'number', 'null'")
    return str(raw) if raw else new_uuid()


@router.route("PUT", API + "/flavors/{flavor_id}")
def update_flavor(req: Request, flavor_id: str) -> Response:
    if mv(req) < 55:
        raise HttpError(405, "The method is not allowed for this resource.", "badMethod")
    require_admin(req, "os_compute_api:os-flavor-manage:update")
    body = body_of(req, "flavor")
    check_unexpected(body, "flavor", {"description"})
    description = check_string(require(body, "flavor", "description"), "description", 0, 65535, nullable=True)
    with store.lock:
        flavor = find_for(req, flavor_id)
        flavor["description"] = description
        store.touch()
        return json_response(200, {"flavor": view(req, flavor)})


@router.route("DELETE", API + "/flavors/{flavor_id}")
def delete_flavor(req: Request, flavor_id: str) -> Response:
    require_admin(req, "os_compute_api:os-flavor-manage:delete")
    with store.lock:
        find_for(req, flavor_id)
        del table()[flavor_id]
        store.touch()
    return empty_response(202)


# --- extra specs -------------------------------------------------------------------------------------------


def _check_specs(specs: Any) -> dict[str, str]:
    if not isinstance(specs, dict):
        raise invalid("extra_specs", specs, f"{specs!r} is not of type 'object'")
    out = {}
    for key, value in specs.items():
        if not re.match(r"^[a-zA-Z0-9-_:. ]{1,255}$", key):
            raise invalid(
                "extra_specs", specs, f"{key!r} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'"
            )
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise invalid(key, value, f"{value!r} is not of type 'string', 'integer', 'number', 'boolean'")
        if isinstance(value, str) and len(value) > 255:
            raise invalid(key, value, f"{value!r} is too long")
        out[key] = str(value)
    return out


@router.route("GET", API + "/flavors/{flavor_id}/os-extra_specs")
def list_extra_specs(req: Request, flavor_id: str) -> Response:
    with store.lock:
        return json_response(200, {"extra_specs": dict(find_for(req, flavor_id)["extra_specs"])})


@router.route("POST", API + "/flavors/{flavor_id}/os-extra_specs")
def create_extra_specs(req: Request, flavor_id: str) -> Response:
    require_admin(req, "os_compute_api:os-flavor-extra-specs:create")
    body = req.json_object()
    if "extra_specs" not in body:
        raise bad("'extra_specs' is a required property")
    specs = _check_specs(body["extra_specs"])
    with store.lock:
        flavor = find_for(req, flavor_id)
        flavor["extra_specs"].update(specs)
        store.touch()
        return json_response(200, {"extra_specs": specs})


@router.route("GET", API + "/flavors/{flavor_id}/os-extra_specs/{key}")
def show_extra_spec(req: Request, flavor_id: str, key: str) -> Response:
    with store.lock:
        flavor = find_for(req, flavor_id)
        if key not in flavor["extra_specs"]:
            raise not_found(f"Flavor {flavor_id} has no extra specs with key {key}.")
        return json_response(200, {key: flavor["extra_specs"][key]})


@router.route("PUT", API + "/flavors/{flavor_id}/os-extra_specs/{key}")
def update_extra_spec(req: Request, flavor_id: str, key: str) -> Response:
    require_admin(req, "os_compute_api:os-flavor-extra-specs:update")
    body = req.json_object()
    if key not in body:
        raise bad("Request body and URI mismatch")
    if len(body) > 1:
        raise bad("Request body contains too many items")
    specs = _check_specs(body)
    with store.lock:
        flavor = find_for(req, flavor_id)
        flavor["extra_specs"].update(specs)
        store.touch()
        return json_response(200, specs)


@router.route("DELETE", API + "/flavors/{flavor_id}/os-extra_specs/{key}")
def delete_extra_spec(req: Request, flavor_id: str, key: str) -> Response:
    require_admin(req, "os_compute_api:os-flavor-extra-specs:delete")
    with store.lock:
        flavor = find_for(req, flavor_id)
        if key not in flavor["extra_specs"]:
            raise not_found(f"Flavor {flavor_id} has no extra specs with key {key}.")
        del flavor["extra_specs"][key]
        store.touch()
    return empty_response(200)


# --- access ------------------------------------------------------------------------------------------------


def _access_body(flavor: dict[str, Any]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor["id"], "tenant_id": p} for p in flavor["access"]]}


@router.route("GET", API + "/flavors/{flavor_id}/os-flavor-access")
def list_access(req: Request, flavor_id: str) -> Response:
    require_admin(req, "os_compute_api:os-flavor-access")
    with store.lock:
        flavor = find_for(req, flavor_id)
        if flavor["is_public"]:
            raise not_found("Access list not available for public flavors.")
        return json_response(200, _access_body(flavor))


@router.route("POST", API + "/flavors/{flavor_id}/action")
def flavor_action(req: Request, flavor_id: str) -> Response:
    body = req.json_object()
    if "addTenantAccess" in body:
        require_admin(req, "os_compute_api:os-flavor-access:add_tenant_access")
        args = body["addTenantAccess"]
        if not isinstance(args, dict) or "tenant" not in args:
            raise invalid("addTenantAccess", args, "'tenant' is a required property")
        tenant = check_string(args["tenant"], "tenant", 1, 255)
        with store.lock:
            flavor = find_for(req, flavor_id)
            if flavor["is_public"]:
                raise conflict("Can not add access to a public flavor.")
            if tenant in flavor["access"]:
                raise conflict(f"Flavor access already exists for flavor {flavor_id} and project {tenant} combination.")
            flavor["access"].append(tenant)
            store.touch()
            return json_response(200, _access_body(flavor))
    if "removeTenantAccess" in body:
        require_admin(req, "os_compute_api:os-flavor-access:remove_tenant_access")
        args = body["removeTenantAccess"]
        if not isinstance(args, dict) or "tenant" not in args:
            raise invalid("removeTenantAccess", args, "'tenant' is a required property")
        tenant = args["tenant"]
        with store.lock:
            flavor = find_for(req, flavor_id)
            if tenant not in flavor["access"]:
                raise not_found(f"Flavor access not found for {flavor_id} / {tenant} combination.")
            flavor["access"].remove(tenant)
            store.touch()
            return json_response(200, _access_body(flavor))
    raise bad("There is no such action: " + ", ".join(body.keys()))
