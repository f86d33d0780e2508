"""A small WSGI toolkit for devcloud: routing, requests, JSON answers, OpenStack-shaped errors.

Standard library only. Each service module registers its routes on the shared `router`:

    from devcloud.web import router, Request, json_response, HttpError

    @router.route("GET", "/compute/v2.1/servers/{server_id}")
    def show_server(req: Request, server_id: str):
        return json_response(200, {"server": ...})
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class HttpError(Exception):
    """An error answer. `kind` is the key of Nova's error body (itemNotFound, badRequest, ...).

    Services other than Nova format errors their own way; `style` selects it:
    "nova" -> {kind: {"code": status, "message": msg}}
    "keystone" -> {"error": {"code": status, "message": msg, "title": reason}}
    "neutron" -> {"NeutronError": {"type": kind, "message": msg, "detail": ""}}
    "glance"/"placement" -> {"errors": [{"status": status, "title": reason, "detail": msg}]} (Placement)
                            or a plain text body (Glance; see image.py)
    """

    def __init__(
        self,
        status: int,
        message: str,
        kind: str | None = None,
        style: str = "nova",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind or _NOVA_KINDS.get(status, "computeFault")
        self.style = style
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        reason = HTTPStatus(self.status).phrase
        if self.style == "keystone":
            return {"error": {"code": self.status, "message": self.message, "title": reason}}
        if self.style == "neutron":
            kind = self.kind if self.kind not in _NOVA_KINDS.values() else "HTTP" + reason.replace(" ", "")
            return {"NeutronError": {"type": kind, "message": self.message, "detail": ""}}
        if self.style in ("placement", "glance", "cinder_v3_errors"):
            return {
                "errors": [
                    {
                        "status": self.status,
                        "title": reason,
                        "detail": self.message,
                        "request_id": "",
                    }
                ]
            }
        return {self.kind: {"code": self.status, "message": self.message}}


_NOVA_KINDS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case keys
    raw_body: bytes
    environ: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)  # filled by auth (token, user, project, roles)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def json(self, style: str = "nova") -> Any:
        if not self.raw_body:
            raise HttpError(400, "The request body is empty or malformed.", style=style)
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "Malformed request body", style=style) from None

    def json_object(self, style: str = "nova") -> dict[str, Any]:
        body = self.json(style)
        if not isinstance(body, dict):
            raise HttpError(400, "Malformed request body", style=style)
        return body


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Streaming bodies (image download) may pass an iterable instead.
    stream: Iterable[bytes] | None = None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"Content-Type": "application/json"}
    if headers:
        hdrs.update(headers)
    return Response(status, json.dumps(body).encode(), hdrs)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(status, b"", dict(headers or {}))


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    template: str


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        # Hooks run before every handler: (request) -> Response | None. Used for auth, fault injection.
        self.before: list[Callable[[Request], Response | None]] = []
        # Hooks run on every answer: (request, response) -> None. Used for request ids, counters.
        self.after: list[Callable[[Request, Response], None]] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.rstrip("/")) + "/?$"

        def register(fn: Handler) -> Handler:
            self.routes.append(Route(method, re.compile(regex), fn, template))
            return fn

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_found = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                path_found = True
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return route, m.groupdict(), True
        return None, {}, path_found

    def dispatch(self, req: Request) -> Response:
        route, params, path_found = self.match(req.method, req.path)
        req.context["route"] = route.template if route else None
        try:
            for hook in self.before:
                early = hook(req)
                if early is not None:
                    return early
            if route is None:
                if path_found:
                    raise HttpError(405, "The method is not allowed for this resource.", style=_style_for(req.path))
                raise HttpError(404, "The resource could not be found.", style=_style_for(req.path))
            return route.handler(req, **params)
        except HttpError as e:
            hdrs = {"Content-Type": "application/json", **e.headers}
            return Response(e.status, json.dumps(e.body()).encode(), hdrs)


def _style_for(path: str) -> str:
    if path.startswith("/identity"):
        return "keystone"
    if path.startswith("/placement"):
        return "placement"
    if path.startswith("/image"):
        return "glance"
    if path.startswith("/networking"):
        return "neutron"
    return "nova"


router = Router()


class App:
    """The WSGI callable."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO", "/") or "/"
        try:  # WSGI gives the decoded path's bytes as latin-1: a tag or metadata key may be UTF-8 (PEP 3333)
            path = path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
        path = re.sub("/+", "/", path)
        if len(path) > 1:
            path = path.rstrip("/")
        req = Request(
            method=environ["REQUEST_METHOD"].upper(),
            path=path,
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            raw_body=raw,
            environ=environ,
        )
        req.context["request_id"] = "req-" + str(uuid.uuid4())
        try:
            resp = self.router.dispatch(req)
        except Exception as exc:  # a bug in devcloud: answer like Nova does, never hang the client
            import traceback

            traceback.print_exc()
            err = HttpError(500, f"Unexpected API Error. {type(exc).__name__}", style=_style_for(req.path))
            resp = Response(500, json.dumps(err.body()).encode(), {"Content-Type": "application/json"})
        for hook in self.router.after:
            hook(req, resp)
        resp.headers.setdefault("x-openstack-request-id", req.context["request_id"])
        resp.headers.setdefault("x-compute-request-id", req.context["request_id"])
        status_line = f"{resp.status} {HTTPStatus(resp.status).phrase}"
        if resp.stream is not None:
            start_response(status_line, list(resp.headers.items()))
            return resp.stream
        body = b"" if req.method == "HEAD" else resp.body
        hdrs = dict(resp.headers)
        hdrs["Content-Length"] = str(len(resp.body))
        start_response(status_line, list(hdrs.items()))
        return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(app: App, host: str, port: int, verbose: bool = False) -> ThreadingWSGIServer:
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


def serve_in_thread(app: App, host: str, port: int) -> tuple[ThreadingWSGIServer, threading.Thread]:
    server = serve(app, host, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
