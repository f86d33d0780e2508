"""The common task runner: claim the row, decrypt the credentials, run the handler (which checks the cloud's
current state first and skips work already done), wait, and record the outcome.

Idempotency and crash safety:
- a claim is a conditional update (pending → running, attempts + 1); every later write is conditional on
  (running, attempts), so a duplicate delivery or a stale worker can never overwrite a newer attempt;
- a delivery that finds the row running with a quiet heartbeat takes it over (its worker died);
- a worker that starts under a node name resumes the operations its previous incarnation left running
  (`resume_orphans`, on `worker_ready`), and the reaper fails what nobody resumes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.cloud.errors import AuthExpired, CloudError, Unavailable
from apps.operations import conf, crypto
from apps.operations.i18n import freeze
from apps.operations.models import Operation, State
from apps.operations.registry import Abandoned, Context, current_context, get_handler

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = (502, 503, 504)

SESSION_EXPIRED = _("Your session expired before the operation finished. Sign in again and retry.")
CREDENTIALS_GONE = _("The credentials for this operation are no longer available. Sign in again and retry.")
PARAMS_GONE = _("Some of this operation's settings (such as user data) are no longer available. Start it again.")
UNEXPECTED = _("Stratus hit an unexpected error while doing this. The operators can find the details in the logs.")
UNKNOWN_KIND = _("This kind of operation (%(kind)s) is not known to this worker.")
TOO_MANY_ATTEMPTS = _("The operation was interrupted %(n)s times (its worker stopped); it was given up.")


@dataclass(frozen=True)
class Outcome:
    state: str | None  # the state this delivery left the row in (None: nothing done)
    retry_in: float | None = None


def is_transient(exc: CloudError) -> bool:
    """A connection problem or 502/503/504: worth retrying. Other 5xx are the cloud's bugs, not transient."""
    if not isinstance(exc, Unavailable):
        return False
    cause = exc.__cause__
    status = getattr(cause, "status_code", None) or getattr(cause, "http_status", None)
    return status is None or status in TRANSIENT_STATUSES


