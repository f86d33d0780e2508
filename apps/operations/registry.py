"""Operation handlers: `@operation_handler(kind, title=...)` in each app's `operations.py`, and the
`Context` a handler gets (connection, parameters, steps, waiting with backoff and heartbeat)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.cloud.connection import CallClock, Credentials, connection_for
from apps.cloud.errors import AuthExpired, CloudError, Unavailable
from apps.operations import conf
from apps.operations.i18n import freeze
from apps.operations.states import State

if TYPE_CHECKING:
    import openstack.connection
    from django_stubs_ext import StrOrPromise

    from apps.operations.models import Operation  # for annotations only: models imports this module

log = logging.getLogger(__name__)
_timing = threading.local()


@dataclass(frozen=True)
class SecretParam:
    """A parameter that may hold a secret: sealed on the row, erased when the operation ends, asked for again
    by a retry (with this label and help, checked by `clean`, which raises django's ValidationError)."""

    label: StrOrPromise
    help_text: StrOrPromise = ""
    clean: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Handler:
    kind: str
    func: Callable[[Context], None]
    title: str | Promise  # "%(name)s" is the target's name
    label: str | Promise | None = None  # the kind in words, for filters ("Launch")
    secret_params: dict[str, SecretParam] = field(default_factory=dict)
    cli: Callable[[Operation], str] | None = None  # the equivalent `openstack` command (else apps/operations/cli.py)


_REGISTRY: dict[str, Handler] = {}


def operation_handler(
    kind: str,
    *,
    title: str | Promise,
    label: str | Promise | None = None,
    secret_params: dict[str, SecretParam] | None = None,
    cli: Callable[[Operation], str] | None = None,
) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    def register(func: Callable[[Context], None]) -> Callable[[Context], None]:
        _REGISTRY[kind] = Handler(
            kind=kind, func=func, title=title, label=label, secret_params=dict(secret_params or {}), cli=cli
        )
        return func

    return register


def get_handler(kind: str) -> Handler | None:
    return _REGISTRY.get(kind)


def kinds() -> list[str]:
    return sorted(_REGISTRY)


class WaitTimeout(CloudError):
    """The cloud did not reach the end state before the deadline (not transient: the operation fails)."""

    status = 504


class Abandoned(Exception):  # a signal, not an error
    """The row is no longer ours (reaped, or finished by another worker): stop without recording anything."""


def session_expired() -> AuthExpired:
    return AuthExpired(
        "Your session expired before the operation finished. Sign in again and retry.", service="identity"
    )


def current_context() -> Context | None:
    """The Context of the operation running in this thread, if any."""
    return getattr(_timing, "context", None)


class Context:
    """What a handler works with. Everything it records lands on the operation row at once."""

    def __init__(self, op: Operation, creds: Credentials) -> None:
        self.op = op
        self.creds = creds
        self.params: dict[str, Any] = dict(op.params or {})
        self._conn: openstack.connection.Connection | None = None
        self._last_beat = time.monotonic()  # the claim just wrote the heartbeat
        self.wait_seconds = 0.0
        # The time this thread spends in cloud calls from now until close() (apps.cloud.connection times them).
        self._clock = CallClock().start()
        _timing.context = self

    @property
    def cloud_seconds(self) -> float:
        return self._clock.seconds

    def close(self) -> None:
        self._clock.stop()
        if getattr(_timing, "context", None) is self:
            _timing.context = None

    @property
    def conn(self) -> openstack.connection.Connection:
        if self._conn is None:
            self._conn = connection_for(self.creds)
        return self._conn

    # --- recording ---------------------------------------------------------------------------------------

    def _save(self, **fields: Any) -> None:
        fields.setdefault("heartbeat_at", timezone.now())
        updated = (
            type(self.op).objects.filter(id=self.op.id, state=State.RUNNING, attempts=self.op.attempts).update(**fields)
        )
        if not updated:
            raise Abandoned(str(self.op.id))
        for key, value in fields.items():
            if not isinstance(value, F):
                setattr(self.op, key, value)
        self._last_beat = time.monotonic()

    def heartbeat(self, *, force: bool = False) -> None:
        """Tell the reaper this operation is alive (also checks that the row is still ours). Written at most
        every few seconds: any other write (a step, the target) is a heartbeat too."""
        if self.creds.expired:
            raise session_expired()
        if force or time.monotonic() - self._last_beat >= min(5.0, conf.stale_seconds() / 6):
            self._save()

    def step(self, text: str | Promise, progress: int | None = None, **args: Any) -> None:
        """Record a step ("Stopping"); shown on the operation page. `args` fill %(name)s placeholders."""
        msgid, frozen = freeze(text, args)
        entry = {"text": msgid, "args": frozen, "at": timezone.now().isoformat(), "progress": progress}
        fields: dict[str, Any] = {"steps": [*self.op.steps, entry]}
        if progress is not None:
            fields["progress"] = max(0, min(100, int(progress)))
        self._save(**fields)

    def set_target(self, target_id: str, name: str = "") -> None:
        fields: dict[str, Any] = {"target_id": str(target_id)}
        if name:
            fields["target_name"] = name
        self._save(**fields)

    def set_result(self, **data: Any) -> None:
        self._save(result={**(self.op.result or {}), **data})

    # --- waiting -----------------------------------------------------------------------------------------

    def wait_for(
        self,
        check: Callable[[], Any],
        *,
        what: str | Promise,
        timeout: float = 600,
        interval: float | None = None,
        max_interval: float = 5.0,
    ) -> Any:
        """Poll `check` with backoff until it returns a truthy value (returned), or fail at the deadline.

        `check` raises CloudError to fail the operation. A transient error while polling (the cloud answering
        503, a connection reset) is tolerated until the deadline. The heartbeat is written at every poll.
        """
        delay = interval if interval is not None else conf.poll_seconds()
        max_interval = min(max_interval, max(0.5, conf.stale_seconds() / 4))
        deadline = time.monotonic() + timeout
        self.step(_("Waiting for %(what)s"), what=what)
        last_transient: CloudError | None = None
        while True:
            self.heartbeat()
            try:
                done = check()
            except Unavailable as exc:
                last_transient = exc
                log.info("operation %s: transient error while waiting: %s", self.op.id, exc.message)
                done = None
            if done:
                return done
            if time.monotonic() >= deadline:
                if last_transient is not None:
                    raise last_transient
                msgid, frozen = freeze(_("Timed out waiting for %(what)s."), {"what": what})
                err = WaitTimeout(msgid, service="compute")
                err.args_for_message = frozen
                raise err
            pause = min(delay, max(0.0, deadline - time.monotonic())) * random.uniform(0.9, 1.1)
            time.sleep(pause)
            self.wait_seconds += pause
            delay = min(delay * 1.5, max_interval)
