"""The runner's bookkeeping without a worker process: claims, takeover of a dead worker's row, the reaper,
and the credentials at rest."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.cloud.connection import Credentials
from apps.operations import crypto, runner
from apps.operations.models import Operation, State

BODY = {"user": {"id": "u1", "name": "demo"}, "project": {"id": "p1", "name": "demo"}, "roles": [{"name": "member"}]}


def _op(**fields) -> Operation:
    base = {"user_id": "u1", "project_id": "p1", "kind": "server.stop", "target_type": "server", "target_id": "s1"}
    base.update(fields)
    return Operation.objects.create(**base)


@pytest.mark.django_db
def test_a_claim_is_taken_once():
    op = _op()
    first = runner.claim(str(op.id), task_id="t1", worker="w1@h")
    assert first is not None and first.state == State.RUNNING and first.attempts == 1 and first.worker == "w1@h"
    assert runner.claim(str(op.id), task_id="t1", worker="w2@h") is None  # alive elsewhere: a duplicate


@pytest.mark.django_db
def test_a_row_whose_worker_went_quiet_is_taken_over(settings):
    settings.STRATUS_OPERATION_STALE_SECONDS = 30
    op = _op(state=State.RUNNING, attempts=1, worker="w1@h", heartbeat_at=timezone.now() - timedelta(seconds=90))
    taken = runner.claim(str(op.id), task_id="t2", worker="w2@h")
    assert taken is not None and taken.attempts == 2 and taken.worker == "w2@h"


@pytest.mark.django_db
def test_finished_rows_are_not_claimed():
    op = _op(state=State.SUCCEEDED)
    assert runner.claim(str(op.id), task_id="t", worker="w") is None
    assert runner.claim(str(uuid.uuid4()), task_id="t", worker="w") is None


@pytest.mark.django_db
def test_the_reaper_fails_quiet_operations_with_a_reason(settings):
    settings.STRATUS_OPERATION_STALE_SECONDS = 60
    settings.STRATUS_OPERATION_PENDING_TIMEOUT = 600
    quiet = _op(state=State.RUNNING, attempts=1, credentials="x", heartbeat_at=timezone.now() - timedelta(minutes=5))
    alive = _op(state=State.RUNNING, attempts=1, heartbeat_at=timezone.now())
    lost = _op(state=State.PENDING)
    Operation.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(hours=1))
    fresh = _op(state=State.PENDING)
    assert runner.reap_stale() == 2
    quiet.refresh_from_db()
    assert quiet.state == State.FAILED and quiet.credentials == "" and quiet.finished_at
    assert "stopped responding (no heartbeat for 300 s)" in quiet.display_message
    lost.refresh_from_db()
    assert lost.state == State.FAILED and "No worker picked this operation up" in lost.display_message
    assert Operation.objects.get(id=alive.id).state == State.RUNNING
    assert Operation.objects.get(id=fresh.id).state == State.PENDING


@pytest.mark.django_db
def test_the_reason_is_shown_in_vietnamese_too(settings):
    from django.utils import translation

    settings.STRATUS_OPERATION_STALE_SECONDS = 60
    op = _op(state=State.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=5))
    runner.reap_stale()
    op.refresh_from_db()
    with translation.override("vi"):
        text = op.display_message
    assert "300" in text and "stopped responding" not in text


def test_credentials_are_sealed():
    creds = Credentials(token="gAAAA-secret-token", body=BODY, auth_url="http://x/identity/v3")
    sealed = crypto.seal(creds)
    assert "secret-token" not in sealed and "demo" not in sealed
    assert crypto.unseal(sealed) == creds
    assert crypto.unseal("") is None
    assert crypto.unseal("not-fernet") is None


def test_only_502_503_504_and_connection_errors_are_transient():
    from openstack import exceptions as sdk

    from apps.cloud.errors import Conflict, Unavailable

    def wrapped(status: int) -> Unavailable:
        err = Unavailable("x")
        err.__cause__ = sdk.HttpException(message="x", http_status=status)
        return err

    assert runner.is_transient(wrapped(503)) and runner.is_transient(wrapped(502)) and runner.is_transient(wrapped(504))
    assert not runner.is_transient(wrapped(500))
    assert runner.is_transient(Unavailable("connection refused"))
    assert not runner.is_transient(Conflict("no"))
