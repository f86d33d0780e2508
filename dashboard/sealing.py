"""Secrets at rest sealed with Fernet (settings.STRATUS_FERNET_KEY): what a database read or a backup yields is
useless without the key, which lives only in the processes' environment."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.STRATUS_FERNET_KEY
    return Fernet(key.encode() if isinstance(key, str) else key)


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    """The text, or None when there is none or it cannot be read with this key (another key, or tampered with)."""
    if not sealed or not isinstance(sealed, str):
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
