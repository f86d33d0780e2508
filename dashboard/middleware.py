"""Project-wide middleware: a request id on every request, its log records and its answer; no NUL characters in
what a request carries."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse

from apps.accounts.http import StratusRequest
from dashboard.logging import request_id_var


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: StratusRequest) -> HttpResponse:
        request_id = "req-" + str(uuid.uuid4())
        request.request_id = request_id
        reset = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(reset)
        response["X-Request-Id"] = request_id
        return response


class RejectNulMiddleware:
    """400 for a request whose path, query or form carries a NUL character.

    No person types one; PostgreSQL cannot store one (a view that copies raw input into a row would answer 500);
    Django's form fields already refuse them. This refuses them once, for every view, including those that read
    `request.POST` directly.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sources = [request.GET] + ([request.POST] if request.method == "POST" else [])
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for data in sources
            for key, values in data.lists()
        ):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)
