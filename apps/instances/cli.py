"""The `openstack` CLI command equivalent to each action and to a launch, shown next to the control."""

from __future__ import annotations

from typing import Any

from apps.instances.forms import LaunchForm, shell_quote
from apps.instances.selectors import Server

_SIMPLE = {
    "start": "openstack server start {id}",
    "stop": "openstack server stop {id}",
    "reboot_soft": "openstack server reboot --soft {id}",
    "reboot_hard": "openstack server reboot --hard {id}",
    "pause": "openstack server pause {id}",
    "unpause": "openstack server unpause {id}",
    "suspend": "openstack server suspend {id}",
    "resume": "openstack server resume {id}",
    "unlock": "openstack server unlock {id}",
    "delete": "openstack server delete {id}",
    "confirm_resize": "openstack server resize confirm {id}",
    "revert_resize": "openstack server resize revert {id}",
    "shelve": "openstack server shelve {id}",
    "shelve_offload": "openstack server shelve --offload {id}",
    "unrescue": "openstack server unrescue {id}",
}


def action_command(action: str, server: Server, data: Any = None) -> str:
    data = data or {}
    if action in _SIMPLE:
        return _SIMPLE[action].format(id=server.id)
    if action == "lock":
        reason = data.get("reason") or ""
        if reason:
            return f"openstack --os-compute-api-version 2.73 server lock --reason {shell_quote(reason)} {server.id}"
        return f"openstack server lock {server.id}"
    if action == "rename":
        return f"openstack server set --name {shell_quote(data.get('name') or '<new-name>')} {server.id}"
    if action == "resize":
        return f"openstack server resize --flavor {shell_quote(data.get('flavor_id') or '<flavor>')} {server.id}"
    if action == "rebuild":
        return f"openstack server rebuild --image {shell_quote(data.get('image_id') or '<image>')} {server.id}"
    if action == "snapshot":
        name = data.get("name") or f"{server.name}-snapshot"
        return f"openstack server image create --name {shell_quote(name)} {server.id}"
    if action == "unshelve":
        zone = data.get("availability_zone") or ""
        if zone:
            return (
                "openstack --os-compute-api-version 2.77 server unshelve "
                f"--availability-zone {shell_quote(zone)} {server.id}"
            )
        return f"openstack server unshelve {server.id}"
    if action == "rescue":
        image = data.get("image_id") or ""
        if image:
            return f"openstack server rescue --image {shell_quote(image)} {server.id}"
        return f"openstack server rescue {server.id}"
    if action == "backup":
        name = data.get("name") or f"{server.name}-backup"
        kind = data.get("backup_type") or "daily"
        rotation = data.get("rotation") or "1"
        return (
            f"openstack server backup create --name {shell_quote(name)} --type {shell_quote(kind)} "
            f"--rotate {shell_quote(rotation)} {server.id}"
        )
    return ""


def launch_command(form: LaunchForm) -> str:
    v = form.value
    parts = ["openstack server create"]
    flavor = form.selected_flavor()
    parts.append(f"--flavor {shell_quote(flavor.name if flavor else '<flavor>')}")
    source = v("source") or "image"
    if source == "volume":
        parts.append(f"--volume {shell_quote(v('volume_id') or '<volume>')}")
    elif source == "snapshot":
        parts.append(f"--image {shell_quote(v('snapshot_id') or '<snapshot>')}")
    else:
        parts.append(f"--image {shell_quote(v('image_id') or '<image>')}")
        if source == "image_to_volume":
            parts.append(f"--boot-from-volume {shell_quote(v('volume_size') or '<size-gb>')}")
    if v("key_name"):
        parts.append(f"--key-name {shell_quote(v('key_name'))}")
    if v("availability_zone"):
        parts.append(f"--availability-zone {shell_quote(v('availability_zone'))}")
    if form.choices.picks_networks:
        nets = form.chosen_networks()
        parts.extend([f"--network {shell_quote(form.network_label(n))}" for n in nets] or ["--network <network>"])
        parts.extend(
            f"--security-group {shell_quote(form.security_group_label(g))}" for g in form.chosen_security_groups()
        )
    else:
        parts.append(f"--nic {v('network') or 'none'}")
    if v("server_group"):
        parts.append(f"--hint group={shell_quote(v('server_group'))}")
    if v("description"):
        parts.append(f"--description {shell_quote(v('description'))}")
    for line in (v("metadata") or "").splitlines():
        if "=" in line:
            key, value = (p.strip() for p in line.split("=", 1))
            parts.append(f"--property {shell_quote(f'{key}={value}')}")
    if v("user_data"):
        parts.append("--user-data user-data.txt")
    count = form.count_value()
    if count > 1:
        parts.append(f"--min {count} --max {count}")
    parts.append(shell_quote(v("name") or "<name>"))
    return " ".join(parts)


def attach_interface_command(server: Server, params: dict[str, Any] | None = None) -> str:
    """`openstack server add network` (a new port) or `server add port` (an existing one)."""
    p = params or {}
    if p.get("port_id"):
        return f"openstack server add port {server.id} {shell_quote(p['port_id'])}"
    fixed = f" --fixed-ip-address {shell_quote(p['fixed_ip'])}" if p.get("fixed_ip") else ""
    return f"openstack server add network{fixed} {server.id} {shell_quote(p.get('net_id') or '<network>')}"


def detach_interface_command(server: Server, port_id: str) -> str:
    return f"openstack server remove port {server.id} {shell_quote(port_id)}"


def remove_network_command(server: Server, network: str) -> str:
    return f"openstack server remove network {server.id} {shell_quote(network)}"


def add_floating_ip_command(server: Server, params: dict[str, Any] | None = None) -> str:
    """`openstack server add floating ip` for a free one; `floating ip create --port` allocates and associates."""
    p = params or {}
    fixed = f" --fixed-ip-address {shell_quote(p['fixed_ip'])}" if p.get("fixed_ip") else ""
    if p.get("network_id"):
        port = shell_quote(p.get("port_id") or "<port>")
        return (
            f"openstack floating ip create --port {port}{fixed} {shell_quote(p.get('network_name') or p['network_id'])}"
        )
    address = shell_quote(p.get("address") or "<floating-ip>")
    return f"openstack server add floating ip{fixed} {server.id} {address}"


def remove_floating_ip_command(server: Server, address: str, *, release: bool = False) -> str:
    command = f"openstack server remove floating ip {server.id} {shell_quote(address)}"
    return f"{command} && openstack floating ip delete {shell_quote(address)}" if release else command


def security_group_command(verb: str, server_id: str, group_ref: str) -> str:
    """`openstack server add security group` / `server remove security group` (a group's name when it is unique in
    the project, else its id)."""
    return f"openstack server {verb} security group {shell_quote(server_id)} {shell_quote(group_ref)}"


def metadata_command(verb: str, server_id: str, key: str, value: str = "") -> str:
    """`openstack server set --property k=v` / `server unset --property k`."""
    if verb == "set":
        return f"openstack server set --property {shell_quote((key or '<key>') + '=' + value)} {server_id}"
    return f"openstack server unset --property {shell_quote(key or '<key>')} {server_id}"


def tag_command(verb: str, server_id: str, tag: str) -> str:
    """`openstack server set --tag t` / `server unset --tag t` (tags are Nova 2.26+)."""
    return f"openstack --os-compute-api-version 2.26 server {verb} --tag {shell_quote(tag or '<tag>')} {server_id}"
