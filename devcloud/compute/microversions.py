"""Nova API microversions: parse the request headers, answer 406 outside the range, stamp the response.

Versions are handled as the minor number of 2.x (`mv(req) >= 47` means "2.47 or later").
"""

from __future__ import annotations

import re

from devcloud.config import config
from devcloud.web import HttpError, Request, Response

MIN_MINOR = 1
MAX_MINOR = 100
MIN_VERSION = "2.1"
MAX_VERSION = f"2.{MAX_MINOR}"
PREFIX = "/compute"

_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


def _requested(req: Request) -> str | None:
    header = req.header("OpenStack-API-Version")
    if header:
        # "compute 2.47" (several services may be listed, comma separated)
        for part in header.split(","):
            words = part.strip().split()
            if len(words) == 2 and words[0].lower() == "compute":
                return words[1]
    legacy = req.header("X-OpenStack-Nova-API-Version")
    if legacy:
        return legacy.strip()
    return None


def parse(req: Request) -> int:
    raw = _requested(req)
    if raw is None:
        return MIN_MINOR
    if raw.lower() == "latest":
        return MAX_MINOR
    m = _VERSION_RE.match(raw)
    if not m:
        raise HttpError(400, f"Invalid API version request: {raw}", "badRequest")
    major, minor = int(m.group(1)), int(m.group(2))
    if major != 2 or not (MIN_MINOR <= minor <= MAX_MINOR):
        raise HttpError(
            406,
            f"Version {raw} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}.",
            "computeFault",
        )
    return minor


def mv(req: Request) -> int:
    """The request's compute microversion (minor number)."""
    v = req.context.get("compute_mv")
    if v is None:
        v = parse(req)
        req.context["compute_mv"] = v
    return v


def is_api_path(path: str) -> bool:
    return path.startswith(PREFIX + "/v2.1/") or path == PREFIX + "/v2.1"


def before_hook(req: Request) -> Response | None:
    if req.path.startswith(PREFIX + "/v2.1/"):
        req.context["compute_mv"] = parse(req)
    return None


def after_hook(req: Request, resp: Response) -> None:
    if not req.path.startswith(PREFIX + "/v2.1/"):
        return
    v = req.context.get("compute_mv")
    if v is None:
        return  # the version itself was unacceptable
    resp.headers["OpenStack-API-Version"] = f"compute 2.{v}"
    resp.headers["X-OpenStack-Nova-API-Version"] = f"2.{v}"
    resp.headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"


def _root(base: str | None) -> str:
    return (base or config.base_url).rstrip("/") + PREFIX


# Nova 34's VERSIONS (nova/api/openstack/compute/versions.py): the legacy v2.0 API is listed as DEPRECATED.
_V20 = {
    "id": "v2.0",
    "status": "DEPRECATED",
    "version": "",
    "min_version": "",
    "updated": "2025-07-04T12:00:00Z",
    "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}],
}


def _v21() -> dict:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2013-07-23T11:33:21Z",
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


def version_list(base: str | None = None) -> list[dict]:
    """GET /compute: every major version, each with only its self link (no media-types), v2.0 first."""
    root = _root(base)
    out = []
    for doc, path in ((_V20, "/v2/"), (_v21(), "/v2.1/")):
        entry = {k: v for k, v in doc.items() if k != "media-types"}
        entry["links"] = [{"rel": "self", "href": root + path}]
        out.append(entry)
    return out


def version_doc(base: str | None = None, legacy: bool = False) -> dict:
    """GET /compute/v2.1 (or /compute/v2, the legacy v2.0 one): the version with self and describedby links."""
    doc = dict(_V20 if legacy else _v21())
    doc["links"] = [
        {"rel": "self", "href": _root(base) + ("/v2/" if legacy else "/v2.1/")},
        {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
    ]
    return doc
