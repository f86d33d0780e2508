from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    METHODS = [("password", _("User name and password")), ("application_credential", _("Application credential"))]

    method = forms.ChoiceField(label=_("Sign in with"), choices=METHODS, initial="password", widget=forms.RadioSelect)
    username = forms.CharField(label=_("User name"), max_length=255, required=False)
    password = forms.CharField(label=_("Password"), max_length=4096, required=False, widget=forms.PasswordInput)
    domain = forms.CharField(label=_("Domain"), max_length=255, required=False)
    credential_id = forms.CharField(label=_("Application credential ID"), max_length=255, required=False)
    secret = forms.CharField(label=_("Secret"), max_length=4096, required=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].initial = settings.OS_USER_DOMAIN_NAME
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("method") == "application_credential":
            if not data.get("credential_id"):
                self.add_error("credential_id", _("Enter the application credential ID."))
            if not data.get("secret"):
                self.add_error("secret", _("Enter the secret."))
        else:
            if not data.get("username"):
                self.add_error("username", _("Enter your user name."))
            if not data.get("password"):
                self.add_error("password", _("Enter your password."))
            if not data.get("domain"):
                data["domain"] = settings.OS_USER_DOMAIN_NAME
        return data
