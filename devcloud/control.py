"""`/devcloud/`: devcloud's own admin-only control API (JSON), for tests, demos and benchmarks.

- `POST /devcloud/faults` {"service", "method"?, "path"? (regex searched in the path after the service
  prefix), "query"? (regex searched in the query string, `k=v&…` decoded), "status" | "stall" (seconds),
  "count" (default 1)} makes the next `count` matching calls fail
  with `status` in that service's error shape, or sleep `stall` seconds before being served normally.
  `GET /devcloud/faults` lists the armed faults; `DELETE /devcloud/faults` clears them.
- `POST /devcloud/build-failures` {"count", "message"}: the next `count` new servers go to ERROR
  (compute calls `take_build_failure()`); `GET` shows, `DELETE` clears.
- `GET /devcloud/requests` counts every non-`/devcloud/` request by service (+ the last 200);
  `POST /devcloud/requests/reset` zeroes the counters.
- `POST /devcloud/latency` {"seconds", "per_row_seconds"?}: `seconds` added to every service call, and
  `per_row_seconds` more for each row of its answer (each object in a list of the JSON body, nested ones too: a
  real API's time grows with what it returns, so a call that fetches a whole collection shows up); 0 = off; `GET`
  shows both.
- `POST /devcloud/identity-config` {"allow_rescope_scoped_token": bool}: Keystone's `[token]` option of that name
  (false: exchanging a project-scoped token for another answers 403); `GET` shows it.
- `POST /devcloud/catalog` {"omit": ["network", …]}: service types left out of the catalog of tokens issued from
  then on (a cloud without Neutron: `["network"]`; `[]` restores them); `GET` shows it.
- `POST /devcloud/answers` {"record": bool}: keep (or stop keeping) every service answer in memory (the last
  5000): method, path, route template, query, status, the compute microversion and volume version asked for,
  the server action's name, content type and body; `GET /devcloud/answers?after=N` returns those after number N
  (`{"answers": [...], "last": N}`). The tests check each against the response schemas OpenStack publishes.
- `GET /devcloud/routes`: every route devcloud serves (method and template).
- `GET /devcloud/health`: no auth; {"status": "ok"}.

Faults, latency and counters live in memory only (a restart clears them).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from typing import Any

from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

SERVICES = {
    "compute": "/compute",
    "identity": "/identity",
    "image": "/image",
    "volume": "/volume",
    "placement": "/placement",
    "network": "/networking",
}

_lock = threading.Lock()
_faults: list[dict[str, Any]] = []
_build_failures: dict[str, Any] = {"count": 0, "message": "Injected build failure"}
_latency = {"seconds": 0.0, "per_row_seconds": 0.0}
_counters: dict[str, Any] = {"total": 0, "by_service": {}}
_recent: deque[str] = deque(maxlen=200)
_answers: deque[dict[str, Any]] = deque(maxlen=5000)
_recording = {"on": False, "seq": 0}


def service_of(path: str) -> str | None:
    for name, prefix in SERVICES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return None


# --------------------------------------------------------------------------- error shapes


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(service: str, status: int, message: str, request_id: str = "") -> Response:
    """An error answer in the shape `service` uses for it."""
    if service == "identity":
        body: dict[str, Any] = {"error": {"code": status, "message": message, "title": _reason(status)}}
    elif service == "placement":
        from devcloud.placement import PlacementError

        body = PlacementError(status, message, request_id=request_id).body()
    elif service == "image":
        from devcloud.image import GlanceError

        body = GlanceError(status, message).body()
    elif service == "network":
        body = HttpError(status, message, style="neutron").body()
    else:  # compute and volume (Cinder uses Nova's fault shape)
        kind = {
            400: "badRequest",
            401: "unauthorized",
            403: "forbidden",
            404: "itemNotFound",
            409: "conflictingRequest",
            413: "overLimit",
            429: "overLimit",
            500: "computeFault",
            501: "notImplemented",
            503: "serviceUnavailable",
        }.get(status, "computeFault")
        body = {kind: {"code": status, "message": message}}
    return json_response(status, body)


# --------------------------------------------------------------------------- hooks


def _fault_hook(req: Request) -> Response | None:
    service = service_of(req.path)
    if service is None:
        return None
    if _latency["seconds"] > 0:
        time.sleep(_latency["seconds"])
    hit = None
    with _lock:
        for fault in _faults:
            if fault["service"] != service or fault["remaining"] <= 0:
                continue
            if fault["method"] and fault["method"] != req.method:
                continue
            if fault["path"] and not re.search(fault["path"], req.path[len(SERVICES[service]) :]):
                continue
            if fault.get("query") and not re.search(fault["query"], _query_text(req)):
                continue
            fault["remaining"] -= 1
            hit = dict(fault)
            break
        _faults[:] = [f for f in _faults if f["remaining"] > 0]
    if hit is None:
        return None
    if hit["stall"] is not None:
        time.sleep(hit["stall"])
        return None
    message = hit.get("message") or f"devcloud injected fault ({hit['status']})"
    return error_response(service, hit["status"], message, req.context.get("request_id", ""))


def _query_text(req: Request) -> str:
    return "&".join(f"{k}={v}" for k, values in req.query.items() for v in values)


def _rows(value: Any) -> int:
    """How many objects the lists of a JSON body hold, nested lists included."""
    if isinstance(value, dict):
        return sum(_rows(v) for v in value.values())
    if isinstance(value, list):
        return sum((1 if isinstance(v, dict) else 0) + _rows(v) for v in value)
    return 0


def _row_latency_hook(req: Request, resp: Response) -> None:
    per_row = _latency["per_row_seconds"]
    if per_row <= 0 or service_of(req.path) is None or not resp.body:
        return
    if not resp.headers.get("Content-Type", "").startswith("application/json"):
        return
    try:
        rows = _rows(json.loads(resp.body))
    except ValueError:
        return
    if rows:
        time.sleep(rows * per_row)


def _count_hook(req: Request, resp: Response) -> None:
    if req.path == "/devcloud" or req.path.startswith("/devcloud/"):
        return
    service = service_of(req.path) or "other"
    qs = req.environ.get("QUERY_STRING", "")
    line = f"{req.method} {req.path}" + (f"?{qs}" if qs else "")
    with _lock:
        _counters["total"] += 1
        _counters["by_service"][service] = _counters["by_service"].get(service, 0) + 1
        _recent.append(line)


def _record_hook(req: Request, resp: Response) -> None:
    if not _recording["on"] or req.path == "/devcloud" or req.path.startswith("/devcloud/"):
        return
    action = None
    if req.method == "POST" and req.path.endswith("/action"):
        try:
            body = json.loads(req.raw_body)
            action = next(iter(body)) if isinstance(body, dict) and body else None
        except (ValueError, UnicodeDecodeError):
            action = None
    entry = {
        "method": req.method,
        "path": req.path,
        "route": req.context.get("route"),
        "query": req.environ.get("QUERY_STRING", ""),
        "status": resp.status,
        "compute_version": req.context.get("compute_mv"),
        "volume_version": req.header("openstack-api-version"),
        "admin": bool((req.context.get("auth") or {}).get("is_admin")),
        "action": action,
        "content_type": resp.headers.get("Content-Type", ""),
        "body": resp.body.decode("utf-8", "replace") if resp.stream is None else None,
    }
    with _lock:
        _recording["seq"] += 1
        entry["n"] = _recording["seq"]
        _answers.append(entry)


# Faults and latency apply before authentication, like an outage in front of the real service would.
router.before.insert(0, _fault_hook)
router.after.append(_row_latency_hook)
router.after.append(_count_hook)
router.after.append(_record_hook)


@router.route("POST", "/devcloud/answers")
def record_answers(req: Request) -> Response:
    _admin(req)
    body = req.json_object(style="keystone")
    with _lock:
        _recording["on"] = bool(body.get("record"))
        return json_response(200, {"record": _recording["on"], "last": _recording["seq"]})


@router.route("GET", "/devcloud/answers")
def show_answers(req: Request) -> Response:
    _admin(req)
    try:
        after = int(req.arg("after") or 0)
    except ValueError:
        raise HttpError(400, "after must be an integer", style="keystone") from None
    with _lock:
        return json_response(200, {"answers": [a for a in _answers if a["n"] > after], "last": _recording["seq"]})


@router.route("GET", "/devcloud/routes")
def show_routes(req: Request) -> Response:
    _admin(req)
    return json_response(200, {"routes": [{"method": r.method, "route": r.template} for r in router.routes]})


# --------------------------------------------------------------------------- contract


def take_build_failure() -> str | None:
    """Consume one armed build failure: its message, or None when none is armed."""
    with _lock:
        if _build_failures["count"] > 0:
            _build_failures["count"] -= 1
            return _build_failures["message"]
    return None


# --------------------------------------------------------------------------- API


def _admin(req: Request) -> None:
    ctx = req.context.get("auth")
    if ctx is None:
        raise HttpError(401, "The request you have made requires authentication.", style="keystone")
    if not ctx.get("is_admin"):
        raise HttpError(403, "The devcloud control API is admin only.", style="keystone")


def _body(req: Request) -> dict[str, Any]:
    if not req.raw_body:
        return {}
    try:
        body = json.loads(req.raw_body)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "Malformed request body", style="keystone")
    if not isinstance(body, dict):
        raise HttpError(400, "Malformed request body: expected a JSON object", style="keystone")
    return body


def _bad(message: str) -> HttpError:
    return HttpError(400, message, style="keystone")


def _int(value: Any, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _bad(f"'{name}' must be an integer from {minimum} to {maximum}")
    return value


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 600:
        raise _bad(f"'{name}' must be a number of seconds from 0 to 600")
    return float(value)


def _fault_view(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "service", "method", "path", "query", "status", "stall", "count", "remaining", "message")
    return {k: f[k] for k in keys}


@router.route("POST", "/devcloud/faults")
def add_fault(req: Request) -> Response:
    _admin(req)
    body = _body(req)
    service = body.get("service")
    if service not in SERVICES:
        raise _bad(f"'service' must be one of {sorted(SERVICES)}")
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise _bad("'method' must be an HTTP method name")
    path, query = body.get("path"), body.get("query")
    for name, pattern in (("path", path), ("query", query)):
        if pattern is None:
            continue
        if not isinstance(pattern, str):
            raise _bad(f"'{name}' must be a regular expression string")
        try:
            re.compile(pattern)
        except re.error as e:
            raise _bad(f"'{name}' is not a valid regular expression: {e}")
    status, stall = body.get("status"), body.get("stall")
    if (status is None) == (stall is None):
        raise _bad("give exactly one of 'status' or 'stall'")
    if status is not None:
        status = _int(status, "status", 400, 599)
    if stall is not None:
        stall = _seconds(stall, "stall")
    count = _int(body.get("count", 1), "count", 1, 1_000_000)
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise _bad("'message' must be a string")
    fault = {
        "id": str(uuid.uuid4()),
        "service": service,
        "method": method.upper() if method else None,
        "path": path,
        "query": query,
        "status": status,
        "stall": stall,
        "count": count,
        "remaining": count,
        "message": message,
    }
    with _lock:
        _faults.append(fault)
        view = _fault_view(fault)
    return json_response(201, {"fault": view})


@router.route("GET", "/devcloud/faults")
def list_faults(req: Request) -> Response:
    _admin(req)
    with _lock:
        return json_response(200, {"faults": [_fault_view(f) for f in _faults]})


@router.route("DELETE", "/devcloud/faults")
def clear_faults(req: Request) -> Response:
    _admin(req)
    with _lock:
        _faults.clear()
    return empty_response(204)


@router.route("POST", "/devcloud/build-failures")
def add_build_failures(req: Request) -> Response:
    _admin(req)
    body = _body(req)
    count = _int(body.get("count", 1), "count", 0, 1_000_000)
    message = body.get("message", "Injected build failure")
    if not isinstance(message, str) or not message:
        raise _bad("'message' must be a non-empty string")
    with _lock:
        _build_failures.update(count=count, message=message)
        view = dict(_build_failures)
    return json_response(201, {"build_failures": view})


@router.route("GET", "/devcloud/build-failures")
def show_build_failures(req: Request) -> Response:
    _admin(req)
    with _lock:
        return json_response(200, {"build_failures": dict(_build_failures)})


@router.route("DELETE", "/devcloud/build-failures")
def clear_build_failures(req: Request) -> Response:
    _admin(req)
    with _lock:
        _build_failures["count"] = 0
    return empty_response(204)


@router.route("GET", "/devcloud/requests")
def show_requests(req: Request) -> Response:
    _admin(req)
    with _lock:
        body = {"total": _counters["total"], "by_service": dict(_counters["by_service"]), "recent": list(_recent)}
    return json_response(200, body)


@router.route("POST", "/devcloud/requests/reset")
def reset_requests(req: Request) -> Response:
    _admin(req)
    with _lock:
        _counters["total"] = 0
        _counters["by_service"] = {}
        _recent.clear()
    return json_response(200, {"total": 0, "by_service": {}, "recent": []})


@router.route("POST", "/devcloud/latency")
def set_latency(req: Request) -> Response:
    _admin(req)
    body = _body(req)
    seconds = _seconds(body.get("seconds", 0), "seconds")
    per_row = _seconds(body.get("per_row_seconds", 0), "per_row_seconds")
    _latency["seconds"], _latency["per_row_seconds"] = seconds, per_row
    return json_response(200, dict(_latency))


@router.route("GET", "/devcloud/latency")
def show_latency(req: Request) -> Response:
    _admin(req)
    return json_response(200, dict(_latency))


@router.route("POST", "/devcloud/identity-config")
def set_identity_config(req: Request) -> Response:
    """Keystone options a cloud may set differently: {"allow_rescope_scoped_token": bool}."""
    from devcloud.config import config

    _admin(req)
    value = _body(req).get("allow_rescope_scoped_token")
    if not isinstance(value, bool):
        raise HttpError(400, "allow_rescope_scoped_token must be true or false", style="keystone")
    config.allow_rescope_scoped_token = value
    return json_response(200, {"allow_rescope_scoped_token": config.allow_rescope_scoped_token})


@router.route("GET", "/devcloud/identity-config")
def show_identity_config(req: Request) -> Response:
    from devcloud.config import config

    _admin(req)
    return json_response(200, {"allow_rescope_scoped_token": config.allow_rescope_scoped_token})


@router.route("POST", "/devcloud/catalog")
def set_catalog(req: Request) -> Response:
    """Which service types new tokens' catalogs leave out: {"omit": ["network"]} plays a cloud without Neutron."""
    from devcloud.config import config

    _admin(req)
    omit = _body(req).get("omit")
    if not isinstance(omit, list) or not all(isinstance(t, str) for t in omit):
        raise HttpError(400, "omit must be a list of service types", style="keystone")
    config.catalog_omits = list(omit)
    return json_response(200, {"omit": config.catalog_omits})


