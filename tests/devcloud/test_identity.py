"""Keystone v3: version discovery, tokens (password, application credential), validation, revocation,
projects and users as the CLI sees them, and the auth hook in front of every service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from tests.devcloud import call, cli, cli_json, login, password_auth_body

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _root(cloud: TestCloud) -> str:
    return cloud.auth_url.rstrip("/").rsplit("/v3", 1)[0]


def test_version_documents_need_no_token(cloud: TestCloud) -> None:
    v3 = call("GET", cloud.auth_url)
    assert v3.status == 200
    version = v3.body["version"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert any(link["rel"] == "self" for link in version["links"])
    assert version["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"

    root = call("GET", _root(cloud))
    assert root.status == 300
    assert [v["id"] for v in root.body["versions"]["values"]][0].startswith("v3.")


def test_password_token_shape(cloud: TestCloud) -> None:
    reply = call("POST", cloud.auth_url + "/auth/tokens", body=password_auth_body(cloud.member))
    assert reply.status == 201
    assert reply.header("X-Subject-Token")
    token = reply.body["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == cloud.member.username
    assert token["user"]["domain"]["name"] == "Default"
    assert token["project"]["name"] == cloud.member.project_name
    assert "member" in [r["name"] for r in token["roles"]]
    assert token["audit_ids"]
    issued = datetime.fromisoformat(token["issued_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
    assert expires > issued
    types = {s["type"] for s in token["catalog"]}
    assert {"identity", "compute", "image", "placement"} <= types
    assert types & {"block-storage", "volumev3"}
    for service in token["catalog"]:
        assert {"id", "type", "name", "endpoints"} <= set(service)
        interfaces = {e["interface"] for e in service["endpoints"]}
        assert "public" in interfaces
        for ep in service["endpoints"]:
            assert ep["region_id"] == cloud.member.region_name
            assert ep["url"].startswith("http")
    if cloud.is_devcloud:
        volume = next(s for s in token["catalog"] if s["type"] == "block-storage")
        assert volume["endpoints"][0]["url"].endswith("/volume/v3/" + token["project"]["id"])


def test_scope_by_project_id_and_unscoped(cloud: TestCloud) -> None:
    scoped = login(cloud.member)
    body = password_auth_body(cloud.member, scoped=False)
    body["auth"]["scope"] = {"project": {"id": scoped.project_id}}
    reply = call("POST", cloud.auth_url + "/auth/tokens", body=body)
    assert reply.status == 201 and reply.body["token"]["project"]["id"] == scoped.project_id

    unscoped = call("POST", cloud.auth_url + "/auth/tokens", body=password_auth_body(cloud.member, scoped=False))
    assert unscoped.status == 201
    assert "catalog" not in unscoped.body["token"] or not unscoped.body["token"]["catalog"]
    assert "project" not in unscoped.body["token"]


def test_rescoping_a_scoped_token_follows_keystones_option(devcloud: TestCloud) -> None:
    """Keystone exchanges a project-scoped token for one on another project of the user unless `[token]
    allow_rescope_scoped_token = false`; then 403 (an unscoped token is still exchanged). The new token expires
    when the one it came from does."""
    scoped = login(devcloud.member)
    projects = call("GET", devcloud.auth_url + "/auth/projects", scoped.token).body["projects"]
    other = next(p for p in projects if p["id"] != scoped.project_id)

    def rescope(token: str):
        body = {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"project": {"id": other["id"]}},
            }
        }
        return call("POST", devcloud.auth_url + "/auth/tokens", body=body)

    allowed = rescope(scoped.token)
    assert allowed.status == 201 and allowed.body["token"]["project"]["id"] == other["id"]
    original = call("GET", devcloud.auth_url + "/auth/tokens", scoped.token, headers={"X-Subject-Token": scoped.token})
    assert allowed.body["token"]["expires_at"] <= original.body["token"]["expires_at"]
    assert devcloud.control("identity-config", method="GET") == {"allow_rescope_scoped_token": True}
    devcloud.control("identity-config", {"allow_rescope_scoped_token": False})
    try:
        refused = rescope(scoped.token)
        assert refused.status == 403 and refused.body["error"]["code"] == 403
        assert "rescope a scoped token" in refused.body["error"]["message"]
        unscoped = call(
            "POST", devcloud.auth_url + "/auth/tokens", body=password_auth_body(devcloud.member, scoped=False)
        )
        assert rescope(unscoped.header("X-Subject-Token")).status == 201
    finally:
        devcloud.control("identity-config", {"allow_rescope_scoped_token": True})


def test_bad_credentials_and_bad_input(cloud: TestCloud) -> None:
    body = password_auth_body(cloud.member)
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong-" + uuid.uuid4().hex
    reply = call("POST", cloud.auth_url + "/auth/tokens", body=body)
    assert reply.status == 401
    assert reply.body["error"]["code"] == 401 and reply.body["error"]["title"] == "Unauthorized"

    malformed = call(
        "POST", cloud.auth_url + "/auth/tokens", raw=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status == 400
    assert malformed.body["error"]["code"] == 400

    missing = call("POST", cloud.auth_url + "/auth/tokens", body={"auth": {}})
    assert missing.status == 400 and missing.body["error"]["code"] == 400

    odd = {"auth": {"identity": {"methods": ["token"], "token": {"id": ["not", "a", "string"]}}}}
    assert call("POST", cloud.auth_url + "/auth/tokens", body=odd).status in (400, 401)

    no_access = password_auth_body(cloud.member, project_name="project-that-does-not-exist-" + uuid.uuid4().hex[:6])
    assert call("POST", cloud.auth_url + "/auth/tokens", body=no_access).status == 401


def test_validate_then_revoke(cloud: TestCloud) -> None:
    session = login(cloud.member)
    victim = login(cloud.member)
    image_url = victim.url("image") + "/v2/images"
    assert victim.call("GET", image_url).status == 200

    check = call("GET", cloud.auth_url + "/auth/tokens", session.token, headers={"X-Subject-Token": victim.token})
    assert check.status == 200
    assert check.header("X-Subject-Token") == victim.token
    assert check.body["token"]["user"]["id"] == victim.user_id
    head = call("HEAD", cloud.auth_url + "/auth/tokens", session.token, headers={"X-Subject-Token": victim.token})
    assert head.status == 200

    revoked = call("DELETE", cloud.auth_url + "/auth/tokens", session.token, headers={"X-Subject-Token": victim.token})
    assert revoked.status == 204
    gone = call("GET", cloud.auth_url + "/auth/tokens", session.token, headers={"X-Subject-Token": victim.token})
    assert gone.status == 404
    assert gone.body["error"]["code"] == 404

    denied = victim.call("GET", image_url)
    assert denied.status == 401
    assert victim.call("GET", victim.url("compute") + "/servers").status == 401
    assert victim.call("GET", victim.url("block-storage") + "/volumes").status == 401


def test_revoking_a_chains_first_token_revokes_the_tokens_made_from_it(cloud: TestCloud) -> None:
    """Keystone revokes by audit id, and a token made from another (method token) carries the chain's first audit
    id: revoking the first token of a chain revokes every token rescoped from it, revoking a later one does not
    (seen on Keystone 30: a sign-in that revoked its first token after rescoping lost the rescoped one)."""
    url = cloud.auth_url + "/auth/tokens"
    admin = login(cloud.admin)
    first = login(cloud.member)
    projects = call("GET", cloud.auth_url + "/auth/projects", first.token).body["projects"]
    if len(projects) < 2:
        pytest.skip("the member has one project: nothing to rescope to")

    def rescope(token: str, project_id: str) -> tuple[str, list[str]]:
        body = {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"project": {"id": project_id}},
            }
        }
        reply = call("POST", url, body=body)
        assert reply.status == 201, reply.raw
        return reply.header("X-Subject-Token"), reply.body["token"]["audit_ids"]

    def valid(token: str) -> bool:
        return call("GET", url, admin.token, headers={"X-Subject-Token": token}).status == 200

    first_audit = call("GET", url, admin.token, headers={"X-Subject-Token": first.token}).body["token"]["audit_ids"]
    a, a_audit = rescope(first.token, projects[0]["id"])
    b, b_audit = rescope(a, projects[1]["id"])
    assert a_audit[1:] == b_audit[1:] == first_audit[:1]  # the chain's first audit id, carried along
    assert call("DELETE", url, a, headers={"X-Subject-Token": a}).status == 204
    assert not valid(a) and valid(b) and valid(first.token)  # a later token: only itself
    assert call("DELETE", url, first.token, headers={"X-Subject-Token": first.token}).status == 204
    assert not valid(b)  # the chain's first token: every token made from it


def test_no_token_is_401_everywhere(cloud: TestCloud) -> None:
    session = login(cloud.member)
    for url in (
        session.url("image") + "/v2/images",
        session.url("compute") + "/servers",
        session.url("block-storage") + "/volumes",
        session.url("placement") + "/resource_providers",
        cloud.auth_url + "/auth/projects",
    ):
        reply = call("GET", url)
        assert reply.status == 401, url
        assert reply.body["error"]["code"] == 401
        garbage = call("GET", url, token="not-a-token")
        assert garbage.status == 401, url


def test_member_project_listing(cloud: TestCloud) -> None:
    session = login(cloud.member)
    forbidden = session.call("GET", cloud.auth_url + "/projects")
    assert forbidden.status == 403 and forbidden.body["error"]["code"] == 403

    mine = session.call("GET", f"{cloud.auth_url}/users/{session.user_id}/projects")
    assert mine.status == 200
    names = {p["name"] for p in mine.body["projects"]}
    assert cloud.member.project_name in names
    auth_projects = session.call("GET", cloud.auth_url + "/auth/projects")
    assert {p["name"] for p in auth_projects.body["projects"]} == names
    if cloud.is_devcloud:
        assert names == {"demo", "demo-2"}

    catalog = session.call("GET", cloud.auth_url + "/auth/catalog")
    assert catalog.status == 200 and catalog.body["catalog"]


def test_admin_lists_projects_users_and_assignments(cloud: TestCloud) -> None:
    admin = login(cloud.admin)
    projects = admin.call("GET", cloud.auth_url + "/projects").body["projects"]
    assert {cloud.admin.project_name, cloud.member.project_name} <= {p["name"] for p in projects}
    users = admin.call("GET", cloud.auth_url + "/users?name=" + cloud.member.username).body["users"]
    assert [u["name"] for u in users] == [cloud.member.username]
    assert "password" not in users[0] and "password_hash" not in users[0]
    assignments = admin.call("GET", f"{cloud.auth_url}/role_assignments?user.id={users[0]['id']}&include_names")
    assert assignments.status == 200
    assert any(a["scope"]["project"]["name"] == cloud.member.project_name for a in assignments.body["role_assignments"])


def test_cli_token_issue_and_my_projects(cloud: TestCloud) -> None:
    token = cli_json(cloud, cloud.member.name, "token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]
    projects = cli_json(cloud, cloud.member.name, "project", "list", "--my-projects")
    assert cloud.member.project_name in [p["Name"] for p in projects]


def test_cli_admin_project_and_user_list(cloud: TestCloud) -> None:
    out = cli(cloud, cloud.admin.name, "user", "list", "-f", "value", "-c", "Name").stdout.split()
    assert cloud.member.username in out and cloud.admin.username in out


def test_keystoneauth_password_session(cloud: TestCloud) -> None:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=cloud.auth_url,
        username=cloud.member.username,
        password=cloud.member.password,
        project_name=cloud.member.project_name,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    sess = ks_session.Session(auth=auth)
    assert sess.get_token()
    assert sess.get_project_id()
    compute = sess.get_endpoint(service_type="compute", interface="public", region_name=cloud.member.region_name)
    assert compute and "/v2" in compute
    # Discovery through the unversioned identity root works too (the generic plugin).
    from keystoneauth1.identity import generic

    generic_auth = generic.Password(
        auth_url=cloud.auth_url.rsplit("/v3", 1)[0],
        username=cloud.member.username,
        password=cloud.member.password,
        project_name=cloud.member.project_name,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    assert ks_session.Session(auth=generic_auth).get_token()


def test_application_credential_lifecycle(cloud: TestCloud) -> None:
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    session = login(cloud.member)
    name = "devcloud-test-" + uuid.uuid4().hex[:8]
    created = session.call(
        "POST",
        f"{cloud.auth_url}/users/{session.user_id}/application_credentials",
        {"application_credential": {"name": name, "description": "test"}},
    )
    assert created.status == 201
    cred = created.body["application_credential"]
    assert cred["secret"] and cred["project_id"] == session.project_id and cred["unrestricted"] is False

    listed = session.call("GET", f"{cloud.auth_url}/users/{session.user_id}/application_credentials")
    mine = [c for c in listed.body["application_credentials"] if c["id"] == cred["id"]]
    assert mine and "secret" not in mine[0]

    duplicate = session.call(
        "POST",
        f"{cloud.auth_url}/users/{session.user_id}/application_credentials",
        {"application_credential": {"name": name}},
    )
    assert duplicate.status == 409

    auth = v3.ApplicationCredential(
        auth_url=cloud.auth_url, application_credential_id=cred["id"], application_credential_secret=cred["secret"]
    )
    sess = ks_session.Session(auth=auth)
    assert sess.get_project_id() == session.project_id
    reply = sess.get(sess.get_endpoint(service_type="image", interface="public") + "/v2/images")
    assert reply.status_code == 200

    by_name = v3.ApplicationCredential(
        auth_url=cloud.auth_url,
        application_credential_name=name,
        application_credential_secret=cred["secret"],
        username=cloud.member.username,
        user_domain_name="Default",
    )
    assert ks_session.Session(auth=by_name).get_token()

    bad = v3.ApplicationCredential(
        auth_url=cloud.auth_url, application_credential_id=cred["id"], application_credential_secret="wrong"
    )
    with pytest.raises(ks_exc.Unauthorized):
        ks_session.Session(auth=bad).get_token()

    deleted = session.call("DELETE", f"{cloud.auth_url}/users/{session.user_id}/application_credentials/{cred['id']}")
    assert deleted.status == 204
    again = v3.ApplicationCredential(
        auth_url=cloud.auth_url, application_credential_id=cred["id"], application_credential_secret=cred["secret"]
    )
    with pytest.raises(ks_exc.Unauthorized):
        ks_session.Session(auth=again).get_token()


def test_service_credentials_can_validate_user_tokens(devcloud: TestCloud) -> None:
    from tests.cloudharness import CloudCreds

    nova = CloudCreds("devcloud-service", devcloud.auth_url, "nova", "nova", "service")
    service = login(nova)
    assert {"admin", "service"} <= {r["name"] for r in service.body["token"]["roles"]}
    user = login(devcloud.member)
    check = service.call("GET", devcloud.auth_url + "/auth/tokens", headers={"X-Subject-Token": user.token})
    assert check.status == 200
    # A member may not validate somebody else's token.
    other = login(devcloud.admin)
    denied = user.call("GET", devcloud.auth_url + "/auth/tokens", headers={"X-Subject-Token": other.token})
    assert denied.status == 403


def test_clouds_yaml_lists_the_clouds(devcloud: TestCloud) -> None:
    text = devcloud.clouds_yaml.read_text()
    for name in ("devcloud-admin", "devcloud-demo", "devcloud-demo2", "devcloud-service"):
        assert f"  {name}:" in text
    assert f"auth_url: {devcloud.auth_url}" in text


def test_admin_manages_projects_users_and_grants(devcloud: TestCloud) -> None:
    from tests.cloudharness import CloudCreds

    admin = login(devcloud.admin)
    base = devcloud.auth_url
    suffix = uuid.uuid4().hex[:6]
    project = admin.call("POST", base + "/projects", {"project": {"name": "p-" + suffix}}).body["project"]
    assert admin.call("POST", base + "/projects", {"project": {"name": "p-" + suffix}}).status == 409
    user = admin.call("POST", base + "/users", {"user": {"name": "u-" + suffix, "password": "pw1"}}).body["user"]
    assert "password" not in user
    member_role = admin.call("GET", base + "/roles?name=member").body["roles"][0]
    grant = admin.call("PUT", f"{base}/projects/{project['id']}/users/{user['id']}/roles/{member_role['id']}")
    assert grant.status == 204

    creds = CloudCreds("x", base, "u-" + suffix, "pw1", "p-" + suffix)
    session = login(creds)
    assert [r["name"] for r in session.body["token"]["roles"]] == ["member", "reader"]

    changed = session.call(
        "POST", f"{base}/users/{user['id']}/password", {"user": {"original_password": "pw1", "password": "pw2"}}
    )
    assert changed.status == 204
    assert session.call("GET", base + "/auth/projects").status == 401  # tokens revoked by the change
    session = login(CloudCreds("x", base, "u-" + suffix, "pw2", "p-" + suffix))

    disabled = admin.call("PATCH", f"{base}/users/{user['id']}", {"user": {"enabled": False}})
    assert disabled.status == 200 and disabled.body["user"]["enabled"] is False
    assert session.call("GET", base + "/auth/projects").status == 401
    assert call("POST", base + "/auth/tokens", body=password_auth_body(creds)).status == 401

    assert admin.call("DELETE", f"{base}/users/{user['id']}").status == 204
    assert admin.call("DELETE", f"{base}/projects/{project['id']}").status == 204
    assert admin.call("GET", f"{base}/projects/{project['id']}").status == 404


def test_tokens_expire(devcloud: TestCloud, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second devcloud with a 2-second token lifetime: its tokens stop working once expired."""
    import time

    from tests.cloudharness import CloudCreds, start_devcloud

    monkeypatch.setenv("DEVCLOUD_TOKEN_TTL", "2")
    short = start_devcloud(tmp_path / "state")
    try:
        creds = CloudCreds("x", short.auth_url, "demo", "demo", "demo")
        session = login(creds)
        expires = datetime.fromisoformat(session.body["token"]["expires_at"].replace("Z", "+00:00"))
        issued = datetime.fromisoformat(session.body["token"]["issued_at"].replace("Z", "+00:00"))
        assert (expires - issued).total_seconds() <= 2.5
        assert session.call("GET", short.auth_url + "/auth/projects").status == 200
        time.sleep(2.2)
        assert session.call("GET", short.auth_url + "/auth/projects").status == 401
        checker = login(CloudCreds("x", short.auth_url, "admin", "admin", "admin"))
        gone = call("GET", short.auth_url + "/auth/tokens", checker.token, headers={"X-Subject-Token": session.token})
        assert gone.status == 404 and gone.body["error"]["code"] == 404
    finally:
        short.stop()
