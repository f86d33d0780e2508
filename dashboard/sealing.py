"""Secrets at rest sealed with Fernet (settings.STRATUS_FERNET_KEY): what a database read or a backup yields is
useless without the key, which lives only in the processes' environment. The session's token, an operation row's
token and secret parameters, a generated private key waiting to be downloaded: all sealed here."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet_for(key: str) -> Fernet:
    return Fernet(key.encode())


def fernet() -> Fernet:
    """The Fernet of the configured key (made once per key: every signed-in request unseals its token)."""
    key = settings.STRATUS_FERNET_KEY
    return _fernet_for(key if isinstance(key, str) else key.decode())


def seal(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    """The text, or None when there is none or it cannot be read with this key (another key, or tampered with)."""
    if not sealed or not isinstance(sealed, str):
        return None
    try:
        return fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
