"""Sign-in against Keystone (devcloud over HTTP), sessions, revocation, project switching, cloud failures."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from django.test import Client

from apps.accounts.session import SESSION_KEY, read
from tests.cloudharness import admin_token
from tests.conftest import sign_in_client


def keystone(cloud, method: str, path: str, token: str, subject: str | None = None) -> int:
    headers = {"X-Auth-Token": token}
    if subject:
        headers["X-Subject-Token"] = subject
    req = urllib.request.Request(cloud.auth_url + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def session_token(client: Client) -> str:
    return read(client.session).token


@pytest.mark.django_db
def test_it_shows_the_sign_in_page(stratus):
    response = Client().get("/auth/login/")
    assert response.status_code == 200
    assert b"Sign in to your cloud" in response.content


@pytest.mark.django_db
def test_it_rejects_a_wrong_password_next_to_the_field(stratus):
    response = Client().post(
        "/auth/login/", {"method": "password", "username": "demo", "password": "nope", "domain": "Default"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The user name or password is not right." in html
    assert 'id="id_password-error"' in html


@pytest.mark.django_db
def test_it_asks_for_missing_fields(stratus):
    response = Client().post("/auth/login/", {"method": "password", "username": "", "password": ""})
    html = response.content.decode()
    assert "Enter your user name." in html and "Enter your password." in html


def test_it_keeps_the_token_server_side(member_client):
    cookies = " ".join(morsel.OutputString() for morsel in member_client.cookies.values())
    token = session_token(member_client)
    assert token and token not in cookies
    assert "HttpOnly" in member_client.cookies["stratus_session"].OutputString()


def test_it_signs_in_with_an_application_credential(stratus, db):
    from tests.cloudharness import password_token

    user_token = password_token(stratus.member)
    info = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(
                stratus.auth_url + "/auth/tokens", headers={"X-Auth-Token": user_token, "X-Subject-Token": user_token}
            ),
            timeout=10,
        ).read()
    )
    user_id = info["token"]["user"]["id"]
    name = f"stratus-test-appcred-{uuid.uuid4().hex[:8]}"  # a real cloud keeps what an earlier run left
    body = json.dumps({"application_credential": {"name": name}}).encode()
    req = urllib.request.Request(
        f"{stratus.auth_url}/users/{user_id}/application_credentials",
        data=body,
        headers={"X-Auth-Token": user_token, "Content-Type": "application/json"},
    )
    try:
        cred = json.loads(urllib.request.urlopen(req, timeout=10).read())["application_credential"]
    except urllib.error.HTTPError as e:  # say why Keystone refused
        raise AssertionError(f"Keystone: {e.code} {e.read()[:500]!r}") from e
    client = Client()
    response = client.post(
        "/auth/login/", {"method": "application_credential", "credential_id": cred["id"], "secret": cred["secret"]}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    assert client.session[SESSION_KEY]["method"] == "application_credential"
    bad = Client().post(
        "/auth/login/", {"method": "application_credential", "credential_id": cred["id"], "secret": "x"}
    )
    assert "The application credential ID or secret is not right." in bad.content.decode()
    gone = urllib.request.Request(
        f"{stratus.auth_url}/users/{user_id}/application_credentials/{cred['id']}",
        method="DELETE",
        headers={"X-Auth-Token": password_token(stratus.member)},
    )
    urllib.request.urlopen(gone, timeout=10).read()


def test_sign_out_revokes_the_token(member_client, stratus):
    token = session_token(member_client)
    assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), token) == 200
    response = member_client.post("/auth/logout/")
    assert response.status_code == 302 and response["Location"] == "/auth/login/"
    assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), token) == 404
    assert member_client.get("/overview/")["Location"].startswith("/auth/login/")


def test_sign_out_is_post_only(member_client):
    assert member_client.get("/auth/logout/").status_code == 405


def test_a_revoked_token_sends_the_user_to_sign_in_with_next(member_client, stratus):
    token = session_token(member_client)
    assert keystone(stratus, "DELETE", "/auth/tokens", admin_token(stratus), token) == 204
    response = member_client.get("/overview/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=%2Foverview%2F%3Fx%3D1"
    page = member_client.get(response["Location"]).content.decode()
    assert "Your session has expired. Please sign in again." in page


def test_an_expired_token_sends_the_user_to_sign_in(member_client):
    session = member_client.session
    session[SESSION_KEY]["creds"]["body"]["expires_at"] = "2000-01-01T00:00:00.000000Z"
    session.save()
    response = member_client.get("/overview/")
    assert response["Location"] == "/auth/login/?next=%2Foverview%2F"
    assert "Your session has expired" in member_client.get(response["Location"]).content.decode()


def test_it_switches_project(member_client, stratus):
    other = stratus.second_project
    if not other:
        pytest.skip(f"{stratus.member.username} has a role on one project only ({stratus.member.project_name})")
    projects = member_client.session[SESSION_KEY]["projects"]
    names = {p["name"]: p["id"] for p in projects}
    assert {stratus.member.project_name, other} <= set(names)
    old = session_token(member_client)
    old_audit = member_client.session[SESSION_KEY]["creds"]["body"]["audit_ids"]
    response = member_client.post("/auth/project/", {"project_id": names[other]})
    assert response.status_code == 302
    creds = member_client.session[SESSION_KEY]["creds"]
    assert creds["body"]["project"]["name"] == other
    new = session_token(member_client)
    assert new != old
    assert f"Now working in project {other}." in member_client.get("/overview/").content.decode()
    # Rescoped from the scoped token (no unscoped token is kept); the old one is revoked, the new one lives. Unless
    # the old one is the first of the chain (a user's default project, as on realcloud): Keystone would revoke the
    # new one with it, so it is left to expire (it is in no session).
    first_of_chain = old_audit[0] in creds["body"]["audit_ids"]
    assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), old) == (200 if first_of_chain else 404)
    assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), new) == 200


@pytest.fixture
def no_rescoping(devcloud):
    """devcloud as a Keystone with `[token] allow_rescope_scoped_token = false` (a project-scoped token is not
    exchanged for another: 403), for the test's duration."""
    devcloud.control("identity-config", {"allow_rescope_scoped_token": False})
    yield devcloud
    devcloud.control("identity-config", {"allow_rescope_scoped_token": True})


