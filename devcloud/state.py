"""devcloud's state: plain dicts of records, one lock, persisted as JSON in the state directory.

Every service module keeps its records in a named collection:

    from devcloud.state import store

    with store.lock:
        server = store.table("servers").get(server_id)
        ...
        store.touch()            # mark dirty; a background thread writes the file soon after

Records are JSON-serialisable dicts. Timestamps are stored as ISO-8601 strings in UTC (Nova's format,
"2026-11-25T06:40:00Z") or as epoch floats in fields whose name ends with `_at_epoch`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso_micro() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, Any]] = {}
        self.path: Path | None = None
        self._dirty = False
        self._writer: threading.Thread | None = None

    def table(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self.tables.setdefault(name, {})

    def touch(self) -> None:
        self._dirty = True

    def open(self, state_dir: Path, reset: bool = False) -> bool:
        """Load state from `state_dir`; returns True when the state was fresh (needs seeding)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "state.json"
        if reset and self.path.exists():
            self.path.unlink()
        fresh = True
        if self.path.exists():
            with self.lock:
                self.tables = json.loads(self.path.read_text())
            fresh = False
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_loop, daemon=True, name="devcloud-state-writer")
            self._writer.start()
        return fresh

    def flush(self) -> None:
        if self.path is None:
            return
        with self.lock:
            data = json.dumps(self.tables)
            self._dirty = False
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(data)
        os.replace(tmp, self.path)

    def _write_loop(self) -> None:
        while True:
            time.sleep(0.5)
            if self._dirty:
                try:
                    self.flush()
                except OSError:
                    pass


store = Store()
