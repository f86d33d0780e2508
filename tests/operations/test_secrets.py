"""Who may retry an operation, and what an operation row keeps of its parameters (#17, finding 5).

Only who started an operation (or an admin of the project) retries it: a colleague in the same project gets 403.
A launch's cloud-init user data (which Nova shows to admins only) never rests in clear on the row: it is sealed
(Fernet) while the launch runs and erased when it ends; a retry of a launch that had user data asks for it again.
Everything goes through the real pages, a real worker and the cloud over HTTP; the rows are read raw (SQL).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import openstack
import pytest
from django.db import connection
from django.test import Client

from apps.accounts.session import read
from apps.cloud.connection import Credentials
from apps.operations import crypto
from apps.operations.models import Operation, State
from tests.cloudharness import CloudCreds, admin_token
from tests.conftest import sign_in_client
from tests.operations.conftest import operation_row, wait_op
from tests.security.helpers import filled_in, keystone, parse_page

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _creds(client: Client) -> Credentials:
    creds = read(client.session)
    assert creds is not None
    return creds


def raw_row(op_id) -> str:
    """Every column of the operation's row as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM operations_operation WHERE id = %s", [op_id.hex])
        row = cursor.fetchone()
        if row is None:  # PostgreSQL keeps a uuid column as a uuid
            cursor.execute("SELECT * FROM operations_operation WHERE id = %s", [str(op_id)])
            row = cursor.fetchone()
    assert row is not None
    return json.dumps([str(v) for v in row])


@dataclass
class Colleague:
    """A fresh user with the member role in the demo member's own project."""

    cloud: TestCloud
    creds: CloudCreds
    user_id: str

    def delete(self) -> None:
        keystone(self.cloud, "DELETE", f"/users/{self.user_id}")


@pytest.fixture
def colleague(stratus: TestCloud) -> Iterator[Colleague]:
    token = admin_token(stratus)
    project = keystone(stratus, "GET", f"/projects?name={stratus.member.project_name}", None, token)["projects"][0]
    suffix = uuid.uuid4().hex[:8]
    password = "pw-" + uuid.uuid4().hex
    user = keystone(
        stratus,
        "POST",
        "/users",
        {"user": {"name": f"stratus-test-colleague-{suffix}", "password": password, "domain_id": "default"}},
        token,
    )["user"]
    role = keystone(stratus, "GET", "/roles?name=member", None, token)["roles"][0]
    keystone(stratus, "PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role['id']}", None, token)
    creds = CloudCreds(
        name="",
        auth_url=stratus.auth_url,
        username=user["name"],
        password=password,
        project_name=stratus.member.project_name,
        region_name=stratus.member.region_name,
    )
    mate = Colleague(stratus, creds, user["id"])
    try:
        yield mate
    finally:
        mate.delete()


def _in_project(client: Client, project_name: str) -> Client:
    data = client.session["stratus_account"]
    if data["creds"]["body"]["project"]["name"] != project_name:
        project = next(p for p in data["projects"] if p["name"] == project_name)
        assert client.post("/auth/project/", {"project_id": project["id"]}).status_code == 302
    return client


def _failed_row(creds: Credentials, **fields) -> Operation:
    return operation_row(creds, **({"state": State.FAILED, "message": "boom"} | fields))


def test_a_member_gets_403_retrying_a_colleagues_operation(stratus, db, colleague: Colleague):
    mate = sign_in_client(Client(), colleague.creds)
    member = _in_project(sign_in_client(Client(), stratus.member), stratus.member.project_name)
    theirs = _failed_row(_creds(mate))
    assert _creds(mate).project_id == _creds(member).project_id  # same project: the page is visible to both
    before = Operation.objects.count()

    refused = member.post(f"/activity/{theirs.id}/retry/")
    assert refused.status_code == 403
    assert "Only the person who started this operation, or an administrator, can retry it." in refused.content.decode()
    assert Operation.objects.count() == before
    page = member.get(f"/activity/{theirs.id}/")
    assert page.status_code == 200 and "Retry" not in page.content.decode()  # no button for what one may not do

    # its owner may (no worker here: the new operation waits in the queue)
    assert "Retry" in mate.get(f"/activity/{theirs.id}/").content.decode()
    again = mate.post(f"/activity/{theirs.id}/retry/")
    assert again.status_code == 302
    assert Operation.objects.count() == before + 1


def test_an_admin_of_the_project_may_retry_someone_elses_operation(stratus, db):
    admin = sign_in_client(Client(), stratus.admin)
    creds = _creds(admin)
    assert creds.is_admin
    someones = _failed_row(creds, user_id="someone-else", user_name="someone")
    response = admin.post(f"/activity/{someones.id}/retry/")
    assert response.status_code == 302
    new = Operation.objects.exclude(id=someones.id).get(target_id=someones.target_id)
    assert new.user_id == creds.user_id  # run with the admin's own credentials


def _launch(client: Client, name: str, user_data: str) -> Operation:
    forms = parse_page("/instances/launch/", client.get("/instances/launch/").content.decode())[0]
    form = next(f for f in forms if f.action.startswith("/instances/launch/") and "flavor_id" in f.fields)
    body = filled_in(form) | {"name": name, "count": "1", "user_data": user_data}
    if "network" in form.fields and not body.get("network"):  # several usable networks (a real Neutron): the first
        body["network"] = form.options["network"][0]  # the project's own come first
    response = client.post("/instances/launch/", body)
    assert response.status_code in (200, 302) and "Traceback" not in response.content.decode()
    return Operation.objects.get(kind="server.launch", target_name=name)


