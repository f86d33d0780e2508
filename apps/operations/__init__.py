"""Operations: long writes against the cloud, run by Celery workers and followed by the browser.

Contract for other apps
-----------------------
- `services.dispatch(*, creds, kind, target_type, target_id="", target_name="", params=None) -> Operation` and
  `services.dispatch_many(*, creds, kind, targets=[(id, name), ...], params=None, target_type="server")`
  create the rows (pending) and send one Celery task per row carrying the operation id only, on commit.
  `services.DispatchError` (user-safe `.message`) when Redis cannot be reached; nothing is left behind.
- Handlers: `@registry.operation_handler("kind", title=_("Do %(name)s"), label=_("Do"))` in `apps/<app>/operations.py`
  (auto-discovered in web and worker). A handler gets a `registry.Context`: `conn`, `creds`, `params`, `op`,
  `step(text, progress=None, **args)`, `wait_for(check, what=..., timeout=...)`, `set_target(id, name)`,
  `set_result(**data)`, `heartbeat()`. Raising `CloudError` fails the operation with its message; a transient
  one (connection, 502/503/504) is retried with backoff.
- Reads: `selectors.active_operations(*, creds, target_type, target_ids)`, `selectors.recent_operations(*, creds,
  limit)`, `selectors.list_operations(...)`, `selectors.get_operation(...)` (404 outside the project).
- Browser: every page includes the tracker (templates/base.html). It polls every 2 s only while the user has an
  operation in flux (and only while the tab is visible: `data-poll`), shows a toast when one ends, and sends the
  htmx event `stratus:operation-finished` (with the operations' ids, kinds and targets). A view that dispatches
  from an htmx request can wake it at once with `views.notify_tracker(response)` (HX-Trigger
  `stratus:operations`); queued Django messages then show as toasts too.

Crash safety (what a SIGKILLed worker leaves behind)
----------------------------------------------------
Tasks are `acks_late` + `reject_on_worker_lost`, prefetch 1, and the Redis visibility timeout (3 h) is longer than
any wait, so Redis never hands a running task to a second worker. A killed worker's unacked message would only
come back after that timeout, so recovery does not rely on it:
1. The row records the Celery node name that runs it. When a worker starts (`worker_ready`) it re-queues the
   operations still marked running under its own node name: a node name is unique among live workers, so those
   were left by its killed predecessor. Handlers are idempotent (launch looks for its `op-<id>` tag first), so
   running them again completes the work without doing it twice.
2. A delivery that finds its row running with a heartbeat quieter than STRATUS_OPERATION_STALE_SECONDS takes it
   over (conditional update); with a fresh heartbeat it is a duplicate and is dropped.
3. The reaper (`operations.reap`, every 60 s under `celery worker --beat`) fails operations whose heartbeat went
   quiet and that nobody resumed, with a clear reason, and pending operations no worker took within
   STRATUS_OPERATION_PENDING_TIMEOUT.
Every write after the claim is conditional on (state=running, attempts), so a stale worker can never overwrite a
newer attempt. Settings (Django settings or environment): STRATUS_OPERATION_STALE_SECONDS (120),
STRATUS_OPERATION_PENDING_TIMEOUT (1800), STRATUS_OPERATION_RETRY_BASE (2 s), STRATUS_OPERATION_MAX_RETRIES (6),
STRATUS_OPERATION_MAX_ATTEMPTS (4), STRATUS_OPERATION_POLL_SECONDS (0.5).

Credentials
-----------
The user's token (`creds.to_dict()`, with the catalog) is stored Fernet-encrypted (settings.STRATUS_FERNET_KEY) in
`Operation.credentials`, never sent through Redis nor logged, and erased when the operation ends. An expired or
revoked token fails the operation with "session expired" (checked before each poll; a 401 from the cloud too).
"""
