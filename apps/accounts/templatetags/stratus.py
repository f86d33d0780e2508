"""Template helpers shared by every page."""

from __future__ import annotations

from django import template

from dashboard.memo import fixed_reverse

register = template.Library()


@register.simple_tag
def nav_url(name: str) -> str:
    """The URL of a route without arguments (the header's and sidebar's links), remembered per process."""
    return fixed_reverse(name)


@register.simple_tag(takes_context=True)
def nav_active(context, prefix: str) -> str:
    request = context.get("request")
    return "active" if request is not None and request.path.startswith(prefix) else ""


@register.filter
def percent(used, total) -> int:
    try:
        used, total = float(used or 0), float(total or 0)
    except (TypeError, ValueError):
        return 0
    if total <= 0:
        return 0
    return max(0, min(100, round(used * 100 / total)))


@register.filter
def level(pct) -> str:
    """A CSS class for a usage percentage: ok, warn (≥ 70 %), full (≥ 90 %)."""
    pct = int(pct or 0)
    return "full" if pct >= 90 else "warn" if pct >= 70 else "ok"


@register.filter
def filesizeformat_mb(mb) -> str:
    """Megabytes as a short human size (512 MB, 2 GB, 1.5 TB)."""
    try:
        mb = float(mb or 0)
    except (TypeError, ValueError):
        return ""
    for unit in ("MB", "GB", "TB"):
        if abs(mb) < 1024 or unit == "TB":
            return f"{mb:.0f} {unit}" if mb == int(mb) else f"{mb:.1f} {unit}"
        mb /= 1024
    return ""
