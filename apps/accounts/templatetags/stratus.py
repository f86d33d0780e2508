"""Template helpers shared by every page."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import Context

from apps.cloud import states
from dashboard.memo import fixed_reverse

register = template.Library()


@register.simple_tag
def nav_url(name: str) -> str:
    """The URL of a route without arguments (the header's and sidebar's links), remembered per process."""
    return fixed_reverse(name)


@register.simple_tag(takes_context=True)
def nav_active(context: Context, prefix: str) -> str:
    request = context.get("request")
    return "active" if request is not None and request.path.startswith(prefix) else ""


@register.filter
def percent(used: Any, total: Any) -> int:
    try:
        used, total = float(used or 0), float(total or 0)
    except (TypeError, ValueError):
        return 0
    if total <= 0:
        return 0
    return max(0, min(100, round(used * 100 / total)))


@register.filter
def level(pct: Any) -> str:
    """A CSS class for a usage percentage: ok, warn (≥ 70 %), full (≥ 90 %)."""
    pct = int(pct or 0)
    return "full" if pct >= 90 else "warn" if pct >= 70 else "ok"


def _binary(amount: float, units: tuple[str, ...]) -> str:
    """An amount in the first of `units` (each 1024 times the one before) with the largest unit that keeps it ≥ 1."""
    from django.utils.formats import number_format

    unit = units[0]
    for unit in units:
        if abs(amount) < 1024 or unit == units[-1]:
            break
        amount /= 1024
    shown = round(amount, 1)
    return f"{number_format(shown, 0 if shown == int(shown) else 1)} {unit}"


@register.filter
def mib(value: Any) -> str:
    """Memory as Nova counts it (MiB) for people: 512 MiB, 2 GiB, 1.5 TiB. The one memory format of every page."""
    try:
        amount = float(value or 0)
    except (TypeError, ValueError):
        return ""
    return _binary(amount, ("MiB", "GiB", "TiB", "PiB"))


@register.filter
def gib(value: Any) -> str:
    """Disk as Nova and Cinder count it (GiB) for people: 20 GiB, 1.5 TiB."""
    try:
        amount = float(value or 0)
    except (TypeError, ValueError):
        return ""
    return _binary(amount, ("GiB", "TiB", "PiB"))


@register.filter
def binary_bytes(value: Any) -> str:
    """A size in bytes (an image's) in binary units: 12.5 MiB, 1.2 GiB."""
    try:
        amount = float(value or 0)
    except (TypeError, ValueError):
        return ""
    return _binary(amount, ("B", "KiB", "MiB", "GiB", "TiB"))


# Nova's and Glance's codes (ACTIVE, SHUTOFF, queued, …) as a person reads them, in the page's language.
register.filter("status_label", states.server_status_label)
register.filter("power_label", states.power_state_label)
register.filter("task_label", states.task_state_label)
register.filter("image_status_label", states.image_status_label)
register.filter("visibility_label", states.visibility_label)
register.filter("role_label", states.role_label)
register.filter("neutron_status_label", states.neutron_status_label)
register.filter("volume_status_label", states.volume_status_label)


@register.filter
def age(value: Any) -> str:
    """How long ago: Django's `timesince` with our own (translated) time words. Django 5's own Vietnamese catalogue
    still translates the older "%d minute" messages, not the "%(num)d minute" ones `timesince` asks for, so it
    printed "2 minutes" on a Vietnamese page."""
    from django.utils.timesince import timesince
    from django.utils.translation import ngettext_lazy

    if not value:
        return ""
    words = {
        "year": ngettext_lazy("%(num)d year", "%(num)d years", "num"),
        "month": ngettext_lazy("%(num)d month", "%(num)d months", "num"),
        "week": ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
        "day": ngettext_lazy("%(num)d day", "%(num)d days", "num"),
        "hour": ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
        "minute": ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
    }
    try:
        return timesince(value, time_strings=words)  # type: ignore[arg-type]  # lazy: formatted in the language of the page
    except (ValueError, TypeError):
        return ""


@register.filter
def ago(value: Any) -> str:
    """A past moment relative to now ("5 minutes ago", "just now"), with the words of `age`: humanize's
    `naturaltime` fell back to English on a Vietnamese page past one day ("1 day, 6 hours ago")."""
    from datetime import datetime, timedelta, timezone

    from django.utils.translation import gettext

    if not isinstance(value, datetime):
        return ""
    now = datetime.now(timezone.utc if value.tzinfo else None)
    if now - value < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": age(value)}
