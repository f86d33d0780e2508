"""The Volumes page's forms: create (blank, from an image, from a volume snapshot) and extend. They check what can be
checked before Cinder is asked (a name Cinder takes, a size, a source that exists, a larger size); what only Cinder
knows (quota, the volume's status) comes back on the operation in Cinder's words."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.templatetags.stratus import gib
from apps.volumes.selectors import CreateChoices, Volume

SOURCES = [
    ("blank", gettext_lazy("Empty volume")),
    ("image", gettext_lazy("From an image")),
    ("snapshot", gettext_lazy("From a volume snapshot")),
]
MAX_GIB = 16384


class CreateVolumeForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255, strip=False)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=SOURCES, initial="blank", widget=forms.RadioSelect)
    image_id = forms.ChoiceField(label=gettext_lazy("Image"), required=False)
    snapshot_id = forms.ChoiceField(label=gettext_lazy("Volume snapshot"), required=False)
    size = forms.IntegerField(
        label=gettext_lazy("Size (GiB)"),
        min_value=1,
        max_value=MAX_GIB,
        required=False,
        initial=1,
        help_text=gettext_lazy("From an image or a snapshot, leave it empty for the smallest size that fits."),
    )
    volume_type = forms.ChoiceField(label=gettext_lazy("Volume type"), required=False)
    availability_zone = forms.ChoiceField(label=gettext_lazy("Availability zone"), required=False)
    description = forms.CharField(label=gettext_lazy("Description (optional)"), max_length=255, required=False)

    def __init__(self, *args: Any, choices: CreateChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["image_id"].choices = [("", _("Choose an image"))] + [(i.id, i.name) for i in choices.images]
        self.fields["snapshot_id"].choices = [("", _("Choose a volume snapshot"))] + [
            (s.id, f"{s.name} ({gib(s.size)})") for s in choices.snapshots
        ]
        self.fields["volume_type"].choices = [("", _("The cloud's default type"))] + [(t, t) for t in choices.types]
        self.fields["availability_zone"].choices = [("", _("Any zone"))] + [(z, z) for z in choices.zones]
        if not choices.snapshots:
            self.fields["source"].choices = [c for c in SOURCES if c[0] != "snapshot"]
            del self.fields["snapshot_id"]

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name") or ""
        if not name.strip():
            raise forms.ValidationError(_("Give the volume a name."))
        if name != name.strip():
            raise forms.ValidationError(_("A name cannot start or end with a space."))
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        source = data.get("source")
        size = data.get("size")
        if source == "blank" and not size and "size" not in self.errors:
            self.add_error("size", _("Give the size of the new volume."))
        if source == "image":
            image = next((i for i in self.choices.images if i.id == data.get("image_id")), None)
            if image is None:
                self.add_error("image_id", _("Choose an image."))
            else:
                need = max(image.min_disk, math.ceil(image.size / (1024**3)) if image.size else 0)
                if not size and "size" not in self.errors:
                    # Cinder needs a size with an image (only a snapshot or a source volume gives its own; real
                    # Cinder answers 400 without one): the least the image fits in.
                    data["size"] = max(1, need)
                elif size and size < need:
                    self.add_error("size", _("The image needs a volume of at least %(n)s.") % {"n": gib(need)})
        if source == "snapshot":
            snap = next((s for s in self.choices.snapshots if s.id == data.get("snapshot_id")), None)
            if snap is None:
                self.add_error("snapshot_id", _("Choose a volume snapshot."))
            elif size and size < snap.size:
                self.add_error(
                    "size",
                    _("A volume from this snapshot needs at least %(n)s, the snapshot's size.") % {"n": gib(snap.size)},
                )
        return data

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        source = data["source"]
        return {
            "name": data["name"],
            "source": source,
            "size": int(data["size"]) if data.get("size") else 0,
            "image_id": data.get("image_id") or "" if source == "image" else "",
            "snapshot_id": data.get("snapshot_id") or "" if source == "snapshot" else "",
            "volume_type": data.get("volume_type") or "",
            "availability_zone": data.get("availability_zone") or "",
            "description": data.get("description") or "",
        }

    def shown_params(self) -> dict[str, Any]:
        """What the CLI block shows: the form as filled so far."""
        raw = self.data if self.is_bound else {}
        return {key: raw.get(key, "") for key in self.fields} | {"source": raw.get("source", "blank")}


class ExtendVolumeForm(forms.Form):
    fields: dict[str, Any]  # django-stubs says Field; __init__ sets the choices of ChoiceFields
    new_size = forms.IntegerField(label=gettext_lazy("New size (GiB)"), min_value=1, max_value=MAX_GIB)

    def __init__(self, *args: Any, volume: Volume, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.volume = volume
        self.fields["new_size"].initial = volume.size + 1
        self.fields["new_size"].help_text = _("Now %(size)s. A volume can only grow: Cinder does not shrink one.") % {
            "size": gib(volume.size)
        }

    def clean_new_size(self) -> int:
        size = int(self.cleaned_data["new_size"])
        if size <= self.volume.size:
            raise forms.ValidationError(
                _("The new size must be larger than the volume's %(size)s: Cinder only extends volumes.")
                % {"size": gib(self.volume.size)}
            )
        return size


class AttachVolumeForm(forms.Form):
    """The instance page's Attach volume: one of the project's available volumes, and optionally the device name. A
    volume that is no longer available when the form is sent still goes to Nova, whose refusal the operation shows."""

    volume_id = forms.CharField(label=gettext_lazy("Volume"), widget=forms.Select)
    device = forms.CharField(
        label=gettext_lazy("Device name (optional)"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "/dev/vdb", "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("Leave it empty and Nova picks the next free one. Some hypervisors ignore it."),
    )

    def __init__(self, *args: Any, volumes: list[Volume], lookup: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.volumes = volumes
        self.lookup = lookup  # volume id → Volume, or None when Cinder has no such volume for the project
        self.fields["volume_id"].widget.choices = [("", _("Choose a volume"))] + [
            (v.id, f"{v.label} ({gib(v.size)})") for v in volumes
        ]
        self.chosen: Volume | None = None

    def clean_volume_id(self) -> str:
        volume_id = (self.cleaned_data.get("volume_id") or "").strip()
        chosen = next((v for v in self.volumes if v.id == volume_id), None) or self.lookup(volume_id)
        if chosen is None:
            raise forms.ValidationError(_("Choose one of the project's volumes."))
        self.chosen = chosen
        return volume_id

    def clean_device(self) -> str:
        return (self.cleaned_data.get("device") or "").strip()
