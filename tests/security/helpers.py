"""Shared by the security tests: a generic walk over every URL pattern, real ids to put in them, and the cloud
objects (servers, snapshots, a second project with its own member) those ids name.

The walk finds every page as the app areas land: a route's parameters are filled by name (`server_id`,
`flavor_id`, ...) or, failing that, by the area the route lives under (`instances/` → a server id).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser

import openstack
from django.urls import URLPattern, URLResolver, get_resolver

from tests.cloudharness import CloudCreds, TestCloud, active, admin_token, password_token, server_networks

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
PARAM_RE = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")

# Parameter name fragments, then URL areas, that say what kind of object a parameter names.
NAME_KINDS = [
    ("operation", "operation"),
    ("server", "server"),
    ("instance", "server"),
    ("snapshot", "snapshot"),
    ("image", "snapshot"),
    ("flavor", "flavor"),
    ("keypair", "keypair"),
    ("hypervisor", "hypervisor"),
    ("floating_ip", "floating_ip"),
    ("security_group", "security_group"),
    ("volume", "volume"),
]
AREA_KINDS = [
    ("network/floating-ips/", "floating_ip"),
    ("network/security-groups/", "security_group"),
    ("instances/", "server"),
    ("console/", "server"),
    ("snapshots/", "snapshot"),
    ("activity/", "operation"),
    ("flavors/", "flavor"),
    ("keypairs/", "keypair"),
    ("admin/hypervisors/", "hypervisor"),
    ("volumes/", "volume"),
    ("server-groups/", "server_group"),
]


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as written, e.g. "instances/<uuid:server_id>/stop/"
    pattern: URLPattern
    name: str  # "namespace:name"

    @property
    def access(self) -> str | None:
        """ "member" / "admin" (set by apps.accounts.decorators), or None for public views."""
        return getattr(self.pattern.callback, "stratus_access", None)

    @property
    def params(self) -> list[tuple[str, str]]:
        return [(m.group("conv") or "str", m.group("name")) for m in PARAM_RE.finditer(self.route)]

    def kind_of(self, param: str) -> str:
        for fragment, kind in NAME_KINDS:
            if fragment in param.lower():
                return kind
        for area, kind in AREA_KINDS:
            if self.route.startswith(area):
                return kind
        return "other"

    def url(self, ids: dict[str, str] | None = None) -> str:
        """The route with each parameter replaced by the id of its kind from `ids`, else a placeholder."""
        ids = ids or {}

        def value(m: re.Match) -> str:
            conv = m.group("conv") or "str"
            if conv == "int":
                return ids.get(self.kind_of(m.group("name")) + ":int", "1")
            return ids.get(self.kind_of(m.group("name")), PLACEHOLDER)

        return "/" + PARAM_RE.sub(value, self.route).lstrip("^").rstrip("$")

    @property
    def csrf_exempt(self) -> bool:
        return bool(getattr(self.pattern.callback, "csrf_exempt", False))


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p, route, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern):
                found.append(Route(route, p, f"{namespace}{p.name or ''}"))

    walk(get_resolver(), "", "")
    return found


def is_login_redirect(response) -> bool:  # a Django test response
    if response.status_code == 302:
        return response["Location"].startswith("/auth/login/")
    return response.status_code == 200 and response.get("HX-Redirect", "").startswith("/auth/login/")


# --- Keystone admin calls (work on devcloud and on a real Keystone with admin credentials) -------------------


def keystone(cloud: TestCloud, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    req = urllib.request.Request(
        cloud.auth_url.rstrip("/") + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"X-Auth-Token": token or admin_token(cloud), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=15) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


@dataclass
class OtherProject:
    """A fresh project with a fresh user who is a member of it only (the outsider, "Charlie")."""

    cloud: TestCloud
    creds: CloudCreds
    project_id: str
    user_id: str

    def delete(self) -> None:
        for path in (f"/users/{self.user_id}", f"/projects/{self.project_id}"):
            try:
                keystone(self.cloud, "DELETE", path)
            except urllib.error.HTTPError:
                pass


def create_other_project(cloud: TestCloud) -> OtherProject:
    token = admin_token(cloud)
    suffix = uuid.uuid4().hex[:8]
    name = f"stratus-test-b-{suffix}"
    password = "pw-" + uuid.uuid4().hex
    project = keystone(cloud, "POST", "/projects", {"project": {"name": name, "domain_id": "default"}}, token)
    user = keystone(
        cloud,
        "POST",
        "/users",
        {"user": {"name": f"stratus-test-user-{suffix}", "password": password, "domain_id": "default"}},
        token,
    )
    roles = keystone(cloud, "GET", "/roles?name=member", None, token)["roles"]
    keystone(
        cloud,
        "PUT",
        f"/projects/{project['project']['id']}/users/{user['user']['id']}/roles/{roles[0]['id']}",
        None,
        token,
    )
    creds = CloudCreds(
        name="",
        auth_url=cloud.auth_url,
        username=user["user"]["name"],
        password=password,
        project_name=name,
        region_name=cloud.member.region_name,
    )
    password_token(creds)  # fails loudly now rather than inside a test
    return OtherProject(cloud, creds, project["project"]["id"], user["user"]["id"])


# --- cloud objects ----------------------------------------------------------------------------------------


@dataclass
class Objects:
    """Objects in one project, and the ids a route's parameters take."""

    conn: openstack.connection.Connection
    ids: dict[str, str] = field(default_factory=dict)
    server_names: list[str] = field(default_factory=list)
    cleanups: list = field(default_factory=list)
    deleting: list = field(default_factory=list)  # (connection, server id) to wait for

    def delete_server_later(self, conn: openstack.connection.Connection, server_id: str) -> None:
        """At cleanup: delete the server, and wait until it is gone (its quota is free for the next test)."""

        def delete() -> None:
            conn.compute.delete_server(server_id, ignore_missing=True)
            self.deleting.append((conn, server_id))

        self.cleanups.append(delete)

    def cleanup(self) -> None:
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # best effort: the cloud may already have removed it
                pass
        self.cleanups.clear()
        deadline = time.monotonic() + 60
        while self.deleting and time.monotonic() < deadline:
            conn, server_id = self.deleting[0]
            try:
                if conn.compute.find_server(server_id, ignore_missing=True) is None:
                    self.deleting.pop(0)
                    continue
            except Exception:
                self.deleting.pop(0)
                continue
            time.sleep(0.2)


