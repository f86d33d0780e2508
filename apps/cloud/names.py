"""Names as Nova's request schemas take them, checked on the form with a message a person understands (instead of
Nova's "'…' does not match '^(?! )…$'"). Nova's `name` format (server, flavor, key pair, snapshot names): 1–255
printable characters, no whitespace at either end; a flavor name also has no "/" (it would end up in URLs).
https://docs.openstack.org/api-ref/compute/ (request parameters) and nova/api/validation/parameter_types.py."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return not category.startswith("C") and (not category.startswith("Z") or category == "Zs")


def name_problem(name: str, *, required: StrOrPromise, slash: bool = True) -> str:
    """What is wrong with `name` for Nova ("" when nothing is), `required` being the message for a blank one."""
    if not name.strip():
        return str(required)
    if name != name.strip():
        return _("A name cannot start or end with a space.")
    if not all(_printable(c) for c in name):
        return _("A name cannot contain control characters (such as a tab or a line break).")
    if not slash and "/" in name:
        return _("A flavor name cannot contain “/”.")
    return ""


def description_problem(text: str) -> str:
    """Nova's `description` (servers, flavors): printable characters only, so no tab and no line break."""
    if not all(_printable(c) for c in text):
        return _("A description is one line of text: no tabs, line breaks or other control characters.")
    return ""
