"""Writes: `dispatch()` creates an operation and sends its Celery task (the operation id only) on commit."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from amqp.exceptions import AMQPError
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from apps.cloud.connection import Credentials
from apps.operations import crypto
from apps.operations.models import FINAL_STATES, Operation, State
from apps.operations.registry import get_handler
from apps.operations.selectors import NOTIFY_WINDOW, calm_keys, may_retry, secrets_to_ask
from dashboard.cache import optional
from dashboard.celery import app

log = logging.getLogger(__name__)


class DispatchError(Exception):
    """The operation could not be queued (the broker is unreachable). Nothing was left behind."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _unreachable() -> DispatchError:
    return DispatchError(
        _("The task queue (%(broker)s) cannot be reached, so nothing was done. Please try again in a moment.")
        % {"broker": settings.STRATUS_BROKER_NAME}
    )


_broker_seen_at = 0.0
BROKER_CHECK_TTL = 5.0  # seconds a successful check is trusted (a failed publish still cleans up after itself)
# What a broker that is down or refuses raises: kombu wraps connection failures in OperationalError (a KombuError);
# a socket, Redis or AMQP error may still come through unwrapped from a connection that broke mid-publish.
BROKER_ERRORS = (KombuError, OSError, RedisError, AMQPError)


def _check_broker() -> None:
    """Fail fast, before anything is written, when the broker does not answer."""
    global _broker_seen_at
    if time.monotonic() - _broker_seen_at < BROKER_CHECK_TTL:
        return
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except BROKER_ERRORS as exc:
        _broker_seen_at = 0.0
        log.warning("broker unreachable: %s", exc)
        raise _unreachable() from None
    _broker_seen_at = time.monotonic()


RUN_TASK = "operations.run"


def send(op: Operation) -> None:
    """Send the task for this operation (its id only). Raises DispatchError when the broker refuses."""
    global _broker_seen_at
    try:
        # By the task's name (apps/operations/tasks.py), so that this module needs nothing of the worker's side.
        app.send_task(RUN_TASK, args=(str(op.id),), task_id=op.celery_task_id or None, retry=False)
    except BROKER_ERRORS as exc:
        _broker_seen_at = 0.0
        log.warning("could not queue operation %s: %s", op.id, exc)
        raise _unreachable() from None


def _new(
    *, creds: Credentials, kind: str, target_type: str, target_id: str, target_name: str, params: dict[str, Any]
) -> Operation:
    handler = get_handler(kind)
    if handler is None:
        raise ValueError(f"no operation handler for {kind!r}")
    params, sealed = _split_secrets(handler.secret_params, params)
    return Operation(
        user_id=creds.user_id,
        user_name=creds.user_name,
        project_id=creds.project_id,
        project_name=creds.project_name,
        region=creds.region,
        kind=kind,
        target_type=target_type,
        target_id=str(target_id or ""),
        target_name=target_name or "",
        params=params,
        sealed_params=crypto.seal_params(sealed),
        state=State.PENDING,
        credentials=crypto.seal(creds),
        celery_task_id=str(uuid.uuid4()),
    )


