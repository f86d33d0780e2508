"""Shared helpers of the compute package: the caller, policy, Nova-style validation errors, links, paging."""

from __future__ import annotations

import ipaddress
import re
import socket
import uuid
from datetime import datetime, timezone
from typing import Any

from devcloud.config import config
from devcloud.web import HttpError, Request

API = "/compute/v2.1"
MAX_LIMIT = 1000

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def ctx(req: Request) -> dict[str, Any]:
    """The authenticated caller (set by identity's auth hook)."""
    from devcloud import identity

    return identity.auth(req)


def is_admin(req: Request) -> bool:
    return bool(ctx(req).get("is_admin"))


def require_admin(req: Request, rule: str) -> None:
    """403 in Nova's words unless the caller is admin."""
    if not is_admin(req):
        raise HttpError(403, f"Policy doesn't allow {rule} to be performed.", "forbidden")


def base_url(req: Request) -> str:
    host = req.environ.get("HTTP_HOST")
    if host:
        return f"{req.environ.get('wsgi.url_scheme', 'http')}://{host}"
    return config.base_url


def link(req: Request, *parts: str) -> str:
    return base_url(req) + API + "/" + "/".join(p.strip("/") for p in parts)


def bookmark(req: Request, *parts: str) -> str:
    return base_url(req) + "/compute/" + "/".join(p.strip("/") for p in parts)


def links(req: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": link(req, collection, item_id)},
        {"rel": "bookmark", "href": bookmark(req, collection, item_id)},
    ]


def bad(message: str) -> HttpError:
    return HttpError(400, message, "badRequest")


def not_found(message: str) -> HttpError:
    return HttpError(404, message, "itemNotFound")


def conflict(message: str) -> HttpError:
    return HttpError(409, message, "conflictingRequest")


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def invalid(field: str, value: Any, reason: str) -> HttpError:
    """Nova's jsonschema error text: 'Invalid input for field/attribute X. Value: V. reason'."""
    return bad(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def body_of(req: Request, key: str) -> dict[str, Any]:
    body = req.json_object()
    if key not in body:
        raise bad(f"'{key}' is a required property")
    inner = body[key]
    if not isinstance(inner, dict):
        raise invalid(key, inner, f"{_fmt(inner)} is not of type 'object'")
    return inner


def require(obj: dict[str, Any], parent: str, name: str) -> Any:
    if name not in obj:
        raise invalid(parent, obj, f"'{name}' is a required property")
    return obj[name]


def check_unexpected(obj: dict[str, Any], parent: str, allowed: set[str]) -> None:
    extra = sorted(k for k in obj if k not in allowed)
    if extra:
        listed = ", ".join(repr(k) for k in extra)
        verb = "was" if len(extra) == 1 else "were"
        raise invalid(parent, obj, f"Additional properties are not allowed ({listed} {verb} unexpected)")


def check_string(
    value: Any, field: str, min_len: int = 0, max_len: int = 255, strip_check: bool = False, nullable: bool = False
) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise invalid(field, value, f"{_fmt(value)} is not of type 'string'")
    if len(value) < min_len:
        raise invalid(field, value, f"{_fmt(value)} is too short")
    if len(value) > max_len:
        raise invalid(field, value, f"{_fmt(value)} is too long")
    if strip_check and value != value.strip():
        raise invalid(field, value, f"{_fmt(value)} does not match '^(?! )[^\\x00-\\x1f]*(?<! )$'")
    return value


def check_int(value: Any, field: str, minimum: int | None = None, maximum: int | None = 2147483647) -> int:
    """Nova accepts integers and integer strings."""
    if isinstance(value, bool):
        raise invalid(field, value, f"{_fmt(value)} is not of type 'integer', 'string'")
    if isinstance(value, str):
        if not re.match(r"^\s*-?\d+\s*$", value):
            raise invalid(field, value, f"{_fmt(value)} does not match '^[0-9]*$'")
        num = int(value)
    elif isinstance(value, int):
        num = value
    elif isinstance(value, float) and value.is_integer():
        num = int(value)
    else:
        raise invalid(field, value, f"{_fmt(value)} is not of type 'integer', 'string'")
    if minimum is not None and num < minimum:
        raise invalid(field, value, f"{_fmt(value)} is less than the minimum of {minimum}")
    if maximum is not None and num > maximum:
        raise invalid(field, value, f"{_fmt(value)} is greater than the maximum of {maximum}")
    return num


def access_ip(value: Any, field: str) -> str:
    """`accessIPv4`/`accessIPv6` as Nova takes them: a string in the 'ipv4'/'ipv6' format (an empty string is not
    one), stored as an address and shown as netaddr prints it: IPv6 lower-case and compressed ("2001:db8::1")."""
    if not isinstance(value, str):
        raise invalid(field, value, f"{_fmt(value)} is not of type 'string'")
    version = 6 if field == "accessIPv6" else 4
    try:
        address = ipaddress.IPv6Address(value) if version == 6 else ipaddress.IPv4Address(value)
    except ValueError:
        address = None
    if address is None or getattr(address, "scope_id", None):
        raise invalid(field, value, f"{_fmt(value)} is not a 'ipv{version}'")
    if version == 6:
        return socket.inet_ntop(socket.AF_INET6, address.packed)  # netaddr's form: "::ffff:1.2.3.4" stays dotted
    return str(address)


def parse_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "t", "y"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off", "f", "n"):
        return False
    raise invalid(field, value, f"{_fmt(value)} is not of type 'boolean'")


def query_bool(req: Request, name: str) -> bool | None:
    raw = req.arg(name)
    if raw is None:
        return None
    low = raw.lower()
    if low in ("true", "1", "yes", "on", "t", "y"):
        return True
    if low in ("false", "0", "no", "off", "f", "n"):
        return False
    raise bad(f"Invalid value '{raw}' for {name}; expected a boolean")


def paging(req: Request) -> tuple[int | None, str | None]:
    raw_limit = req.arg("limit")
    limit = None
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise bad("limit param must be an integer") from None
        if limit < 0:
            raise bad("limit param must be positive")
        limit = min(limit, MAX_LIMIT)
    return limit, req.arg("marker")


def page(
    req: Request, items: list[dict[str, Any]], key: str = "id", default_limit: int | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Apply limit/marker to an ordered list; returns (page, next marker or None)."""
    limit, marker = paging(req)
    if limit is None:
        limit = default_limit if default_limit is not None else MAX_LIMIT
    start = 0
    if marker is not None:
        for i, item in enumerate(items):
            if str(item[key]) == marker:
                start = i + 1
                break
        else:
            raise bad(f"marker [{marker}] not found")
    chunk = items[start : start + limit]
    nxt = str(chunk[-1][key]) if chunk and len(chunk) == limit and limit > 0 else None
    return chunk, nxt


def next_link(req: Request, path: str, marker: str) -> list[dict[str, str]]:
    from urllib.parse import urlencode

    params = [(k, v) for k, vals in req.query.items() if k != "marker" for v in vals]
    params.append(("marker", marker))
    return [{"rel": "next", "href": link(req, path) + "?" + urlencode(params)}]


def new_uuid() -> str:
    return str(uuid.uuid4())


def parse_time(value: str, field: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise invalid(field, value, f"{value!r} is not a 'date-time'") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def project_name(project_id: str) -> str:
    try:
        from devcloud import identity

        p = identity.get_project(project_id)
        return p["name"] if p else project_id
    except Exception:
        return project_id
