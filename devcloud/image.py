"""Glance v2 at /image: images (list/show/create/upload/download/patch/delete), tags, members, schemas.

Records live in the `images` table: the core attributes plus `properties` (extra properties, strings),
`members` ({project_id: {status, created_at, updated_at}}) and `has_data`. Uploaded bytes are kept in
`<state dir>/images/<id>`. Seeded base images have no bytes (a download answers 204, like an image
whose data is gone).

Errors follow Glance (webob) JSON: {"message": ..., "code": "404 Not Found", "title": "Not Found"}.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from devcloud.config import config
from devcloud.state import now_iso, store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

PREFIX = "/image/v2"
PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
VISIBILITIES = ["public", "private", "shared", "community"]
STATUSES = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "pending_delete",
    "deactivated",
    "uploading",
    "importing",
]
CORE = [
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "min_ram",
    "min_disk",
    "disk_format",
    "container_format",
    "created_at",
    "updated_at",
    "tags",
]
READ_ONLY = {
    "id",
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "file",
    "schema",
    "self",
    "direct_url",
    "stores",
}
RESERVED = {"deleted", "deleted_at", "location", "locations"}
SORT_KEYS = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
    "visibility",
    "owner",
    "min_disk",
    "min_ram",
    "virtual_size",
]
LIMIT_DEFAULT, LIMIT_MAX = 25, 1000


# webob's explanation of each status; Glance's JSON errors are webob's: explanation, "<br /><br />", detail.
WEBOB_EXPLANATIONS = {
    400: "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n",
    401: "This server could not verify that you are authorized to\r\naccess the document you requested.  Either you "
    "supplied the\r\nwrong credentials (e.g., bad password), or your browser\r\ndoes not understand how to supply "
    "the credentials required.\r\n",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
    413: "The data value transmitted exceeds the capacity limit.",
    415: "The request media type is not supported by this server.",
    500: "The server has either erred or is incapable of performing\r\nthe requested operation.\r\n",
    503: "The server is currently unavailable. Please try again at a later time.",
}


def webob_message(status: int, detail: str) -> str:
    """The text webob puts in an error body for `detail` (before any tag stripping)."""
    return f"{WEBOB_EXPLANATIONS.get(status, '')}<br /><br />\n{detail}\n\n"


class GlanceError(HttpError):
    """An error in Glance's shape: webob's JSON body {"message", "code": "404 Not Found", "title"}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, style="glance")

    def body(self) -> dict[str, Any]:
        reason = HTTPStatus(self.status).phrase
        return {"message": webob_message(self.status, self.message), "code": f"{self.status} {reason}", "title": reason}


def _not_found(image_id: str) -> GlanceError:
    return GlanceError(404, f"No image found with ID {image_id}")


def _images() -> dict[str, Any]:
    return store.table("images")


def _data_path(image_id: str):
    return config.state_dir / "images" / image_id


# --------------------------------------------------------------------------- rendering and visibility


def _render(img: dict[str, Any]) -> dict[str, Any]:
    out = {k: img.get(k) for k in CORE}
    out["tags"] = list(img.get("tags") or [])
    for key, value in (img.get("properties") or {}).items():
        out.setdefault(key, value)
    out["self"] = f"/v2/images/{img['id']}"
    out["file"] = f"/v2/images/{img['id']}/file"
    out["schema"] = "/v2/schemas/image"
    return out


def _ctx(req: Request) -> dict[str, Any]:
    ctx = req.context.get("auth")
    if ctx is None:
        raise GlanceError(401, "The request you have made requires authentication.")
    return ctx


def _is_member(img: dict[str, Any], project_id: str | None, statuses: tuple[str, ...] = ("accepted",)) -> bool:
    member = (img.get("members") or {}).get(project_id or "")
    return member is not None and (statuses == ("all",) or member["status"] in statuses)


def can_see(img: dict[str, Any], project_id: str | None, is_admin: bool) -> bool:
    """Whether a project may read this image (show, boot from it)."""
    if is_admin or img.get("owner") == project_id:
        return True
    vis = img.get("visibility")
    if vis in ("public", "community"):
        return True
    return vis == "shared" and _is_member(img, project_id, ("accepted", "pending", "rejected"))


def _visible_or_404(req: Request, image_id: str) -> dict[str, Any]:
    ctx = _ctx(req)
    img = _images().get(image_id)
    if img is None or not can_see(img, ctx["project_id"], ctx["is_admin"]):
        raise _not_found(image_id)
    return img


def _owner_or_403(req: Request, img: dict[str, Any], action: str) -> None:
    ctx = _ctx(req)
    if not ctx["is_admin"] and img.get("owner") != ctx["project_id"]:
        raise GlanceError(403, f"You are not permitted to {action} this image.")


# --------------------------------------------------------------------------- contract API


def get_image(image_id: str) -> dict[str, Any] | None:
    """The Glance representation of an image (core attributes plus extra properties), or None."""
    with store.lock:
        img = _images().get(image_id)
        return _render(img) if img else None


