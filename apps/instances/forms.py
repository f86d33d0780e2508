"""Forms of the instances pages. Choices come from the cloud (passed in by the view); validation mirrors Nova's."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from apps.accounts.templatetags.stratus import gib, mib
from apps.cloud.names import description_problem, name_problem
from apps.instances import launch, selectors, services

NAME_MAX = 255
USER_DATA_MAX = 65535  # Nova: base64 user data up to 64 KiB
METADATA_MAX_ITEMS = 128
SOURCES = [
    ("image", gettext_lazy("Boot from an image")),
    ("snapshot", gettext_lazy("Boot from an instance snapshot")),
    ("volume", gettext_lazy("Boot from an existing volume")),
    ("image_to_volume", gettext_lazy("Boot from a new volume made from an image")),
]


def flavor_fit(flavor: launch.FlavorChoice, image: launch.ImageChoice | None, *, boot_volume: bool) -> str:
    """Why this flavor cannot boot this image ("" when it can): Nova's min_disk / min_ram checks."""
    if image is None:
        return ""
    if image.min_ram and flavor.ram < image.min_ram:
        return _("needs at least %(ram)s of RAM") % {"ram": mib(image.min_ram)}
    if not boot_volume:
        size_gb = math.ceil(image.size / (1024**3)) if image.size else 0
        need = max(image.min_disk, size_gb)
        if flavor.disk and need and flavor.disk < need:
            return _("needs a disk of at least %(disk)s") % {"disk": gib(need)}
    return ""