def smallest_boot(conn: openstack.connection.Connection) -> tuple[str, str]:
    """(image id, flavor id): the cloud's test image and small flavor (see tests/cloudharness.py)."""
    cloud = active()
    image = conn.image.find_image(cloud.image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
    return image.id, flavor.id


def boot_server(objects: Objects, name: str, **extra) -> openstack.compute.v2.server.Server:
    conn = objects.conn
    image_id, flavor_id = smallest_boot(conn)
    # on the project's network where the cloud has Neutron, so the pages that act on its ports render their forms
    networks = extra.pop("networks", None) or server_networks(conn)
    server = conn.compute.create_server(name=name, image_id=image_id, flavor_id=flavor_id, networks=networks, **extra)
    objects.delete_server_later(conn, server.id)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=120, interval=0.3)
    objects.server_names.append(name)
    return server


def snapshot_server(objects: Objects, server, name: str):  # an openstacksdk Server
    conn = objects.conn
    image = conn.compute.create_server_image(server, name)
    objects.cleanups.append(lambda: conn.image.delete_image(image.id, ignore_missing=True))
    deadline = time.monotonic() + 120
    while conn.image.get_image(image.id).status != "active":
        assert time.monotonic() < deadline, "snapshot did not become active in 120 s"
        time.sleep(0.3)
    return image


def make_objects(creds: CloudCreds, label: str) -> Objects:
    """One ACTIVE server, one snapshot of it, one key pair (where the cloud has Neutron, a free floating IP and a
    security group; where it has Cinder, an available volume), named with `label` so a page can be searched."""
    objects = Objects(conn=creds.connect())
    server = boot_server(objects, f"{label}-server-{uuid.uuid4().hex[:6]}")
    image = snapshot_server(objects, server, f"{label}-snapshot-{uuid.uuid4().hex[:6]}")
    keypair_name = f"{label}-key-{uuid.uuid4().hex[:6]}"
    objects.conn.compute.create_keypair(name=keypair_name)
    objects.cleanups.append(lambda: objects.conn.compute.delete_keypair(keypair_name, ignore_missing=True))
    objects.ids.update({"server": server.id, "snapshot": image.id, "keypair": keypair_name})
    if objects.conn.endpoint_for("network"):  # a free floating IP of the project's, from the first external network
        external = next(iter(objects.conn.network.networks(is_router_external=True)), None)
        if external is not None:
            fip = objects.conn.network.create_ip(floating_network_id=external.id)
            objects.cleanups.append(lambda: objects.conn.network.delete_ip(fip.id, ignore_missing=True))
            objects.ids["floating_ip"] = fip.id
        group = objects.conn.network.create_security_group(name=f"{label}-group-{uuid.uuid4().hex[:6]}")
        objects.cleanups.append(lambda: objects.conn.network.delete_security_group(group.id, ignore_missing=True))
        objects.ids["security_group"] = group.id
    if objects.conn.endpoint_for("block-storage") or objects.conn.endpoint_for("volumev3"):  # an available volume
        volume = objects.conn.block_storage.create_volume(size=1, name=f"{label}-volume-{uuid.uuid4().hex[:6]}")
        objects.cleanups.append(lambda: objects.conn.block_storage.delete_volume(volume.id, ignore_missing=True))
        objects.conn.block_storage.wait_for_status(volume, "available", wait=120)
        objects.ids["volume"] = volume.id
    objects.server_names.append(image.name)
    return objects


