"""Formatting for the hypervisor pages: amounts by resource class, heat colours, sort links."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import Context
from django.utils.translation import gettext as _

from apps.accounts.templatetags.stratus import gib, mib

register = template.Library()


@register.filter
def amount(value: Any, rc: str) -> str:
    """An amount of a Placement resource class for people: 12, 31.5 GiB (MEMORY_MB), 200 GiB (DISK_GB): Placement's
    MEMORY_MB and DISK_GB count MiB and GiB, whatever their names say."""
    if value is None:
        return ""
    if rc == "MEMORY_MB":
        return mib(value)
    if rc == "DISK_GB":
        return gib(value)
    return f"{int(value)}"


@register.filter
def rc_label(rc: str) -> str:
    return {"VCPU": _("vCPUs"), "MEMORY_MB": _("RAM"), "DISK_GB": _("Disk")}.get(rc, rc)


@register.filter
def ratio(value: Any) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


@register.filter
def heat(pct: Any) -> str:
    """A colour from green (idle) through amber to red (full) for a usage percentage."""
    pct = max(0, min(100, int(pct or 0)))
    hue = round(140 - 140 * pct / 100)
    # Dark enough for the white percentage on it to be read (contrast at least 4.5:1 at every hue).
    return f"hsl({hue}, 65%, 28%)"


@register.simple_tag(takes_context=True)
def sort_query(context: Context, key: str) -> str:
    """The query string that sorts by `key` (toggling the direction when already sorted by it)."""
    request = context["request"]
    current = context.get("sort", "name")
    query = request.GET.copy()
    query.pop("usage", None)  # a sort reads the usage the cache holds; the fresh one was asked for once
    query["sort"] = f"-{key}" if current == key else key
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_mark(context: Context, key: str) -> str:
    current = context.get("sort", "name")
    if current == key:
        return "▲"
    if current == f"-{key}":
        return "▼"
    return ""


@register.simple_tag(takes_context=True)
def sort_aria(context: Context, key: str) -> str:
    current = context.get("sort", "name")
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return "none"
