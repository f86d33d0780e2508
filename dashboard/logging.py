"""Logging: Stratus' request id on every record, JSON lines in production, secrets scrubbed in every format."""

from __future__ import annotations

import contextvars
import json
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("stratus_request_id", default="-")

# Anything that looks like a credential is replaced before a record is written.
_SECRET_PATTERNS = [
    re.compile(r"(?i)(x-auth-token|x-subject-token|password|secret|token)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"gAAAAA[0-9A-Za-z_\-=]{20,}"),  # Fernet tokens
]


def scrub(text: str) -> str:
    text = _SECRET_PATTERNS[0].sub(lambda m: m.group(1) + m.group(2) + "***", text)
    text = _SECRET_PATTERNS[1].sub("***PRIVATE KEY***", text)
    return _SECRET_PATTERNS[2].sub("***", text)


def _current_task() -> tuple[str, str | None] | None:
    """(Celery task id, operation id) when this record is written inside a task (each task takes an operation id)."""
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    task = get_current_task()
    request = getattr(task, "request", None)
    if request is None or not getattr(request, "id", None):
        return None
    args = getattr(request, "args", None) or []
    return request.id, (str(args[0]) if args else None)


class RequestIdFilter(logging.Filter):
    """Stratus' request id on every record: the request being served, the request a record is about (Django logs
    its 4xx/5xx answers after the middleware has finished), or the Celery task (and its operation) being run."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = request_id_var.get()
            if request_id == "-":
                request_id = getattr(getattr(record, "request", None), "request_id", "-")
            if request_id == "-":
                task = _current_task()
                if task is not None:
                    request_id = f"task-{task[0]}"
                    if task[1] and getattr(record, "operation_id", None) is None:
                        record.operation_id = task[1]
            record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    """A plain text line (the default outside production), scrubbed like the JSON one: message, traceback and all."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("openstack_request_id", "operation_id", "user_id", "project_id", "server_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
