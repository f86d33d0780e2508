"""The web application for benchmarks against a real cloud, which cannot count the calls it receives: Stratus
itself, reporting each render's cloud calls in an `X-Bench-Cloud-Calls` response header (a JSON list of
"METHOD absolute-URL"), and where its time went: `X-Bench-View-Ms` (from the WSGI call to the response's start:
the whole of Django's work) and `X-Bench-Cloud-Ms` (the time during which at least one cloud call was under way:
calls made at once count once). Loaded only by bench.realcloud and bench.sidebyside --profile (gunicorn
bench.counting:application); the benchmark makes one request at a time."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from keystoneauth1 import session as ks_session

from dashboard.wsgi import application as django_application

_calls: list[str] = []
_spans: list[tuple[float, float]] = []
_lock = threading.Lock()
_request = ks_session.Session.request


def _counted(self: Any, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    response = _request(self, url, method, *args, **kwargs)
    with _lock:
        _calls.append(f"{method} {response.url}")
        _spans.append((start, time.perf_counter()))
    return response


ks_session.Session.request = _counted


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds during which at least one span was open."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def application(environ: dict[str, Any], start_response: Any) -> Any:
    with _lock:
        _calls.clear()
        _spans.clear()
    began = time.perf_counter()

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        with _lock:  # Django starts the response once the page is rendered: every call is in
            calls = json.dumps(_calls)
            cloud_ms = _covered(_spans) * 1000
        extra = [
            ("X-Bench-Cloud-Calls", calls),
            ("X-Bench-View-Ms", f"{(time.perf_counter() - began) * 1000:.2f}"),
            ("X-Bench-Cloud-Ms", f"{cloud_ms:.2f}"),
        ]
        return start_response(status, [*headers, *extra], exc_info)

    return django_application(environ, start)