@pytest.mark.devcloud_only
def test_a_cloud_that_does_not_rescope_scoped_tokens_has_the_user_sign_in_again(member_client, no_rescoping):
    """The project switch is refused by Keystone: the user is asked to sign in again and lands in the chosen project."""
    cloud = no_rescoping
    other = cloud.second_project
    names = {p["name"]: p["id"] for p in member_client.session[SESSION_KEY]["projects"]}
    old = session_token(member_client)
    response = member_client.post("/auth/project/", {"project_id": names[other]}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert f"To work in project {other}, sign in again: this cloud does not switch projects within a session." in page
    assert keystone(cloud, "GET", "/auth/tokens", admin_token(cloud), old) == 404
    sign_in_client(member_client, cloud.member)
    assert member_client.session[SESSION_KEY]["creds"]["body"]["project"]["name"] == other


@pytest.mark.devcloud_only
def test_a_user_with_a_default_project_signs_in_where_the_cloud_does_not_rescope(stratus, no_rescoping, db):
    """Keystone scopes the first token to the user's default project; where it will not exchange that token for
    another project, sign-in asks for the chosen project with the password instead."""
    from tests.security.helpers import create_other_project
    from tests.security.helpers import keystone as keystone_api

    cloud = no_rescoping
    user = create_other_project(cloud)  # a user with a role on project B
    home = keystone_api(cloud, "POST", "/projects", {"project": {"name": f"stratus-test-home-{uuid.uuid4().hex[:8]}"}})
    home_id = home["project"]["id"]
    try:
        role = keystone_api(cloud, "GET", "/roles?name=member")["roles"][0]["id"]
        keystone_api(cloud, "PUT", f"/projects/{home_id}/users/{user.user_id}/roles/{role}")
        keystone_api(cloud, "PATCH", f"/users/{user.user_id}", {"user": {"default_project_id": home_id}})
        for wanted in (user.project_id, home_id):
            client = Client()
            client.cookies["stratus_project"] = wanted
            sign_in_client(client, user.creds)
            assert read(client.session).project_id == wanted
            assert keystone(cloud, "GET", "/auth/tokens", admin_token(cloud), read(client.session).token) == 200
    finally:
        user.delete()
        keystone_api(cloud, "DELETE", f"/projects/{home_id}")


def test_the_project_cookie_is_secure_when_the_session_cookie_is(member_client, stratus, settings):
    """Production (TLS) sends the session cookie over HTTPS only: the remembered project follows it."""
    other = stratus.second_project
    if not other:
        pytest.skip(f"{stratus.member.username} has a role on one project only ({stratus.member.project_name})")
    names = {p["name"]: p["id"] for p in member_client.session[SESSION_KEY]["projects"]}
    settings.SESSION_COOKIE_SECURE = True
    assert member_client.post("/auth/project/", {"project_id": names[other]}, secure=True).status_code == 302
    cookie = member_client.cookies["stratus_project"]
    assert cookie.value == names[other]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    settings.SESSION_COOKIE_SECURE = False
    assert member_client.post("/auth/project/", {"project_id": names[stratus.member.project_name]}).status_code == 302
    assert not member_client.cookies["stratus_project"]["secure"]


def test_it_refuses_a_project_the_user_has_no_role_on(member_client, stratus):
    response = member_client.post("/auth/project/", {"project_id": "not-mine"}, follow=True)
    assert "You cannot switch to that project." in response.content.decode()
    assert member_client.session[SESSION_KEY]["creds"]["body"]["project"]["name"] == "demo"


def test_it_offers_a_clouds_yaml_without_secrets(member_client):
    response = member_client.get("/auth/api-access/clouds.yaml")
    text = response.content.decode()
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert "username: demo" in text and "project_name: demo" in text
    assert "password" not in text and session_token(member_client) not in text


def test_keystone_unreachable_is_a_clear_message_on_the_form(stratus, db, settings):
    settings.OS_AUTH_URL = "http://127.0.0.1:9/identity/v3"  # nothing listens on the discard port
    response = Client().post(
        "/auth/login/", {"method": "password", "username": "demo", "password": "demo", "domain": "Default"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Cannot sign in: The Identity (Keystone) service cannot be reached." in html


def test_an_unreachable_compute_service_is_a_503_page_naming_it(member_client):
    # Point the stored catalog's compute endpoint at a port where nothing listens: a dead nova-api.
    session = member_client.session
    for service in session[SESSION_KEY]["creds"]["body"]["catalog"]:
        if service["type"] == "compute":
            for endpoint in service["endpoints"]:
                endpoint["url"] = "http://127.0.0.1:9/compute/v2.1"
    session.save()
    response = member_client.get("/overview/")
    html = response.content.decode()
    assert response.status_code == 503
    assert "Compute (Nova) is not available" in html
    assert "Traceback" not in html


@pytest.mark.devcloud_only
def test_a_failing_compute_service_is_a_503_page(member_client, devcloud):
    devcloud.control("faults", {"service": "compute", "status": 503, "count": 3})
    try:
        response = member_client.get("/overview/")
    finally:
        devcloud.control("faults", method="DELETE")
    assert response.status_code == 503
    assert "Compute (Nova) is not available" in response.content.decode()
    assert "HTTP 503" in response.content.decode()
