"""The Operation: one long write against the cloud, as a database row the UI follows (not a Celery result)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models

from apps.operations.i18n import render_text
from apps.operations.registry import get_handler
from apps.operations.states import ACTIVE_STATES, FINAL_STATES, State

__all__ = ["ACTIVE_STATES", "FINAL_STATES", "Operation", "State"]


class Operation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Who and where: the Keystone user and the project the operation was made in (it is visible to that project).
    user_id = models.CharField(max_length=64)
    user_name = models.CharField(max_length=255, blank=True)
    project_id = models.CharField(max_length=64, db_index=True)
    project_name = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=255, blank=True)
    # What: a registered kind ("server.launch"), its target and parameters.
    kind = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    target_name = models.CharField(max_length=255, blank=True)
    # What the worker needs and anyone in the project may read. Parameters that may hold secrets (a handler's
    # `secret_params`, e.g. a launch's cloud-init user data, which Nova shows only to admins) are not here: they are
    # sealed in `sealed_params` (Fernet, like `credentials`) and erased when the operation ends; `params` then only
    # names them under "secret_params", so a retry knows to ask for them again.
    params = models.JSONField(default=dict, blank=True)
    sealed_params = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    # How it went.
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    steps = models.JSONField(default=list, blank=True)  # [{"text", "at", "progress"}]
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)  # user-safe: the cloud's own message, or our msgid (see message_args)
    message_args = models.JSONField(null=True, blank=True)  # set when `message` is our own translatable msgid
    error_detail = models.TextField(blank=True)  # for operators: the exception's detail
    request_id = models.CharField(max_length=128, blank=True)  # the cloud's x-openstack-request-id
    # When.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The worker side: Celery task id, the worker node running it, attempts, and the encrypted credentials
    # (Fernet; erased when the operation ends).
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    credentials = models.TextField(blank=True)
    # Where the time went (for the benchmark and operators): in calls to the cloud, and sleeping between polls.
    cloud_seconds = models.FloatField(default=0.0)
    wait_seconds = models.FloatField(default=0.0)
    # Whether the end toast was shown (once, in whichever tab polled first).
    notified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project_id", "-created_at"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id or self.target_name} ({self.state})"

    @property
    def handler(self) -> Any:
        return get_handler(self.kind)

    @property
    def title(self) -> str:
        handler = self.handler
        name = self.target_name or self.target_id or ""
        if handler is None:
            return f"{self.kind} {name}".strip()
        return str(handler.title) % {"name": name}

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == State.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.state == State.FAILED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def display_message(self) -> str:
        if self.message_args is None:
            return self.message
        return render_text(self.message, self.message_args)

    @property
    def display_steps(self) -> list[dict[str, Any]]:
        return [
            {
                **step,
                "text": render_text(step["text"], step.get("args") or {}),
                "at": datetime.fromisoformat(step["at"]) if step.get("at") else None,
            }
            for step in self.steps
        ]

    @property
    def overhead_seconds(self) -> float | None:
        """Time the dashboard itself spent (queueing, database, Python), not waiting on the cloud."""
        if not self.finished_at:
            return None
        total = (self.finished_at - self.created_at).total_seconds()
        return max(0.0, total - self.cloud_seconds - self.wait_seconds)

    @property
    def last_step(self) -> str:
        if not self.steps:
            return ""
        return render_text(self.steps[-1]["text"], self.steps[-1].get("args") or {})
