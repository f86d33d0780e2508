"""The web application for benchmarks against a real cloud, which cannot count the calls it receives: Stratus
itself, reporting each render's cloud calls in an `X-Bench-Cloud-Calls` response header (a JSON list of
"METHOD absolute-URL"). Loaded only by bench.realcloud (gunicorn bench.counting:application); the benchmark
makes one request at a time."""

from __future__ import annotations

import json
import threading
from typing import Any

from keystoneauth1 import session as ks_session

from dashboard.wsgi import application as django_application

_calls: list[str] = []
_lock = threading.Lock()
_request = ks_session.Session.request


def _counted(self: Any, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
    response = _request(self, url, method, *args, **kwargs)
    with _lock:
        _calls.append(f"{method} {response.url}")
    return response


ks_session.Session.request = _counted


def application(environ: dict[str, Any], start_response: Any) -> Any:
    with _lock:
        _calls.clear()

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        with _lock:  # Django starts the response once the page is rendered: every call is in
            calls = json.dumps(_calls)
        return start_response(status, [*headers, ("X-Bench-Cloud-Calls", calls)], exc_info)

    return django_application(environ, start)
