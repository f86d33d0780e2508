"""Hostile input: HTML and script, quotes, very long strings, control characters and Unicode (Vietnamese,
right-to-left, emoji) go through every form, to the cloud and back, and are shown as text; no form ever answers 500.

The forms are found generically: every Form subclass in apps.*.forms must be rendered by some page that a walk
of the URL patterns (and the links on those pages) reaches; the posting is driven by what the page renders.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
import re
import time
import uuid

import pytest
from django import forms as django_forms
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openstack import exceptions as sdk_exceptions

import apps
from apps.accounts import throttle
from tests.security.helpers import (
    PLACEHOLDER,
    Objects,
    PageForm,
    crawl,
    filled_in,
    parse_page,
    routes,
    smallest_boot,
)

HOSTILE = [
    '<script>alert("stratus")</script>',
    "\"'><img src=x onerror=alert(1)>",
    "'; DROP TABLE servers; --",
    "Máy chủ Tiếng Việt — ổn định",
    "خادم الويب",  # right-to-left
    "\u202eevil\u202c",  # right-to-left override
    "🚀🔥👩‍💻",
    "tab\tnew\nline\r\n",
    "\x00\x01\x07\x1b[31m",
    "A" * 5000,
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "{{ 7|add:7 }}{% debug %}",
    "%(name)s %s {0}",
    "../../etc/passwd",
    "key=value\n=\n===\nx=" + "v" * 300,
    "ssh-rsa AAAA<script> evil@host",
]
DANGEROUS_HTML = [re.compile(r"<script>alert\(", re.I), re.compile(r"<img src=x onerror", re.I)]
# Forms that end the session or change who is signed in: exercised by their own tests.
SKIP_ACTIONS = ("/auth/logout/", "/auth/project/", "/auth/region/")


def form_classes() -> list[type[django_forms.BaseForm]]:
    found = []
    for info in pkgutil.iter_modules(apps.__path__):
        try:
            module = importlib.import_module(f"apps.{info.name}.forms")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, django_forms.BaseForm)
                and cls.__module__ == module.__name__
                and not cls.__name__.endswith("Mixin")
            ):
                found.append(cls)
    return found


def field_names(cls: type[django_forms.BaseForm]) -> set[str]:
    names = {n for n, f in cls.base_fields.items() if not isinstance(f, django_forms.FileField)}
    if not names and f"{cls.__module__}.{cls.__qualname__}" == "apps.operations.forms.RetryForm":
        # Its fields are made per operation: the secret parameters the retried operation no longer keeps.
        from apps.operations.registry import get_handler, kinds

        names = {name for kind in kinds() for name in get_handler(kind).secret_params}
    return names


def renders(cls: type[django_forms.BaseForm], page_forms: list[PageForm]) -> bool:
    names = field_names(cls)
    return any(len(names & set(pf.fields)) >= max(1, int(0.6 * len(names))) for pf in page_forms)


def placeholder_action(action: str, ids: dict[str, str]) -> str:
    for value in ids.values():
        if value:
            action = action.replace(f"/{value}/", f"/{PLACEHOLDER}/")
    return action


def failed_launch(client: Client) -> str:
    """A failed launch of the member's that had user data (erased since), as apps.operations records one."""
    from apps.accounts.session import read
    from apps.operations.models import Operation, State

    creds = read(client.session)
    assert creds is not None
    op = Operation.objects.create(
        user_id=creds.user_id,
        user_name=creds.user_name,
        project_id=creds.project_id,
        project_name=creds.project_name,
        kind="server.launch",
        target_type="server",
        target_name="hostile-launch",
        params={"name": "hostile-launch", "source_type": "image", "networks": "none", "secret_params": ["user_data"]},
        state=State.FAILED,
        message="No valid host was found.",
    )
    return str(op.id)


