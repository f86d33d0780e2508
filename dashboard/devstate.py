"""`python -m dashboard.devstate`: prepare a state folder for Stratus on one machine, before any process starts.

The settings only read (dashboard/settings.py): importing them writes no file and starts no process. What a run on
one machine needs written first is made here, once: the state folder itself (0700), the generated keys when the
run asks for them (`STRATUS_DEV_KEYS=true` or `DEBUG=true`, and no `SECRET_KEY`/`STRATUS_FERNET_KEY` given), and
the embedded Redis' password and configuration when `REDIS_URL` is unset. `make run` and `make demo`
(dashboard/run.py), the tests (tests/conftest.py) and the benchmarks call `prepare`; `make messages` runs this
module. Production brings its own keys and Redis and needs none of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from dashboard import embedded_redis
from dashboard.files import private_dir, secret_file

ROOT = Path(__file__).resolve().parent.parent
# A checkout (manage.py beside the package) keeps its state in `.state`; an installed package (`pip install`, the
# `stratus` command) never writes into site-packages: its default is the user's state folder (XDG).
IN_CHECKOUT = (ROOT / "manage.py").is_file()


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def state_dir(environ: Mapping[str, str]) -> Path:
    """The state folder the settings will read: STRATUS_STATE_DIR, else `.state` in the checkout, else (installed)
    `$XDG_STATE_HOME/stratus` (`~/.local/state/stratus`)."""
    if environ.get("STRATUS_STATE_DIR"):
        return Path(environ["STRATUS_STATE_DIR"]).resolve()
    if IN_CHECKOUT:
        return (ROOT / ".state").resolve()
    xdg = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".local" / "state")
    return (Path(xdg) / "stratus").resolve()


def prepare(environ: Mapping[str, str] | None = None) -> Path:
    """Write what the settings of a run with this environment read and nobody gives them; the state folder."""
    environ = os.environ if environ is None else environ
    state = private_dir(state_dir(environ))
    if _true(environ.get("STRATUS_DEV_KEYS")) or _true(environ.get("DEBUG")):
        if not environ.get("SECRET_KEY") and not environ.get("SECRET_KEY_FILE"):
            from django.core.management.utils import get_random_secret_key

            secret_file(state / "secret_key", get_random_secret_key)
        if not environ.get("STRATUS_FERNET_KEY") and not environ.get("STRATUS_FERNET_KEY_FILE"):
            secret_file(state / "fernet_key", lambda: Fernet.generate_key().decode())
    if not environ.get("REDIS_URL"):
        embedded_redis.prepare(state / "redis")
    if not environ.get("STRATUS_STATIC_ROOT"):
        (state / "static").mkdir(exist_ok=True)  # collectstatic fills it; whitenoise warns while it is missing
    return state


if __name__ == "__main__":
    print(f"state folder prepared: {prepare()}")
