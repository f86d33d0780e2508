"""The background thread that moves servers (and their snapshot images and boot volumes) through Nova's
states over time.

Each server with work in flight has `pending = {"op": name, "at": epoch, "seq": n}` in its record; the
thread runs the op's step function (under `store.lock`) once `at` has passed. A step may set the next
pending op. Records carry the pending op, so a restarted devcloud resumes where it stopped.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from devcloud.config import config
from devcloud.state import store

_heap: list[tuple[float, int, str]] = []
_cond = threading.Condition(threading.Lock())
_seq = itertools.count(1)
_thread: threading.Thread | None = None

# op name -> step(server) ; registered by servers/actions
STEPS: dict[str, Callable[[dict[str, Any]], None]] = {}


def seconds(fraction: float = 1.0) -> float:
    return max(0.0, config.transition_seconds * fraction)


def step(name: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[[dict[str, Any]], None]]:
    def register(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        STEPS[name] = fn
        return fn

    return register


def set_pending(server: dict[str, Any], op: str, delay: float) -> None:
    """Schedule `op` for a server (replacing any op in flight). Caller holds store.lock."""
    n = next(_seq)
    at = time.time() + delay
    server["pending"] = {"op": op, "at": at, "seq": n}
    with _cond:
        heapq.heappush(_heap, (at, n, server["id"]))
        _cond.notify()


def clear_pending(server: dict[str, Any]) -> None:
    server["pending"] = None


def _run_due(server_id: str, seq: int) -> None:
    from devcloud.compute import servers

    with store.lock:
        server = servers.table().get(server_id)
        if server is None:
            return
        pending = server.get("pending")
        if not pending or pending.get("seq") != seq:
            return  # superseded
        server["pending"] = None
        fn = STEPS.get(pending["op"])
        if fn is None:
            return
        try:
            fn(server)
        except Exception:  # a devcloud bug must not kill the thread
            traceback.print_exc()
        store.touch()


def _loop() -> None:
    while True:
        with _cond:
            while not _heap or _heap[0][0] > time.time():
                timeout = (_heap[0][0] - time.time()) if _heap else 1.0
                _cond.wait(max(0.005, min(timeout, 1.0)))
            at, seq, server_id = heapq.heappop(_heap)
        _run_due(server_id, seq)


def start() -> None:
    """Start the thread and re-queue ops that were in flight when the state was saved."""
    global _thread
    from devcloud.compute import servers

    with store.lock:
        for server in servers.table().values():
            pending = server.get("pending")
            if pending:
                set_pending(server, pending["op"], max(0.0, pending["at"] - time.time()))
    if _thread is None:
        _thread = threading.Thread(target=_loop, daemon=True, name="devcloud-compute-transitions")
        _thread.start()
