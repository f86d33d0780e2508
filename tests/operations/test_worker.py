"""Operations end to end: a real Celery worker process on the real Redis, against the cloud over HTTP."""

from __future__ import annotations

import pytest

from apps.operations.models import State
from apps.operations.services import dispatch
from tests.operations.conftest import server_gone, servers_tagged, wait_op

pytestmark = [pytest.mark.worker]


def test_it_launches_and_deletes_a_server(worker, member_client, member_creds, sdk, boot):
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-launch-1",
        params={"name": "ops-launch-1", "source_type": "image", "networks": "none", **boot},
    )
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps, worker.log()[-3000:])
    assert op.target_id
    assert op.credentials == ""  # the token is erased when the operation ends
    server = sdk.compute.get_server(op.target_id)
    assert server.status == "ACTIVE"
    assert server.name == "ops-launch-1"
    assert servers_tagged(sdk, f"op-{op.id}") != []

    delete = dispatch(
        creds=member_creds, kind="server.delete", target_type="server", target_id=server.id, target_name=server.name
    )
    delete = wait_op(delete.id)
    assert delete.state == State.SUCCEEDED, delete.message
    assert server_gone(sdk, server.id)

    # The Activity page shows both, newest first, as succeeded.
    page = member_client.get("/activity/").content.decode()
    assert page.index("Delete ops-launch-1") < page.index("Launch ops-launch-1")
    for op_id in (op.id, delete.id):
        row = page[page.index(f'id="op-{op_id}"') :]
        assert '<span class="badge succeeded">Succeeded</span>' in row[: row.index("</tr>")]


def test_a_bulk_action_makes_one_followed_operation_per_target(worker, member_client, member_creds, sdk, boot):
    from apps.operations.services import dispatch_many
    from tests.operations.conftest import make_server

    servers = [make_server(sdk, boot, f"ops-bulk-{i}") for i in range(3)]
    ops = dispatch_many(creds=member_creds, kind="server.stop", targets=[(s.id, s.name) for s in servers], params={})
    assert len({op.id for op in ops}) == 3
    assert {op.target_id for op in ops} == {s.id for s in servers}
    for op in ops:
        assert wait_op(op.id).state == State.SUCCEEDED
    assert {sdk.compute.get_server(s.id).status for s in servers} == {"SHUTOFF"}
    page = member_client.get("/activity/?kind=server.stop").content.decode()
    for s in servers:
        assert f"Stop {s.name}" in page
