"""Nova's image proxy API: `/images` (list, detail, show, delete) up to 2.35 and `/images/{id}/metadata` up to
2.38; from 2.36 (2.39 for metadata) those paths answer 404 as Nova does.

Nova is a Glance client here (nova/api/openstack/compute/images.py and image_metadata.py): each call becomes
the Glance v2 call Nova makes (filters mapped as nova.image.glance does), sent through devcloud's own Glance
routes with the caller's token, so visibility, filtering and errors are Glance's.
"""

from __future__ import annotations

import json
from typing import Any

from devcloud.compute import limits
from devcloud.compute.common import bad, base_url, body_of, ctx, next_link, not_found, paging
from devcloud.compute.microversions import mv
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"
MAX_PROXY = 35  # MAX_PROXY_API_SUPPORT_VERSION
MAX_IMAGE_METADATA = 38  # image_metadata.py: api_version('2.1', '2.38')

# Nova's SUPPORTED_FILTERS, as nova.image.glance passes them to Glance v2 (property-X becomes X)
_FILTERS = {
    "name": "name",
    "status": "status",
    "type": "image_type",
    "minRam": "min_ram",
    "minDisk": "min_disk",
}
# Glance's base attributes (is_base in its schema) are no image "metadata"; these Nova omits or moves
_BASE = {
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value",
    "owner", "size", "virtual_size", "min_ram", "min_disk", "disk_format", "container_format", "created_at",
    "updated_at", "tags", "self", "file", "schema", "direct_url", "locations", "stores",
}  # fmt: skip
_STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
_PROGRESS = {"queued": 25, "saving": 50, "active": 100}


def _gated(req: Request, top: int) -> None:
    if mv(req) > top:
        raise not_found("The resource could not be found.")


def _glance(
    req: Request, method: str, path: str, query: list[tuple[str, str]] | None = None, body: Any = None
) -> tuple[int, Any]:
    """One Glance v2 call with the caller's token, answered by devcloud's Glance (`path` below /image/v2)."""
    from devcloud.image import PATCH_TYPES
    from devcloud.web import router as glance_router

    headers = {"x-auth-token": req.header("x-auth-token") or ""}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        headers["content-type"] = PATCH_TYPES[0] if method == "PATCH" else "application/json"
    query_dict: dict[str, list[str]] = {}
    for key, value in query or []:
        query_dict.setdefault(key, []).append(value)
    sub = Request(method, "/image/v2" + path, query_dict, headers, raw, req.environ)
    sub.context["request_id"] = req.context.get("request_id")
    resp = glance_router.dispatch(sub)
    return resp.status, (json.loads(resp.body) if resp.body else None)


def _image(req: Request, image_id: str, missing: str = "Image not found.") -> dict[str, Any]:
    status, body = _glance(req, "GET", f"/images/{image_id}")
    if status == 404:
        raise not_found(missing)
    if status != 200:
        raise HttpError(status, "Unexpected answer from the Image service")
    return body


def metadata_of(image: dict[str, Any]) -> dict[str, Any]:
    """An image's properties as Nova reads them from Glance (nova.image.glance._extract_attributes_v2)."""
    return {k: v for k, v in image.items() if k not in _BASE}


def _links(req: Request, image_id: str) -> list[dict[str, str]]:
    from devcloud.identity import public_base

    base = base_url(req)
    glance = f"{public_base(req)}/image/images/{image_id}"  # Nova's glance URL: the endpoint without /v2
    return [
        {"rel": "self", "href": f"{base}{API}/images/{image_id}"},
        {"rel": "bookmark", "href": f"{base}/compute/images/{image_id}"},
        {"rel": "alternate", "type": "application/vnd.openstack.image", "href": glance},
    ]


def _iso(stamp: str | None) -> str | None:
    return stamp.split(".")[0].rstrip("Z") + "Z" if stamp else None


def _show_view(req: Request, image: dict[str, Any]) -> dict[str, Any]:
    meta = metadata_of(image)
    out: dict[str, Any] = {
        "id": image["id"],
        "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0),
        "minDisk": int(image.get("min_disk") or 0),
        "metadata": meta,
        "created": _iso(image.get("created_at")),
        "updated": _iso(image.get("updated_at")),
        "status": _STATUS.get(image.get("status") or "", "UNKNOWN"),
        "progress": _PROGRESS.get(image.get("status") or "", 0),
        "OS-EXT-IMG-SIZE:size": image.get("size") or 0,
        "links": _links(req, image["id"]),
    }
    server = meta.get("instance_uuid")
    if server is not None:
        base = base_url(req)
        out["server"] = {
            "id": server,
            "links": [
                {"rel": "self", "href": f"{base}{API}/servers/{server}"},
                {"rel": "bookmark", "href": f"{base}/compute/servers/{server}"},
            ],
        }
    auto = meta.get("auto_disk_config")
    if auto is not None:
        out["OS-DCF:diskConfig"] = "AUTO" if str(auto).lower() in ("1", "t", "true", "on", "y", "yes") else "MANUAL"
    return out


