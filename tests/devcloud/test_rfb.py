"""The built-in RFB 3.8 console: reach a running server's VNC endpoint through Nova's console token API,
handshake over a raw socket, read the framebuffer, type into it."""

from __future__ import annotations

import socket
import struct
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest

from tests.devcloud import Session, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

MV = {"OpenStack-API-Version": "compute 2.100"}


@pytest.fixture(scope="module")
def console_endpoint(cloud: TestCloud) -> Any:
    if not cloud.is_devcloud:
        pytest.skip("the console pixels are devcloud's built-in RFB server")
    devcloud = cloud
    demo, admin = login(devcloud.member), login(devcloud.admin)
    nova = demo.url("compute")
    image_id = demo.call("GET", demo.url("image") + "/v2/images?name=cirros-0.6.3-x86_64-disk").body["images"][0]["id"]
    body = {
        "server": {"name": f"rfb-{uuid.uuid4().hex[:6]}", "imageRef": image_id, "flavorRef": "1", "networks": "none"}
    }
    created = demo.call("POST", nova + "/servers", body, headers=MV)
    assert created.status == 202, created.raw
    sid = created.body["server"]["id"]
    _wait_active(demo, sid)
    console = demo.call(
        "POST", f"{nova}/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}},
        headers=MV,
    )  # fmt: skip
    assert console.status == 200, console.raw
    url = console.body["remote_console"]["url"]
    token = unquote(url.split("path=", 1)[1]).split("token=", 1)[1]
    resolved = admin.call("GET", f"{nova}/os-console-auth-tokens/{token}", headers=MV)
    assert resolved.status == 200, resolved.raw
    info = resolved.body["console"]
    assert info["instance_uuid"] == sid and info["host"] == "127.0.0.1" and info["internal_access_path"] is None
    # members may not resolve tokens
    assert demo.call("GET", f"{nova}/os-console-auth-tokens/{token}", headers=MV).status == 403
    yield info["host"], info["port"], sid, demo
    demo.call("DELETE", f"{nova}/servers/{sid}")


def _wait_active(s: Session, sid: str) -> None:
    for _ in range(300):
        server = s.call("GET", f"{s.url('compute')}/servers/{sid}").body["server"]
        if server["status"] == "ACTIVE":
            return
        time.sleep(0.02)
    pytest.fail("server did not become ACTIVE")


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "server closed the connection"
        data += chunk
    return data


def _handshake(host: str, port: int) -> tuple[socket.socket, int, int, bytes]:
    sock = socket.create_connection((host, port), timeout=5)
    assert _recv(sock, 12) == b"RFB 003.008\n"
    sock.sendall(b"RFB 003.008\n")
    count = _recv(sock, 1)[0]
    types = _recv(sock, count)
    assert 1 in types  # None
    sock.sendall(b"\x01")
    assert struct.unpack(">I", _recv(sock, 4))[0] == 0  # SecurityResult OK
    sock.sendall(b"\x01")  # ClientInit, shared
    width, height = struct.unpack(">HH", _recv(sock, 4))
    pixel_format = _recv(sock, 16)
    name_len = struct.unpack(">I", _recv(sock, 4))[0]
    _recv(sock, name_len)
    return sock, width, height, pixel_format


def _read_update(sock: socket.socket, bytes_per_pixel: int) -> list[tuple[int, int, int, int, bytes]]:
    kind, _, count = struct.unpack(">BBH", _recv(sock, 4))
    assert kind == 0
    rects = []
    for _ in range(count):
        x, y, w, h, enc = struct.unpack(">HHHHi", _recv(sock, 12))
        assert enc == 0  # raw
        rects.append((x, y, w, h, _recv(sock, w * h * bytes_per_pixel)))
    return rects


def _request(sock: socket.socket, incremental: bool, w: int, h: int) -> None:
    sock.sendall(struct.pack(">BBHHHH", 3, int(incremental), 0, 0, w, h))


def _key(sock: socket.socket, keysym: int) -> None:
    sock.sendall(struct.pack(">BBxxI", 4, 1, keysym) + struct.pack(">BBxxI", 4, 0, keysym))


def test_framebuffer_shows_the_console_and_reacts_to_keys(console_endpoint: Any) -> None:
    host, port, _sid, _demo = console_endpoint
    sock, width, height, pf = _handshake(host, port)
    with sock:
        bpp, true_colour = pf[0], pf[3]
        assert (bpp, true_colour) == (32, 1) and width >= 640 and height >= 300
        _request(sock, False, width, height)
        [(x, y, w, h, pixels)] = _read_update(sock, 4)
        assert (x, y, w, h) == (0, 0, width, height)
        colours = {pixels[i : i + 4] for i in range(0, len(pixels), 4 * 7)}
        assert len(colours) >= 2, "the console must not be blank"

        _key(sock, ord("a"))
        _request(sock, True, width, height)
        sock.settimeout(5)
        rects = _read_update(sock, 4)
        assert rects, "typing must change the framebuffer"
        changed = rects[0]
        assert changed[2] == width and changed[3] < height  # only the changed text rows are sent
        offset = changed[1] * width * 4
        assert changed[4] != pixels[offset : offset + len(changed[4])]


def test_set_pixel_format_16bpp_and_ctrl_alt_del(console_endpoint: Any) -> None:
    host, port, _sid, _demo = console_endpoint
    sock, width, height, _pf = _handshake(host, port)
    with sock:
        fmt = struct.pack(">BBBBHHHBBB3x", 16, 16, 1, 1, 31, 63, 31, 11, 5, 0)
        sock.sendall(b"\x00\x00\x00\x00" + fmt)
        sock.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
        _request(sock, False, width, 32)
        [(_, _, w, h, pixels)] = _read_update(sock, 2)
        assert (w, h) == (width, 32) and len(pixels) == width * 32 * 2
        for keysym, down in ((0xFFE3, 1), (0xFFE9, 1), (0xFFFF, 1), (0xFFFF, 0), (0xFFE9, 0), (0xFFE3, 0)):
            sock.sendall(struct.pack(">BBxxI", 4, down, keysym))
        _request(sock, True, width, height)
        sock.settimeout(5)
        assert _read_update(sock, 2), "Ctrl-Alt-Del draws a reboot message"


def test_console_output_matches_the_boot_log(console_endpoint: Any) -> None:
    _host, _port, sid, demo = console_endpoint
    reply = demo.call("POST", f"{demo.url('compute')}/servers/{sid}/action", {"os-getConsoleOutput": {"length": 2}})
    assert reply.status == 200
    # Nova's tail of a log that ends in a newline: the last line and the empty piece after it
    assert reply.body["output"].endswith("login: root (automatic login)\n")
    assert reply.body["output"].count("\n") == 1
