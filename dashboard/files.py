"""Private files and folders under the state directory: created private from the start, never chmod-ed after."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner can enter (0700): made so, or narrowed when it is ours and wider."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        path.chmod(0o700)
    return path


def secret_file(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in `path`, made by `make()` the first time.

    The file is written in full under a private temporary name (0600, O_EXCL) and then linked into place, which
    fails if it exists: no moment where another user can read it, and processes starting at once agree on one value.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(make())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def restrict_sqlite_file(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created`: an SQLite database file (sessions, operations) is readable by its owner only (0600)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    try:
        info = os.stat(name)
    except FileNotFoundError:
        return
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.chmod(name, 0o600)
