"""What must not rest in clear on the operation row, Fernet-encrypted (settings.STRATUS_FERNET_KEY): the worker's
copy of the user's Keystone token, and the parameters that may hold secrets (a launch's user data)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from apps.cloud.connection import Credentials


def _fernet() -> Fernet:
    key = settings.STRATUS_FERNET_KEY
    return Fernet(key.encode() if isinstance(key, str) else key)


def seal(creds: Credentials) -> str:
    return _fernet().encrypt(json.dumps(creds.to_dict()).encode()).decode()


def unseal(sealed: str) -> Credentials | None:
    """The credentials, or None when they are gone (erased) or cannot be read with this key."""
    if not sealed:
        return None
    try:
        return Credentials.from_dict(json.loads(_fernet().decrypt(sealed.encode())))
    except (InvalidToken, ValueError, KeyError):
        return None


def seal_params(params: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(params).encode()).decode() if params else ""


def unseal_params(sealed: str) -> dict[str, Any] | None:
    """The sealed parameters ({} when none were sealed), or None when they cannot be read with this key."""
    if not sealed:
        return {}
    try:
        value = json.loads(_fernet().decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None
    return value if isinstance(value, dict) else None