def claim(operation_id: str, *, task_id: str, worker: str) -> Operation | None:
    """Take the row for this delivery, or None when it is not ours to run (done, or alive elsewhere)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "state": State.RUNNING,
        "started_at": Coalesce(F("started_at"), Value(now)),
        "heartbeat_at": now,
        "celery_task_id": task_id or "",
        "worker": worker or "",
        "attempts": F("attempts") + 1,
    }
    if Operation.objects.filter(id=operation_id, state=State.PENDING).update(**fields):
        return Operation.objects.get(id=operation_id)
    op = Operation.objects.filter(id=operation_id).first()
    if op is None or op.state != State.RUNNING:
        return None
    quiet_since = timezone.now() - timedelta(seconds=conf.stale_seconds())
    if op.heartbeat_at and op.heartbeat_at > quiet_since:
        log.info("operation %s is running elsewhere (%s); this delivery is a duplicate", op.id, op.worker)
        return None
    # Redelivered after its worker died: take it over, conditional on nobody else having done so.
    taken = Operation.objects.filter(
        id=op.id, state=State.RUNNING, attempts=op.attempts, heartbeat_at=op.heartbeat_at
    ).update(**fields)
    return Operation.objects.get(id=op.id) if taken else None


def _timings(op: Operation) -> dict[str, Any]:
    """Where this attempt's time went, added to the row's totals in the same write as the outcome."""
    ctx = current_context()
    if ctx is None or ctx.op.id != op.id:
        return {}
    return {
        "cloud_seconds": F("cloud_seconds") + ctx.cloud_seconds,
        "wait_seconds": F("wait_seconds") + ctx.wait_seconds,
    }


def _finish(op: Operation, state: str, *, message: str = "", args: dict[str, Any] | None = None, **extra: Any) -> bool:
    fields: dict[str, Any] = {
        **_timings(op),
        "state": state,
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
        "credentials": "",  # the token is erased as soon as the operation ends,
        "sealed_params": "",  # and so are the parameters that may hold secrets (user data): see services
        "message": message,
        "message_args": args,
        **extra,
    }
    if state == State.SUCCEEDED:
        fields["progress"] = 100
        msgid, frozen = freeze(_("Done"))
        fields["steps"] = [
            *op.steps,
            {"text": msgid, "args": frozen, "at": timezone.now().isoformat(), "progress": 100},
        ]
    return bool(Operation.objects.filter(id=op.id, state=State.RUNNING, attempts=op.attempts).update(**fields))


def fail(op: Operation, text: Any, args: dict[str, Any] | None = None, **extra: Any) -> bool:
    """Fail with one of our own (translatable) messages."""
    msgid, frozen = freeze(text, args)
    return _finish(op, State.FAILED, message=msgid, args=frozen, **extra)


def fail_with_cloud_error(op: Operation, exc: CloudError) -> bool:
    frozen = getattr(exc, "args_for_message", None)
    return _finish(
        op,
        State.FAILED,
        message=exc.message,
        args=frozen,
        error_detail=(exc.detail or "")[:4000],
        request_id=exc.request_id or "",
    )


def _retry_later(op: Operation, exc: CloudError, retries: int) -> float | None:
    """Put the row back to pending for a retry; the delay, or None when the retries are used up."""
    if retries >= conf.max_retries():
        return None
    delay = min(conf.retry_base() * (2**retries), 120.0) * random.uniform(0.8, 1.2)
    msgid, frozen = freeze(
        _("The cloud is not answering (%(error)s); trying again in %(seconds)s s."),
        {"error": exc.message, "seconds": round(delay, 1)},
    )
    step = {"text": msgid, "args": frozen, "at": timezone.now().isoformat(), "progress": None}
    moved = Operation.objects.filter(id=op.id, state=State.RUNNING, attempts=op.attempts).update(
        state=State.PENDING, heartbeat_at=timezone.now(), steps=[*op.steps, step], **_timings(op)
    )
    return delay if moved else None


def run(operation_id: str, *, task_id: str = "", worker: str = "", retries: int = 0) -> Outcome:
    op = claim(operation_id, task_id=task_id, worker=worker)
    if op is None:
        return Outcome(state=None)
    if op.attempts > conf.max_attempts():
        fail(op, TOO_MANY_ATTEMPTS, {"n": op.attempts - 1})
        return Outcome(State.FAILED)
    handler = get_handler(op.kind)
    if handler is None:
        fail(op, UNKNOWN_KIND, {"kind": op.kind})
        return Outcome(State.FAILED)
    creds = crypto.unseal(op.credentials)
    if creds is None:
        fail(op, CREDENTIALS_GONE)
        return Outcome(State.FAILED)
    if creds.expired:
        fail(op, SESSION_EXPIRED)
        return Outcome(State.FAILED)
    secrets = crypto.unseal_params(op.sealed_params)
    if secrets is None or any(name not in secrets for name in (op.params or {}).get("secret_params") or []):
        fail(op, PARAMS_GONE)
        return Outcome(State.FAILED)
    ctx = Context(op, creds)
    ctx.params.update(secrets)  # in memory only: nothing writes ctx.params back to the row
    try:
        return _run_handler(op, ctx, handler, operation_id, retries)
    finally:
        ctx.close()


def _run_handler(op: Operation, ctx: Context, handler: Any, operation_id: str, retries: int) -> Outcome:
    try:
        handler.func(ctx)
    except Abandoned:
        log.info("operation %s was taken from this worker; stopping", operation_id)
        return Outcome(state=None)
    except AuthExpired:
        fail(op, SESSION_EXPIRED)
        return Outcome(State.FAILED)
    except CloudError as exc:
        if is_transient(exc):
            delay = _retry_later(op, exc, retries)
            if delay is not None:
                log.info("operation %s: transient error (%s); retry in %.1f s", op.id, exc.message, delay)
                return Outcome(State.PENDING, retry_in=delay)
        log.info("operation %s failed: %s (request %s)", op.id, exc.message, exc.request_id)
        fail_with_cloud_error(op, exc)
        return Outcome(State.FAILED)
    except Exception as exc:
        log.exception("operation %s (%s) crashed", op.id, op.kind)
        fail(op, UNEXPECTED, error_detail=f"{type(exc).__name__}: {exc}"[:4000])
        return Outcome(State.FAILED)
    _finish(op, State.SUCCEEDED)
    return Outcome(State.SUCCEEDED)


STALE_REASON = _(
    "The worker running this operation stopped responding (no heartbeat for %(seconds)s s). "
    "Check the resource's current state before trying again."
)
NEVER_STARTED = _("No worker picked this operation up within %(minutes)s minutes; it was given up.")


def reap_stale() -> int:
    """Fail operations whose heartbeat went quiet (their worker died and nobody resumed them)."""
    now = timezone.now()
    stale = conf.stale_seconds()
    count = 0
    for op in Operation.objects.filter(state=State.RUNNING, heartbeat_at__lt=now - timedelta(seconds=stale)):
        quiet = now - (op.heartbeat_at or now)  # never None here: the filter compared it
        if fail(op, STALE_REASON, {"seconds": int(quiet.total_seconds())}):
            log.warning("reaped operation %s (%s): heartbeat quiet since %s", op.id, op.kind, op.heartbeat_at)
            count += 1
    pending_cutoff = now - timedelta(seconds=conf.pending_timeout())
    for op in Operation.objects.filter(state=State.PENDING, created_at__lt=pending_cutoff).exclude(
        heartbeat_at__gte=pending_cutoff
    ):
        msgid, frozen = freeze(NEVER_STARTED, {"minutes": conf.pending_timeout() // 60})
        done = Operation.objects.filter(id=op.id, state=State.PENDING, attempts=op.attempts).update(
            state=State.FAILED,
            finished_at=now,
            credentials="",
            sealed_params="",
            message=msgid,
            message_args=frozen,
        )
        count += done
    return count
