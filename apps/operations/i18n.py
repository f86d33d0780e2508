"""Texts recorded by a worker are stored untranslated (the English msgid and its arguments) and translated
when a page shows them, in the reader's language."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext


def freeze(text: Any, args: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(msgid, args) for storing: lazy translatable strings become {"_t": msgid} so they translate later."""
    with translation.override("en"):
        msgid = str(text)
        frozen: dict[str, Any] = {}
        for key, value in (args or {}).items():
            if isinstance(value, Promise):
                frozen[key] = {"_t": str(value)}
            elif isinstance(value, (int, float)):
                frozen[key] = value
            else:
                frozen[key] = str(value)
    return msgid, frozen


def render_text(msgid: str, args: dict[str, Any]) -> str:
    values = {k: gettext(v["_t"]) if isinstance(v, dict) and "_t" in v else v for k, v in args.items()}
    text = gettext(msgid) if msgid else ""
    if not values:
        return text
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        return msgid % values if "%(" in msgid else text
