"""What the page tests read from a response and from the operations table (the volumes, server groups and
metadata/tags page tests share them)."""

from __future__ import annotations

import html
import re

from apps.operations.models import Operation


def last_op(kind: str) -> Operation:
    """The newest operation of this kind (one must exist)."""
    op = Operation.objects.filter(kind=kind).order_by("-created_at").first()
    assert op is not None, f"no {kind} operation"
    return op


def field_errors(page: str) -> dict[str, str]:
    """The messages next to fields: {field id: text}."""
    found = re.findall(r'id="id_(\w+)-error"[^>]*>(.*?)</p>', page)
    return {m[0]: html.unescape(re.sub(r"<[^>]+>", "", m[1])).strip() for m in found}


def page_text(response) -> str:
    return html.unescape(response.content.decode())