def cloud_state(conn: openstack.connection.Connection, all_projects: bool = False) -> dict:
    """What a state-changing call would change: servers and their status, images, flavors, key pairs."""
    return {
        "servers": sorted(
            (s.id, s.name, s.status) for s in conn.compute.servers(all_projects=all_projects) if s.status != "DELETED"
        ),
        "images": sorted((i.id, i.name, i.status) for i in conn.image.images()),
        "flavors": sorted((f.id, f.name) for f in conn.compute.flavors(is_public=None)),
        "keypairs": sorted(k.name for k in conn.compute.keypairs()),
    }


# --- pages and their forms ---------------------------------------------------------------------------------


@dataclass
class PageForm:
    """A `<form method="post">` as a page renders it: where it posts and the fields a person can fill."""

    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input type ("text", "select", "checkbox", ...)
    options: dict[str, list[str]] = field(default_factory=dict)  # select/radio/checkbox name -> values
    values: dict[str, str] = field(default_factory=dict)  # what the page filled in (value=, selected, textarea)
    has_file: bool = False

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32}", "ID", self.action), tuple(sorted(self.fields)))


class _Parser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._form: PageForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs_list: list) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if tag == "a" and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"].split("#")[0])
        if tag == "form":
            if attrs.get("method", "get").lower() == "post":
                action = attrs.get("action") or self.page
                self._form = PageForm(page=self.page, action=action.split("#")[0])
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind == "file":
                form.has_file = True
                return
            form.fields.setdefault(name, kind)
            if kind in ("radio", "checkbox"):
                form.options.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    form.values[name] = attrs.get("value", "on")
            else:
                form.values.setdefault(name, attrs.get("value", ""))
        elif tag == "select" and name:
            form.fields[name] = "select"
            form.options.setdefault(name, [])
            self._select = name
        elif tag == "option" and self._select:
            form.options[self._select].append(attrs.get("value", ""))
            if "selected" in attrs or self._select not in form.values:
                form.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            form.fields[name] = "textarea"
            form.values[name] = ""
            self._textarea = name

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse_page(page: str, html: str) -> tuple[list[PageForm], list[str]]:
    parser = _Parser(page)
    parser.feed(html)
    return parser.forms, parser.links


SKIP_LINKS = ("/static/", "/i18n/", "/auth/logout/")


def crawl(client, start: list[str], limit: int = 300) -> dict[str, str]:  # a Django test client
    """GET the start pages and the same-site pages they link to (one level): {url: html} of the 200s."""
    pages: dict[str, str] = {}
    queue = [(url, 0) for url in start]
    seen: set[str] = set()
    while queue and len(seen) < limit:
        url, depth = queue.pop(0)
        if url in seen or url.startswith(SKIP_LINKS):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode(errors="replace")
        pages[url] = html
        if depth == 0:
            queue.extend((link, 1) for link in parse_page(url, html)[1])
    return pages


def filled_in(form: PageForm) -> dict[str, str]:
    """What a person would submit: the page's values, the first real choice where none is made, 1 for numbers."""
    body = {k: v for k, v in form.values.items() if k != "csrfmiddlewaretoken"}
    for name, kind in form.fields.items():
        if body.get(name):
            continue
        options = [o for o in form.options.get(name, []) if o]
        if kind in ("select", "radio") and options:
            body[name] = options[0]
        elif kind == "number":
            body[name] = "1"
    return body
