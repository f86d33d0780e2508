"""Assembles devcloud: every service module registers its routes on `devcloud.web.router` when imported.

A service module may define:
    seed(fresh: bool) -> None    create its initial records (fresh=True on a new or reset state)
    start() -> None              start its background threads (state transitions, VNC servers)
"""

from __future__ import annotations

import importlib
from types import ModuleType

from devcloud.config import config
from devcloud.state import store
from devcloud.web import App, router

# Order matters for seeding: identity first (projects, users), then the services that refer to them.
SERVICE_MODULES = [
    "devcloud.identity",
    "devcloud.image",
    "devcloud.placement",
    "devcloud.network",
    "devcloud.compute",
    "devcloud.volume",
    "devcloud.control",
]

_modules: list[ModuleType] = []


def build_app(reset: bool = False) -> App:
    fresh = store.open(config.state_dir, reset=reset)
    if not _modules:
        _modules.extend(importlib.import_module(name) for name in SERVICE_MODULES)
    with store.lock:
        for module in _modules:
            seed = getattr(module, "seed", None)
            if seed is not None:
                seed(fresh)
        store.touch()
    store.flush()
    return App(router)


def start() -> None:
    for module in _modules:
        start_fn = getattr(module, "start", None)
        if start_fn is not None:
            start_fn()
