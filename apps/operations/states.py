"""An operation's states. Apart from the model so that the registry (whose Context records on an operation's row)
needs nothing of apps/operations/models.py, which imports the registry for each row's handler: one direction."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


ACTIVE_STATES = (State.PENDING, State.RUNNING)
FINAL_STATES = (State.SUCCEEDED, State.FAILED)
