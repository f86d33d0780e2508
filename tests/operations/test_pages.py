"""Activity pages through the Django test client (no browser): list, filters, paging, detail, access, retry,
the tracker, and the message when the queue is unreachable."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from apps.accounts.session import read
from apps.cloud.connection import Credentials
from apps.operations.models import Operation, State
from tests.conftest import sign_in_client
from tests.operations.conftest import operation_row


def _creds(client: Client) -> Credentials:
    return read(client.session)


def _row(creds: Credentials, **fields) -> Operation:
    return operation_row(creds, **fields)


def test_it_lists_the_projects_operations_newest_first(member_client):
    creds = _creds(member_client)
    _row(creds, target_name="older-1")
    _row(creds, target_name="newer-1", kind="server.launch", state=State.RUNNING)
    page = member_client.get("/activity/").content.decode()
    assert page.index("Launch newer-1") < page.index("Stop older-1")
    assert 'hx-trigger="every 2s"' in page  # something is in flux: the table polls


def test_it_filters_by_state_and_kind(member_client):
    creds = _creds(member_client)
    _row(creds, target_name="ok-1")
    _row(creds, target_name="bad-1", state=State.FAILED, message="No valid host was found.")
    _row(creds, target_name="launch-1", kind="server.launch")
    failed = member_client.get("/activity/?state=failed").content.decode()
    assert "Stop bad-1" in failed and "No valid host was found." in failed
    assert "Stop ok-1" not in failed
    launches = member_client.get("/activity/?kind=server.launch").content.decode()
    assert "Launch launch-1" in launches and "Stop ok-1" not in launches
    assert 'hx-trigger="every 2s"' not in launches  # nothing in flux: no polling


def test_it_pages(member_client):
    creds = _creds(member_client)
    for i in range(30):
        _row(creds, target_name=f"srv-{i:02d}")
    first = member_client.get("/activity/").content.decode()
    assert "Page 1 of 2" in first and "Stop srv-29" in first and "Stop srv-00" not in first
    second = member_client.get("/activity/?page=2").content.decode()
    assert "Stop srv-00" in second and "Stop srv-29" not in second


def test_it_answers_htmx_with_the_table_only(member_client):
    _row(_creds(member_client), state=State.RUNNING)
    partial = member_client.get("/activity/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="activity-table"')
    assert "<html" not in partial


def test_it_shows_an_operation_with_its_steps(member_client):
    creds = _creds(member_client)
    now = timezone.now().isoformat()
    op = _row(
        creds,
        state=State.FAILED,
        message="Cannot 'stop' instance x while it is in vm_state stopped",
        request_id="req-1234",
        steps=[{"text": "Stopping", "args": {}, "at": now, "progress": 10}],
    )
    page = member_client.get(f"/activity/{op.id}/").content.decode()
    assert "Stop web-1" in page
    assert "Stopping" in page
    assert "req-1234" in page
    assert "Retry" in page
    assert f"openstack server stop {op.target_id}" in page
    assert f"/activity/?target={op.target_id}" in page
    other = _row(creds, target_name="web-2")
    history = member_client.get(f"/activity/?target={op.target_id}").content.decode()
    assert f"op-{op.id}" in history and f"op-{other.id}" not in history


def test_another_project_gets_404(stratus, member_client, admin_client):
    op = _row(_creds(member_client))
    assert admin_client.get(f"/activity/{op.id}/").status_code == 404
    assert f"/activity/{op.id}/" not in admin_client.get("/activity/").content.decode()
    assert member_client.get(f"/activity/{op.id}/").status_code == 200


def test_signed_out_goes_to_sign_in(db):
    response = Client().get("/activity/")
    assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_the_tracker_polls_only_while_something_is_in_flux(member_client):
    creds = _creds(member_client)
    idle = member_client.get("/activity/tracker/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in idle
    op = _row(creds, state=State.RUNNING)
    busy = member_client.get("/overview/").content.decode()
    assert 'id="op-tracker"' in busy and "every 2s" in busy and "1 operation in progress" in busy
    Operation.objects.filter(id=op.id).update(state=State.SUCCEEDED, finished_at=timezone.now())
    response = member_client.get("/activity/tracker/", HTTP_HX_REQUEST="true")
    assert "stratus:operation-finished" in response["HX-Trigger"] and str(op.id) in response["HX-Trigger"]
    done = response.content.decode()
    assert "every 2s" not in done
    assert "Stop web-1: done." in done and 'hx-swap-oob="beforeend:#toasts"' in done
    again = member_client.get("/activity/tracker/", HTTP_HX_REQUEST="true").content.decode()
    assert "Stop web-1: done." not in again  # announced once


def test_an_unreachable_broker_shows_a_message_and_makes_nothing(member_client, monkeypatch):
    from apps.operations import services
    from dashboard.celery import app
    from tests.cloudharness import free_port

    creds = _creds(member_client)
    failed = _row(creds, kind="server.start", state=State.FAILED, message="boom")
    before = Operation.objects.count()
    saved = app.conf.broker_url
    monkeypatch.setattr(services, "_broker_seen_at", 0.0)  # forget that the broker answered a moment ago
    # Nothing listens there: the broker is unreachable.
    scheme = "amqp://guest:guest@" if django_settings.BROKER_IS_AMQP else "redis://"
    unreachable = f"{scheme}127.0.0.1:{free_port()}/0"
    app.conf.broker_url = unreachable
    if "CELERY_BROKER_URL" in os.environ:  # Celery reads its broker from this variable before its settings
        monkeypatch.setenv("CELERY_BROKER_URL", unreachable)
    try:
        response = member_client.post(f"/activity/{failed.id}/retry/", follow=True)
    finally:
        app.conf.broker_url = saved
    page = response.content.decode()
    broker = django_settings.STRATUS_BROKER_NAME
    assert f"The task queue ({broker}) cannot be reached, so nothing was done." in page
    assert Operation.objects.count() == before


@pytest.mark.worker
def test_retry_runs_a_failed_operation_again(worker, stratus, sdk, boot, transactional_db):
    from tests.operations.conftest import make_server, wait_op

    client = sign_in_client(Client(), stratus.member)
    creds = _creds(client)
    server = make_server(sdk, boot, "ops-retry-1")
    failed = _row(creds, kind="server.stop", target_id=server.id, target_name=server.name, state=State.FAILED)
    response = client.post(f"/activity/{failed.id}/retry/")
    assert response.status_code == 302
    new = Operation.objects.exclude(id=failed.id).get(target_id=server.id)
    assert response["Location"] == f"/activity/{new.id}/"
    assert wait_op(new.id).state == State.SUCCEEDED
    assert sdk.compute.get_server(server.id).status == "SHUTOFF"


def test_an_htmx_action_wakes_the_tracker_with_its_start_toast(member_client):
    """A view that dispatches from htmx sets HX-Trigger (notify_tracker); the woken tracker shows the message
    the view queued as a toast, and starts polling."""
    from django.http import HttpResponse

    from apps.operations.views import notify_tracker

    assert notify_tracker(HttpResponse())["HX-Trigger"] == "stratus:operations"
    page = member_client.get("/overview/").content.decode()
    assert 'hx-trigger="stratus:operations from:body"' in page
    failed = _row(_creds(member_client), kind="server.start", target_name="web-9", state=State.FAILED)
    member_client.post(f"/activity/{failed.id}/retry/")  # queues "Start web-9: started again…" (no worker here)
    woken = member_client.get("/activity/tracker/?messages=1", HTTP_HX_REQUEST="true").content.decode()
    assert "Start web-9: started again…" in woken and 'hx-swap-oob="beforeend:#toasts"' in woken
    assert "every 2s" in woken and "1 operation in progress" in woken


def test_a_calm_tracker_costs_no_query_and_wakes_for_a_new_operation(member_client, django_assert_num_queries):
    from django.core.cache import cache

    from apps.operations import selectors

    creds = _creds(member_client)
    assert selectors.tracker_state(creds=creds) == (0, False)  # asked the database, then remembered "calm"
    with django_assert_num_queries(0):
        assert selectors.tracker_state(creds=creds) == (0, False)
    # A page that read the database just before an operation was made writes "calm" after it: not believed.
    gen_key, calm_key = selectors.calm_keys(creds.project_id, creds.user_id)
    seen_gen = cache.get(gen_key, 0)
    op = _row(creds, state=State.RUNNING)
    cache.set(calm_key, seen_gen, 60)
    assert selectors.tracker_state(creds=creds) == (1, False)
    assert "1 operation in progress" in member_client.get("/keypairs/").content.decode()
    Operation.objects.filter(id=op.id).update(state=State.SUCCEEDED, finished_at=timezone.now())
    assert selectors.tracker_state(creds=creds) == (0, True)  # finished, not announced yet: not calm


def test_rows_ask_for_their_operations_only_while_the_project_has_one_in_progress(
    member_client, django_assert_num_queries
):
    from apps.operations import selectors

    creds = _creds(member_client)
    target = str(uuid.uuid4())
    assert selectors.active_operations(creds=creds, target_type="server", target_ids=[target]) == {}
    with django_assert_num_queries(0):  # the project is calm: no query
        assert selectors.active_operations(creds=creds, target_type="server", target_ids=[target]) == {}
    op = _row(creds, state=State.PENDING, target_id=target)  # made by another user of the project, say
    assert selectors.active_operations(creds=creds, target_type="server", target_ids=[target]) == {target: op}
