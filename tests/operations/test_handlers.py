"""Every server handler against the cloud with a real worker: each ends in its state (checked through
openstacksdk), "already done" is success, and the cloud's refusals fail at once with its message."""

from __future__ import annotations

import uuid

import pytest

from apps.operations.models import State
from apps.operations.services import dispatch
from tests.cloudharness import active
from tests.operations.conftest import make_server, server_gone, wait_op

pytestmark = [pytest.mark.worker]


def run(creds, kind: str, server, **params):
    op = dispatch(
        creds=creds, kind=kind, target_type="server", target_id=server.id, target_name=server.name, params=params
    )
    return wait_op(op.id)


def test_every_action_reaches_its_state(worker, member_creds, sdk, boot):
    server = make_server(sdk, boot, "ops-all-1")
    resize = [sdk.compute.find_flavor(n, ignore_missing=False) for n in active().resize_flavors or ()]

    def ok(kind: str, **params):
        op = run(member_creds, kind, server, **params)
        assert op.state == State.SUCCEEDED, (kind, op.display_message, op.steps)
        return op, (None if kind == "server.delete" else sdk.compute.get_server(server.id))

    _, s = ok("server.reboot", hard=False)
    assert s.status == "ACTIVE"
    _, s = ok("server.reboot", hard=True)
    assert s.status == "ACTIVE"
    _, s = ok("server.lock", reason="maintenance")
    assert s.is_locked
    locked_stop = run(member_creds, "server.stop", server)  # Nova refuses a member's action on a locked server
    assert locked_stop.state == State.FAILED and locked_stop.attempts == 1 and locked_stop.display_message
    _, s = ok("server.unlock")
    assert not s.is_locked
    op, s = ok("server.rename", name="ops-all-renamed")
    assert s.name == "ops-all-renamed" and op.target_name == "ops-all-1"
    op, _ = ok("server.snapshot", name="ops-all-snap")
    image = sdk.image.get_image(op.result["image_id"])
    assert image.status == "active" and image.name == "ops-all-snap"
    assert op.target_id == server.id  # the target stays the server
    if resize:  # where the cloud can resize (TestCloud.resize_flavors)
        first, second = resize
        _, s = ok("server.resize", flavor_id=first.id)
        assert s.status == "VERIFY_RESIZE"
        _, s = ok("server.confirm_resize")
        assert s.status == "ACTIVE" and s.flavor["original_name"] == first.name
        _, s = ok("server.resize", flavor_id=second.id)
        assert s.status == "VERIFY_RESIZE"
        _, s = ok("server.revert_resize")
        assert s.status == "ACTIVE" and s.flavor["original_name"] == first.name
    _, s = ok("server.rebuild", image_id=boot["image_id"])
    assert s.status == "ACTIVE"
    _, s = ok("server.pause")
    assert s.status == "PAUSED"
    _, s = ok("server.unpause")
    assert s.status == "ACTIVE"
    _, s = ok("server.suspend")
    assert s.status == "SUSPENDED"
    _, s = ok("server.resume")
    assert s.status == "ACTIVE"
    _, s = ok("server.stop")
    assert s.status == "SHUTOFF"
    again, _ = ok("server.stop")  # already stopped: success, nothing done
    assert [step["text"] for step in again.steps][0] == "Already done; nothing to change"
    _, s = ok("server.start")
    assert s.status == "ACTIVE"
    ok("server.delete")
    assert server_gone(sdk, server.id)
    gone = run(member_creds, "server.delete", server)  # already deleted: success
    assert gone.state == State.SUCCEEDED and gone.steps[0]["text"] == "Already deleted"


def test_a_launch_over_quota_fails_at_once_with_novas_message(worker, member_creds, boot, stratus):
    import openstack

    # A private flavor with one vCPU more than the project's quota: over quota without changing the quota (a real
    # cloud's project is shared with the tests running beside this one, and Nova refuses a quota under the usage).
    admin = openstack.connect(cloud=stratus.admin.name)
    project = admin.identity.find_project(stratus.member.project_name)
    cores = admin.compute.get_quota_set(project.id).cores
    small = admin.compute.get_flavor(boot["flavor_id"])
    flavor = admin.compute.create_flavor(
        name=f"ops-quota-{uuid.uuid4().hex[:6]}", ram=small.ram, disk=small.disk, vcpus=cores + 1, is_public=False
    )
    try:
        admin.compute.flavor_add_tenant_access(flavor, project.id)
        op = dispatch(
            creds=member_creds,
            kind="server.launch",
            target_type="server",
            target_name="ops-quota-1",
            params={
                "name": "ops-quota-1",
                "source_type": "image",
                "networks": "none",
                **boot,
                "flavor_id": flavor.id,
            },
        )
        op = wait_op(op.id)
    finally:
        admin.compute.delete_flavor(flavor)
    assert op.state == State.FAILED
    assert op.attempts == 1
    assert "quota" in op.display_message.lower()


def test_it_launches_from_an_image_onto_a_new_volume(worker, member_creds, sdk, boot):
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-bfv-1",
        params={
            "name": "ops-bfv-1",
            "source_type": "image_to_volume",
            "volume_size": 1,
            "delete_on_termination": True,
            "networks": "none",
            "user_data": "#cloud-config\n",
            "metadata": {"role": "web"},
            "description": "booted from a volume",
            **boot,
        },
    )
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.display_message, op.steps)
    server = sdk.compute.get_server(op.target_id)
    assert server.status == "ACTIVE"
    assert server.metadata.get("role") == "web"
    assert server.attached_volumes
