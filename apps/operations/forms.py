"""The retry form: empty for most operations; for one whose secret parameters were erased (a launch's user data),
a field for each, to paste again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.operations.registry import SecretParam


class RetryForm(forms.Form):
    def __init__(self, *args: Any, secrets: dict[str, SecretParam], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secrets = secrets
        for name, param in secrets.items():
            self.fields[name] = forms.CharField(
                label=param.label,
                help_text=param.help_text,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
                error_messages={"required": _("Paste it again to retry.")},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name, param in self.secrets.items():
            if param.clean is not None and data.get(name):
                try:
                    data[name] = param.clean(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data