def _split_secrets(secret_names: Iterable[str], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what may rest in clear, what is sealed): the secret parameters given (not empty) are sealed and named
    under "secret_params" in the clear ones; empty ones are dropped."""
    public = {k: v for k, v in params.items() if k not in secret_names and k != "secret_params"}
    sealed = {k: params[k] for k in secret_names if params.get(k)}
    if sealed:
        public["secret_params"] = sorted(sealed)
    return public, sealed


def _dispatch_all(ops: list[Operation]) -> list[Operation]:
    _check_broker()
    sent: list[Operation] = []

    def send_all() -> None:
        for op in ops:
            try:
                send(op)
            except DispatchError:
                # Leave nothing half-made: the operations not queued are removed.
                Operation.objects.filter(id__in=[o.id for o in ops if o not in sent]).delete()
                raise
            sent.append(op)

    with transaction.atomic():
        Operation.objects.bulk_create(ops)
        wake_tracker(ops[0].project_id)  # and again after the commit: a page may read before the rows are visible
        transaction.on_commit(lambda: wake_tracker(ops[0].project_id))
        transaction.on_commit(send_all)
    return ops


def wake_tracker(project_id: str) -> None:
    """A new operation: its project (and the tracker of each user in it) is no longer calm (selectors.calm_keys)."""
    gen_key, _calm_key = calm_keys(project_id)
    with optional("waking the operations tracker"):  # the calm marker then expires by itself (CALM_SECONDS)
        cache.add(gen_key, 0, None)
        cache.incr(gen_key)


def dispatch(
    *,
    creds: Credentials,
    kind: str,
    target_type: str,
    target_id: str = "",
    target_name: str = "",
    params: dict[str, Any] | None = None,
) -> Operation:
    """Create the operation (pending) and queue it. Raises DispatchError when the queue is unreachable."""
    op = _new(
        creds=creds,
        kind=kind,
        target_type=target_type,
        target_id=target_id,
        target_name=target_name,
        params=dict(params or {}),
    )
    return _dispatch_all([op])[0]


def dispatch_many(
    *,
    creds: Credentials,
    kind: str,
    targets: Iterable[tuple[str, str]],
    params: dict[str, Any] | None = None,
    target_type: str = "server",
) -> list[Operation]:
    """One operation per (target id, target name), all queued together (bulk actions)."""
    ops = [
        _new(
            creds=creds,
            kind=kind,
            target_type=target_type,
            target_id=target_id,
            target_name=target_name,
            params=dict(params or {}),
        )
        for target_id, target_name in targets
    ]
    if not ops:
        return []
    return _dispatch_all(ops)


def retry_operation(*, creds: Credentials, operation: Operation, secrets: dict[str, str] | None = None) -> Operation:
    """A new operation doing what a failed one tried, with the user's current credentials; `secrets` are the
    secret parameters asked for again (see secrets_to_ask)."""
    if not may_retry(creds=creds, operation=operation):  # the view says so first; this holds for any caller
        raise PermissionDenied(_("Only the person who started this operation, or an administrator, can retry it."))
    params = {k: v for k, v in (operation.params or {}).items() if k != "secret_params"}
    params.update({k: v for k, v in (secrets or {}).items() if k in secrets_to_ask(operation)})
    return dispatch(
        creds=creds,
        kind=operation.kind,
        target_type=operation.target_type,
        target_id="" if operation.kind == "server.launch" else operation.target_id,
        target_name=operation.target_name,
        params=params,
    )


def announce_finished(*, creds: Credentials) -> list[Operation]:
    """The user's operations that ended recently and were not announced yet, marked announced (each once,
    in whichever tab asks first)."""
    since = timezone.now() - NOTIFY_WINDOW
    candidates = list(
        Operation.objects.filter(
            project_id=creds.project_id,
            user_id=creds.user_id,
            state__in=FINAL_STATES,
            notified=False,
            finished_at__gte=since,
        )
        .defer("credentials", "sealed_params")
        .order_by("finished_at")[:20]
    )
    return [op for op in candidates if Operation.objects.filter(id=op.id, notified=False).update(notified=True)]


def resume_orphans(worker: str) -> list[Operation]:
    """Operations left running by a previous incarnation of this worker node (it was killed): re-queue them.

    A Celery node name is unique among live workers, so a worker starting under a name proves the previous
    process with that name is gone. The handlers are idempotent, so running them again is safe.
    """
    resumed = []
    for op in Operation.objects.filter(state=State.RUNNING, worker=worker):
        op.celery_task_id = str(uuid.uuid4())
        moved = Operation.objects.filter(id=op.id, state=State.RUNNING, worker=worker, attempts=op.attempts).update(
            state=State.PENDING, celery_task_id=op.celery_task_id
        )
        if not moved:
            continue
        try:
            send(op)
        except DispatchError:
            log.warning("could not re-queue orphaned operation %s", op.id)
            continue
        log.warning("re-queued operation %s left running by a previous %s", op.id, worker)
        resumed.append(op)
    return resumed