def parse_metadata(text: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise forms.ValidationError(
                _("Line %(n)s: write each item as key=value.") % {"n": number}, code="metadata_format"
            )
        key, value = (part.strip() for part in line.split("=", 1))
        if not key or len(key) > 255 or len(value) > 255:
            raise forms.ValidationError(
                _("Line %(n)s: keys and values are 1 to 255 characters.") % {"n": number}, code="metadata_length"
            )
        meta[key] = value
    if len(meta) > METADATA_MAX_ITEMS:
        raise forms.ValidationError(_("At most %(n)s metadata items.") % {"n": METADATA_MAX_ITEMS})
    return meta


def clean_user_data(data: str) -> str:
    """User data as Nova takes it (also when a retry asks for it again): up to 64 KiB once base64-encoded.

    Browsers send a textarea's line breaks as CRLF; a script whose first line reads `#!/bin/sh\r` does not run,
    so the line breaks are given to Nova as typed (LF)."""
    data = data.replace("\r\n", "\n")
    if len(data.encode()) * 4 / 3 > USER_DATA_MAX:
        raise forms.ValidationError(_("User data is limited to 64 KiB once encoded."))
    return data


class LaunchForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    name = forms.CharField(
        label=gettext_lazy("Instance name"),
        max_length=NAME_MAX,
        strip=False,  # so a name of spaces only is told it is missing, not "This field is required"
        widget=forms.TextInput(attrs={"autocomplete": "off", "pattern": r".*\S.*"}),
    )
    count = forms.IntegerField(label=gettext_lazy("Count"), min_value=1, max_value=100, initial=1)
    source = forms.ChoiceField(
        label=gettext_lazy("Boot source"), choices=SOURCES, initial="image", widget=forms.RadioSelect
    )
    image_id = forms.ChoiceField(label=gettext_lazy("Image"), required=False)
    snapshot_id = forms.ChoiceField(label=gettext_lazy("Snapshot"), required=False)
    volume_id = forms.ChoiceField(label=gettext_lazy("Volume"), required=False)
    volume_size = forms.IntegerField(
        label=gettext_lazy("Volume size (GiB)"), min_value=1, max_value=16384, required=False, initial=10
    )
    delete_on_termination = forms.BooleanField(
        label=gettext_lazy("Delete the volume when the instance is deleted"), required=False, initial=True
    )
    # An existing volume outlives the instance unless asked (its data was there before); a new one made at launch
    # goes with the instance unless asked to stay.
    delete_volume = forms.BooleanField(
        label=gettext_lazy("Delete the volume when the instance is deleted"), required=False, initial=False
    )
    flavor_id = forms.ChoiceField(label=gettext_lazy("Flavor"))
    key_name = forms.ChoiceField(label=gettext_lazy("Key pair"), required=False)
    availability_zone = forms.ChoiceField(label=gettext_lazy("Availability zone"), required=False)
    server_group = forms.ChoiceField(
        label=gettext_lazy("Server group"),
        required=False,
        help_text=gettext_lazy("Nova places the instance by the group's policy (the scheduler hint group)."),
    )
    network = forms.MultipleChoiceField(
        label=gettext_lazy("Networks"), widget=forms.CheckboxSelectMultiple, required=False
    )
    security_groups = forms.MultipleChoiceField(
        label=gettext_lazy("Security groups"), widget=forms.CheckboxSelectMultiple, required=False
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255, required=False)
    user_data = forms.CharField(
        label=gettext_lazy("User data"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=gettext_lazy("A cloud-init script or cloud-config, passed to the instance as is."),
    )
    metadata = forms.CharField(
        label=gettext_lazy("Metadata"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "role=web"}),
        help_text=gettext_lazy("One key=value per line."),
    )

    def __init__(self, *args: Any, choices: launch.LaunchChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["image_id"].choices = [("", _("Choose an image"))] + [(i.id, i.name) for i in choices.images]
        self.fields["snapshot_id"].choices = [("", _("Choose a snapshot"))] + [
            (i.id, i.name) for i in choices.snapshots
        ]
        self.fields["volume_id"].choices = [("", _("Choose a volume"))] + [
            (v.id, f"{v.name} ({gib(v.size)})") for v in choices.volumes
        ]
        self.fields["flavor_id"].choices = [(f.id, f.name) for f in choices.flavors]
        self.fields["key_name"].choices = [("", _("No key pair"))] + [(k, k) for k in choices.keypairs]
        self.fields["availability_zone"].choices = [("", _("Any zone"))] + [(z, z) for z in choices.zones]
        self.fields["server_group"].choices = [("", _("No server group"))] + [
            (g.id, f"{g.label} ({g.policy_label})") for g in choices.server_groups
        ]
        if choices.picks_networks:
            usable = choices.usable_networks
            self.fields["network"].choices = [(n.id, n.name) for n in usable]
            # The project's own network when it can use exactly one; otherwise the person chooses (never "none"
            # or "auto" silently: Nova's auto is ambiguous as soon as two networks are usable).
            self.fields["network"].initial = [usable[0].id] if len(usable) == 1 else []
            self.fields["network"].help_text = _("An instance gets one network interface per network chosen.")
            # By id: Neutron allows two groups of one name, and Nova refuses an ambiguous name (409); a repeated
            # name is told apart by the start of its id.
            groups = choices.security_groups
            if choices.security_groups_supported:
                self.fields["security_groups"].choices = [
                    (g.id, g.name if self._group_name_unique(g) else f"{g.name} ({g.id[:8]})") for g in groups
                ]
                default = next((g.id for g in groups if g.name == "default"), None)
                self.fields["security_groups"].initial = [default] if default else []
                help_text = _("They apply to every network interface of the instance.")
                self.fields["security_groups"].help_text = help_text
            else:
                del self.fields["security_groups"]  # a Neutron without security groups: the template says so
        else:
            del self.fields["security_groups"]
            self.fields["network"] = forms.ChoiceField(
                label=_("Network"),
                choices=[("none", _("No network")), ("auto", _("Automatic (the cloud decides)"))],
                initial="none",
                widget=forms.RadioSelect,
            )
        if not choices.has_volume_service:
            self.fields["source"].choices = [c for c in SOURCES if c[0] in ("image", "snapshot")]
        remaining = choices.quota.instances - choices.quota.instances_used
        if choices.quota.instances >= 0:
            self.fields["count"].widget.attrs["max"] = max(1, min(100, remaining))

    # --- helpers for the template and the view -----------------------------------------------------------

    def value(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(name, "") or "")
        return str(self.initial.get(name, self.fields[name].initial) or "")

    def selected_image(self) -> launch.ImageChoice | None:
        source = self.value("source") or "image"
        wanted = self.value("snapshot_id") if source == "snapshot" else self.value("image_id")
        if source == "volume" or not wanted:
            return None
        for img in [*self.choices.images, *self.choices.snapshots]:
            if img.id == wanted:
                return img
        return None

    def flavor_rows(self) -> list[tuple[launch.FlavorChoice, str, bool]]:
        """(flavor, reason it does not fit or "", selected) for the flavor picker."""
        image = self.selected_image()
        boot_volume = self.value("source") in ("volume", "image_to_volume")
        chosen = self.value("flavor_id")
        return [(f, flavor_fit(f, image, boot_volume=boot_volume), f.id == chosen) for f in self.choices.flavors]

    def selected_flavor(self) -> launch.FlavorChoice | None:
        chosen = self.value("flavor_id")
        return next((f for f in self.choices.flavors if f.id == chosen), None)

    def chosen_networks(self) -> list[str]:
        """The ids of the networks chosen, in the order chosen (see `in_nic_order`), or as first offered."""
        if self.is_bound:
            return self.in_nic_order(self.data.getlist("network") if hasattr(self.data, "getlist") else [])
        initial = self.initial.get("network", self.fields["network"].initial)
        return list(initial) if isinstance(initial, (list, tuple)) else []

    def in_nic_order(self, ids: list[str]) -> list[str]:
        """These network ids in the order the person ticked them: the page's script keeps that order in
        `network_order` (without the script: the order listed). The instance's NICs follow it (eth0 first)."""
        raw = str(self.data.get("network_order") or "") if self.is_bound else ""
        rank = {nid: n for n, nid in enumerate(dict.fromkeys(i for i in raw.split(",") if i))}
        listed = {nid: n for n, nid in enumerate(ids)}
        return sorted(dict.fromkeys(ids), key=lambda i: (rank.get(i, len(rank)), listed[i]))

    def network_error_first(self) -> bool:
        """Whether the Networks choice is the first thing on the page to fix: its first box then takes the focus
        (the card is below the fold, and nothing above it says anything is wrong)."""
        above: tuple[str, ...] = ("name", "count", "availability_zone", "key_name", "description", "source")
        above += ("image_id", "snapshot_id", "volume_id", "volume_size", "delete_on_termination", "delete_volume")
        above += ("flavor_id",)
        above += ("__all__",)
        return self.is_bound and "network" in self.errors and not any(f in self.errors for f in above)

    def nic_text(self) -> str:
        """How a chosen network's place is said ("NIC %(n)s"); the page's script renumbers with it."""
        return _("NIC %(n)s")

    def chosen_security_groups(self) -> list[str]:
        if "security_groups" not in self.fields:
            return []
        if self.is_bound:
            return self.data.getlist("security_groups") if hasattr(self.data, "getlist") else []
        return list(self.fields["security_groups"].initial or [])

    def network_rows(self) -> list[tuple[Any, int, str]]:
        """(network, its NIC number when chosen else 0, why it cannot be chosen or "") for the Networks card,
        usable ones first."""
        chosen = {nid: n for n, nid in enumerate(self.chosen_networks(), start=1)}
        reasons = {
            "external": _("external: reached through a router, not a network an instance can be put on"),
            "down": _("administratively down"),
            "other": _("another project's network"),
        }
        return [
            (n, chosen.get(n.id, 0) if n.usable else 0, reasons.get(n.unusable_reason, ""))
            for n in self.choices.networks
        ]

    def network_label(self, network_id: str) -> str:
        """How the CLI names a network: its name when no other network the project sees has it, else its id."""
        nets = self.choices.networks
        net = next((n for n in nets if n.id == network_id), None)
        if net is None or sum(1 for n in nets if n.name == net.name) > 1:
            return network_id
        return net.name

    def _group_name_unique(self, group: Any) -> bool:
        return sum(1 for g in self.choices.security_groups if g.name == group.name) == 1

    def security_group_label(self, group_id: str) -> str:
        """How the CLI names a security group: its name when no other group of the project has it, else its id."""
        group = next((g for g in self.choices.security_groups if g.id == group_id), None)
        if group is None or not self._group_name_unique(group):
            return group_id
        return group.name

    def count_value(self) -> int:
        try:
            return max(1, min(100, int(self.value("count") or 1)))
        except ValueError:
            return 1

    # --- validation --------------------------------------------------------------------------------------

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()  # spaces at either end are dropped, as the CLI's shell would
        problem = name_problem(name, required=_("Give the instance a name."))
        if problem:
            raise forms.ValidationError(problem)
        return name

    def clean_description(self) -> str:
        text = self.cleaned_data.get("description") or ""
        problem = description_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text

    def clean_user_data(self) -> str:
        return clean_user_data(self.cleaned_data.get("user_data") or "")

    def clean_metadata(self) -> dict[str, str]:
        return parse_metadata(self.cleaned_data.get("metadata") or "")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        source = data.get("source")
        if source in ("image", "image_to_volume") and not data.get("image_id"):
            self.add_error("image_id", _("Choose an image."))
        if source == "snapshot" and not data.get("snapshot_id"):
            self.add_error("snapshot_id", _("Choose a snapshot."))
        if source == "volume" and not data.get("volume_id"):
            self.add_error("volume_id", _("Choose a volume."))
        image = self.selected_image()
        if source == "image_to_volume":
            size = data.get("volume_size")
            if not size:
                self.add_error("volume_size", _("Give the size of the new volume."))
            elif image is not None:
                need = max(image.min_disk, math.ceil(image.size / (1024**3)) if image.size else 0)
                if size < need:
                    self.add_error("volume_size", _("The image needs a volume of at least %(n)s.") % {"n": gib(need)})
        flavor = self.selected_flavor()
        if flavor is not None:
            reason = flavor_fit(flavor, image, boot_volume=source in ("volume", "image_to_volume"))
            if reason:
                self.add_error("flavor_id", _("This flavor is too small for the image: %(r)s.") % {"r": reason})
        if source in ("volume",) and (data.get("count") or 1) > 1:
            self.add_error("count", _("An existing volume can boot only one instance."))
        if self.choices.picks_networks and not data.get("network") and "network" not in self.errors:
            if len(self.choices.usable_networks) > 1:
                message = _("This project can use several networks: choose the one (or ones) for the instance.")
            else:
                message = _("Choose a network for the instance.")
            self.add_error("network", message)
        return data

    def launch_request(self) -> services.LaunchRequest:
        """What to launch, from a valid form (the params of each `server.launch` operation)."""
        data = self.cleaned_data
        source = data["source"]
        image_id = ""
        if source == "snapshot":
            image_id = data["snapshot_id"]
        elif source in ("image", "image_to_volume"):
            image_id = data["image_id"]
        return services.LaunchRequest(
            name=data["name"],
            count=data["count"],
            flavor_id=data["flavor_id"],
            source_type=source,
            image_id=image_id,
            volume_id=data["volume_id"] if source == "volume" else "",
            volume_size=int(data.get("volume_size") or 0) if source == "image_to_volume" else 0,
            delete_on_termination=bool(
                data.get("delete_on_termination") if source == "image_to_volume" else data.get("delete_volume")
            )
            and source in ("image_to_volume", "volume"),
            key_name=data.get("key_name") or "",
            availability_zone=data.get("availability_zone") or "",
            user_data=data.get("user_data") or "",
            metadata=data.get("metadata") or {},
            description=data.get("description") or "",
            networks=self.networks_value(),
            security_groups=list(data.get("security_groups") or []) if self.choices.picks_networks else [],
            server_group=self.chosen_server_group(),
        )

    def chosen_server_group(self) -> dict[str, Any]:
        """The group chosen, as the launch's operation keeps it (its id for the hint; name, policy and rule for the
        plain words of a launch the group's policy makes impossible), or {}."""
        chosen = self.cleaned_data.get("server_group") if hasattr(self, "cleaned_data") else self.value("server_group")
        group = next((g for g in self.choices.server_groups if g.id == chosen), None)
        if group is None:
            return {}
        per_host = group.max_server_per_host
        return {"id": group.id, "name": group.label, "policy": group.policy, "max_server_per_host": per_host}

    def networks_value(self) -> Any:
        value = self.cleaned_data.get("network")
        if self.choices.picks_networks:
            return self.in_nic_order(list(value or []))  # never empty: clean() asks for a network
        return value or "none"


class RenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("New name"), max_length=NAME_MAX, strip=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        problem = name_problem(name, required=_("Give the instance a name."))
        if problem:
            raise forms.ValidationError(problem)
        return name


class SnapshotForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Snapshot name"), max_length=NAME_MAX, strip=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        problem = name_problem(name, required=_("Give the snapshot a name."))
        if problem:
            raise forms.ValidationError(problem)
        return name


class LockForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (optional)"), max_length=255, required=False)


class ResizeForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    flavor_id = forms.ChoiceField(label=gettext_lazy("New flavor"))

    def __init__(self, *args: Any, flavors: list[launch.FlavorChoice], current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vcpu = _("vCPU")
        self.fields["flavor_id"].choices = [
            (f.id, f"{f.name} · {f.vcpus} {vcpu} · {mib(f.ram)} · {gib(f.disk)}") for f in flavors if f.name != current
        ]


class RebuildForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    image_id = forms.ChoiceField(label=gettext_lazy("Image"))

    def __init__(self, *args: Any, images: list[launch.ImageChoice], server: selectors.Server, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.images = {i.id: i for i in images}
        self.server = server
        choices: list[tuple[str, str]] = [("", _("Choose an image"))]
        for image in images:
            reason = self.unfit(image)
            choices.append((image.id, f"{image.name} ({reason})" if reason else image.name))
        self.fields["image_id"].choices = choices

    def unfit(self, image: launch.ImageChoice) -> str:
        flavor = launch.FlavorChoice(
            id="", name=self.server.flavor_name, vcpus=self.server.vcpus, ram=self.server.ram, disk=self.server.disk
        )
        return flavor_fit(flavor, image, boot_volume=self.server.volume_backed)

    def clean_image_id(self) -> str:
        image_id = self.cleaned_data["image_id"]
        image = self.images.get(image_id)
        if image is not None:
            reason = self.unfit(image)
            if reason:
                raise forms.ValidationError(
                    _("The flavor of this instance is too small for the image: %(r)s.") % {"r": reason}
                )
        return image_id


_SAFE_CLI = re.compile(r"^[A-Za-z0-9_./:@%+=,-]+$")


def shell_quote(value: Any) -> str:
    text = str(value)
    if text and _SAFE_CLI.match(text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


# --- interfaces and floating IPs ---------------------------------------------------------------------------


def _network_label(net: Any) -> str:
    cidrs = ", ".join(s.cidr for s in net.subnets)
    marks = [pgettext("network", "shared")] if net.shared else []
    text = f"{net.name} ({cidrs})" if cidrs else net.name
    return f"{text} · {', '.join(marks)}" if marks else text


class AttachInterfaceForm(forms.Form):
    """A network the project may use (a new port on it, as at launch: not an external network) or a free port."""

    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields

    target = forms.ChoiceField(label=gettext_lazy("Network or port"))
    fixed_ip = forms.CharField(
        label=gettext_lazy("Fixed IP address (optional)"),
        required=False,
        help_text=gettext_lazy("Only with a network: an address of one of its subnets. Empty: Neutron picks one."),
    )

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.networks = {n.id: n for n in choices.networks}
        self.ports = {p.id: p for p in choices.ports}
        groups: list[Any] = []
        if choices.networks:
            groups.append((_("Networks (a new port)"), [(f"net:{n.id}", _network_label(n)) for n in choices.networks]))
        if choices.ports:
            groups.append((_("Free ports"), [(f"port:{p.id}", f"{p.label} · {p.network_name}") for p in choices.ports]))
        self.fields["target"].choices = groups
        if choices.networks:
            self.fields["target"].initial = f"net:{choices.networks[0].id}"
        elif choices.ports:
            self.fields["target"].initial = f"port:{choices.ports[0].id}"

    @property
    def has_choices(self) -> bool:
        return bool(self.networks or self.ports)

    def clean_fixed_ip(self) -> str:
        value = (self.cleaned_data.get("fixed_ip") or "").strip()
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise forms.ValidationError(_("Enter an IPv4 or IPv6 address, such as 10.0.0.20.")) from None
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind, _sep, ident = (data.get("target") or "").partition(":")
        fixed = data.get("fixed_ip") or ""
        if kind == "port" and fixed:
            self.add_error("fixed_ip", _("A port keeps its own addresses: leave this empty, or choose a network."))
        if kind == "net" and fixed:
            net = self.networks[ident]
            ip = ipaddress.ip_address(fixed)
            if not any(ip in ipaddress.ip_network(s.cidr, strict=False) for s in net.subnets if s.cidr):
                cidrs = ", ".join(s.cidr for s in net.subnets) or "—"
                self.add_error(
                    "fixed_ip",
                    _("%(ip)s is not in a subnet of %(network)s (%(cidrs)s).")
                    % {"ip": fixed, "network": net.name, "cidrs": cidrs},
                )
        return data

    def params(self) -> dict[str, Any]:
        return self.params_of(self.cleaned_data)

    def params_of(self, values: Any) -> dict[str, Any]:
        """The operation's parameters for these values (cleaned, or as shown: the CLI of the page)."""
        kind, _sep, ident = str(values.get("target") or "").partition(":")
        if kind == "port" and ident in self.ports:
            return {"port_id": ident, "label": self.ports[ident].label}
        if kind == "net" and ident in self.networks:
            return {"net_id": ident, "label": self.networks[ident].name, "fixed_ip": values.get("fixed_ip") or ""}
        return {}

    def shown_params(self) -> dict[str, Any]:
        return self.params_of(self.data if self.is_bound else {"target": self.fields["target"].initial})


class AddFloatingIPForm(forms.Form):
    """A free floating IP of the project, or a new one from an external network (allocated and associated in one
    step), for one of the server's fixed IPv4 addresses that has none yet."""

    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields

    floating_ip = forms.ChoiceField(label=gettext_lazy("Floating IP"))
    port = forms.ChoiceField(label=gettext_lazy("Fixed IP of the instance"))

    def __init__(self, *args: Any, choices: Any, networking: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.free = {f.id: f for f in choices.free}
        self.pools = {p.id: p for p in choices.pools}
        groups: list[Any] = []
        if choices.free:
            groups.append(
                (
                    _("The project's free floating IPs"),
                    [(f"fip:{f.id}", f"{f.address} · {f.network_name}") for f in choices.free],
                )
            )
        if choices.pools:
            groups.append(
                (
                    _("Allocate a new one from"),
                    [(f"new:{p.id}", _("a new address from %(pool)s") % {"pool": p.name}) for p in choices.pools],
                )
            )
        self.fields["floating_ip"].choices = groups
        first = [c for _group, options in groups for c, _label in options]
        if first:
            self.fields["floating_ip"].initial = first[0]
        taken = {(f.port_id, f.fixed_ip) for f in networking.floating_ips}
        self.targets = {
            f"{port.id}|{fixed.ip_address}": (port, fixed)
            for port, fixed in networking.fixed_ipv4
            if (port.id, fixed.ip_address) not in taken
        }
        self.fields["port"].choices = [
            (key, f"{fixed.ip_address} · {port.network_name}") for key, (port, fixed) in self.targets.items()
        ]
        if len(self.targets) == 1:
            self.fields["port"].widget = forms.HiddenInput()
            self.fields["port"].initial = next(iter(self.targets))

    @property
    def usable(self) -> bool:
        return bool(self.targets) and bool(self.free or self.pools)

    def params(self) -> dict[str, Any]:
        return self.params_of(self.cleaned_data)

    def params_of(self, values: Any) -> dict[str, Any]:
        """The operation's parameters for these values (cleaned, or as shown: the CLI of the page)."""
        kind, _sep, ident = str(values.get("floating_ip") or "").partition(":")
        target = self.targets.get(str(values.get("port") or ""))
        params: dict[str, Any] = {"port_id": target[0].id, "fixed_ip": target[1].ip_address} if target else {}
        if kind == "fip" and ident in self.free:
            params.update(floating_ip_id=ident, address=self.free[ident].address)
        elif kind == "new" and ident in self.pools:
            params.update(network_id=ident, network_name=self.pools[ident].name)
        return params

    def shown_params(self) -> dict[str, Any]:
        if self.is_bound:
            return self.params_of(self.data)
        port = self.fields["port"].initial or next(iter(self.targets), "")
        return self.params_of({"floating_ip": self.fields["floating_ip"].initial, "port": port})


# --- shelve, rescue, backup ------------------------------------------------------------------------------------


class UnshelveForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    availability_zone = forms.ChoiceField(
        label=gettext_lazy("Availability zone"),
        required=False,
        help_text=gettext_lazy("An offloaded instance may start again in another zone (Nova microversion 2.77)."),
    )

    def __init__(self, *args: Any, zones: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["availability_zone"].choices = [("", _("Where Nova chooses"))] + [(z, z) for z in zones]


class RescueForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    image_id = forms.ChoiceField(
        label=gettext_lazy("Rescue image"),
        required=False,
        help_text=gettext_lazy("The instance boots from this image, with its own disk attached to repair it."),
    )

    def __init__(self, *args: Any, images: list[launch.ImageChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image_id"].choices = [("", _("The instance's own image"))] + [(i.id, i.name) for i in images]


BACKUP_TYPES = [("daily", gettext_lazy("Daily")), ("weekly", gettext_lazy("Weekly"))]


class BackupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Backup name"), max_length=NAME_MAX, strip=False)
    backup_type = forms.ChoiceField(label=gettext_lazy("Type"), choices=BACKUP_TYPES, initial="daily")
    rotation = forms.IntegerField(
        label=gettext_lazy("Backups to keep"),
        min_value=1,
        max_value=1000,
        initial=1,
        help_text=gettext_lazy("Nova deletes this instance's oldest backups of this type beyond this number."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        problem = name_problem(name, required=_("Give the backup a name."))
        if problem:
            raise forms.ValidationError(problem)
        return name


# --- metadata and tags ---------------------------------------------------------------------------------------------

METADATA_KEY = re.compile(r"[a-zA-Z0-9-_:. ]+")  # Nova's parameter_types.metadata: keys of these characters only
METADATA_MAX = 255
TAG_MAX = 60  # Nova's parameter_types.tag: 1 to 60 characters, no '/' or ','
TAGS_MAX = 50  # objects.instance.MAX_TAG_COUNT


class MetadataItemForm(forms.Form):
    """One metadata item to add or change (Nova: `PUT /servers/{id}/metadata/{key}`)."""

    key = forms.CharField(
        label=gettext_lazy("Key"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Letters, digits, spaces and - _ : . (up to 255 characters)."),
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Up to 255 characters."),
    )

    def clean_key(self) -> str:
        key = self.cleaned_data.get("key") or ""
        if not key.strip():
            raise forms.ValidationError(_("Give the metadata item a key."), code="required")
        if len(key) > METADATA_MAX:
            raise forms.ValidationError(
                _("A key is at most 255 characters (this one has %(n)s).") % {"n": len(key)}, code="max_length"
            )
        if not METADATA_KEY.fullmatch(key):
            raise forms.ValidationError(
                _("Nova takes keys of letters, digits, spaces and - _ : . only."), code="invalid"
            )
        return key

    def clean_value(self) -> str:
        value = self.cleaned_data.get("value") or ""
        if len(value) > METADATA_MAX:
            raise forms.ValidationError(
                _("A value is at most 255 characters (this one has %(n)s).") % {"n": len(value)}, code="max_length"
            )
        return value


class TagForm(forms.Form):
    """One tag to add (Nova 2.26+: `PUT /servers/{id}/tags/{tag}`); `tags` are the server's tags now (all of them:
    Nova counts Stratus' own bookkeeping tag in its 50 too)."""

    tag = forms.CharField(
        label=gettext_lazy("Tag"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Up to 60 characters, without / or ,"),
    )

    def __init__(self, *args: Any, tags: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags = tags

    def clean_tag(self) -> str:
        tag = (self.cleaned_data.get("tag") or "").strip()
        if not tag:
            raise forms.ValidationError(_("Write the tag to add."), code="required")
        if len(tag) > TAG_MAX:
            raise forms.ValidationError(
                _("A tag is at most 60 characters (this one has %(n)s).") % {"n": len(tag)}, code="max_length"
            )
        if "/" in tag or "," in tag:
            raise forms.ValidationError(_("A tag cannot hold / or , (Nova refuses them)."), code="invalid")
        if selectors.is_stratus_tag(tag):
            raise forms.ValidationError(_("Tags of this form are Stratus' own record of a launch."), code="reserved")
        if tag not in self.tags and len(self.tags) >= TAGS_MAX:
            raise forms.ValidationError(_("An instance has at most 50 tags; remove one first."), code="too_many")
        return tag
