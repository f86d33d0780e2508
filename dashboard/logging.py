"""Logging: Stratus' request id on every record, JSON lines in production, secrets scrubbed."""

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


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


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
