"""Reads: the project's operations (Activity page, overview, rows in progress, the tracker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.cloud.connection import Credentials
from apps.operations.models import ACTIVE_STATES, FINAL_STATES, Operation, State
from apps.operations.registry import get_handler
from dashboard.cache import optional

PAGE_SIZE = 25
NOTIFY_WINDOW = timedelta(minutes=15)


def _project(creds: Credentials) -> QuerySet[Operation]:
    return Operation.objects.filter(project_id=creds.project_id).defer("credentials", "sealed_params")


@dataclass(frozen=True)
class ActivityFilters:
    state: str = ""
    kind: str = ""
    target: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> ActivityFilters:
        state = query.get("state", "")
        return cls(
            state=state if state in State.values else "",
            kind=(query.get("kind") or "")[:64],
            target=(query.get("target") or "")[:64],
        )


def list_operations(*, creds: Credentials, filters: ActivityFilters, page: int | str = 1) -> Page[Operation]:
    """The project's operations, newest first, filtered and paged."""
    qs = _project(creds)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.target:
        qs = qs.filter(target_id=filters.target)
    return Paginator(qs.order_by("-created_at"), PAGE_SIZE).get_page(page)


def project_kinds(*, creds: Credentials) -> list[str]:
    return sorted(_project(creds).order_by().values_list("kind", flat=True).distinct())


def get_operation(*, creds: Credentials, operation_id: UUID | str) -> Operation:
    """One operation of the current project (404 for another project's, as for a missing one)."""
    op = _project(creds).filter(id=operation_id).first()
    if op is None:
        raise Http404("No such operation in this project.")
    return op


def may_retry(*, creds: Credentials, operation: Operation) -> bool:
    """Only who started an operation, or an admin of its project, runs it again (with their own credentials):
    a colleague retrying someone's failed launch would make a server in their name with their choices."""
    return operation.project_id == creds.project_id and (operation.user_id == creds.user_id or creds.is_admin)


def secrets_to_ask(operation: Operation) -> dict[str, Any]:
    """The secret parameters this operation had and no longer keeps ({name: SecretParam}): a retry asks for them.

    They are erased when an operation ends, failed ones included: keeping a failed launch's user data until someone
    retries or gives up would mean keeping it for ever for launches nobody retries. Asking again costs a paste."""
    handler = get_handler(operation.kind)
    names = (operation.params or {}).get("secret_params") or []
    if handler is None:
        return {}
    return {name: handler.secret_params[name] for name in names if name in handler.secret_params}


def recent_operations(*, creds: Credentials, limit: int = 8) -> list[Operation]:
    return list(_project(creds).order_by("-created_at")[:limit])


def active_operations(*, creds: Credentials, target_type: str, target_ids: list[str] | None) -> dict[str, Operation]:
    """The operation in progress (pending or running) on each of these targets (None: on any target of this type),
    newest first wins."""
    if target_ids is not None and not target_ids:
        return {}
    gen_key, calm_key = calm_keys(creds.project_id)
    calm, gen = _is_calm(gen_key, calm_key)
    if calm:
        return {}
    # Every operation in progress in the project (few): none at all lets the next pages skip this query.
    wanted = None if target_ids is None else set(target_ids)
    found: dict[str, Operation] = {}
    running = list(_project(creds).filter(state__in=ACTIVE_STATES).order_by("-created_at")[:500])
    for op in running:
        if op.target_type == target_type and (wanted is None or op.target_id in wanted):
            found.setdefault(op.target_id, op)
    if not running:
        _remember_calm(calm_key, gen)
    return found


def active_on(*, creds: Credentials, target_type: str, target_ids: list[str] | None = None) -> list[Operation]:
    """Every operation in progress on targets of this type (on these ids, when given), oldest first: a page that
    shows each of them (a security group's rules being added), not only the newest per target."""
    gen_key, calm_key = calm_keys(creds.project_id)
    if _is_calm(gen_key, calm_key)[0]:
        return []
    qs = _project(creds).filter(state__in=ACTIVE_STATES, target_type=target_type)
    if target_ids is not None:
        qs = qs.filter(target_id__in=target_ids)
    return list(qs.order_by("created_at")[:200])


def in_flux(*, creds: Credentials) -> list[Operation]:
    """What the signed-in user has in progress in this project (the tracker polls while this is not empty)."""
    return list(_project(creds).filter(user_id=creds.user_id, state__in=ACTIVE_STATES).order_by("-created_at")[:50])


# "Nothing in progress" remembered in the cache, so most pages make no query for the tracker (per user) or for the
# rows' operations (per project). A calm marker holds the project's generation number, which every new operation
# in the project bumps (services.wake_tracker): a page that read the database just before an operation was made
# cannot leave a stale "calm" behind. Only a new operation can end a calm: calm means none was in progress.
CALM_SECONDS = 300


def calm_keys(project_id: str, user_id: str = "") -> tuple[str, str]:
    """(the project's generation key, the calm key of this user in it — or of the whole project without a user)."""
    gen = f"ops:gen:{project_id}"
    return gen, f"ops:calm:{project_id}:{user_id}" if user_id else f"ops:calm:{project_id}"


def _is_calm(gen_key: str, calm_key: str) -> tuple[bool, int | None]:
    """Whether the marker says calm, and the generation to store with a new marker (None: no cache)."""
    known: dict[str, Any] | None = None
    with optional("the operations tracker's calm marker"):
        known = cache.get_many([gen_key, calm_key])
    if known is None:
        return False, None  # ask the database
    gen = known.get(gen_key, 0)
    return calm_key in known and known[calm_key] == gen, gen


def _remember_calm(calm_key: str, gen: int | None) -> None:
    if gen is None:
        return
    with optional("storing the operations tracker's calm marker"):
        cache.set(calm_key, gen, CALM_SECONDS)


def tracker_state(*, creds: Credentials) -> tuple[int, bool]:
    """For the tracker on every page: how many operations the user has in progress here (up to 50), and whether
    one finished recently without being announced. One query, none while the cache says all is calm."""
    gen_key, calm_key = calm_keys(creds.project_id, creds.user_id)
    calm, gen = _is_calm(gen_key, calm_key)
    if calm:
        return 0, False
    active, unannounced = _tracker_query(creds)
    if not active and not unannounced:
        _remember_calm(calm_key, gen)
    return active, unannounced


def _tracker_query(creds: Credentials) -> tuple[int, bool]:
    since = timezone.now() - NOTIFY_WINDOW
    mine = _project(creds).filter(user_id=creds.user_id)
    states = list(
        mine.filter(
            Q(state__in=ACTIVE_STATES) | Q(state__in=FINAL_STATES, notified=False, finished_at__gte=since)
        ).values_list("state", flat=True)[:51]
    )
    active = sum(1 for s in states if s in ACTIVE_STATES)
    return min(active, 50), len(states) > active
