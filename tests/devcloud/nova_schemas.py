"""Nova's own response schemas, per route, method and microversion, read from the `nova` package's files.

Nova 34 declares the schema of each API method's answer with `@validation.response_body_schema(schema, min, max)`
on its controllers (nova/api/openstack/compute/*.py) and routes URLs to those methods in routes.py. The package
is installed without its dependencies (requirements-schemas.txt) and never imported: this module reads routes.py
and the controllers with `ast`, and loads only the schema modules (nova/api/openstack/compute/schemas/*.py and
nova/api/validation/parameter_types.py, response_types.py), whose few imports of Nova's runtime are given as
stubs with the same constants. Validation follows nova/api/validation/validators.py: Draft 2020-12 with Nova's
format checks.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import importlib.util
import ipaddress
import re
import sys
import types
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema


def _root() -> Path:
    return Path(str(importlib.metadata.distribution("nova").locate_file("nova")))


@dataclass
class Method:
    """One controller method: its response schemas (schema, min, max) as decorated."""

    name: str
    action: str | None = None
    schemas: list[tuple[dict[str, Any], int, int]] = field(default_factory=list)
    low: int = 0  # @wsgi.api_version: the microversions it serves (a route answers 404 outside them)
    high: int = 10**6


def _minor(version: str | None, default: int) -> int:
    if not version:
        return default
    major, minor = version.split(".")
    return 0 if major == "2" and minor == "0" else int(minor)


# --- loading the schema modules -----------------------------------------------------------------------------

_STUBS = {
    "nova.i18n": {"_": lambda s: s},
    "nova.objects.instance": {"MAX_TAG_COUNT": 50},
    "nova.objects.tag": {"MAX_TAG_LENGTH": 60},
    "nova.objects.external_event": {
        "EVENT_STATUSES": ["failed", "completed", "in-progress"],
    },
    "nova.compute.vm_states": {
        name.upper().replace("-", "_"): name
        for name in (
            "active",
            "building",
            "paused",
            "suspended",
            "stopped",
            "rescued",
            "resized",
            "soft-delete",
            "deleted",
            "error",
            "shelved",
            "shelved_offloaded",
        )  # fmt: skip
    },
}


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def schema_modules() -> dict[str, types.ModuleType]:
    """Every nova/api/openstack/compute/schemas module by its name, loaded against stubs, then unregistered."""
    root = _root()
    saved = {k: v for k, v in sys.modules.items() if k == "nova" or k.startswith("nova.")}
    try:
        for pkg in ("nova", "nova.api", "nova.api.validation", "nova.api.openstack", "nova.api.openstack.compute",
                    "nova.api.openstack.compute.schemas", "nova.objects", "nova.compute"):  # fmt: skip
            module = types.ModuleType(pkg)
            module.__path__ = []  # a package: submodules are set below
            sys.modules[pkg] = module
        for name, attrs in _STUBS.items():
            stub = types.ModuleType(name)
            stub.__dict__.update(attrs)
            sys.modules[name] = stub
            setattr(sys.modules[name.rsplit(".", 1)[0]], name.rsplit(".", 1)[1], stub)
        for name in ("parameter_types", "response_types"):
            module = _load(f"nova.api.validation.{name}", root / "api" / "validation" / f"{name}.py")
            setattr(sys.modules["nova.api.validation"], name, module)
        schemas_pkg = sys.modules["nova.api.openstack.compute.schemas"]
        out: dict[str, types.ModuleType] = {}
        pending = sorted((root / "api" / "openstack" / "compute" / "schemas").glob("[a-z]*.py"))
        while pending:  # a schema module may import another (quota_classes uses quota_sets)
            retry = []
            for path in pending:
                try:
                    module = _load(f"nova.api.openstack.compute.schemas.{path.stem}", path)
                except ImportError:
                    retry.append(path)
                    continue
                setattr(schemas_pkg, path.stem, module)
                out[path.stem] = module
            assert len(retry) < len(pending), [p.name for p in retry]
            pending = retry
        return out
    finally:
        for k in [k for k in sys.modules if k == "nova" or k.startswith("nova.")]:
            del sys.modules[k]
        sys.modules.update(saved)


# --- reading the controllers and routes ---------------------------------------------------------------------


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _decorator_call(dec: ast.AST, owner: str, name: str) -> ast.Call | None:
    if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == name):
        return None
    return dec if isinstance(dec.func.value, ast.Name) and dec.func.value.id == owner else None


@functools.cache
def _version_constants() -> dict[str, str]:
    """MAX_PROXY_API_SUPPORT_VERSION and the like, from api_version_request.py."""
    tree = ast.parse((_root() / "api" / "openstack" / "api_version_request.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and _string(node.value):
            out[node.targets[0].id] = str(_string(node.value))
    return out


def _version_arg(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return _version_constants()[node.id]
    return _string(node)


@functools.cache
def controllers(module: str) -> dict[str, dict[str, list[Method]]]:
    """The classes of nova/api/openstack/compute/<module>.py: {class: {method name: [Method]}} (a name may be
    defined once per microversion range)."""
    path = _root() / "api" / "openstack" / "compute" / f"{module}.py"
    tree = ast.parse(path.read_text())
    aliases: dict[str, str] = {}  # local name -> schema module name
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "nova.api.openstack.compute.schemas":
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    mods = schema_modules()
    out: dict[str, dict[str, list[Method]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        methods: dict[str, list[Method]] = {}
        for fn in node.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            method = Method(fn.name)
            for dec in fn.decorator_list:
                action = _decorator_call(dec, "wsgi", "action")
                if action is not None:
                    method.action = _string(action.args[0])
                served = _decorator_call(dec, "wsgi", "api_version")
                if served is not None:
                    bounds = [_version_arg(a) for a in served.args[:2]] + [None]
                    method.low, method.high = _minor(bounds[0], 0), _minor(bounds[1], 10**6)
                call = _decorator_call(dec, "validation", "response_body_schema")
                if call is None:
                    continue
                target = call.args[0]
                assert isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name), ast.dump(target)
                schema = getattr(mods[aliases[target.value.id]], target.attr)
                versions = [_string(a) for a in call.args[1:3]]
                versions += [None] * (2 - len(versions))
                for kw in call.keywords:
                    versions[0 if kw.arg == "min_version" else 1] = _string(kw.value)
                method.schemas.append((schema, _minor(versions[0], 0), _minor(versions[1], 10**6)))
            methods.setdefault(fn.name, []).append(method)
        out[node.name] = methods
    return out


def _class(ref: ast.AST) -> tuple[str, str]:
    assert isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name), ast.dump(ref)
    return ref.value.id, ref.attr


@functools.cache
def routes() -> dict[tuple[str, str], list[Method]]:
    """{(method, normalised path): the candidate Methods} from routes.py (an action route lists every action)."""
    tree = ast.parse((_root() / "api" / "openstack" / "compute" / "routes.py").read_text())
    partials: dict[str, tuple[tuple[str, str], list[tuple[str, str]]]] = {}
    route_list: ast.AST | None = None
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if name == "ROUTE_LIST":
            route_list = node.value
        elif isinstance(node.value, ast.Call) and len(node.value.args) == 3:
            _, main, extra = node.value.args
            assert isinstance(extra, ast.List)
            partials[name] = (_class(main), [_class(e) for e in extra.elts])
    assert isinstance(route_list, ast.Tuple)
    out: dict[tuple[str, str], list[Method]] = {}
    for entry in route_list.elts:
        assert isinstance(entry, ast.Tuple)
        path, verbs = _string(entry.elts[0]), entry.elts[1]
        if path is None or not isinstance(verbs, ast.Dict):
            continue
        for verb, target in zip(verbs.keys, verbs.values, strict=True):
            assert isinstance(target, ast.List)
            controller, method_name = target.elts[0], _string(target.elts[1])
            assert isinstance(controller, ast.Name) and method_name is not None
            (mod, cls), extras = partials[controller.id]
            found: list[Method] = []
            if method_name == "action":
                for m, c in [(mod, cls), *extras]:
                    found += [x for xs in controllers(m)[c].values() for x in xs if x.action]
            else:
                found += controllers(mod)[cls][method_name]
            out[(str(_string(verb)), normalise(path))] = found
    return out


def normalise(path: str) -> str:
    """A route template with its parameters unnamed: '/servers/{id}/tags/{tag}' -> '/servers/{}/tags/{}'."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/")) or "/"


