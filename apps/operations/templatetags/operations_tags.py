"""`{% operations_tracker %}`: the tracker every page includes (see templates/operations/tracker.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from apps.operations import selectors

register = template.Library()


@register.inclusion_tag("operations/tracker_body.html", takes_context=True)
def operations_tracker(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    creds = getattr(request, "creds", None)
    if creds is None:
        return {"tracker_off": True}
    active, unannounced = selectors.tracker_state(creds=creds)
    return {
        "tracker_active": range(active),  # the template counts it
        "tracker_finished": [],
        "tracker_unannounced": unannounced,
        "tracker_oob": False,
        "tracker_messages": [],
    }


@register.simple_tag
def target_url(op: Any) -> str:
    """The page of an operation's target (an instance, a security group), or "" when there is none."""
    pages = {"server": "instances:detail", "security_group": "networks:security_group"}
    gone = op.kind in ("server.delete", "security_group.delete") and op.succeeded
    if op.target_type not in pages or not op.target_id or gone:
        return ""
    return reverse(pages[op.target_type], args=[op.target_id])


@register.filter
def kind_label(kind: str) -> str:
    from apps.operations.registry import get_handler

    handler = get_handler(kind)
    return str(handler.label) if handler is not None and handler.label else kind
