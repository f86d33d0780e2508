"""What happens when things go wrong: a worker killed mid-launch, a cloud answering 503, a state conflict,
an unreachable queue; and what travels through Redis (never the token)."""

from __future__ import annotations

import base64
import json

import kombu
import pytest
import redis
from django.conf import settings

from apps.operations.models import Operation, State
from apps.operations.services import dispatch
from tests.operations.conftest import make_server, servers_tagged, wait_op, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.devcloud_only]


@pytest.mark.parametrize("moment", ["while-waiting", "during-the-create-call"])
def test_it_completes_a_launch_with_one_server_after_the_worker_is_killed(
    moment, worker_factory, member_creds, sdk, boot, devcloud, clear_faults
):
    worker = worker_factory("w1")
    if moment == "while-waiting":
        # Every GET of the new server stalls, so the kill lands after the create, while the launch waits.
        fault = {"service": "compute", "method": "GET", "path": r"/servers/[0-9a-f-]{36}$", "stall": 30, "count": 3}
    else:
        # Nova takes 3 s to answer the create: the worker dies with the call in flight, and Nova still makes
        # the server afterwards. The resumed launch must find it rather than create a second one.
        fault = {"service": "compute", "method": "POST", "path": r"/servers$", "stall": 3, "count": 1}
    devcloud.control("faults", fault)
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-crash-1",
        params={"name": "ops-crash-1", "source_type": "image", "networks": "none", **boot},
    )
    if moment == "while-waiting":
        wait_until(lambda: Operation.objects.get(id=op.id).target_id, what="the server to be created", timeout=60)
    else:
        wait_until(
            lambda: any(st["text"] == "Creating the instance" for st in Operation.objects.get(id=op.id).steps),
            what="the create call to be sent",
            timeout=60,
        )
        assert not Operation.objects.get(id=op.id).target_id
    assert Operation.objects.get(id=op.id).state == State.RUNNING
    worker.kill()
    devcloud.control("faults", method="DELETE")  # (a create already stalled in devcloud still completes)

    # A worker starts again under the same node name: it re-queues what its previous incarnation left running.
    worker_factory("w1")
    done = wait_op(op.id)
    assert done.state == State.SUCCEEDED, (done.message, done.steps)
    assert done.attempts == 2
    tagged = servers_tagged(sdk, f"op-{op.id}")
    assert len(tagged) == 1
    assert tagged[0].id == done.target_id
    assert tagged[0].status == "ACTIVE"
    assert [s.id for s in sdk.compute.servers(name="^ops-crash-1$")] == [done.target_id]


def test_it_retries_transient_503s_with_backoff_and_succeeds(
    worker_factory, monkeypatch, member_creds, sdk, boot, devcloud, clear_faults
):
    monkeypatch.setenv("STRATUS_OPERATION_RETRY_BASE", "0.5")
    worker_factory()
    server = make_server(sdk, boot, "ops-503-1")
    devcloud.control("faults", {"service": "compute", "method": "POST", "path": r"/action$", "status": 503, "count": 2})
    op = dispatch(
        creds=member_creds, kind="server.stop", target_type="server", target_id=server.id, target_name=server.name
    )
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    assert op.attempts == 3  # two transient failures, then success
    retries = [s for s in op.steps if s["text"].startswith("The cloud is not answering")]
    assert len(retries) == 2
    assert retries[0]["args"]["seconds"] < retries[1]["args"]["seconds"]  # backoff grows
    assert sdk.compute.get_server(server.id).status == "SHUTOFF"


def test_it_fails_at_once_with_novas_message_on_a_conflict(
    worker, member_client, member_creds, sdk, boot, clear_faults
):
    server = make_server(sdk, boot, "ops-409-1", status="SHUTOFF")
    op = dispatch(
        creds=member_creds, kind="server.pause", target_type="server", target_id=server.id, target_name=server.name
    )
    op = wait_op(op.id)
    assert op.state == State.FAILED
    assert op.attempts == 1  # no retry for a 409
    assert "Cannot 'pause' instance" in op.message
    assert op.request_id.startswith("req-")
    page = member_client.get(f"/activity/{op.id}/").content.decode()
    assert "Cannot &#x27;pause&#x27; instance" in page or "Cannot 'pause' instance" in page
    assert sdk.compute.get_server(server.id).status == "SHUTOFF"


def test_it_fails_a_launch_with_the_servers_fault(worker, member_creds, sdk, boot, devcloud, clear_faults):
    devcloud.control("build-failures", {"count": 1, "message": "No valid host was found."})
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-nohost-1",
        params={"name": "ops-nohost-1", "source_type": "image", "networks": "none", **boot},
    )
    op = wait_op(op.id)
    assert op.state == State.FAILED
    assert op.message == "No valid host was found."
    assert sdk.compute.get_server(op.target_id).status == "ERROR"


def _text(body: str | bytes) -> str:
    return body.decode() if isinstance(body, bytes) else body


