"""A minimal blocking WebSocket client (RFC 6455, binary frames) for the console proxy tests and benchmark.

websockify's own client drops the query string, which carries the console token, hence this one.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from urllib.parse import urlsplit


class Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status} {text}")
        self.status = status


class WebSocketClient:
    def __init__(self, url: str, *, origin: str | None, cookie: str = "", timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: binary",
        ]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if cookie:
            lines.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Refused(0, "connection closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        status = int(status_line.split()[1])
        if status != 101:
            self.sock.close()
            raise Refused(status, status_line)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_message(self) -> bytes:
        """The payload of the next data frame (raises ConnectionError on a close frame)."""
        payload = b""
        while True:
            b0, b1 = self._read(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            data = self._read(length)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError(f"closed by the proxy: {data[2:].decode(errors='replace')}")
            if opcode in (0x9, 0xA):
                continue
            payload += data
            if b0 & 0x80:
                return payload

    def recv_exactly(self, n: int) -> bytes:
        """`n` bytes of the relayed TCP stream, however the proxy framed them."""
        out = b""
        while len(out) < n:
            pending, self.pending = getattr(self, "pending", b""), b""
            out += pending or self.recv_message()
        out, self.pending = out[:n], out[n:]
        return out

    def send(self, data: bytes) -> None:
        mask = os.urandom(4)
        header = bytes([0x82])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def rfb_handshake(ws: WebSocketClient) -> tuple[int, int, str]:
    """RFB 3.8 with security type None through `ws`: returns the framebuffer width, height and desktop name."""
    version = ws.recv_exactly(12)
    assert version.startswith(b"RFB 003."), version
    ws.send(b"RFB 003.008\n")
    (count,) = ws.recv_exactly(1)
    types = ws.recv_exactly(count)
    assert 1 in types, types
    ws.send(b"\x01")
    (result,) = struct.unpack("!I", ws.recv_exactly(4))
    assert result == 0
    ws.send(b"\x01")  # ClientInit: shared
    width, height = struct.unpack("!HH", ws.recv_exactly(4))
    ws.recv_exactly(16)  # pixel format
    (name_len,) = struct.unpack("!I", ws.recv_exactly(4))
    name = ws.recv_exactly(name_len).decode("utf-8", errors="replace")
    return width, height, name
