"""Every URL pattern, walked generically (pages land as the app areas do):

- CSRF protects every state-changing request, and no view is exempt;
- no GET changes anything, in the cloud (devcloud counts every call it answers) or in Stratus' database;
- the authorization matrix: every pattern × {anonymous, member of project A, member of project B, admin};
- a member cannot see or act on another project's server, snapshot, key pair or operation by id.
"""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from tests.security.helpers import Objects, OtherProject, Route, cloud_state, is_login_redirect, routes

WRITE_METHODS = ("post", "put", "patch", "delete")
IGNORED_CLOUD_WRITES = re.compile(r"^POST \S+ \S*/auth/tokens$")  # issuing a token changes nothing a user owns


def guarded() -> list[Route]:
    return [r for r in routes() if r.access is not None]


def operations_count() -> int:
    from apps.operations.models import Operation

    return Operation.objects.count()


def make_operation(*, project_id: str, user_id: str, target_id: str, name: str) -> str:
    """A finished operation row in a project, as apps.operations would record it."""
    from django.utils import timezone

    from apps.operations.models import Operation

    op = Operation.objects.create(
        user_id=user_id,
        project_id=project_id,
        kind="server.stop",
        target_type="server",
        target_id=target_id,
        target_name=name,
        state="succeeded",
        finished_at=timezone.now(),
    )
    return str(op.id)


# POSTs that read (Nova's os-getConsoleOutput is a server action) or open a console: allowed for a GET only
# when the cloud's state is the same afterwards.
READ_ONLY_POSTS = re.compile(r"^POST compute /servers/[^/]+/(action|remote-consoles)$")


def cloud_writes(calls: list[str]) -> list[str]:
    """The calls (see the `cloud_calls` fixture) that could change something in the cloud."""
    return [line for line in calls if not line.startswith(("GET ", "HEAD ")) and not IGNORED_CLOUD_WRITES.match(line)]


# --- CSRF ----------------------------------------------------------------------------------------------------


def test_no_view_is_csrf_exempt():
    exempt = [r.route for r in routes() if r.csrf_exempt]
    assert not exempt, f"CSRF-exempt views: {exempt}"


def test_every_state_changing_request_needs_the_csrf_token(admin_client, cloud_calls):
    client = Client(enforce_csrf_checks=True)
    client.cookies = admin_client.cookies  # the admin's session, but no CSRF token in the requests
    before = operations_count()
    checked = 0
    for route in routes():
        url = route.url()
        for method in WRITE_METHODS:
            with cloud_calls.recording() as calls:
                response = getattr(client, method)(url, {"name": "x"} if method == "post" else None)
            assert response.status_code in (403, 405), (
                f"{method.upper()} {url} without CSRF token -> {response.status_code}"
            )
            if response.status_code == 403:
                checked += 1
                assert not cloud_writes(calls), f"{method.upper()} {url} reached the cloud without a CSRF token"
    assert checked >= 1  # the sign-in form at least
    assert operations_count() == before


# --- GET never changes state ---------------------------------------------------------------------------------


def test_no_get_changes_anything(admin_client, project_a_client, stratus, objects_a: Objects, cloud_calls):
    creds = project_a_client.session["stratus_account"]["creds"]["body"]
    ids = dict(objects_a.ids)
    ids["operation"] = make_operation(
        project_id=creds["project"]["id"], user_id=creds["user"]["id"], target_id=ids["server"], name="alpha"
    )
    flavors = list(objects_a.conn.compute.flavors())
    ids["flavor"] = flavors[0].id
    admin_conn = stratus.admin.connect()
    hypervisors = list(admin_conn.compute.hypervisors())
    if hypervisors:
        ids["hypervisor"] = hypervisors[0].id
    # devcloud is this process' own: the whole cloud must stay the same. A real cloud is shared with the other
    # pytest process: the walk's own objects (the servers whose actions a GET may call) must.
    if stratus.is_devcloud:
        state = lambda: cloud_state(admin_conn, all_projects=True)  # noqa: E731
    else:
        own = set(ids.values())
        state = lambda: [s for s in cloud_state(objects_a.conn)["servers"] if s[0] in own]  # noqa: E731
    before_cloud = state()
    before_ops = operations_count()
    walked = 0
    for client in (project_a_client, admin_client):
        for route in guarded():
            url = route.url(ids)
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                with cloud_calls.recording() as calls:
                    response = client.get(url, **headers)
                assert response.status_code != 500, f"GET {url} -> 500"
                csp = response.get("Content-Security-Policy", "")
                script_src = next((d.split()[1:] for d in csp.split(";") if d.split()[:1] == ["script-src"]), None)
                assert script_src == ["'self'"], f"GET {url}: CSP {csp!r}"  # every page, the console's included
                writes = cloud_writes(calls)
                assert all(READ_ONLY_POSTS.match(w) for w in writes), f"GET {url} changed the cloud: {writes}"
                if writes:
                    assert state() == before_cloud, f"GET {url} changed the cloud"
                walked += 1
    assert operations_count() == before_ops, "a GET created an operation"
    assert state() == before_cloud
    assert walked >= 4