def _queued(queue: str) -> list[tuple[str, str]]:
    """(body, the rest of the message) of each task message waiting in the queue, left there: a Redis list's
    items (kombu's envelope, the body base64-encoded), or RabbitMQ's messages (taken unacknowledged and returned)."""
    if not settings.BROKER_IS_AMQP:
        r = redis.Redis.from_url(settings.REDIS_URL)
        found = []
        for raw in r.lrange(queue, 0, -1):
            envelope = json.loads(raw)
            found.append((base64.b64decode(envelope["body"]).decode(), raw.decode()))
        return found
    with kombu.Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        taken = []
        while (message := kombu.Queue(queue, channel=channel).get(no_ack=False)) is not None:
            taken.append(message)
        found = [(_text(m.body), json.dumps([m.headers, m.properties], default=str)) for m in taken]
        for message in taken:
            message.requeue()
        return found


def test_broker_messages_never_hold_the_token(worker_factory, member_creds, boot):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-secret-1",
        params={"name": "ops-secret-1", "source_type": "image", "networks": "none", **boot},
    )
    ((body, rest),) = [m for m in _queued(queue) if str(op.id) in m[0]]
    everything = body + rest
    assert member_creds.token not in everything
    assert member_creds.token[:16] not in everything
    assert "catalog" not in everything
    # At rest, the row holds the credentials only encrypted.
    row = Operation.objects.get(id=op.id)
    assert row.credentials and member_creds.token not in row.credentials

    worker = worker_factory()
    done = wait_op(op.id)
    assert done.state == State.SUCCEEDED
    assert done.credentials == ""
    r = redis.Redis.from_url(settings.REDIS_URL)  # the cache (and, by default, the broker) holds no token either
    for key in r.scan_iter("*"):
        if r.type(key) == b"list":
            values = r.lrange(key, 0, -1)
        elif r.type(key) == b"hash":
            values = list(r.hgetall(key).values())
        elif r.type(key) == b"string":
            values = [r.get(key)]
        else:
            continue
        assert not any(member_creds.token.encode() in v for v in values if v), key
    assert member_creds.token not in worker.log()


def test_a_token_revoked_mid_operation_fails_it_as_session_expired(
    worker, member_creds, sdk, boot, devcloud, clear_faults
):
    import urllib.request

    from tests.cloudharness import admin_token

    server = make_server(sdk, boot, "ops-expire-1")
    # Hold the stop in its waiting phase, then revoke the user's token (as Keystone does when it expires).
    devcloud.control(
        "faults", {"service": "compute", "method": "GET", "path": r"/servers/[0-9a-f-]{36}$", "stall": 2, "count": 2}
    )
    op = dispatch(
        creds=member_creds, kind="server.stop", target_type="server", target_id=server.id, target_name=server.name
    )
    wait_until(lambda: any(s["text"] == "Stopping" for s in Operation.objects.get(id=op.id).steps), what="stopping")
    req = urllib.request.Request(
        devcloud.auth_url + "/auth/tokens",
        method="DELETE",
        headers={"X-Auth-Token": admin_token(devcloud), "X-Subject-Token": member_creds.token},
    )
    urllib.request.urlopen(req, timeout=10).read()
    op = wait_op(op.id)
    assert op.state == State.FAILED
    assert op.display_message == "Your session expired before the operation finished. Sign in again and retry."
    assert op.credentials == ""


def test_an_expired_token_fails_at_once(worker, member_creds, boot):
    from apps.cloud.connection import Credentials

    expired = Credentials.from_dict(
        {**member_creds.to_dict(), "body": {**member_creds.body, "expires_at": "2020-01-01T00:00:00.000000Z"}}
    )
    op = dispatch(creds=expired, kind="server.start", target_type="server", target_id="x", target_name="x")
    op = wait_op(op.id)
    assert op.state == State.FAILED
    assert "session expired" in op.display_message


def test_a_launch_whose_create_timed_out_still_makes_one_server(
    worker_factory, monkeypatch, member_creds, sdk, boot, devcloud, clear_faults
):
    """Nova makes the server but the answer never comes back in time: the retry finds it by its tag."""
    monkeypatch.setenv("STRATUS_CLOUD_TIMEOUT", "2")
    monkeypatch.setenv("STRATUS_OPERATION_RETRY_BASE", "0.2")
    worker_factory()
    devcloud.control("faults", {"service": "compute", "method": "POST", "path": r"/servers$", "stall": 4, "count": 1})
    op = dispatch(
        creds=member_creds,
        kind="server.launch",
        target_type="server",
        target_name="ops-timeout-1",
        params={"name": "ops-timeout-1", "source_type": "image", "networks": "none", **boot},
    )
    op = wait_op(op.id)
    assert op.state == State.SUCCEEDED, (op.display_message, op.steps)
    assert op.attempts == 2
    assert any(s["text"].startswith("Looking for the instance") for s in op.steps)
    assert len(servers_tagged(sdk, f"op-{op.id}")) == 1
    assert len(list(sdk.compute.servers(name="^ops-timeout-1$"))) == 1