@router.route("GET", "/devcloud/catalog")
def show_catalog(req: Request) -> Response:
    from devcloud.config import config

    _admin(req)
    return json_response(200, {"omit": config.catalog_omits})


_DOCS = {
    "GET /devcloud": "this description (no token needed)",
    "GET /devcloud/health": "liveness (no token needed)",
    "POST /devcloud/faults": 'arm a fault: {"service": "compute|identity|image|volume|placement", "method"?: "GET", '
    '"path"?: regex searched in the path after the service prefix, "query"?: regex searched in the '
    'query string, "status": 400-599 | "stall": seconds, '
    '"count"?: N (default 1), "message"?: text}',
    "GET /devcloud/faults": "armed faults with their remaining counts",
    "DELETE /devcloud/faults": "disarm every fault",
    "POST /devcloud/build-failures": '{"count": N, "message": "..."}: the next N new servers go to ERROR',
    "GET /devcloud/build-failures": "armed build failures",
    "DELETE /devcloud/build-failures": "disarm build failures",
    "GET /devcloud/requests": '{"total", "by_service", "recent": last 200 "METHOD path?query"} (not /devcloud/)',
    "POST /devcloud/requests/reset": "zero the request counters",
    "POST /devcloud/latency": '{"seconds": s, "per_row_seconds": r}: each call s later, + r per row returned',
    "GET /devcloud/latency": "the current added latency",
    "POST /devcloud/identity-config": '{"allow_rescope_scoped_token": bool}: Keystone\'s [token] option of that name',
    "GET /devcloud/identity-config": "the identity options",
    "POST /devcloud/catalog": '{"omit": ["network"]}: service types new tokens\' catalogs leave out',
    "GET /devcloud/catalog": "the service types left out",
}


@router.route("GET", "/devcloud")
def docs(req: Request) -> Response:
    return json_response(200, {"devcloud": {"admin_only": True, "endpoints": _DOCS}})


@router.route("GET", "/devcloud/health")
def health(req: Request) -> Response:
    return json_response(200, {"status": "ok", "services": sorted(SERVICES)})
