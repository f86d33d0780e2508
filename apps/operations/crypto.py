"""What must not rest in clear on the operation row, Fernet-encrypted (settings.STRATUS_FERNET_KEY): the worker's
copy of the user's Keystone token, and the parameters that may hold secrets (a launch's user data)."""

from __future__ import annotations

import json
from typing import Any

from apps.cloud.connection import Credentials
from dashboard import sealing


def seal(creds: Credentials) -> str:
    return sealing.seal(json.dumps(creds.to_dict()))


def unseal(sealed: str) -> Credentials | None:
    """The credentials, or None when they are gone (erased) or cannot be read with this key."""
    text = sealing.unseal(sealed)
    if text is None:
        return None
    try:
        return Credentials.from_dict(json.loads(text))
    except (ValueError, KeyError):
        return None


def seal_params(params: dict[str, Any]) -> str:
    return sealing.seal(json.dumps(params)) if params else ""


def unseal_params(sealed: str) -> dict[str, Any] | None:
    """The sealed parameters ({} when none were sealed), or None when they cannot be read with this key."""
    if not sealed:
        return {}
    text = sealing.unseal(sealed)
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
