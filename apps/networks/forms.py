"""Forms of the Networking (Neutron) pages. Choices come from the cloud (passed in by the view)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.cloud.names import description_problem, name_problem
from apps.networks.selectors import (
    ICMP_PROTOCOLS,
    IPV6_ONLY_PROTOCOLS,
    PORT_PROTOCOLS,
    PROTOCOL_NAMES,
    Pool,
    Port,
    SecurityGroupRow,
)


class AllocateFloatingIPForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    network_id = forms.ChoiceField(label=gettext_lazy("Pool (external network)"))
    description = forms.CharField(label=gettext_lazy("Description (optional)"), required=False, max_length=255)

    def __init__(self, *args: Any, pools: tuple[Pool, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pools = {p.id: p for p in pools}
        self.fields["network_id"].choices = [(p.id, p.name) for p in pools]
        if pools:
            self.fields["network_id"].initial = pools[0].id

    @property
    def pool(self) -> Pool:
        return self.pools[self.cleaned_data["network_id"]]


class AssociateFloatingIPForm(forms.Form):
    """An instance's port and fixed IPv4 address (the project's instances only)."""

    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields

    target = forms.ChoiceField(label=gettext_lazy("Instance and fixed IP"))

    def __init__(self, *args: Any, ports: tuple[tuple[Port, str], ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {
            f"{port.id}|{fixed.ip_address}": (port, fixed, server) for port, server in ports for fixed in port.ipv4
        }
        self.fields["target"].choices = [
            (key, f"{server or port.device_id} · {fixed.ip_address} ({port.network_name})")
            for key, (port, fixed, server) in self.targets.items()
        ]
        if self.targets:
            self.fields["target"].initial = next(iter(self.targets))

    def shown(self) -> tuple[Port, str, str] | None:
        """The target the page shows chosen (posted, or the first): the CLI's."""
        key = self.data.get("target", "") if self.is_bound else self.fields["target"].initial
        found = self.targets.get(key or "")
        return (found[0], found[1].ip_address, found[2]) if found else None

    def chosen(self) -> tuple[Port, str, str]:
        port, fixed, server = self.targets[self.cleaned_data["target"]]
        return port, fixed.ip_address, server

    def clean_target(self) -> str:
        value = self.cleaned_data["target"]
        if value not in self.targets:
            raise forms.ValidationError(_("Choose one of the instances' addresses."))
        return value


# --- security groups and rules ------------------------------------------------------------------------------

NAME_MAX = 255
DESCRIPTION_MAX = 255


class SecurityGroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX, required=False, strip=False)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=DESCRIPTION_MAX, required=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = name_problem(name, required=str(gettext_lazy("Give the security group a name.")))
        if problem:
            raise forms.ValidationError(problem)
        if name == "default":
            raise forms.ValidationError(
                gettext_lazy("Every project has its own group named “default” already: choose another name.")
            )
        return name

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        problem = description_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text


@dataclass(frozen=True)
class Preset:
    key: str
    label: Any
    protocol: str  # "" for any
    port: int | None


PRESETS = (
    Preset("ssh", gettext_lazy("SSH (TCP 22)"), "tcp", 22),
    Preset("http", gettext_lazy("HTTP (TCP 80)"), "tcp", 80),
    Preset("https", gettext_lazy("HTTPS (TCP 443)"), "tcp", 443),
    Preset("icmp", gettext_lazy("ICMP (all: ping and the rest)"), "icmp", None),
)
CUSTOM = "custom"


class RuleForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    preset = forms.ChoiceField(
        label=gettext_lazy("Rule"),
        choices=[(p.key, p.label) for p in PRESETS] + [(CUSTOM, gettext_lazy("Custom rule"))],
        initial="ssh",
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[
            ("ingress", gettext_lazy("Ingress (traffic to the instance)")),
            ("egress", gettext_lazy("Egress (traffic from it)")),
        ],
        initial="ingress",
        required=False,
    )
    protocol = forms.CharField(
        label=gettext_lazy("Protocol"),
        required=False,
        help_text=gettext_lazy("tcp, udp, icmp, any, or a protocol number from 0 to 255."),
        widget=forms.TextInput(attrs={"list": "protocol-names", "autocomplete": "off", "spellcheck": "false"}),
    )
    port_min = forms.CharField(
        label=gettext_lazy("From port"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    port_max = forms.CharField(
        label=gettext_lazy("To port"),
        required=False,
        help_text=gettext_lazy("Empty: every port. One port: fill in the first only. For ICMP: the type and the code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    remote = forms.ChoiceField(
        label=gettext_lazy("Remote"),
        choices=[("cidr", gettext_lazy("Addresses (CIDR)")), ("group", gettext_lazy("Another security group"))],
        initial="cidr",
        widget=forms.RadioSelect,
    )
    cidr = forms.CharField(
        label=gettext_lazy("Remote CIDR"),
        required=False,
        help_text=gettext_lazy("Such as 0.0.0.0/0 (anywhere), 203.0.113.0/24 or 2001:db8::/32. Empty: anywhere."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    remote_group = forms.ChoiceField(label=gettext_lazy("Remote security group"), required=False)
    ethertype = forms.ChoiceField(
        label=gettext_lazy("IP version"),
        choices=[("", gettext_lazy("From the CIDR")), ("IPv4", "IPv4"), ("IPv6", "IPv6")],
        required=False,
        help_text=gettext_lazy("IPv4 when the CIDR is empty."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=DESCRIPTION_MAX, required=False)

    def __init__(self, *args: Any, groups: tuple[SecurityGroupRow, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counts: dict[str, int] = {}
        for g in groups:
            counts[g.name] = counts.get(g.name, 0) + 1
        # By id: Neutron allows two groups of one name; a repeated name is told apart by the start of its id.
        self.fields["remote_group"].choices = [("", gettext_lazy("Choose a group"))] + [
            (g.id, g.name if counts[g.name] == 1 else f"{g.name} ({g.id[:8]})") for g in groups
        ]
        self.group_names = {g.id: g.name for g in groups}

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        problem = description_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        preset = next((p for p in PRESETS if p.key == data.get("preset")), None)
        if preset is not None:  # the preset decides the protocol and ports; the direction is in
            data["direction"] = "ingress"
            protocol, pmin, pmax = preset.protocol, preset.port, preset.port
        else:
            data["direction"] = data.get("direction") or "ingress"
            protocol = self._protocol()
            pmin, pmax = self._ports(protocol)
        ethertype = self._remote(data)
        if protocol in IPV6_ONLY_PROTOCOLS and ethertype == "IPv4":
            self.add_error(
                "protocol", gettext_lazy("%(protocol)s is an IPv6 protocol: choose IPv6.") % {"protocol": protocol}
            )
        data.update(protocol=protocol, port_min=pmin, port_max=pmax, ethertype=ethertype)
        return data

    def _protocol(self) -> str:
        raw = (self.cleaned_data.get("protocol") or "").strip().lower()
        if raw in ("", "any"):
            return ""
        if raw.isdigit():
            if len(raw) > 3 or int(raw) > 255:
                self.add_error("protocol", gettext_lazy("A protocol number is from 0 to 255."))
                return ""
            return str(int(raw))
        if raw not in PROTOCOL_NAMES:
            self.add_error("protocol", gettext_lazy("Use tcp, udp, icmp, any, or a protocol number from 0 to 255."))
            return ""
        return raw

    def _ports(self, protocol: str) -> tuple[int | None, int | None]:
        values: list[int | None] = []
        icmp = protocol in ICMP_PROTOCOLS
        top = 255 if icmp else 65535
        for field in ("port_min", "port_max"):
            raw = (self.cleaned_data.get(field) or "").strip()
            if not raw:
                values.append(None)
                continue
            if not raw.isdigit() or len(raw) > 6 or int(raw) > top:
                if icmp:
                    message = gettext_lazy("An ICMP type or code is a number from 0 to 255.")
                else:
                    message = gettext_lazy("A port is a number from 0 to 65535.")
                self.add_error(field, message)
                values.append(None)
                continue
            values.append(int(raw))
        pmin, pmax = values
        if any(f in self.errors for f in ("port_min", "port_max")):
            return None, None
        if pmin is None and pmax is None:
            return None, None
        if not protocol:
            self.add_error(
                "port_min", gettext_lazy("Ports need a protocol: choose tcp or udp (or another one with ports).")
            )
            return None, None
        if icmp:
            if pmin is None:
                self.add_error("port_min", gettext_lazy("Give the ICMP type before a code."))
            return pmin, pmax
        if protocol not in PORT_PROTOCOLS:
            self.add_error("port_min", gettext_lazy("This protocol has no ports: leave them empty."))
            return None, None
        if pmin is None:
            self.add_error("port_min", gettext_lazy("Give the first port of the range."))
            return None, None
        if pmax is None:
            pmax = pmin
        if pmin > pmax:
            self.add_error(
                "port_max", gettext_lazy("The range ends before it starts: the last port must not be below the first.")
            )
        return pmin, pmax

    def _remote(self, data: dict[str, Any]) -> str:
        """The rule's ethertype (IPv4/IPv6), checking the remote: a CIDR of the chosen family, or a group."""
        chosen = data.get("ethertype") or ""
        data["remote_ip_prefix"], data["remote_group_id"] = "", ""
        if data.get("remote") == "group":
            gid = data.get("remote_group") or ""
            if not gid and "remote_group" not in self.errors:
                self.add_error("remote_group", gettext_lazy("Choose the group whose instances may connect."))
            data["remote_group_id"] = gid
            return chosen or "IPv4"
        raw = (data.get("cidr") or "").strip()
        if not raw:  # anywhere, said as the CLI says it (Neutron keeps the prefix as given)
            data["remote_ip_prefix"] = "::/0" if chosen == "IPv6" else "0.0.0.0/0"
            return chosen or "IPv4"
        try:
            network = ipaddress.ip_interface(raw)
        except ValueError:
            self.add_error(
                "cidr",
                gettext_lazy("“%(cidr)s” is not an IP range: write it as 203.0.113.0/24 or 2001:db8::/32.")
                % {"cidr": raw[:60]},
            )
            return chosen or "IPv4"
        family = f"IPv{network.version}"
        if chosen and chosen != family:
            self.add_error(
                "cidr",
                gettext_lazy("%(cidr)s is an %(family)s range, but the rule is for %(chosen)s: change one of them.")
                % {"cidr": raw, "family": family, "chosen": chosen},
            )
        data["remote_ip_prefix"] = str(network)
        return chosen or family

    def rule_params(self) -> dict[str, Any]:
        """What the operation sends to Neutron (and shows): the rule's attributes."""
        d = self.cleaned_data
        return {
            "direction": d["direction"],
            "ethertype": d["ethertype"],
            "protocol": d["protocol"] or None,
            "port_range_min": d["port_min"],
            "port_range_max": d["port_max"],
            "remote_ip_prefix": d["remote_ip_prefix"] or None,
            "remote_group_id": d["remote_group_id"] or None,
            "remote_group_name": self.group_names.get(d["remote_group_id"], "") if d["remote_group_id"] else "",
            "description": d.get("description") or "",
        }