def _nova_user_data(stratus: TestCloud, server_id: str) -> str:
    """What Nova keeps as the server's user data (OS-EXT-SRV-ATTR:user_data, admins only, microversion 2.3)."""
    admin = openstack.connect(cloud=stratus.admin.name)
    try:
        body = admin.compute.get(f"/servers/{server_id}", microversion="2.3").json()["server"]
    finally:
        admin.close()
    return base64.b64decode(body.get("OS-EXT-SRV-ATTR:user_data") or "").decode()


def test_user_data_is_sealed_while_a_launch_waits(stratus, db):
    """No worker: the launch stays pending; its row holds the user data only sealed, and the page never shows it."""
    client = _in_project(sign_in_client(Client(), stratus.member), stratus.member.project_name)
    secret = "root-password-" + uuid.uuid4().hex
    op = _launch(client, "ops-sealed-" + uuid.uuid4().hex[:6], f"#cloud-config\nchpasswd: {{list: 'root:{secret}'}}\n")
    assert op.state == State.PENDING
    assert secret not in raw_row(op.id)
    assert "user_data" not in op.params and op.params["secret_params"] == ["user_data"]
    assert secret in crypto.unseal_params(op.sealed_params)["user_data"]  # the worker can read it
    page = client.get(f"/activity/{op.id}/").content.decode()
    assert secret not in page and "--user-data user-data.txt" in page
    Operation.objects.filter(id=op.id).delete()  # never run


@pytest.mark.worker
def test_a_finished_launchs_row_holds_no_user_data(worker, stratus, sdk, transactional_db):
    client = _in_project(sign_in_client(Client(), stratus.member), stratus.member.project_name)
    secret = "root-password-" + uuid.uuid4().hex
    op = _launch(client, "ops-ud-" + uuid.uuid4().hex[:6], f"#cloud-config\nchpasswd: {{list: 'root:{secret}'}}\n")
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.display_message, op.steps)
    assert secret in _nova_user_data(stratus, op.target_id)  # the worker gave Nova the user data
    row = raw_row(op.id)
    assert secret not in row and base64.b64encode(secret.encode()).decode() not in row
    assert op.sealed_params == "" and op.credentials == ""
    page = client.get(f"/activity/{op.id}/")
    assert page.status_code == 200 and secret not in page.content.decode()


@pytest.mark.worker
@pytest.mark.devcloud_only
def test_retrying_a_failed_launch_asks_for_its_user_data_again(worker, stratus, sdk, clear_faults, transactional_db):
    client = _in_project(sign_in_client(Client(), stratus.member), stratus.member.project_name)
    secret = "token-" + uuid.uuid4().hex
    user_data = f"#!/bin/sh\necho {secret} > /root/token\n"
    stratus.control("build-failures", {"count": 1, "message": "No valid host was found."})
    failed = wait_op(_launch(client, "ops-udretry-" + uuid.uuid4().hex[:6], user_data).id)
    assert failed.state == State.FAILED
    assert secret not in raw_row(failed.id) and failed.sealed_params == ""

    page = client.get(f"/activity/{failed.id}/").content.decode()
    assert secret not in page
    assert 'name="user_data"' in page and "paste it again to retry" in page
    before = Operation.objects.count()
    missing = client.post(f"/activity/{failed.id}/retry/", {"user_data": ""})
    assert missing.status_code == 200 and "Paste it again to retry." in missing.content.decode()
    assert Operation.objects.count() == before

    retried = client.post(f"/activity/{failed.id}/retry/", {"user_data": user_data})
    assert retried.status_code == 302
    new = wait_op(Operation.objects.exclude(id=failed.id).get(kind="server.launch", target_name=failed.target_name).id)
    assert new.state == State.SUCCEEDED, (new.display_message, new.steps)
    assert _nova_user_data(stratus, new.target_id) == user_data
    assert secret not in raw_row(new.id)


def test_the_migration_erases_old_rows_user_data_and_seals_a_running_launchs(db):
    """Rows written before sealing kept user data in `params`: a finished launch's is erased, a running one's
    sealed (its worker still needs it)."""
    import importlib

    from django.apps import apps as registry

    migration = importlib.import_module("apps.operations.migrations.0003_sealed_params")
    common = {"user_id": "u", "project_id": "p", "kind": "server.launch", "target_type": "server"}
    done = Operation.objects.create(**common, state=State.FAILED, params={"name": "a", "user_data": "#!/bin/sh\nx"})
    running = Operation.objects.create(**common, state=State.RUNNING, params={"name": "b", "user_data": "#!/bin/sh\ny"})
    plain = Operation.objects.create(**common, state=State.SUCCEEDED, params={"name": "c", "user_data": ""})
    migration.seal_or_erase(registry, None)
    for op in (done, running, plain):
        op.refresh_from_db()
    assert done.params == {"name": "a", "secret_params": ["user_data"]} and done.sealed_params == ""
    assert running.params == {"name": "b", "secret_params": ["user_data"]}
    assert crypto.unseal_params(running.sealed_params) == {"user_data": "#!/bin/sh\ny"}
    assert plain.params == {"name": "c"} and plain.sealed_params == ""
    # Rolled back, the running launch gets its user data back in `params` (the older code reads it there); the
    # erased one stays erased.
    migration.unseal(registry, None)
    for op in (done, running, plain):
        op.refresh_from_db()
    assert running.params == {"name": "b", "user_data": "#!/bin/sh\ny"} and running.sealed_params == ""
    assert done.params == {"name": "a", "secret_params": ["user_data"]}
    # Sealed with another key: the rollback stops and says which operation, rather than losing it silently.
    from cryptography.fernet import Fernet

    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"user_data": "z"}').decode()
    other = Operation.objects.create(**common, state=State.PENDING, params={"name": "d"}, sealed_params=foreign)
    with pytest.raises(RuntimeError, match=str(other.id)):
        migration.unseal(registry, None)
