"""The snapshot form: which instance, and the snapshot's name as Nova's createImage accepts it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.cloud.names import name_problem
from apps.cloud.states import server_status_label


class SnapshotForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    server_id = forms.ChoiceField(label=_("Instance"))
    name = forms.CharField(label=_("Snapshot name"), max_length=255, strip=False)

    def __init__(self, *args: Any, servers: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.servers = {s.id: s for s in servers}
        self.fields["server_id"].choices = [("", _("Choose an instance"))] + [
            (s.id, f"{s.name} ({server_status_label(s.status)})") for s in servers
        ]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = name_problem(name, required=_("Give the snapshot a name."))
        if problem:
            raise forms.ValidationError(problem)
        return name
