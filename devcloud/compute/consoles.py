"""Remote consoles (2.6+), console auth tokens (admin, 2.31+), the console log, and the RFB servers.

Every running server gets a built-in RFB server (devcloud/rfb.py) on a free loopback port. A console URL
looks like Nova's novncproxy URL: `http://<host>:6080/vnc_lite.html?path=%3Ftoken%3D<token>`; resolve the
token with `GET /os-console-auth-tokens/{token}` to reach host 127.0.0.1 and the server's RFB port.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

from devcloud import rfb
from devcloud.compute import servers
from devcloud.compute.common import bad, body_of, conflict, invalid, not_found, require_admin
from devcloud.compute.microversions import mv
from devcloud.config import config
from devcloud.state import store
from devcloud.web import HttpError, Request, Response, json_response, router

API = "/compute/v2.1"
TOKEN_TTL = 600
EAGER_LIMIT = 256  # beyond this many running consoles, listeners start on the first console request

_TYPES = {
    "vnc": ("novnc", "xvpvnc"),
    "spice": ("spice-html5", "spice-direct"),
    "serial": ("serial",),
    "rdp": ("rdp-html5",),
    "mks": ("webmks",),
}


def novnc_base() -> str:
    return os.environ.get("DEVCLOUD_NOVNC_BASE_URL", f"http://{config.host}:6080/vnc_lite.html")


def tokens() -> dict[str, Any]:
    return store.table("console_tokens")


def console_lines(s: dict[str, Any]) -> list[str]:
    """The server's boot log (also what `os-getConsoleOutput` returns)."""
    image_name = "volume"
    if s.get("image_id"):
        try:
            from devcloud import image as image_mod

            img = image_mod.get_image(s["image_id"])
            image_name = (img or {}).get("name") or s["image_id"]
        except Exception:
            image_name = s["image_id"]
    fl = s["flavor"]
    ip = "-"
    from devcloud.compute import networking

    for net in networking.addresses(s, networking.PortIndex()).values():
        for a in net:
            ip = a["addr"]
    host = s["hostname"]
    return [
        "[    0.000000] Linux version 6.1.0-devcloud (builder@devcloud) #1 SMP PREEMPT_DYNAMIC",
        "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=LABEL=root console=tty0 console=ttyS0",
        f"[    0.004512] Memory: {fl['ram'] * 1024}K available",
        f"[    0.101200] smpboot: Allowing {fl['vcpus']} CPUs, 0 hotplug CPUs",
        f"[    0.612044] virtio_blk virtio2: [vda] {max(fl['disk'], 1) * 2097152} 512-byte logical blocks",
        "[    1.204871] EXT4-fs (vda1): mounted filesystem with ordered data mode",
        f"[    2.018337] cloud-init[412]: Cloud-init v. 24.1 running 'init' on {image_name}",
        f"[    2.301125] cloud-init[412]: ci-info: | eth0 | True | {ip} | 255.255.255.0 |",
        f"[    2.512900] cloud-init[412]: hostname set to {host}",
        "[  OK  ] Started OpenSSH server daemon.",
        "[  OK  ] Reached target Multi-User System.",
        "",
        f"{image_name} (devcloud) {host} ttyS0",
        "",
        f"{host} login: root (automatic login)",
    ]


def _prompt(s: dict[str, Any]) -> str:
    return f"root@{s['hostname']}:~# "


def server_running(s: dict[str, Any], force: bool = False) -> int | None:
    if not force and rfb.count() >= EAGER_LIMIT:
        return None
    return rfb.start(s["id"], s["name"], console_lines(s), _prompt(s), s["hostname"])


def server_stopped(server_id: str) -> None:
    rfb.stop(server_id)


def server_rebooting(s: dict[str, Any]) -> None:
    rfb.reboot(s["id"])


def start() -> None:
    """Start consoles for servers that were running when the state was saved."""
    with store.lock:
        running = [
            s
            for s in servers.table().values()
            if s["vm_state"] in ("active", "paused", "rescued") and not s.get("deleted")
        ]
        for s in running[:EAGER_LIMIT]:
            server_running(s)


def create_console(req: Request, s: dict[str, Any], protocol: str, ctype: str) -> str:
    if protocol not in _TYPES or ctype not in _TYPES[protocol]:
        raise bad(f"Unavailable console type {ctype}.")
    if protocol != "vnc" or ctype != "novnc":
        raise bad(f"Unavailable console type {ctype}.")
    if s["vm_state"] not in ("active", "paused", "rescued") or s.get("task_state") in ("deleting",):
        raise conflict(f"Instance {s['id']} is not ready")
    port = rfb.port(s["id"]) or server_running(s, force=True)
    token = secrets.token_urlsafe(24)
    now = time.time()
    table = tokens()
    for t, rec in list(table.items()):
        if rec["expires"] < now:
            del table[t]
    table[token] = {"server_id": s["id"], "type": ctype, "expires": now + TOKEN_TTL, "port": port}
    store.touch()
    return f"{novnc_base()}?path=%3Ftoken%3D{token}"


@router.route("POST", API + "/servers/{server_id}/remote-consoles")
def create_remote_console(req: Request, server_id: str) -> Response:
    if mv(req) < 6:
        raise not_found("The resource could not be found.")
    body = body_of(req, "remote_console")
    for key in ("protocol", "type"):
        if key not in body:
            raise invalid("remote_console", body, f"'{key}' is a required property")
    protocol, ctype = body["protocol"], body["type"]
    protocols = ["vnc", "spice", "serial", "rdp"] + (["mks"] if mv(req) >= 8 else [])
    if protocol not in protocols:
        raise invalid("protocol", protocol, f"{protocol!r} is not one of {protocols}")
    with store.lock:
        s = servers.find(req, server_id)
        url = create_console(req, s, protocol, ctype)
    return json_response(200, {"remote_console": {"protocol": protocol, "type": ctype, "url": url}})


@router.route("GET", API + "/os-console-auth-tokens/{token}")
def show_console_token(req: Request, token: str) -> Response:
    require_admin(req, "os_compute_api:os-console-auth-tokens")
    with store.lock:
        rec = tokens().get(token)
        if rec is None or rec["expires"] < time.time():
            raise not_found("Token not found")
        if mv(req) < 31 and rec["type"] != "rdp-html5":
            raise bad("The requested console type details are not accessible")
        s = servers.table().get(rec["server_id"])
        if s is None or s.get("deleted"):
            raise not_found("Token not found")
        port = rfb.port(s["id"])
        if port is None and s["vm_state"] in ("active", "paused", "rescued"):
            port = server_running(s, force=True)
        if port is None:
            raise HttpError(404, "Token not found", "itemNotFound")
        console: dict[str, Any] = {
            "instance_uuid": s["id"],
            "host": "127.0.0.1",
            "port": port,
            "internal_access_path": None,
        }
        if mv(req) >= 99:
            console["tls_port"] = None
        return json_response(200, {"console": console})