def image_visible(image_id: str, project_id: str | None, is_admin: bool = False) -> bool:
    """Whether `project_id` may use the image (Nova boots only images the user can see in Glance)."""
    with store.lock:
        img = _images().get(image_id)
        return img is not None and can_see(img, project_id, is_admin)


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def create_snapshot_image(name: str, server_id: str, project_id: str, metadata: dict[str, Any] | None) -> dict:
    """A `queued` private image owned by `project_id` (Nova's createImage, createBackup and shelve):
    image_type `snapshot` unless `metadata` says otherwise."""
    metadata = dict(metadata or {})
    now = now_iso()
    img: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "status": "queued",
        "visibility": "private",
        "protected": False,
        "os_hidden": False,
        "checksum": None,
        "os_hash_algo": None,
        "os_hash_value": None,
        "owner": project_id,
        "size": None,
        "virtual_size": None,
        "min_ram": 0,
        "min_disk": 0,
        "disk_format": "qcow2",
        "container_format": "bare",
        "created_at": now,
        "created_at_epoch": time.time(),  # Glance shows seconds but sorts by its database's microseconds
        "updated_at": now,
        "tags": [],
        "properties": {},
        "members": {},
        "has_data": False,
    }
    for key in ("min_ram", "min_disk"):
        if key in metadata:
            try:
                img[key] = max(0, int(metadata.pop(key)))
            except (TypeError, ValueError):
                pass
    for key in ("disk_format", "container_format", "visibility", "protected", "os_hidden"):
        if key in metadata:
            img[key] = metadata.pop(key)
    props = {k: _stringify(v) for k, v in metadata.items() if k not in READ_ONLY and k not in RESERVED}
    props.setdefault("image_type", "snapshot")  # "backup" for createBackup
    props.update(instance_uuid=server_id, owner_project_name=props.get("owner_project_name", ""))
    if not props["owner_project_name"]:
        del props["owner_project_name"]
    img["properties"] = props
    with store.lock:
        _images()[img["id"]] = img
        store.touch()
        return _render(img)


def find_images(**properties: str) -> list[dict[str, Any]]:
    """Images whose extra properties have these values, newest first (Glance's created_at desc; images created
    within the same second keep their creation order)."""
    with store.lock:
        found = [
            img
            for img in _images().values()
            if all((img.get("properties") or {}).get(k) == v for k, v in properties.items())
        ]
        found.sort(key=lambda img: (img["created_at"], img.get("created_at_epoch", 0.0)), reverse=True)
        return [_render(img) for img in found]


def set_image_status(image_id: str, status: str, size: int | None = None) -> dict[str, Any] | None:
    """Move an image along queued -> saving -> active (or killed); `deleted` removes it."""
    with store.lock:
        img = _images().get(image_id)
        if img is None:
            return None
        if status == "deleted":
            del _images()[image_id]
            store.touch()
            return None
        img["status"] = status
        if size is not None:
            img["size"] = int(size)
            img["virtual_size"] = int(size)
        if status == "active" and not img.get("checksum"):
            seed_bytes = f"{image_id}:{img.get('size')}".encode()
            img["checksum"] = hashlib.md5(seed_bytes, usedforsecurity=False).hexdigest()
            img["os_hash_algo"] = "sha512"
            img["os_hash_value"] = hashlib.sha512(seed_bytes).hexdigest()
            if img.get("size") is None:
                img["size"] = 0
        img["updated_at"] = now_iso()
        store.touch()
        return _render(img)


def delete_image(image_id: str) -> None:
    with store.lock:
        if _images().pop(image_id, None) is not None:
            store.touch()
    try:
        _data_path(image_id).unlink()
    except OSError:
        pass


# --------------------------------------------------------------------------- seeding

# The base images' bytes are `size` zero bytes, served on download; their digests are precomputed here
# (md5, sha512, sha256 of that many zeros) so the checksums Glance reports match what a client receives.
BASE_IMAGES = [
    # name, size, min_disk, min_ram, os_distro, os_version, created, md5, sha512, sha256
    (
        "cirros-0.6.3-x86_64-disk", 21692416, 1, 64, "cirros", "0.6.3", "2026-01-12T09:00:00Z",
        "1fe5bd7889c2037cb66340ca6cc97b5b",
        "588b075ddad5addd7ef7b0c7dffd1d54b505d32b94424efe490d035342817cbf"
        "8d6535656727b00d24e07621d37932a9b40464b5e9a5d471bc8c642d0c5f6b79",
        "0cc48e92531c596ff212b71e99588998bc49ba92d114f3bf78aee57184c41045",
    ),
    (
        "debian-12-genericcloud-amd64", 338953728, 3, 512, "debian", "12", "2026-01-12T09:05:00Z",
        "d9fe72817c6a2a5dfc668cd8e243a556",
        "ee0d24f70f2890cd51311858833a898e5d60964495590b42d1d3a039275c83c0"
        "b421423ea8a9a1f0b2468beb22975a00d5427d33820743dcf60e7b79f6042d12",
        "3a4dc70befdc779736561f483ff77fe8d7895d221924b9e4fc534cad128b10bc",
    ),
    (
        "ubuntu-24.04-minimal", 272105472, 4, 512, "ubuntu", "24.04", "2026-01-12T09:10:00Z",
        "e9faf81a7d4b6e21239e25f35fefc8a8",
        "4f590317ca05406848463305eb2c05b4fe087d4f3e1c22a4885ff3d8187669f9"
        "82c49dee958e3506c72b23d851896368d590d78117f48085047d7bc0f54591e0",
        "34d2cfa194fb53e0485732b56809f13fbc91f14d6277a24104aad68f9e25d11c",
    ),
]  # fmt: skip


