"""devcloud's run-time settings, set once by `python -m devcloud serve` (or a test) before serving."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 5000
    state_dir: Path = field(default_factory=lambda: Path(".state/devcloud"))
    # Seconds a server spends in each transitional state (BUILD, powering-off, REBOOT, deleting...).
    # The demo uses a few seconds so people can watch; the tests use near zero.
    transition_seconds: float = float(os.environ.get("DEVCLOUD_TRANSITION_SECONDS", "3"))
    token_ttl_seconds: int = int(os.environ.get("DEVCLOUD_TOKEN_TTL", "3600"))
    # Keystone's `[token] allow_rescope_scoped_token` (default true): false refuses to exchange a project-scoped token
    # for another (403), as some clouds configure it. `POST /devcloud/identity-config` changes it at run time.
    allow_rescope_scoped_token: bool = os.environ.get("DEVCLOUD_ALLOW_RESCOPE_SCOPED_TOKEN", "1") != "0"
    hypervisors: int = 4
    # Service types left out of the catalogs of new tokens, e.g. ["network"] plays a cloud without Neutron (its APIs
    # still answer; only the catalog no longer offers them). `POST /devcloud/catalog` changes it at run time.
    catalog_omits: list[str] = field(
        default_factory=lambda: [t for t in os.environ.get("DEVCLOUD_CATALOG_OMITS", "").split(",") if t.strip()]
    )
    # Start a QEMU VM per server for its VNC console when qemu-system-x86_64 exists (else the built-in RFB server).
    use_qemu: bool = os.environ.get("DEVCLOUD_QEMU", "0") == "1"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


config = Config()