# --- the authorization matrix --------------------------------------------------------------------------------

# The only views open to anonymous visitors. Every other view carries login_required or admin_required.
PUBLIC = {"home", "accounts:login", "accounts:logout", "set_language", "javascript_catalog"}


def test_every_view_but_sign_in_and_language_is_guarded():
    unguarded = sorted(f"{r.name} ({r.route})" for r in routes() if r.access is None and r.name not in PUBLIC)
    assert not unguarded, f"views without login_required/admin_required: {unguarded}"


MEMBER_OK = (200, 286, 302, 400, 404, 405, 409, 410)  # 286: htmx stop polling; 410: a key shown once


def expect(route: Route, role: str, method: str, response) -> str | None:
    """What is wrong with this answer for this role, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if route.access is None:
        return None  # public: sign-in, language, home
    if role == "anonymous":
        return None if is_login_redirect(response) or status == 405 else f"{status}, not the sign-in page"
    if is_login_redirect(response):
        return "sent a signed-in user to sign in"
    if route.access == "admin" and role != "admin":
        return None if status in (403, 405) else f"{status}, not 403"
    return None if status in MEMBER_OK else f"{status}"


def test_authorization_matrix(
    db, stratus, other_project: OtherProject, project_a_client, member_b_client, admin_client
):
    clients = {
        "anonymous": Client(),
        "member of A": project_a_client,
        "member of B": member_b_client,
        "admin": admin_client,
    }
    problems = []
    for route in routes():
        if route.name == "accounts:logout":
            continue  # last: it ends the session
        url = route.url()
        for role, client in clients.items():
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                wrong = expect(route, role, method, response)
                if wrong:
                    problems.append(f"{role}: {method.upper()} {url} -> {wrong}")
    assert not problems, "\n".join(problems)
    for role, client in clients.items():
        response = client.post("/auth/logout/")
        assert response.status_code == 302 and response["Location"] == "/auth/login/", role


# --- another project's objects -------------------------------------------------------------------------------

FOREIGN_KINDS = ("server", "snapshot", "keypair", "operation")


def foreign_routes() -> list[Route]:
    return [r for r in guarded() if any(r.kind_of(name) in FOREIGN_KINDS for _, name in r.params)]


@pytest.mark.worker
def test_a_member_cannot_see_or_act_on_another_projects_objects(
    transactional_db, stratus, other_project: OtherProject, objects_b: Objects, project_a_client, worker_factory
):
    b_creds = objects_b.conn.current_project_id
    ids = dict(objects_b.ids)
    ids["operation"] = make_operation(
        project_id=b_creds, user_id=other_project.user_id, target_id=ids["server"], name=objects_b.server_names[0]
    )
    secret_names = [*objects_b.server_names, ids["keypair"]]
    before = cloud_state(objects_b.conn)
    from apps.operations.models import Operation

    ops_before = set(Operation.objects.values_list("id", flat=True))

    # Reads: lists never show B's objects; pages by id answer 403/404 and never name them.
    for route in guarded():
        if route.access == "admin":
            continue
        url = route.url(ids)
        response = project_a_client.get(url)
        html = response.content.decode(errors="replace")
        leaked = [name for name in secret_names if name in html and name not in url]
        assert not leaked, f"GET {url} shows project B's {leaked}"
        if route in foreign_routes():
            assert response.status_code in (302, 403, 404, 405), (
                f"GET {url} (project B's object) -> {response.status_code}"
            )

    # Writes: POST every action on B's ids; whatever the views dispatch runs on a real worker.
    posted = []
    for route in foreign_routes():
        if route.access == "admin":
            continue
        url = route.url(ids)
        response = project_a_client.post(url, {"confirm": "yes", "name": "hijack"})
        assert response.status_code < 500, f"POST {url} -> {response.status_code}"
        html = response.content.decode(errors="replace")
        assert not [n for n in secret_names if n in html and n not in url], f"POST {url} shows project B's objects"
        posted.append(url)

    new_ops = Operation.objects.exclude(id__in=ops_before)
    if new_ops.exists():
        worker_factory()
        deadline = time.monotonic() + 60
        while new_ops.filter(state__in=("pending", "running")).exists():
            assert time.monotonic() < deadline, "operations did not finish in 60 s"
            time.sleep(0.3)
        assert not new_ops.filter(state="succeeded", target_id__in=list(ids.values())).exists(), (
            "an operation on project B's object succeeded for a member of project A"
        )
    assert cloud_state(objects_b.conn) == before, f"project B's objects changed after {posted}"