def seed(fresh: bool) -> None:
    if not fresh and _images():
        return
    from devcloud import identity

    admin = identity.find_project("admin")
    owner = admin["id"] if admin else None
    for name, size, min_disk, min_ram, distro, version, created, md5, sha512, sha256 in BASE_IMAGES:
        image_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "devcloud:image:" + name))
        _images()[image_id] = {
            "id": image_id,
            "name": name,
            "status": "active",
            "visibility": "public",
            "protected": False,
            "os_hidden": False,
            "checksum": md5,
            "os_hash_algo": "sha512",
            "os_hash_value": sha512,
            "owner": owner,
            "size": size,
            "virtual_size": None,
            "min_ram": min_ram,
            "min_disk": min_disk,
            "disk_format": "qcow2",
            "container_format": "bare",
            "created_at": created,
            "updated_at": created,
            "tags": [],
            "properties": {
                "os_distro": distro,
                "os_version": version,
                "os_type": "linux",
                "hw_architecture": "x86_64",
                "owner_specified.openstack.object": f"images/{name}",
                "owner_specified.openstack.sha256": sha256,
                "owner_specified.openstack.md5": md5,
            },
            "members": {},
            "has_data": False,
            "zero_data": True,
        }
    store.touch()


def _zeros(size: int):  # a generator of bytes
    chunk = bytes(1 << 20)
    left = size
    while left > 0:
        n = min(left, len(chunk))
        yield chunk[:n]
        left -= n


# --------------------------------------------------------------------------- versions


def _versions_body(req: Request) -> dict[str, Any]:
    from devcloud.identity import public_base

    href = public_base(req) + "/image/v2/"
    ids = ["v2.17", "v2.16", "v2.15", "v2.9", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]
    return {
        "versions": [
            {"id": vid, "status": "CURRENT" if i == 0 else "SUPPORTED", "links": [{"rel": "self", "href": href}]}
            for i, vid in enumerate(ids)
        ]
    }


@router.route("GET", "/image")
def versions_root(req: Request) -> Response:
    return json_response(300, _versions_body(req))


@router.route("GET", "/image/versions")
def versions(req: Request) -> Response:
    return json_response(200, _versions_body(req))


# --------------------------------------------------------------------------- list


def _in_values(value: str) -> list[str]:
    if value.startswith("in:"):
        return [v.strip().strip('"') for v in value[3:].split(",") if v.strip()]
    return [value]