def _list(req: Request, detail: bool) -> Response:
    _gated(req, MAX_PROXY)
    limit, marker = paging(req)
    query: list[tuple[str, str]] = []
    for key, values in req.query.items():
        value = values[-1]
        if key == "server":  # a server id or URL
            query.append(("instance_uuid", value.rsplit("/", 1)[-1]))
        elif key in _FILTERS:
            query.append((_FILTERS[key], value.lower() if key == "status" else value))
        elif key == "changes-since":
            query.append(("updated_at", "gte:" + value))
        elif key.startswith("property-"):
            query.append((key[len("property-") :], value))
    images: list[dict[str, Any]] = []
    page_marker = marker
    while True:  # glanceclient follows Glance's pages until the limit, or the end
        want = 1000 if limit is None else min(1000, limit - len(images))
        params = [*query, ("limit", str(want))] + ([("marker", page_marker)] if page_marker else [])
        status, body = _glance(req, "GET", "/images", params)
        if status != 200:
            raise bad((body or {}).get("message", "").split("<br /><br />\n")[-1].strip() or "Invalid request")
        images.extend(body["images"])
        if "next" not in body or not body["images"] or (limit is not None and len(images) >= limit):
            break
        page_marker = body["images"][-1]["id"]
    if detail:
        items = [_show_view(req, i) for i in images]
    else:
        items = [{"id": i["id"], "name": i.get("name"), "links": _links(req, i["id"])} for i in images]
    out: dict[str, Any] = {"images": items}
    if limit is not None and items and len(items) == limit:
        out["images_links"] = next_link(req, "images/detail" if detail else "images", items[-1]["id"])
    return json_response(200, out)


@router.route("GET", API + "/images")
def list_images(req: Request) -> Response:
    return _list(req, False)


@router.route("GET", API + "/images/detail")
def list_images_detail(req: Request) -> Response:
    return _list(req, True)


@router.route("GET", API + "/images/{image_id}")
def show_image(req: Request, image_id: str) -> Response:
    _gated(req, MAX_PROXY)
    return json_response(200, {"image": _show_view(req, _image(req, image_id))})


@router.route("DELETE", API + "/images/{image_id}")
def delete_image(req: Request, image_id: str) -> Response:
    _gated(req, MAX_PROXY)
    status, _ = _glance(req, "DELETE", f"/images/{image_id}")
    if status == 404:
        raise not_found("Image not found.")
    if status == 403:
        raise HttpError(403, "You are not allowed to delete the image.", "forbidden")
    if status != 204:
        raise HttpError(409 if status == 409 else 500, "Unexpected answer from the Image service")
    return empty_response(204)


# --- image metadata (2.1-2.38) ------------------------------------------------------------------------------


def _check_meta(meta: Any, field: str) -> dict[str, str]:
    from devcloud.compute.servers import _check_metadata

    return _check_metadata(meta, field)


def _write(req: Request, image: dict[str, Any], new: dict[str, Any]) -> None:
    """Nova's image_api.update(purge_props=True): the properties become `new` (quota checked first)."""
    quota = limits.project_quota(ctx(req)["project_id"])["metadata_items"]
    if new and 0 <= quota < len(new):
        raise HttpError(403, "Image metadata limit exceeded", "forbidden")
    old = metadata_of(image)
    ops: list[dict[str, Any]] = [{"op": "remove", "path": "/" + k} for k in old if k not in new]
    ops += [{"op": "add", "path": "/" + k, "value": v} for k, v in new.items() if old.get(k) != v]
    if not ops:
        return
    status, body = _glance(req, "PATCH", f"/images/{image['id']}", body=ops)
    if status == 403:
        raise HttpError(403, f"Not authorized for image {image['id']}.", "forbidden")
    if status == 404:
        raise not_found("Image not found.")
    if status != 200:
        raise bad((body or {}).get("message", "").split("<br /><br />\n")[-1].strip() or "Invalid image metadata")


@router.route("GET", API + "/images/{image_id}/metadata")
def list_metadata(req: Request, image_id: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    return json_response(200, {"metadata": metadata_of(_image(req, image_id))})


@router.route("POST", API + "/images/{image_id}/metadata")
def merge_metadata(req: Request, image_id: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    meta = _check_meta(body_of(req, "metadata"), "metadata")
    image = _image(req, image_id)
    merged = {**metadata_of(image), **meta}
    _write(req, image, merged)
    return json_response(200, {"metadata": metadata_of(_image(req, image_id))})


@router.route("PUT", API + "/images/{image_id}/metadata")
def replace_metadata(req: Request, image_id: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    meta = _check_meta(body_of(req, "metadata"), "metadata")
    image = _image(req, image_id)
    _write(req, image, meta)
    return json_response(200, {"metadata": meta})


@router.route("GET", API + "/images/{image_id}/metadata/{key}")
def show_metadata_item(req: Request, image_id: str, key: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    meta = metadata_of(_image(req, image_id))
    if key not in meta:
        raise not_found("The resource could not be found.")
    return json_response(200, {"meta": {key: meta[key]}})


@router.route("PUT", API + "/images/{image_id}/metadata/{key}")
def set_metadata_item(req: Request, image_id: str, key: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    meta = _check_meta(body_of(req, "meta"), "meta")
    if len(meta) > 1:
        raise bad(f"Invalid input for field/attribute meta. Value: {meta}. {meta!r} has too many properties")
    if key not in meta:
        raise bad("Request body and URI mismatch")
    image = _image(req, image_id)
    _write(req, image, {**metadata_of(image), **meta})
    return json_response(200, {"meta": meta})


@router.route("DELETE", API + "/images/{image_id}/metadata/{key}")
def delete_metadata_item(req: Request, image_id: str, key: str) -> Response:
    _gated(req, MAX_IMAGE_METADATA)
    image = _image(req, image_id)
    meta = metadata_of(image)
    if key not in meta:
        raise not_found("Invalid metadata key")
    del meta[key]
    _write(req, image, meta)
    return empty_response(204)
