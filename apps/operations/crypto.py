"""The worker's copy of the user's Keystone token, Fernet-encrypted at rest on the operation row."""

from __future__ import annotations

import json

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