def _int_arg(req: Request, name: str, default: int | None = None) -> int | None:
    value = req.arg(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise GlanceError(400, f"Invalid value for {name}: {value!r}; it must be an integer.")


def _sort_spec(req: Request) -> list[tuple[str, str]]:
    spec: list[tuple[str, str]] = []
    if req.arg("sort") is not None:
        if req.args("sort_key") or req.args("sort_dir"):
            raise GlanceError(400, "The sort param cannot be combined with the sort_key or sort_dir params.")
        for part in req.arg("sort", "").split(","):
            key, _, direction = part.strip().partition(":")
            spec.append((key, direction or "desc"))
    else:
        keys = req.args("sort_key") or ["created_at"]
        dirs = req.args("sort_dir") or ["desc"]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise GlanceError(400, "Number of sort dirs does not match the number of sort keys")
        spec = [(k, dirs[i] if len(dirs) > 1 else dirs[0]) for i, k in enumerate(keys)]
    for key, direction in spec:
        if key not in SORT_KEYS:
            raise GlanceError(400, f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}.")
        if direction not in ("asc", "desc"):
            raise GlanceError(400, f"Invalid sort direction: {direction}")
    if "id" not in [k for k, _ in spec]:
        spec.append(("id", spec[-1][1] if spec else "desc"))
    return spec


def _sorted(images: list[dict[str, Any]], spec: list[tuple[str, str]]) -> list[dict[str, Any]]:
    out = list(images)
    for key, direction in reversed(spec):
        present = [i for i in out if i.get(key) is not None]
        missing = [i for i in out if i.get(key) is None]
        if key == "created_at":
            present.sort(key=lambda i: (i[key], i.get("created_at_epoch", 0.0)), reverse=direction == "desc")
        else:
            present.sort(key=lambda i, k=key: i[k], reverse=direction == "desc")
        # Glance (SQL) sorts NULLs first ascending, last descending.
        out = missing + present if direction == "asc" else present + missing
    return out


_LIST_PARAMS = {"limit", "marker", "sort_key", "sort_dir", "sort", "member_status", "visibility", "tag", "os_hidden"}
_CORE_FILTERS = ["name", "status", "owner", "id", "disk_format", "container_format", "checksum", "os_hash_value"]


def _cmp(op: str, a: Any, b: Any) -> bool:
    return {"eq": a == b, "neq": a != b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


@router.route("GET", PREFIX + "/images")
def list_images(req: Request) -> Response:
    ctx = _ctx(req)
    project_id, is_admin = ctx["project_id"], ctx["is_admin"]
    visibility = req.arg("visibility")
    if visibility is not None and visibility not in [*VISIBILITIES, "all"]:
        raise GlanceError(400, f"Invalid visibility value: {visibility}")
    member_status = req.arg("member_status", "accepted")
    if member_status not in ("pending", "accepted", "rejected", "all"):
        raise GlanceError(400, f"Invalid status value: {member_status}")
    limit = _int_arg(req, "limit", LIMIT_DEFAULT)
    assert limit is not None
    if limit < 0:
        raise GlanceError(400, "limit param must be positive")
    limit = min(limit, LIMIT_MAX)
    spec = _sort_spec(req)
    hidden = req.arg("os_hidden")
    with store.lock:
        images = list(_images().values())
        out = []
        for img in images:
            vis = img.get("visibility")
            own = img.get("owner") == project_id
            if visibility not in (None, "all") and vis != visibility:
                continue
            if is_admin or vis == "public" or own:
                pass
            elif vis == "community":
                if visibility != "community":
                    continue
            elif vis == "shared":
                if not _is_member(img, project_id, (member_status,) if member_status != "all" else ("all",)):
                    continue
            else:
                continue
            if hidden is None or hidden.lower() == "false":
                if img.get("os_hidden"):
                    continue
            elif hidden.lower() == "true" and not img.get("os_hidden"):
                continue
            out.append(img)
        for key in _CORE_FILTERS:
            value = req.arg(key)
            if value is not None:
                wanted = _in_values(value)
                out = [i for i in out if str(i.get(key)) in wanted]
        for key in ("protected",):
            value = req.arg(key)
            if value is not None:
                if value.lower() not in ("true", "false"):
                    raise GlanceError(
                        400, f"Invalid value '{value}' for 'protected' filter. Valid values are 'true' or 'false'."
                    )
                out = [i for i in out if bool(i.get(key)) == (value.lower() == "true")]
        for key, field in (("size_min", "size"), ("size_max", "size")):
            bound = _int_arg(req, key)
            if bound is not None:
                if key == "size_min":
                    out = [i for i in out if (i.get(field) or 0) >= bound]
                else:
                    out = [i for i in out if (i.get(field) or 0) <= bound]
        for key in ("created_at", "updated_at"):
            value = req.arg(key)
            if value is not None:
                op, _, stamp = value.partition(":")
                if op not in ("eq", "neq", "gt", "gte", "lt", "lte") or not stamp:
                    raise GlanceError(400, f"Invalid filter value {value}. The time is not in ISO 8601 format.")
                stamp = stamp.replace("+00:00", "Z")
                out = [i for i in out if _cmp(op, i.get(key) or "", stamp)]
        for tag in req.args("tag"):
            out = [i for i in out if tag in (i.get("tags") or [])]
        for key, values in req.query.items():
            if (
                key in _LIST_PARAMS
                or key in _CORE_FILTERS
                or key in ("protected", "size_min", "size_max", "created_at", "updated_at")
            ):
                continue
            wanted = _in_values(values[-1])
            out = [i for i in out if (i.get("properties") or {}).get(key) in wanted or str(i.get(key)) in wanted]
        out = _sorted(out, spec)
        marker = req.arg("marker")
        if marker is not None:
            ids = [i["id"] for i in out]
            if marker not in ids:
                if marker in _images():
                    out = []
                else:
                    raise GlanceError(400, f"Invalid marker. Image {marker} could not be found.")
            else:
                out = out[ids.index(marker) + 1 :]
        page = out[:limit]
        rendered = [_render(i) for i in page]
    params = [(k, v) for k, vs in req.query.items() for v in vs if k != "marker"]
    first = PREFIX[len("/image") :] + "/images" + ("?" + urlencode(params) if params else "")
    body: dict[str, Any] = {"images": rendered, "first": first, "schema": "/v2/schemas/images"}
    # Like Glance: a full page always carries `next` (the following page may be empty).
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", page[-1]["id"])])
    return json_response(200, body)


# --------------------------------------------------------------------------- show / create / delete


@router.route("GET", PREFIX + "/images/{image_id}")
def show_image(req: Request, image_id: str) -> Response:
    with store.lock:
        return json_response(200, _render(_visible_or_404(req, image_id)))


def _check_value(key: str, value: Any) -> Any:
    """Validate one attribute against the image schema; returns the value to store."""
    if key == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise GlanceError(
                400,
                f"Provided object does not match schema 'image': {value!r} is not valid under "
                "any of the given schemas\n\nFailed validating 'oneOf' in schema['properties']['name']",
            )
        return value
    if key in ("min_ram", "min_disk"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GlanceError(
                400,
                f"Provided object does not match schema 'image': {value!r} is not of type "
                f"'integer' or is less than the minimum of 0\n\nFailed validating in "
                f"schema['properties']['{key}']",
            )
        return value
    if key == "disk_format":
        if value is not None and value not in DISK_FORMATS:
            raise GlanceError(
                400, f"Invalid value '{value}' for parameter 'disk_format': {value!r} is not one of {DISK_FORMATS}"
            )
        return value
    if key == "container_format":
        if value is not None and value not in CONTAINER_FORMATS:
            raise GlanceError(
                400,
                f"Invalid value '{value}' for parameter 'container_format': {value!r} is not one "
                f"of {CONTAINER_FORMATS}",
            )
        return value
    if key == "visibility":
        if value not in VISIBILITIES:
            raise GlanceError(
                400, f"Invalid value '{value}' for parameter 'visibility': {value!r} is not one of {VISIBILITIES}"
            )
        return value
    if key in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise GlanceError(
                400,
                f"Provided object does not match schema 'image': {value!r} is not of type "
                f"'boolean'\n\nFailed validating 'type' in schema['properties']['{key}']",
            )
        return value
    if key == "tags":
        if not isinstance(value, list) or not all(isinstance(t, str) and len(t) <= 255 for t in value):
            raise GlanceError(400, "Provided object does not match schema 'image': 'tags' must be an array of strings")
        return list(dict.fromkeys(value))
    if key == "owner":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise GlanceError(400, "Provided object does not match schema 'image': 'owner' must be a string")
        return value
    if not isinstance(value, str):
        raise GlanceError(
            400,
            f"Provided object does not match schema 'image': {value!r} is not of type 'string'"
            f"\n\nFailed validating 'type' in schema['additionalProperties']",
        )
    if len(key) > 255:
        raise GlanceError(400, "Property names must be at most 255 characters")
    return value


def _check_visibility_policy(ctx: dict[str, Any], value: str) -> None:
    if value == "public" and not ctx["is_admin"]:
        raise GlanceError(403, "You are not authorized to complete publicize_image action.")


@router.route("POST", PREFIX + "/images")
def create_image(req: Request) -> Response:
    ctx = _ctx(req)
    try:
        body = json.loads(req.raw_body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise GlanceError(400, "Malformed JSON in request body.")
    if not isinstance(body, dict):
        raise GlanceError(400, "Malformed JSON in request body.")
    now = now_iso()
    img: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": None,
        "status": "queued",
        "visibility": "shared",
        "protected": False,
        "os_hidden": False,
        "checksum": None,
        "os_hash_algo": None,
        "os_hash_value": None,
        "owner": ctx["project_id"],
        "size": None,
        "virtual_size": None,
        "min_ram": 0,
        "min_disk": 0,
        "disk_format": None,
        "container_format": None,
        "created_at": now,
        "created_at_epoch": time.time(),  # Glance shows seconds but sorts by its database's microseconds
        "updated_at": now,
        "tags": [],
        "properties": {},
        "members": {},
        "has_data": False,
    }
    for key, value in body.items():
        if key in RESERVED:
            raise GlanceError(403, f"Attribute '{key}' is reserved.")
        if key == "id":
            try:
                img["id"] = str(uuid.UUID(str(value)))
            except ValueError:
                raise GlanceError(
                    400,
                    f"Provided object does not match schema 'image': {value!r} does not match "
                    "'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
                    "([0-9a-fA-F]){12}$'",
                )
            continue
        if key in READ_ONLY:
            raise GlanceError(403, f"Attribute '{key}' is read-only.")
        value = _check_value(key, value)
        if key == "visibility":
            _check_visibility_policy(ctx, value)
        if key == "owner" and value != ctx["project_id"] and not ctx["is_admin"]:
            raise GlanceError(403, f"You are not permitted to create images owned by '{value}'.")
        if key in CORE:
            img[key] = value
        else:
            img["properties"][key] = value
    with store.lock:
        if img["id"] in _images():
            raise GlanceError(409, f"An image with identifier {img['id']} already exists")
        _images()[img["id"]] = img
        store.touch()
        out = _render(img)
    return json_response(201, out, {"Location": f"{_base(req)}/v2/images/{img['id']}"})


def _base(req: Request) -> str:
    from devcloud.identity import public_base

    return public_base(req) + "/image"


@router.route("DELETE", PREFIX + "/images/{image_id}")
def delete_image_api(req: Request, image_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "delete")
        if img.get("protected"):
            raise GlanceError(403, f"Image {image_id} is protected and cannot be deleted.")
        if img.get("status") in ("uploading", "importing"):
            raise GlanceError(409, f"Image status transition from {img['status']} to deleted is not allowed")
        delete_image(image_id)
    return empty_response(204)


# --------------------------------------------------------------------------- update (JSON patch)


def _pointer(path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/") or path.count("/") > 2:
        raise GlanceError(400, f"Invalid JSON pointer for this resource: '{path}'")
    key = path[1:].replace("~1", "/").replace("~0", "~")
    if "/" in key and not key.startswith("tags/"):
        key = path[1:]
    return key


@router.route("PATCH", PREFIX + "/images/{image_id}")
def update_image(req: Request, image_id: str) -> Response:
    ctx = _ctx(req)
    ctype = (req.header("content-type") or "").split(";")[0].strip()
    if ctype not in PATCH_TYPES:
        raise GlanceError(415, f"Unsupported Content-Type: {ctype or 'none'}. Use one of: {', '.join(PATCH_TYPES)}")
    try:
        ops = json.loads(req.raw_body or b"")
    except (ValueError, UnicodeDecodeError):
        raise GlanceError(400, "Malformed JSON in request body.")
    if not isinstance(ops, list):
        raise GlanceError(400, "Request body must be a JSON array of operation objects.")
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "modify")
        new = json.loads(json.dumps(img))  # work on a copy: all or nothing
        for op in ops:
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                raise GlanceError(400, "Operations must be JSON objects with 'op' one of add, replace, remove.")
            key = _pointer(op.get("path"))
            if key in RESERVED:
                raise GlanceError(403, f"Attribute '{key}' is reserved.")
            if key in READ_ONLY:
                raise GlanceError(403, f"Attribute '{key}' is read-only.")
            if key.startswith("tags/"):
                raise GlanceError(400, f"Invalid JSON pointer for this resource: '{op.get('path')}'")
            kind = op["op"]
            if kind != "remove" and "value" not in op:
                raise GlanceError(400, 'Operation objects must contain exactly one member named "value".')
            if key in CORE:
                if kind == "remove":
                    raise GlanceError(
                        403,
                        f"Attribute '{key}' is read-only."
                        if key != "name"
                        else "Unable to remove core property 'name'.",
                    )
                value = _check_value(key, op["value"])
                if key == "visibility":
                    _check_visibility_policy(ctx, value)
                if key == "owner" and not ctx["is_admin"]:
                    raise GlanceError(403, "You are not permitted to modify 'owner' on this image.")
                if key in ("disk_format", "container_format") and img.get("status") != "queued":
                    raise GlanceError(403, f"Attribute {key} can be only replaced for a queued image.")
                new[key] = value
            else:
                props = new["properties"]
                if kind == "remove":
                    if key not in props:
                        raise GlanceError(409, f"Property {key} does not exist.")
                    del props[key]
                elif kind == "replace" and key not in props:
                    raise GlanceError(409, f"Property {key} does not exist.")
                else:
                    props[key] = _check_value(key, op["value"])
        new["updated_at"] = now_iso()
        img.clear()
        img.update(new)
        store.touch()
        return json_response(200, _render(img))


# --------------------------------------------------------------------------- data


@router.route("PUT", PREFIX + "/images/{image_id}/file")
def upload(req: Request, image_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "upload data to")
        if img.get("status") != "queued":
            raise GlanceError(409, f"Image status transition from {img['status']} to saving is not allowed")
        if not img.get("disk_format") or not img.get("container_format"):
            raise GlanceError(400, "Properties disk_format, container_format must be set prior to saving data.")
        data = req.raw_body
        path = _data_path(image_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        img.update(
            status="active",
            size=len(data),
            virtual_size=len(data),
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
            has_data=True,
            updated_at=now_iso(),
        )
        store.touch()
    return empty_response(204)


@router.route("GET", PREFIX + "/images/{image_id}/file")
def download(req: Request, image_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        if img.get("status") == "deactivated" and not _ctx(req)["is_admin"]:
            raise GlanceError(403, "The requested image has been deactivated. Image data download is forbidden.")
        if img.get("status") != "active":
            raise GlanceError(403, "The requested image is not active; its data cannot be downloaded.")
        path = _data_path(image_id)
        checksum = img.get("checksum") or ""
        headers = {"Content-Type": "application/octet-stream", "Content-MD5": checksum}
        if img.get("zero_data") and img.get("size"):
            headers["Content-Length"] = str(img["size"])
            stream = _zeros(img["size"]) if req.method != "HEAD" else iter([b""])
            return Response(200, b"", headers, stream=stream)
        if not img.get("has_data") or not path.exists():
            return empty_response(204)
        data = path.read_bytes()
    return Response(200, data, headers)


# --------------------------------------------------------------------------- tags, actions


@router.route("PUT", PREFIX + "/images/{image_id}/tags/{tag}")
def add_tag(req: Request, image_id: str, tag: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "modify")
        if len(tag) > 255:
            raise GlanceError(400, "Tag is too long (255 characters at most).")
        if tag not in img["tags"]:
            img["tags"].append(tag)
            img["updated_at"] = now_iso()
            store.touch()
    return empty_response(204)


@router.route("DELETE", PREFIX + "/images/{image_id}/tags/{tag}")
def remove_tag(req: Request, image_id: str, tag: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "modify")
        if tag not in img["tags"]:
            raise GlanceError(404, f"Tag {tag} not found.")
        img["tags"].remove(tag)
        img["updated_at"] = now_iso()
        store.touch()
    return empty_response(204)


@router.route("POST", PREFIX + "/images/{image_id}/actions/deactivate")
def deactivate(req: Request, image_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        if not _ctx(req)["is_admin"]:
            raise GlanceError(403, "You are not authorized to complete deactivate action.")
        if img["status"] not in ("active", "deactivated"):
            raise GlanceError(403, f"Not allowed to deactivate image in status '{img['status']}'")
        img["status"] = "deactivated"
        store.touch()
    return empty_response(204)


@router.route("POST", PREFIX + "/images/{image_id}/actions/reactivate")
def reactivate(req: Request, image_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        if not _ctx(req)["is_admin"]:
            raise GlanceError(403, "You are not authorized to complete reactivate action.")
        if img["status"] not in ("active", "deactivated"):
            raise GlanceError(403, f"Not allowed to reactivate image in status '{img['status']}'")
        img["status"] = "active"
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- members


def _member_view(image_id: str, member_id: str, m: dict[str, Any]) -> dict[str, Any]:
    return {
        "image_id": image_id,
        "member_id": member_id,
        "status": m["status"],
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
        "schema": "/v2/schemas/member",
    }


@router.route("GET", PREFIX + "/images/{image_id}/members")
def list_members(req: Request, image_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        img = _visible_or_404(req, image_id)
        if img.get("visibility") != "shared":
            raise GlanceError(403, "Only shared images have members.")
        members = img.get("members") or {}
        if not ctx["is_admin"] and img.get("owner") != ctx["project_id"]:
            members = {k: v for k, v in members.items() if k == ctx["project_id"]}
        items = [_member_view(image_id, k, v) for k, v in sorted(members.items())]
    return json_response(200, {"members": items, "schema": "/v2/schemas/members"})


@router.route("POST", PREFIX + "/images/{image_id}/members")
def add_member(req: Request, image_id: str) -> Response:
    try:
        body = json.loads(req.raw_body or b"")
    except (ValueError, UnicodeDecodeError):
        raise GlanceError(400, "Malformed JSON in request body.")
    member_id = body.get("member") if isinstance(body, dict) else None
    if not isinstance(member_id, str) or not member_id:
        raise GlanceError(400, "Member to be added not specified")
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "add members to")
        if img.get("visibility") != "shared":
            raise GlanceError(403, f"Image {image_id} is not shared: its visibility is {img.get('visibility')}.")
        members = img.setdefault("members", {})
        if member_id in members:
            raise GlanceError(409, f"Member {member_id} already exists in image {image_id}.")
        now = now_iso()
        members[member_id] = {"status": "pending", "created_at": now, "updated_at": now}
        store.touch()
        return json_response(200, _member_view(image_id, member_id, members[member_id]))


@router.route("GET", PREFIX + "/images/{image_id}/members/{member_id}")
def show_member(req: Request, image_id: str, member_id: str) -> Response:
    ctx = _ctx(req)
    with store.lock:
        img = _visible_or_404(req, image_id)
        m = (img.get("members") or {}).get(member_id)
        if m is None or (not ctx["is_admin"] and ctx["project_id"] not in (img.get("owner"), member_id)):
            raise GlanceError(404, f"Member {member_id} not found in image {image_id}.")
        return json_response(200, _member_view(image_id, member_id, m))


@router.route("PUT", PREFIX + "/images/{image_id}/members/{member_id}")
def update_member(req: Request, image_id: str, member_id: str) -> Response:
    ctx = _ctx(req)
    try:
        body = json.loads(req.raw_body or b"")
    except (ValueError, UnicodeDecodeError):
        raise GlanceError(400, "Malformed JSON in request body.")
    status = body.get("status") if isinstance(body, dict) else None
    if status not in ("pending", "accepted", "rejected"):
        raise GlanceError(400, f"Invalid status: {status}")
    with store.lock:
        img = _visible_or_404(req, image_id)
        m = (img.get("members") or {}).get(member_id)
        if m is None:
            raise GlanceError(404, f"Member {member_id} not found in image {image_id}.")
        if ctx["project_id"] != member_id and not ctx["is_admin"]:
            raise GlanceError(403, "You are not permitted to modify 'status' on this image member.")
        m.update(status=status, updated_at=now_iso())
        store.touch()
        return json_response(200, _member_view(image_id, member_id, m))


@router.route("DELETE", PREFIX + "/images/{image_id}/members/{member_id}")
def delete_member(req: Request, image_id: str, member_id: str) -> Response:
    with store.lock:
        img = _visible_or_404(req, image_id)
        _owner_or_403(req, img, "remove members from")
        if (img.get("members") or {}).pop(member_id, None) is None:
            raise GlanceError(404, f"Member {member_id} not found in image {image_id}.")
        store.touch()
    return empty_response(204)


# --------------------------------------------------------------------------- schemas and info


def _image_schema() -> dict[str, Any]:
    nullable_str = {"type": ["null", "string"], "maxLength": 255}
    props: dict[str, Any] = {
        "id": {
            "type": "string",
            "description": "An identifier for the image",
            "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
        },
        "name": {**nullable_str, "description": "Descriptive name for the image"},
        "status": {"type": "string", "readOnly": True, "description": "Status of the image", "enum": STATUSES},
        "visibility": {"type": "string", "description": "Scope of image accessibility", "enum": VISIBILITIES},
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {"type": "boolean", "description": "If true, image will not appear in default image list."},
        "checksum": {
            "type": ["null", "string"],
            "readOnly": True,
            "maxLength": 32,
            "description": "md5 hash of image contents.",
        },
        "os_hash_algo": {
            "type": ["null", "string"],
            "readOnly": True,
            "maxLength": 64,
            "description": "Algorithm to calculate the os_hash_value",
        },
        "os_hash_value": {
            "type": ["null", "string"],
            "readOnly": True,
            "maxLength": 128,
            "description": "Hexdigest of the image contents using the algorithm in os_hash_algo.",
        },
        "owner": {**nullable_str, "description": "Owner of the image"},
        "size": {"type": ["null", "integer"], "readOnly": True, "description": "Size of image file in bytes"},
        "virtual_size": {"type": ["null", "integer"], "readOnly": True, "description": "Virtual size of image"},
        "container_format": {
            "type": ["null", "string"],
            "enum": [None, *CONTAINER_FORMATS],
            "description": "Format of the container",
        },
        "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS], "description": "Format of the disk"},
        "created_at": {"type": "string", "readOnly": True, "description": "Date and time of image registration"},
        "updated_at": {
            "type": "string",
            "readOnly": True,
            "description": "Date and time of the last image modification",
        },
        "tags": {
            "type": "array",
            "items": {"type": "string", "maxLength": 255},
            "description": "List of strings related to the image",
        },
        "direct_url": {"type": "string", "readOnly": True, "description": "URL to access the image file"},
        "min_ram": {"type": "integer", "minimum": 0, "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {
            "type": "integer",
            "minimum": 0,
            "description": "Amount of disk space (in GB) required to boot image.",
        },
        "self": {"type": "string", "readOnly": True, "description": "An image self url"},
        "file": {"type": "string", "readOnly": True, "description": "An image file url"},
        "stores": {"type": "string", "readOnly": True, "description": "Store in which image data resides."},
        "schema": {"type": "string", "readOnly": True, "description": "An image schema url"},
        "locations": {
            "type": "array",
            "items": {"type": "object"},
            "description": "A set of URLs to access the image file kept in external store",
        },
        "kernel_id": {
            "type": ["null", "string"],
            "description": "ID of image stored in Glance that should be "
            "used as the kernel when booting an AMI-style image.",
            "is_base": False,
        },
        "ramdisk_id": {
            "type": ["null", "string"],
            "description": "ID of image stored in Glance that should be "
            "used as the ramdisk when booting an AMI-style image.",
            "is_base": False,
        },
        "instance_uuid": {
            "type": "string",
            "description": "Metadata which can be used to record which instance "
            "this image is associated with. (Informational only, does not create an instance "
            "snapshot.)",
            "is_base": False,
        },
        "architecture": {
            "type": "string",
            "description": "Operating system architecture as specified in "
            "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
            "is_base": False,
        },
        "os_distro": {
            "type": "string",
            "description": "Common name of operating system distribution as "
            "specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
            "is_base": False,
        },
        "os_version": {
            "type": "string",
            "description": "Operating system version as specified by the distributor.",
            "is_base": False,
        },
    }
    return {
        "name": "image",
        "properties": props,
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


@router.route("GET", PREFIX + "/schemas/image")
def image_schema(req: Request) -> Response:
    return json_response(200, _image_schema())


@router.route("GET", PREFIX + "/schemas/images")
def images_schema(req: Request) -> Response:
    return json_response(
        200,
        {
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": _image_schema()},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        },
    )


@router.route("GET", PREFIX + "/schemas/member")
def member_schema(req: Request) -> Response:
    return json_response(
        200,
        {
            "name": "member",
            "properties": {
                "image_id": {"type": "string"},
                "member_id": {"type": "string"},
                "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
                "created_at": {"type": "string"},
                "updated_at": {"type": "string"},
                "schema": {"type": "string", "readOnly": True},
            },
        },
    )


@router.route("GET", PREFIX + "/info/import")
def import_info(req: Request) -> Response:
    _ctx(req)
    return json_response(
        200, {"import-methods": {"description": "Import methods available.", "type": "array", "value": []}}
    )


@router.route("GET", PREFIX + "/info/stores")
def stores_info(req: Request) -> Response:
    _ctx(req)
    return json_response(200, {"stores": [{"id": "file", "description": "devcloud local store", "default": True}]})
