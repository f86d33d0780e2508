"""A small RFB 3.8 (VNC) server that draws a server's text console, one loopback listener per running server.

QEMU is not used here: every running devcloud server gets a `Screen` (80x25 text cells, 960x400 pixels)
showing its boot log and a shell prompt, served over raw-encoded framebuffer updates. Security type
None; protocol versions 3.3, 3.7 and 3.8; SetPixelFormat honoured for true-colour 8/16/32 bpp in either
byte order; incremental updates send only the text rows that changed since the client's last update.
Keys typed into the console are echoed on the prompt line; Enter runs a tiny built-in shell; Ctrl-Alt-Del
draws a reboot message and replays the boot log.

    port = rfb.start("server-uuid", title="vm1", boot_lines=[...], prompt="root@vm1:~# ")
    rfb.stop("server-uuid")
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time

COLS, ROWS = 80, 25
GLYPH_W, GLYPH_H = 5, 7
SCALE = 2
CELL_W, CELL_H = (GLYPH_W + 1) * SCALE, (GLYPH_H + 1) * SCALE  # 12 x 16 px
WIDTH, HEIGHT = COLS * CELL_W, ROWS * CELL_H  # 960 x 400

# Palette (index -> RGB): background, text, prompt, notice.
PALETTE = [(12, 14, 18), (200, 204, 210), (96, 220, 120), (255, 196, 64)]

# 5x7 glyphs for ASCII 32..126: five column bytes per glyph, bit 0 is the top row (10 hex digits each).
_FONT_HEX = (
    "0000000000" "00005f0000" "0007000700" "147f147f14" "242a7f2a12" "2313086462" "3649552250" "0005030000"
    "001c224100" "0041221c00" "082a1c2a08" "08083e0808" "0050300000" "0808080808" "0060600000" "2010080402"
    "3e5149453e" "00427f4000" "4261514946" "2141454b31" "1814127f10" "2745454539" "3c4a494930" "0171090503"
    "3649494936" "064949291e" "0036360000" "0056360000" "0814224100" "1414141414" "0041221408" "0201510906"
    "3249794136" "7e1111117e" "7f49494936" "3e41414122" "7f4141221c" "7f49494941" "7f09090101" "3e41415132"
    "7f0808087f" "00417f4100" "2040413f01" "7f08142241" "7f40404040" "7f020c027f" "7f0408107f" "3e4141413e"
    "7f09090906" "3e4151215e" "7f09192946" "4649494931" "01017f0101" "3f4040403f" "1f2040201f" "3f4038403f"
    "6314081463" "0708700807" "6151494543" "007f414100" "0204081020" "0041417f00" "0402010204" "4040404040"
    "0001020400" "2054545478" "7f48444438" "3844444420" "384444487f" "3854545418" "087e090102" "0c5252523e"
    "7f08040478" "00447d4000" "2040443d00" "7f10284400" "00417f4000" "7c04180478" "7c08040478" "3844444438"
    "7c14141408" "081414187c" "7c08040408" "4854545420" "043f444020" "3c4040207c" "1c2040201c" "3c4030403c"
    "4428102844" "0c5050503c" "4464544c44" "0008364100" "00007f0000" "0041360800" "0804080408"
)  # fmt: skip


def _glyph_rows() -> dict[int, list[bytes]]:
    """Per character: CELL_H rows of CELL_W pixel bytes (0 background, 1 ink)."""
    out: dict[int, list[bytes]] = {}
    for i in range(95):
        cols = bytes.fromhex(_FONT_HEX[i * 10 : i * 10 + 10])
        rows = []
        for y in range(GLYPH_H + 1):
            line = bytearray()
            for x in range(GLYPH_W + 1):
                on = x < GLYPH_W and y < GLYPH_H and (cols[x] >> y) & 1
                line += (b"\x01" if on else b"\x00") * SCALE
            rows.extend([bytes(line)] * SCALE)
        out[32 + i] = rows
    return out


_GLYPHS = _glyph_rows()
_BLANK_ROW = bytes(CELL_W)


class Screen:
    """A text console: scrolling lines plus an input line with a prompt. Thread-safe."""

    def __init__(self, title: str, boot_lines: list[str], prompt: str, hostname: str = "") -> None:
        self.title = title
        self.prompt = prompt
        self.hostname = hostname or title
        self.boot_lines = list(boot_lines)
        self.lines: list[str] = []
        self.input = ""
        self.lock = threading.Condition()
        self.fb = bytearray(WIDTH * HEIGHT)
        self.row_text: list[tuple[str, int]] = [("", 0)] * ROWS
        self.row_version = [0] * ROWS
        self.version = 0
        self.started = time.time()
        self.boot()

    # -- text model -----------------------------------------------------------------------------------------
    def boot(self) -> None:
        with self.lock:
            self.lines = list(self.boot_lines)
            self.input = ""
            self.started = time.time()
            self._redraw()

    def notice(self, text: str) -> None:
        with self.lock:
            self.lines.extend(text.split("\n"))
            self._redraw()

    def reboot(self, message: str = "The system is going down for reboot NOW!") -> None:
        with self.lock:
            self.lines.append(self.prompt + self.input)
            self.lines.extend(["", "Broadcast message from root@" + self.hostname + ":", "", message, ""])
            self.input = ""
            self._redraw(notice=True)
        threading.Timer(0.8, self.boot).start()

    def key(self, keysym: int, ctrl: bool) -> None:
        with self.lock:
            if ctrl and keysym in (ord("c"), ord("C")):
                self.lines.append(self.prompt + self.input + "^C")
                self.input = ""
            elif ctrl and keysym in (ord("l"), ord("L")):
                self.lines = []
            elif keysym in (0xFF0D, 0xFF8D):  # Return, KP_Enter
                self._run(self.input)
                self.input = ""
            elif keysym == 0xFF08:  # BackSpace
                self.input = self.input[:-1]
            elif 0x20 <= keysym <= 0x7E and len(self.prompt) + len(self.input) < COLS - 1:
                self.input += chr(keysym)
            else:
                return
            self._redraw()

    def _run(self, command: str) -> None:
        self.lines.append(self.prompt + command)
        cmd = command.strip()
        word, _, rest = cmd.partition(" ")
        if not cmd:
            return
        if cmd == "clear":
            self.lines = []
        elif word == "echo":
            self.lines.append(rest)
        elif cmd == "hostname":
            self.lines.append(self.hostname)
        elif cmd == "whoami":
            self.lines.append("root")
        elif word == "uname":
            self.lines.append(f"Linux {self.hostname} 6.1.0-devcloud #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux")
        elif cmd == "uptime":
            up = int(time.time() - self.started)
            self.lines.append(f" {time.strftime('%H:%M:%S')} up {up // 60} min, 1 user, load average: 0.00, 0.01, 0.05")
        elif cmd == "date":
            self.lines.append(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))
        elif word in ("ls", "pwd", "cd", "true"):
            if word == "pwd":
                self.lines.append("/root")
        elif cmd == "help":
            self.lines.append("devcloud console: hostname uname uptime whoami date echo clear reboot")
        elif cmd == "reboot":
            self.lines.extend(["", "The system is going down for reboot NOW!", ""])
            threading.Timer(0.8, self.boot).start()
        else:
            self.lines.append(f"-sh: {word}: not found")

    # -- pixels ---------------------------------------------------------------------------------------------
    def visible_rows(self) -> list[tuple[str, int]]:
        rows = [(line, 2 if line.startswith(self.prompt) else 1) for line in self.lines]
        rows.append((self.prompt + self.input + "_", 2))
        rows = rows[-ROWS:]
        rows += [("", 0)] * (ROWS - len(rows))
        return [(text[:COLS], colour) for text, colour in rows]

    def _redraw(self, notice: bool = False) -> None:
        if len(self.lines) > 500:
            self.lines = self.lines[-200:]
        rows = self.visible_rows()
        changed = False
        for r, (text, colour) in enumerate(rows):
            if notice and text.startswith("The system is going down"):
                colour = 3
            if self.row_text[r] == (text, colour):
                continue
            self.row_text[r] = (text, colour)
            self._draw_row(r, text, colour)
            changed = True
            self.version += 1
            self.row_version[r] = self.version
        if changed:
            self.lock.notify_all()

    def _draw_row(self, r: int, text: str, colour: int) -> None:
        top = r * CELL_H
        ink = bytes([0, colour]) + bytes(254)
        pad = WIDTH - len(text) * CELL_W
        for y in range(CELL_H):
            line = b"".join(_GLYPHS.get(ord(ch), _GLYPHS[63])[y] for ch in text) + bytes(pad)
            if colour != 1:
                line = line.translate(ink)
            start = (top + y) * WIDTH
            self.fb[start : start + WIDTH] = line


class PixelFormat:
    def __init__(
        self,
        bpp: int = 32,
        depth: int = 24,
        big: bool = False,
        true_colour: bool = True,
        maxes: tuple[int, int, int] = (255, 255, 255),
        shifts: tuple[int, int, int] = (16, 8, 0),
    ) -> None:
        self.bpp, self.depth, self.big, self.true_colour = bpp, depth, big, true_colour
        self.maxes, self.shifts = maxes, shifts
        self._tables: list[bytes] = []
        self._build()

    def pack(self) -> bytes:
        return struct.pack(
            ">BBBBHHHBBB3x", self.bpp, self.depth, int(self.big), int(self.true_colour), *self.maxes, *self.shifts
        )

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        bpp, depth, big, tc, rm, gm, bm, rs, gs, bs = struct.unpack(">BBBBHHHBBB3x", data)
        if bpp not in (8, 16, 32):
            bpp = 32
        return cls(bpp, depth, bool(big), bool(tc), (rm or 255, gm or 255, bm or 255), (rs, gs, bs))

    def _build(self) -> None:
        nbytes = self.bpp // 8
        encoded = []
        for r, g, b in PALETTE:
            if self.true_colour:
                value = 0
                for c, mx, sh in zip((r, g, b), self.maxes, self.shifts, strict=True):
                    value |= (c * mx // 255) << sh
            else:  # colour-map clients: use the index itself (no SetColourMapEntries support)
                value = PALETTE.index((r, g, b))
            value &= (1 << self.bpp) - 1
            encoded.append(value.to_bytes(nbytes, "big" if self.big else "little"))
        self._tables = []
        for k in range(nbytes):
            table = bytearray(256)
            for idx, enc in enumerate(encoded):
                table[idx] = enc[k]
            self._tables.append(bytes(table))

    def encode(self, indices: bytes | bytearray) -> bytes:
        nbytes = self.bpp // 8
        if nbytes == 1:
            return bytes(indices).translate(self._tables[0])
        out = bytearray(len(indices) * nbytes)
        for k in range(nbytes):
            out[k::nbytes] = bytes(indices).translate(self._tables[k])
        return bytes(out)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return bytes(data)


class Client:
    def __init__(self, sock: socket.socket, screen: Screen, console: Console) -> None:
        self.sock, self.screen, self.console = sock, screen, console
        self.pf = PixelFormat()
        self.sent_versions = [-1] * ROWS
        self.pending: tuple[int, int, int, int] | None = None  # incremental request waiting for changes
        self.ctrl = self.alt = False
        self.closed = False

    def run(self) -> None:
        try:
            self._handshake()
            self.sock.settimeout(0.05)
            while not self.closed:
                try:
                    kind = self.sock.recv(1)
                except TimeoutError:
                    self._maybe_send_pending()
                    continue
                if not kind:
                    break
                self.sock.settimeout(10)
                self._message(kind[0])
                self.sock.settimeout(0.05)
                self._maybe_send_pending()
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        self.console.clients.discard(self)

    def _handshake(self) -> None:
        self.sock.settimeout(10)
        self.sock.sendall(b"RFB 003.008\n")
        version = _recv_exact(self.sock, 12)
        minor = 8
        if version.startswith(b"RFB 003."):
            try:
                minor = int(version[8:11])
            except ValueError:
                minor = 8
        if minor < 7:
            self.sock.sendall(struct.pack(">I", 1))  # 3.3: the server decides, None
        else:
            self.sock.sendall(b"\x01\x01")  # one security type: None
            chosen = _recv_exact(self.sock, 1)
            if chosen != b"\x01":
                reason = b"security type not supported"
                self.sock.sendall(struct.pack(">I", 1) + struct.pack(">I", len(reason)) + reason)
                raise ConnectionError("bad security type")
            if minor >= 8:
                self.sock.sendall(struct.pack(">I", 0))
        _recv_exact(self.sock, 1)  # ClientInit (shared flag)
        name = self.screen.title.encode()
        self.sock.sendall(struct.pack(">HH", WIDTH, HEIGHT) + self.pf.pack() + struct.pack(">I", len(name)) + name)

    def _message(self, kind: int) -> None:
        if kind == 0:  # SetPixelFormat
            data = _recv_exact(self.sock, 19)
            self.pf = PixelFormat.unpack(data[3:])
            self.sent_versions = [-1] * ROWS
        elif kind == 2:  # SetEncodings
            (count,) = struct.unpack(">xH", _recv_exact(self.sock, 3))
            _recv_exact(self.sock, 4 * count)
        elif kind == 3:  # FramebufferUpdateRequest
            incremental, x, y, w, h = struct.unpack(">BHHHH", _recv_exact(self.sock, 9))
            x, y = min(x, WIDTH), min(y, HEIGHT)
            w, h = min(w, WIDTH - x), min(h, HEIGHT - y)
            if incremental:
                self.pending = (x, y, w, h)
            else:
                self.pending = None
                with self.screen.lock:
                    self._send_rects([(x, y, w, h)])
                    self._mark_sent(y, h)
        elif kind == 4:  # KeyEvent
            down, keysym = struct.unpack(">B2xI", _recv_exact(self.sock, 7))
            self._key(bool(down), keysym)
        elif kind == 5:  # PointerEvent
            _recv_exact(self.sock, 5)
        elif kind == 6:  # ClientCutText
            _, length = struct.unpack(">3sI", _recv_exact(self.sock, 7))
            _recv_exact(self.sock, length)
        else:
            raise ConnectionError(f"unknown client message {kind}")

    def _key(self, down: bool, keysym: int) -> None:
        if keysym in (0xFFE3, 0xFFE4):
            self.ctrl = down
            return
        if keysym in (0xFFE9, 0xFFEA, 0xFFE7, 0xFFE8):
            self.alt = down
            return
        if not down:
            return
        if keysym in (0xFFFF, 0xFF9F) and self.ctrl and self.alt:
            self.screen.reboot("Ctrl-Alt-Del pressed: the system is going down for reboot NOW!")
            return
        self.screen.key(keysym, self.ctrl)

    def _mark_sent(self, y: int, h: int) -> None:
        for r in range(y // CELL_H, min(ROWS, (y + h + CELL_H - 1) // CELL_H)):
            self.sent_versions[r] = self.screen.row_version[r]

    def _maybe_send_pending(self) -> None:
        if self.pending is None:
            return
        x, y, w, h = self.pending
        with self.screen.lock:
            first, last = y // CELL_H, min(ROWS, (y + h + CELL_H - 1) // CELL_H)
            dirty = [r for r in range(first, last) if self.sent_versions[r] != self.screen.row_version[r]]
            if not dirty:
                return
            rects: list[tuple[int, int, int, int]] = []
            for r in dirty:  # merge consecutive rows into stripes, clipped to the request
                top = max(y, r * CELL_H)
                bottom = min(y + h, (r + 1) * CELL_H)
                if rects and rects[-1][1] + rects[-1][3] == top:
                    px, py, pw, ph = rects[-1]
                    rects[-1] = (px, py, pw, bottom - py)
                else:
                    rects.append((x, top, w, bottom - top))
            self._send_rects(rects)
            for r in dirty:
                self.sent_versions[r] = self.screen.row_version[r]
        self.pending = None

    def _send_rects(self, rects: list[tuple[int, int, int, int]]) -> None:
        fb = self.screen.fb
        parts = [struct.pack(">BxH", 0, len(rects))]
        for x, y, w, h in rects:
            if x == 0 and w == WIDTH:
                region = fb[y * WIDTH : (y + h) * WIDTH]
            else:
                region = b"".join(fb[(yy * WIDTH + x) : (yy * WIDTH + x + w)] for yy in range(y, y + h))
            parts.append(struct.pack(">HHHHi", x, y, w, h, 0))
            parts.append(self.pf.encode(region))
        self.sock.sendall(b"".join(parts))


class Console:
    def __init__(self, key: str, screen: Screen, listener: socket.socket) -> None:
        self.key, self.screen, self.listener = key, screen, listener
        self.port = listener.getsockname()[1]
        self.clients: set[Client] = set()


_consoles: dict[str, Console] = {}
_lock = threading.Lock()
_selector: selectors.BaseSelector | None = None
_thread: threading.Thread | None = None


def _accept_loop() -> None:
    assert _selector is not None
    while True:
        try:
            events = _selector.select(timeout=0.5)
        except (OSError, ValueError):
            time.sleep(0.05)
            continue
        for key, _ in events:
            console: Console = key.data
            try:
                sock, _addr = console.listener.accept()
            except OSError:
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = Client(sock, console.screen, console)
            console.clients.add(client)
            threading.Thread(target=client.run, daemon=True, name=f"rfb-{console.port}").start()


def _ensure_thread() -> None:
    global _selector, _thread
    if _selector is None:
        _selector = selectors.DefaultSelector()
    if _thread is None:
        _thread = threading.Thread(target=_accept_loop, daemon=True, name="devcloud-rfb-accept")
        _thread.start()


def start(key: str, title: str, boot_lines: list[str], prompt: str, hostname: str = "", host: str = "127.0.0.1") -> int:
    """Serve a console for `key` (a server id) on a free loopback port; returns the port. Idempotent."""
    with _lock:
        existing = _consoles.get(key)
        if existing is not None:
            existing.screen.boot_lines = list(boot_lines)
            return existing.port
        _ensure_thread()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, 0))
        listener.listen(8)
        listener.setblocking(False)
        console = Console(key, Screen(title, boot_lines, prompt, hostname), listener)
        _consoles[key] = console
        assert _selector is not None
        _selector.register(listener, selectors.EVENT_READ, console)
        return console.port


def stop(key: str) -> None:
    with _lock:
        console = _consoles.pop(key, None)
        if console is None:
            return
        try:
            assert _selector is not None
            _selector.unregister(console.listener)
        except (KeyError, ValueError, AssertionError):
            pass
        console.listener.close()
        for client in list(console.clients):
            client.close()


def port(key: str) -> int | None:
    console = _consoles.get(key)
    return console.port if console else None


def screen(key: str) -> Screen | None:
    console = _consoles.get(key)
    return console.screen if console else None


def reboot(key: str, message: str = "The system is going down for reboot NOW!") -> None:
    console = _consoles.get(key)
    if console is not None:
        console.screen.reboot(message)


def count() -> int:
    return len(_consoles)
