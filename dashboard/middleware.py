"""Project-wide middleware: a request id on every request, its log records and its answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dashboard.logging import request_id_var


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = "req-" + str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        reset = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(reset)
        response["X-Request-Id"] = request_id
        return response