@pytest.fixture
def site(db, stratus, objects_a: Objects, project_a_client: Client, admin_client: Client) -> dict:
    """Every post form a member or an admin can reach, once per (action, fields), with the client to post it."""
    ids = dict(objects_a.ids)
    admin_conn = stratus.admin.connect()
    private = admin_conn.compute.create_flavor(
        name="stratus-test-private-" + uuid.uuid4().hex[:6], ram=64, vcpus=1, disk=1, is_public=False
    )
    objects_a.cleanups.append(lambda: admin_conn.compute.delete_flavor(private.id, ignore_missing=True))
    ids["flavor"] = private.id  # a private flavor's page also renders its access form
    ids["operation"] = failed_launch(project_a_client)  # its page renders the retry form that asks for user data
    anonymous = Client(REMOTE_ADDR="192.0.2.200")
    found: dict = {}
    for client, access in ((anonymous, None), (project_a_client, "member"), (admin_client, "admin")):
        start = [r.url(ids) for r in routes() if r.access == access]
        for url, html in crawl(client, start).items():
            for form in parse_page(url, html)[0]:
                if not form.action.startswith(SKIP_ACTIONS):
                    found.setdefault(form.key, (form, client))
    conns = [objects_a.conn, admin_conn]  # the member's and the admin's: key pairs belong to the user
    return {"forms": list(found.values()), "ids": ids, "anonymous": anonymous, "conns": conns}


def test_every_form_class_is_rendered_by_some_page(site):
    page_forms = [f for f, _ in site["forms"]]
    missing = [cls.__qualname__ for cls in form_classes() if not renders(cls, page_forms)]
    assert form_classes(), "no forms found in apps.*.forms"
    assert not missing, f"forms no page renders (so the fuzzing below cannot reach them): {missing}"


def draw_value(data, form: PageForm, name: str) -> str | None:  # hypothesis data
    kind = form.fields[name]
    options = [o for o in form.options.get(name, []) if o is not None]
    if kind == "checkbox" and not data.draw(st.booleans()):
        return None
    strategies = [st.sampled_from(HOSTILE), st.text(max_size=120)]
    if options:
        strategies = [st.sampled_from(options)] * 4 + strategies
    if form.values.get(name):
        strategies.append(st.just(form.values[name]))
    return data.draw(st.one_of(strategies))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_no_form_answers_500_whatever_is_posted(site, data):
    keypair_names: list[str] = []
    try:
        for form, client in site["forms"]:
            action = placeholder_action(form.action, site["ids"])
            body: dict[str, str] = {}
            for name in form.fields:
                if name == "csrfmiddlewaretoken":
                    continue
                value = draw_value(data, form, name)
                if value is not None:
                    body[name] = value
            if action.startswith("/keypairs/") and body.get("name"):
                keypair_names.append(body["name"])
            headers = {"HTTP_HX_REQUEST": "true"} if data.draw(st.booleans()) else {}
            response = client.post(action, body, **headers)
            assert response.status_code < 500, f"POST {action} {body!r} -> {response.status_code}"
            html = response.content.decode(errors="replace")
            for pattern in DANGEROUS_HTML:
                assert not pattern.search(html), f"POST {action} echoed unescaped HTML"
    finally:
        throttle.reset(address="192.0.2.200")  # the sign-in form's failures from the anonymous client's address
        # A key pair the create or import form accepted is real: on a real cloud it would outlive the run.
        for conn in site["conns"]:
            for name in keypair_names:
                with contextlib.suppress(sdk_exceptions.HttpException):  # names Nova refused do not exist
                    conn.compute.delete_keypair(name, ignore_missing=True)


def nova_printable(text: str) -> str:
    """`text` without what Nova's name and description patterns refuse: characters beyond the Basic Multilingual
    Plane, control and format characters (bidi overrides, zero-width joiners), separators other than spaces."""
    import unicodedata

    def ok(c: str) -> bool:
        category = unicodedata.category(c)
        return ord(c) < 0x10000 and not category.startswith("C") and (not category.startswith("Z") or category == "Zs")

    return " ".join("".join(c for c in text if ok(c)).split())


def remove_marked(objects: Objects, admin_conn, token: str) -> None:  # openstacksdk connection
    """Everything named with the marker, in any project (the admin launched some in its own)."""
    for server in admin_conn.compute.servers(all_projects=True):
        if token in (server.name or ""):
            objects.delete_server_later(admin_conn, server.id)
    for image in admin_conn.image.images():
        if token in (image.name or ""):
            objects.cleanups.append(lambda i=image.id: admin_conn.image.delete_image(i, ignore_missing=True))
    for flavor in admin_conn.compute.flavors(is_public=None):
        if token in (flavor.name or ""):
            objects.cleanups.append(lambda f=flavor.id: admin_conn.compute.delete_flavor(f, ignore_missing=True))


