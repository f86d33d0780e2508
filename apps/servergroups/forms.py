"""The Server groups page's create form. It checks what can be checked before Nova is asked (a name Nova takes, a
policy it knows, a rule only where Nova takes one); what only Nova knows (the quota) comes back on the operation in
Nova's words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.servergroups.selectors import POLICIES, POLICY_HELP, POLICY_LABELS

MAX_PER_HOST = 1000


class CreateServerGroupForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255, strip=False)
    policy = forms.ChoiceField(
        label=gettext_lazy("Policy"),
        choices=[(p, POLICY_LABELS[p]) for p in POLICIES],
        initial="anti-affinity",
        widget=forms.RadioSelect,
    )
    max_server_per_host = forms.IntegerField(
        label=gettext_lazy("Members per host, at most (optional)"),
        min_value=1,
        max_value=MAX_PER_HOST,
        required=False,
        help_text=gettext_lazy(
            "Anti-affinity only: how many members of the group one host may run (Nova's rule max_server_per_host, "
            "microversion 2.64). Empty: one."
        ),
    )

    def __init__(self, *args: Any, rules_supported: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules_supported = rules_supported
        if not rules_supported:
            del self.fields["max_server_per_host"]

    def policy_rows(self) -> list[tuple[Any, str]]:
        """(the policy's radio, what it does) for the template."""
        help_of = {p: str(POLICY_HELP[p]) for p in POLICIES}
        return [(radio, help_of.get(str(radio.data["value"]), "")) for radio in self["policy"]]

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name") or ""
        if not name.strip():
            raise forms.ValidationError(_("Give the server group a name."))
        if name != name.strip():
            raise forms.ValidationError(_("A name cannot start or end with a space."))
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        per_host = data.get("max_server_per_host")
        if per_host and data.get("policy") and data["policy"] != "anti-affinity":
            self.add_error(
                "max_server_per_host",
                _("Only the anti-affinity policy takes this rule: leave it empty, or choose anti-affinity."),
            )
        return data

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "policy": data["policy"],
            "max_server_per_host": int(data.get("max_server_per_host") or 0),
        }

    def shown(self) -> tuple[str, str, str]:
        """(name, policy, max_server_per_host) as typed so far, for the CLI block."""
        raw = self.data if self.is_bound else {}
        policy = str(raw.get("policy", "anti-affinity") or "")
        per_host = str(raw.get("max_server_per_host", "") or "") if "max_server_per_host" in self.fields else ""
        return str(raw.get("name", "") or ""), policy, per_host
