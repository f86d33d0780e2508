"""Human, translated labels for the codes Nova, Glance and Neutron put on the wire: a server's status, power state
and task state, an image's status, a port's or floating IP's status, a Keystone role. Pages show the label and keep
the raw code in a `title` (and in the CLI block), so what the cloud said stays one hover away. An unknown code (a
newer Nova's) shows as it came."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# https://docs.openstack.org/api-guide/compute/server_concepts.html#server-status
SERVER_STATUS: dict[str, Promise] = {
    "ACTIVE": pgettext_lazy("server status", "Active"),
    "BUILD": pgettext_lazy("server status", "Building"),
    "SHUTOFF": pgettext_lazy("server status", "Shut off"),
    "PAUSED": pgettext_lazy("server status", "Paused"),
    "SUSPENDED": pgettext_lazy("server status", "Suspended"),
    "VERIFY_RESIZE": pgettext_lazy("server status", "Confirm resize"),
    "REBOOT": pgettext_lazy("server status", "Rebooting"),
    "HARD_REBOOT": pgettext_lazy("server status", "Hard rebooting"),
    "RESIZE": pgettext_lazy("server status", "Resizing"),
    "REVERT_RESIZE": pgettext_lazy("server status", "Reverting resize"),
    "REBUILD": pgettext_lazy("server status", "Rebuilding"),
    "MIGRATING": pgettext_lazy("server status", "Migrating"),
    "PASSWORD": pgettext_lazy("server status", "Setting password"),
    "RESCUE": pgettext_lazy("server status", "Rescue mode"),
    "SHELVED": pgettext_lazy("server status", "Shelved"),
    "SHELVED_OFFLOADED": pgettext_lazy("server status", "Shelved (offloaded)"),
    "ERROR": pgettext_lazy("server status", "Error"),
    "DELETED": pgettext_lazy("server status", "Deleted"),
    "SOFT_DELETED": pgettext_lazy("server status", "Soft-deleted"),
    "UNKNOWN": pgettext_lazy("server status", "Unknown"),
}

# OS-EXT-STS:power_state (Nova's nova/compute/power_state.py), by the name the instances selectors give it.
POWER_STATE: dict[str, Promise] = {
    "NOSTATE": pgettext_lazy("power state", "No state"),
    "RUNNING": pgettext_lazy("power state", "Running"),
    "PAUSED": pgettext_lazy("power state", "Paused"),
    "SHUTDOWN": pgettext_lazy("power state", "Shut down"),
    "CRASHED": pgettext_lazy("power state", "Crashed"),
    "SUSPENDED": pgettext_lazy("power state", "Suspended"),
}

# OS-EXT-STS:task_state (Nova's nova/compute/task_states.py).
TASK_STATE: dict[str, Promise] = {
    "scheduling": pgettext_lazy("task state", "scheduling"),
    "block_device_mapping": pgettext_lazy("task state", "mapping block devices"),
    "networking": pgettext_lazy("task state", "networking"),
    "spawning": pgettext_lazy("task state", "spawning"),
    "image_snapshot": pgettext_lazy("task state", "taking a snapshot"),
    "image_snapshot_pending": pgettext_lazy("task state", "snapshot pending"),
    "image_pending_upload": pgettext_lazy("task state", "snapshot waiting to upload"),
    "image_uploading": pgettext_lazy("task state", "uploading the snapshot"),
    "image_backup": pgettext_lazy("task state", "backing up"),
    "updating_password": pgettext_lazy("task state", "updating the password"),
    "resize_prep": pgettext_lazy("task state", "preparing to resize"),
    "resize_migrating": pgettext_lazy("task state", "resize: migrating"),
    "resize_migrated": pgettext_lazy("task state", "resize: migrated"),
    "resize_finish": pgettext_lazy("task state", "resize: finishing"),
    "resize_reverting": pgettext_lazy("task state", "reverting the resize"),
    "resize_confirming": pgettext_lazy("task state", "confirming the resize"),
    "rebooting": pgettext_lazy("task state", "rebooting"),
    "reboot_pending": pgettext_lazy("task state", "reboot pending"),
    "reboot_started": pgettext_lazy("task state", "reboot started"),
    "rebooting_hard": pgettext_lazy("task state", "hard rebooting"),
    "reboot_pending_hard": pgettext_lazy("task state", "hard reboot pending"),
    "reboot_started_hard": pgettext_lazy("task state", "hard reboot started"),
    "pausing": pgettext_lazy("task state", "pausing"),
    "unpausing": pgettext_lazy("task state", "unpausing"),
    "suspending": pgettext_lazy("task state", "suspending"),
    "resuming": pgettext_lazy("task state", "resuming"),
    "powering-off": pgettext_lazy("task state", "powering off"),
    "powering-on": pgettext_lazy("task state", "powering on"),
    "rescuing": pgettext_lazy("task state", "rescuing"),
    "unrescuing": pgettext_lazy("task state", "unrescuing"),
    "rebuilding": pgettext_lazy("task state", "rebuilding"),
    "rebuild_block_device_mapping": pgettext_lazy("task state", "rebuild: mapping block devices"),
    "rebuild_spawning": pgettext_lazy("task state", "rebuild: spawning"),
    "migrating": pgettext_lazy("task state", "migrating"),
    "deleting": pgettext_lazy("task state", "deleting"),
    "soft-deleting": pgettext_lazy("task state", "soft-deleting"),
    "restoring": pgettext_lazy("task state", "restoring"),
    "shelving": pgettext_lazy("task state", "shelving"),
    "shelving_image_pending_upload": pgettext_lazy("task state", "shelving: image waiting to upload"),
    "shelving_image_uploading": pgettext_lazy("task state", "shelving: uploading the image"),
    "shelving_offloading": pgettext_lazy("task state", "shelving: offloading"),
    "unshelving": pgettext_lazy("task state", "unshelving"),
}

# https://docs.openstack.org/api-ref/image/v2/#images (image status)
IMAGE_STATUS: dict[str, Promise] = {
    "queued": pgettext_lazy("image status", "queued"),
    "saving": pgettext_lazy("image status", "saving"),
    "uploading": pgettext_lazy("image status", "uploading"),
    "importing": pgettext_lazy("image status", "importing"),
    "active": pgettext_lazy("image status", "active"),
    "deactivated": pgettext_lazy("image status", "deactivated"),
    "killed": pgettext_lazy("image status", "failed (killed)"),
    "deleted": pgettext_lazy("image status", "deleted"),
    "pending_delete": pgettext_lazy("image status", "being deleted"),
}

IMAGE_VISIBILITY: dict[str, Promise] = {
    "private": pgettext_lazy("image visibility", "private"),
    "shared": pgettext_lazy("image visibility", "shared"),
    "public": pgettext_lazy("image visibility", "public"),
    "community": pgettext_lazy("image visibility", "community"),
}

# Neutron's status of a port or a floating IP (https://docs.openstack.org/api-ref/network/v2/).
NEUTRON_STATUS: dict[str, Promise] = {
    "ACTIVE": pgettext_lazy("network status", "Active"),
    "DOWN": pgettext_lazy("network status", "Down"),
    "BUILD": pgettext_lazy("network status", "Building"),
    "ERROR": pgettext_lazy("network status", "Error"),
}

# Cinder's volume status (https://docs.openstack.org/api-ref/block-storage/v3/#volumes-volumes).
VOLUME_STATUS: dict[str, Promise] = {
    "creating": pgettext_lazy("volume status", "Creating"),
    "available": pgettext_lazy("volume status", "Available"),
    "reserved": pgettext_lazy("volume status", "Reserved"),
    "attaching": pgettext_lazy("volume status", "Attaching"),
    "detaching": pgettext_lazy("volume status", "Detaching"),
    "in-use": pgettext_lazy("volume status", "In use"),
    "maintenance": pgettext_lazy("volume status", "Maintenance"),
    "deleting": pgettext_lazy("volume status", "Deleting"),
    "awaiting-transfer": pgettext_lazy("volume status", "Awaiting transfer"),
    "error": pgettext_lazy("volume status", "Error"),
    "error_deleting": pgettext_lazy("volume status", "Error deleting"),
    "backing-up": pgettext_lazy("volume status", "Backing up"),
    "restoring-backup": pgettext_lazy("volume status", "Restoring a backup"),
    "error_backing-up": pgettext_lazy("volume status", "Error backing up"),
    "error_restoring": pgettext_lazy("volume status", "Error restoring"),
    "error_extending": pgettext_lazy("volume status", "Error extending"),
    "downloading": pgettext_lazy("volume status", "Downloading"),
    "uploading": pgettext_lazy("volume status", "Uploading"),
    "retyping": pgettext_lazy("volume status", "Retyping"),
    "extending": pgettext_lazy("volume status", "Extending"),
}

ROLE: dict[str, Promise] = {
    "admin": pgettext_lazy("role", "admin"),
    "member": pgettext_lazy("role", "member"),
    "reader": pgettext_lazy("role", "reader"),
}


def server_status_label(code: str) -> str:
    return str(SERVER_STATUS.get((code or "").upper(), code or ""))


def power_state_label(code: str) -> str:
    return str(POWER_STATE.get(code or "", code or ""))


def task_state_label(code: str) -> str:
    return str(TASK_STATE.get(code or "", code or ""))


def image_status_label(code: str) -> str:
    return str(IMAGE_STATUS.get(code or "", code or ""))


def visibility_label(code: str) -> str:
    return str(IMAGE_VISIBILITY.get(code or "", code or ""))


def neutron_status_label(code: str) -> str:
    return str(NEUTRON_STATUS.get((code or "").upper(), code or ""))


def volume_status_label(code: str) -> str:
    return str(VOLUME_STATUS.get(code or "", code or ""))


def role_label(code: str) -> str:
    return str(ROLE.get(code or "", code or ""))