# --- validation ---------------------------------------------------------------------------------------------

_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("uuid")
def _uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@_FORMATS.checks("date-time")
def _date_time(value: object) -> bool:  # oslo's parse_isotime: ISO 8601, with or without zone or fraction
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@_FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@_FORMATS.checks("cidr")
def _cidr(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value and not re.search(r"\s", value)


@_FORMATS.checks("regex")
def _regex(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return bool(value)


def schema_for(method: str, path: str, minor: int, action: str | None) -> dict[str, Any] | None | bool:
    """The schema Nova validates that answer with; None when Nova serves no such answer at that microversion (it
    answers 404); False for a route or action Nova lacks."""
    candidates = routes().get((method, normalise(path)))
    if candidates is None:
        return False
    if action is not None:
        candidates = [m for m in candidates if m.action == action]
        if not candidates:
            return False
    for m in candidates:
        if not m.low <= minor <= m.high:
            continue
        for schema, low, high in m.schemas:
            if low <= minor <= high:
                return schema
    return None


def errors(schema: dict[str, Any], body: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    out = []
    for error in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        while error.context:  # oneOf/anyOf: the branch that came closest says what is wrong
            best = jsonschema.exceptions.best_match(error.context)
            if best is None:
                break
            error = best
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        out.append(f"{where}: {error.message[:300]}")
    return out


# The version documents live in another WSGI app (versions.py): GET / lists them, GET /v2.1/ (and /v2/) shows one.
def version_schema(path: str) -> dict[str, Any]:
    versions = schema_modules()["versions"]
    return versions.index_response if path.rstrip("/") == "" else versions.show_response
