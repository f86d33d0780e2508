"""Key pair forms: names as Nova accepts them (microversion 2.10, which openstacksdk speaks), and public keys
checked for format and type before the call."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.keypairs.services import KEY_TYPES, InvalidPublicKey, PublicKey, check_public_key

NAME_RE = re.compile(r"^[a-zA-Z0-9 _-]+$")
MAX_UPLOAD = 64 * 1024


class KeypairNameMixin(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        strip=False,
        help_text=_("Letters, digits, spaces, “_” and “-”."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not name.strip():  # only spaces: the name is missing (what was typed stays in the field)
            raise forms.ValidationError(_("Give the key pair a name."))
        if name != name.strip():
            raise forms.ValidationError(_("A name cannot start or end with a space."))
        if not NAME_RE.match(name):
            raise forms.ValidationError(_("Use only letters, digits, spaces, “_” and “-”."))
        return name


class CreateKeypairForm(KeypairNameMixin):
    algorithm = forms.ChoiceField(
        label=_("Key type"),
        choices=[("ed25519", _("ED25519 (recommended)")), ("rsa", _("RSA 4096 (for older systems)"))],
        initial="ed25519",
        widget=forms.RadioSelect,
    )


class ImportKeypairForm(KeypairNameMixin):
    public_key = forms.CharField(
        label=_("Public key"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… me@laptop"}),
        help_text=_("The contents of your .pub file, e.g. ~/.ssh/id_ed25519.pub."),
    )
    public_key_file = forms.FileField(label=_("Or upload the .pub file"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("public_key_file")
        text = data.get("public_key") or ""
        field = "public_key"
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                self.add_error("public_key_file", _("This file is too large for a public key."))
                return data
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("public_key_file", _("This file is not a text public key."))
                return data
            field = "public_key_file"
        try:
            data["key"] = check_public_key(text)
        except InvalidPublicKey as exc:
            self.add_error(field, str(exc))
        return data

    @property
    def key(self) -> PublicKey:
        return self.cleaned_data["key"]


__all__ = ["KEY_TYPES", "CreateKeypairForm", "ImportKeypairForm"]
