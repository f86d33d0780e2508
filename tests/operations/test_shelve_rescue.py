"""Shelve, unshelve, rescue, unrescue and back up as operations run by a real worker against the cloud: each ends
in its state (checked through openstacksdk), the rescue's password is sealed on the operation and handed out
once, and Nova's refusal (shelving a shelved server) is the operation's message, with nothing changed."""

from __future__ import annotations

import pytest

from apps.instances import services
from apps.operations.models import State
from tests.operations.conftest import make_server, wait_op

pytestmark = [pytest.mark.worker]


def run(creds, action: str, server, **params):
    op = services.server_action(creds=creds, server_id=server.id, server_name=server.name, action=action, params=params)
    return wait_op(op.id)


def test_shelve_unshelve_and_a_shelve_of_a_shelved_server(worker, member_creds, sdk, boot):
    server = make_server(sdk, boot, "ops-shelve-1")
    op = run(member_creds, "shelve", server)
    assert op.state == State.SUCCEEDED, op.display_message
    shelved = sdk.compute.get_server(server.id)
    assert shelved.status == "SHELVED_OFFLOADED"
    assert [i.name for i in sdk.image.images(name="ops-shelve-1-shelved")] == ["ops-shelve-1-shelved"]

    again = run(member_creds, "shelve", server)
    assert again.state == State.FAILED
    assert again.display_message == (
        f"Cannot 'shelve' instance {server.id} while it is in vm_state shelved_offloaded"
    )  # Nova's own words (409), with its request id for the operator
    assert again.request_id.startswith("req-") and again.attempts == 1
    assert sdk.compute.get_server(server.id).status == "SHELVED_OFFLOADED"
    assert len(list(sdk.image.images(name="ops-shelve-1-shelved"))) == 1

    op = run(member_creds, "unshelve", server)
    assert op.state == State.SUCCEEDED, op.display_message
    assert sdk.compute.get_server(server.id).status == "ACTIVE"
    assert list(sdk.image.images(name="ops-shelve-1-shelved")) == []


def test_rescue_keeps_its_password_sealed_until_shown_once(worker, member_creds, sdk, boot):
    server = make_server(sdk, boot, "ops-rescue-1")
    op = run(member_creds, "rescue", server, image_id=boot["image_id"])
    assert op.state == State.SUCCEEDED, op.display_message
    assert sdk.compute.get_server(server.id).status == "RESCUE"
    sealed = op.result["admin_pass_sealed"]
    assert sealed and len(sealed) > 40  # Fernet, not the password itself
    assert services.rescue_password_waiting(creds=member_creds, server_id=server.id)
    password = services.take_rescue_password(creds=member_creds, server_id=server.id)
    assert password and password not in sealed
    assert services.take_rescue_password(creds=member_creds, server_id=server.id) is None
    op.refresh_from_db()
    assert "admin_pass_sealed" not in op.result and op.result["admin_pass_shown"] is True

    op = run(member_creds, "unrescue", server)
    assert op.state == State.SUCCEEDED, op.display_message
    assert sdk.compute.get_server(server.id).status == "ACTIVE"


def test_backup_makes_a_backup_image_and_rotates(worker, member_creds, sdk, boot):
    server = make_server(sdk, boot, "ops-backup-1")
    ids = []
    for n in (1, 2):
        op = run(member_creds, "backup", server, name=f"ops-backup-1-w{n}", backup_type="weekly", rotation=1)
        assert op.state == State.SUCCEEDED, op.display_message
        ids.append(op.result["image_id"])
    image = sdk.image.get_image(ids[1])
    assert image.status == "active"
    assert (image.properties["image_type"], image.properties["backup_type"]) == ("backup", "weekly")
    assert [i.id for i in sdk.image.images(name="ops-backup-1-w1")] == []  # rotation 1: the older one is gone