@pytest.mark.worker
def test_hostile_text_goes_to_the_cloud_and_back_as_text(
    transactional_db, stratus, project_locked, objects_a: Objects, project_a_client, admin_client, worker_factory
):
    # project_locked: its `<script>…` server is in the member's project, which the instances tests clean up by name.
    from apps.operations.models import Operation

    token = uuid.uuid4().hex[:8]
    # Names and descriptions as Nova takes them: printable characters of the Basic Multilingual Plane (real Nova
    # answers 400 to an emoji or a bidi control there); metadata takes anything.
    hostile_name = nova_printable(f'<script>alert("stratus-{token}")</script> Tiếng Việt خادم ☁ 🚀 "q\'s')
    hostile_text = f'<img src=x onerror=alert("{token}")> Dữ liệu ‮RTL‬ 👩‍💻'
    # 1. Straight into the cloud, as another tool would leave it: a server's name, metadata and description.
    conn = objects_a.conn
    admin_conn = stratus.admin.connect()
    try:
        image_id, flavor_id = smallest_boot(conn)
        server = conn.compute.create_server(
            name=hostile_name,
            image_id=image_id,
            flavor_id=flavor_id,
            networks="none",
            # Real Nova takes metadata keys of [a-zA-Z0-9-_:. ] only; the hostile part is the value.
            metadata={"note": hostile_text[:255], "k:b": "<b>v</b>"},
            description=nova_printable(hostile_text)[:255],
        )
        conn.compute.wait_for_server(server, wait=60, interval=0.3)

        # 2. Through every create form (no id in its action) with the hostile name and text in its free fields.
        ops_before = set(Operation.objects.values_list("id", flat=True))
        posted = []
        for client in (project_a_client, admin_client):
            start = [r.url() for r in routes() if r.access in ("member", "admin") and not r.params]
            for url, html in crawl(client, start).items():
                for form in parse_page(url, html)[0]:
                    if form.action.startswith(SKIP_ACTIONS) or re.search(r"[0-9a-f]{8}-", form.action):
                        continue
                    if "name" not in form.fields or form.fields["name"] not in ("text", "textarea"):
                        continue
                    body = filled_in(form)
                    body["name"] = hostile_name
                    for free in ("description", "metadata", "user_data"):
                        if free in form.fields:
                            body[free] = {
                                "metadata": f"x={hostile_text}",
                                "description": nova_printable(hostile_text),
                            }.get(free, hostile_text)
                    if "public_key" in form.fields:  # key material: a valid key type followed by script
                        body["public_key"] = (
                            f'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 <script>alert("stratus-{token}")</script>'
                        )
                    response = client.post(form.action, body)
                    assert response.status_code < 500, f"POST {form.action} -> {response.status_code}"
                    for pattern in DANGEROUS_HTML:
                        assert not pattern.search(response.content.decode()), f"POST {form.action} echoed raw HTML"
                    posted.append(form.action)
        new_ops = Operation.objects.exclude(id__in=ops_before)
        if new_ops.exists():
            worker_factory()
            deadline = time.monotonic() + 90
            while new_ops.filter(state__in=("pending", "running")).exists():
                assert time.monotonic() < deadline, "operations did not end in 90 s"
                time.sleep(0.3)

        # 3. What reached the cloud is exactly what was typed.
        names = [s.name for s in conn.compute.servers()] + [i.name for i in conn.image.images()]
        names += [f.name for f in admin_conn.compute.flavors(is_public=None)]
        arrived = [n for n in names if token in (n or "")]
        assert arrived and all(n == hostile_name for n in arrived), arrived

        # 4. Every page shows it as text.
        shown = False
        for client in (project_a_client, admin_client):
            start = [r.url({**objects_a.ids, "server": server.id}) for r in routes() if r.access in ("member", "admin")]
            for url, html in crawl(client, start).items():
                for pattern in DANGEROUS_HTML:
                    assert not pattern.search(html), f"{url} renders hostile HTML unescaped"
                shown = shown or f"&lt;script&gt;alert(&quot;stratus-{token}&quot;)&lt;/script&gt;" in html
        assert shown, f"the hostile name is shown on no page (posted to {posted})"
    finally:
        remove_marked(objects_a, admin_conn, token)
