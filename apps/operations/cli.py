"""The `openstack` CLI command equivalent to an operation (shown on its page, with a copy button)."""

from __future__ import annotations

import shlex

from apps.operations.models import Operation

_SIMPLE = {
    "server.delete": "server delete --wait {id}",
    "server.start": "server start {id}",
    "server.stop": "server stop {id}",
    "server.pause": "server pause {id}",
    "server.unpause": "server unpause {id}",
    "server.suspend": "server suspend {id}",
    "server.resume": "server resume {id}",
    "server.unlock": "server unlock {id}",
    "server.confirm_resize": "server resize confirm {id}",
    "server.revert_resize": "server resize revert {id}",
}


def cli_command(op: Operation) -> str:
    handler = op.handler
    if handler is not None and handler.cli is not None:
        return handler.cli(op)
    p = op.params or {}
    q = shlex.quote
    target = q(op.target_id or op.target_name or "<server>")
    if op.kind in _SIMPLE:
        return "openstack " + _SIMPLE[op.kind].format(id=target)
    if op.kind == "server.reboot":
        return f"openstack server reboot {'--hard' if p.get('hard') else '--soft'} --wait {target}"
    if op.kind == "server.lock":
        reason = p.get("reason")
        return f"openstack server lock {'--reason ' + q(reason) + ' ' if reason else ''}{target}"
    if op.kind == "server.rename":
        return f"openstack server set --name {q(p.get('name', ''))} {target}"
    if op.kind == "server.resize":
        return f"openstack server resize --flavor {q(str(p.get('flavor_id', '')))} --wait {target}"
    if op.kind == "server.rebuild":
        return f"openstack server rebuild --image {q(str(p.get('image_id', '')))} --wait {target}"
    if op.kind == "server.snapshot":
        return f"openstack server image create --name {q(p.get('name', ''))} --wait {target}"
    if op.kind == "server.launch":
        parts = ["openstack server create", f"--flavor {q(str(p.get('flavor_id', '')))}"]
        source = p.get("source_type", "image")
        if source in ("image", "snapshot"):
            parts.append(f"--image {q(str(p.get('image_id', '')))}")
        elif source == "image_to_volume":
            parts.append(f"--image {q(str(p.get('image_id', '')))} --boot-from-volume {int(p.get('volume_size') or 1)}")
        elif source == "volume":
            parts.append(f"--volume {q(str(p.get('volume_id', '')))}")
        nets = p.get("networks", "auto")
        if nets in ("none", "auto", None, ""):
            parts.append(f"--nic {nets or 'auto'}")
        else:
            parts.extend(f"--network {q(n)}" for n in (nets if isinstance(nets, list) else [nets]))
            parts.extend(f"--security-group {q(str(g))}" for g in p.get("security_groups") or [])
        for key, flag in (("key_name", "--key-name"), ("availability_zone", "--availability-zone")):
            if p.get(key):
                parts.append(f"{flag} {q(p[key])}")
        group = p.get("server_group") or {}
        if isinstance(group, dict) and group.get("id"):
            parts.append(f"--hint group={q(str(group['id']))}")
        if p.get("description"):
            parts.append(f"--description {q(p['description'])}")
        parts.extend(f"--property {q(f'{k}={v}')}" for k, v in (p.get("metadata") or {}).items())
        if "user_data" in (p.get("secret_params") or []):
            parts.append("--user-data user-data.txt")  # the data itself is sealed, then erased: never shown
        parts.append(f"--tag op-{op.id} --wait {q(p.get('name', ''))}")
        return " ".join(parts)
    return ""
