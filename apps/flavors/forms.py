"""Flavor forms. Limits mirror Nova's request schema, so most mistakes are caught before the call."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from apps.cloud.names import description_problem, name_problem
from apps.flavors.services import FlavorSpec

MAX_INT = 2147483647  # Nova's db.MAX_INT
ID_RE = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")  # Nova's flavor id pattern
SPEC_KEY_RE = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")  # Nova's extra spec key pattern
BLANK_SPEC_ROWS = 3


def parse_spec_rows(data: QueryDict) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """The key/value rows as posted (for redisplay), the specs they make, and what is wrong with them."""
    keys = data.getlist("spec_key")
    values = data.getlist("spec_value")
    rows: list[tuple[str, str]] = []
    specs: dict[str, str] = {}
    errors: list[str] = []
    for i, key in enumerate(keys):
        key = key.strip()
        value = (values[i] if i < len(values) else "").strip()
        rows.append((key, value))
        if not value and (not key or SPEC_KEY_RE.match(key)):
            continue  # an empty row, or a key whose value was cleared: not set (removed when editing)
        if not key:
            errors.append(str(_("The value “%(value)s” has no key.") % {"value": value}))
        elif not SPEC_KEY_RE.match(key):
            errors.append(
                str(
                    _(
                        "The key “%(key)s” is not valid: use at most 255 letters, digits, spaces and the characters "
                        "- _ : ."
                    )
                    % {"key": key}
                )
            )
        elif key in specs:
            errors.append(str(_("The key “%(key)s” is given twice.") % {"key": key}))
        elif len(value) > 255:
            errors.append(str(_("The value of “%(key)s” is longer than 255 characters.") % {"key": key}))
        else:
            specs[key] = value
    return rows, specs, errors


def with_blank_rows(rows: list[tuple[str, str]], blanks: int = BLANK_SPEC_ROWS) -> list[tuple[str, str]]:
    kept = [r for r in rows if r[0] or r[1]]
    return kept + [("", "")] * blanks


class FlavorForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    name = forms.CharField(label=_("Name"), max_length=255, strip=False)
    flavor_id = forms.CharField(
        label=_("ID"),
        max_length=255,
        required=False,
        help_text=_("Leave empty to let Nova generate one."),
    )
    vcpus = forms.IntegerField(label=_("vCPUs"), min_value=1, max_value=MAX_INT)
    ram = forms.IntegerField(label=_("RAM (MiB)"), min_value=1, max_value=MAX_INT)
    disk = forms.IntegerField(
        label=_("Root disk (GiB)"),
        min_value=0,
        max_value=MAX_INT,
        help_text=_("0 means the root disk is the size of the image."),
    )
    ephemeral = forms.IntegerField(
        label=_("Ephemeral disk (GiB)"), min_value=0, max_value=MAX_INT, initial=0, required=False
    )
    swap = forms.IntegerField(label=_("Swap (MiB)"), min_value=0, max_value=MAX_INT, initial=0, required=False)
    rxtx_factor = forms.FloatField(
        label=_("RX/TX factor"),
        required=False,
        min_value=0.0001,
        help_text=_("Optional network bandwidth factor (older clouds only)."),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=[("public", _("Public: every project can use it")), ("private", _("Private: chosen projects only"))],
        initial="public",
        widget=forms.RadioSelect,
    )
    projects = forms.MultipleChoiceField(
        label=_("Projects with access"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for a private flavor."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=65535,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, projects: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = [(p.id, p.name) for p in projects]
        self.spec_rows: list[tuple[str, str]] = with_blank_rows([])
        self.spec_errors: list[str] = []
        self.extra_specs: dict[str, str] = {}
        if self.is_bound:
            rows, self.extra_specs, self.spec_errors = parse_spec_rows(self.data)  # type: ignore[arg-type]  # bound: a QueryDict
            self.spec_rows = with_blank_rows(rows)

    def is_valid(self) -> bool:
        valid = super().is_valid()  # always run, so every field gets its message
        return valid and not self.spec_errors

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = name_problem(name, required=_("Give the flavor a name."), slash=False)
        if problem:
            raise forms.ValidationError(problem)
        return name

    def clean_description(self) -> str:
        text = self.cleaned_data.get("description") or ""
        problem = description_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text

    def clean_flavor_id(self) -> str:
        value = self.cleaned_data["flavor_id"].strip()
        if value and not ID_RE.match(value):
            raise forms.ValidationError(
                _("An ID may contain only letters, digits, spaces, “.”, “_” and “-”, and no space at either end.")
            )
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("visibility") == "public" and data.get("projects"):
            self.add_error("projects", _("A public flavor is usable by every project; choose Private to limit it."))
        return data

    def spec(self) -> FlavorSpec:
        data = self.cleaned_data
        public = data["visibility"] == "public"
        return FlavorSpec(
            name=data["name"],
            vcpus=data["vcpus"],
            ram=data["ram"],
            disk=data["disk"],
            ephemeral=data.get("ephemeral") or 0,
            swap=data.get("swap") or 0,
            flavor_id=data.get("flavor_id") or "",
            rxtx_factor=data.get("rxtx_factor"),
            is_public=public,
            description=data.get("description") or "",
            extra_specs=dict(self.extra_specs),
            projects=() if public else tuple(data.get("projects") or ()),
        )


class AccessForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    project_id = forms.ChoiceField(label=_("Project"))

    def __init__(self, *args: Any, projects: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project_id"].choices = [(p.id, p.name) for p in projects]
