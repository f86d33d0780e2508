"""Writes for key pairs: generate (here, with `cryptography`), import, delete; and the one-time private key.

Nova stopped generating key pairs at microversion 2.92, so Stratus generates them itself and imports the
public half. The private half is kept, encrypted, in the user's server-side session only until it is
downloaded once (or for a few minutes), then erased. It is never logged.
"""

from __future__ import annotations

import base64
import binascii
import shlex
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext as _

from apps.cloud.connection import Credentials, connection_for
from apps.cloud.errors import cloud_errors
from dashboard import sealing

SESSION_KEY = "keypairs.private"
PRIVATE_KEY_TTL = 15 * 60  # seconds a generated private key waits for its download
KEY_TYPES = {"ed25519": "ED25519", "rsa": "RSA 4096"}
SUPPORTED = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
MIN_RSA_BITS = 2048


class InvalidPublicKey(ValueError):
    """The text is not an OpenSSH public key Stratus accepts; the message says why."""


@dataclass(frozen=True)
class PublicKey:
    text: str  # one line: "<type> <base64> [comment]"
    algorithm: str  # e.g. ssh-ed25519


def generate_keypair(*, algorithm: str, comment: str) -> tuple[str, str]:
    """A new key pair: (OpenSSH private key, OpenSSH public key line)."""
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.OpenSSH,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}".strip()


def check_public_key(text: str) -> PublicKey:
    """Check the format and type of an OpenSSH public key before sending it to Nova."""
    text = (text or "").strip()
    if not text:
        raise InvalidPublicKey(_("Paste a public key or choose a file."))
    if "PRIVATE KEY" in text:
        raise InvalidPublicKey(_("This is a private key. Import the public key (the .pub file) instead."))
    if text.startswith("---- BEGIN SSH2 PUBLIC KEY"):
        raise InvalidPublicKey(
            _("This is an SSH2 (RFC 4716) key. Convert it first: ssh-keygen -i -f key.pub > key-openssh.pub")
        )
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise InvalidPublicKey(_("A public key is a single line: type, key data and an optional comment."))
    parts = lines[0].split()
    if len(parts) < 2:
        raise InvalidPublicKey(_("A public key has a type and key data, such as “ssh-ed25519 AAAAC3Nz… me@host”."))
    algorithm = parts[0]
    if algorithm not in SUPPORTED:
        raise InvalidPublicKey(
            _("Key type “%(type)s” is not supported. Use one of: %(types)s.")
            % {"type": algorithm[:40], "types": ", ".join(SUPPORTED)}
        )
    try:
        base64.b64decode(parts[1], validate=True)
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidPublicKey(_("The key data is not valid: it is damaged or incomplete.")) from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise InvalidPublicKey(
            _("This RSA key has %(bits)s bits; use at least %(min)s.") % {"bits": key.key_size, "min": MIN_RSA_BITS}
        )
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
        raise InvalidPublicKey(_("This key type is not supported."))
    return PublicKey(text=" ".join(parts), algorithm=algorithm)


def import_keypair(*, creds: Credentials, name: str, public_key: PublicKey) -> None:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        conn.compute.create_keypair(name=name, public_key=public_key.text, type="ssh")


def create_keypair(*, creds: Credentials, name: str, algorithm: str) -> str:
    """Generate a key pair, import its public half into Nova, and return the private half."""
    private, public = generate_keypair(algorithm=algorithm, comment=name.replace(" ", "_"))
    import_keypair(creds=creds, name=name, public_key=PublicKey(text=public, algorithm=public.split()[0]))
    return private


def delete_keypair(*, creds: Credentials, name: str) -> None:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        conn.compute.delete_keypair(name, ignore_missing=False)


# --- the one-time private key, in the server-side session ----------------------------------------------------


def _pending(session: SessionBase) -> dict[str, Any]:
    now = time.time()
    pending = {k: v for k, v in (session.get(SESSION_KEY) or {}).items() if v.get("expires", 0) > now}
    return pending


def hold_private_key(session: SessionBase, *, name: str, private_key: str) -> None:
    pending = _pending(session)
    pending[name] = {"key": sealing.seal(private_key), "expires": time.time() + PRIVATE_KEY_TTL}
    session[SESSION_KEY] = pending


def has_private_key(session: SessionBase, *, name: str) -> bool:
    return name in _pending(session)


def take_private_key(session: SessionBase, *, name: str) -> str | None:
    """The private key for `name`, erased from the session as it is handed out; None if gone."""
    pending = _pending(session)
    entry = pending.pop(name, None)
    session[SESSION_KEY] = pending
    session.save()  # erase now, before the download starts
    return sealing.unseal(entry["key"]) if entry is not None else None


def discard_private_key(session: SessionBase, *, name: str) -> None:
    pending = _pending(session)
    pending.pop(name, None)
    session[SESSION_KEY] = pending


# --- equivalent CLI commands ------------------------------------------------------------------------------------


def q(value: object) -> str:
    return shlex.quote(str(value))


def cli_create(name: str = "", algorithm: str = "ed25519") -> str:
    name = name or "<name>"
    keygen = "ssh-keygen -t ed25519" if algorithm != "rsa" else "ssh-keygen -t rsa -b 4096"
    file = q(name.replace(" ", "_"))
    return f"{keygen} -N '' -f {file} && openstack keypair create --public-key {file}.pub {q(name)}"


def cli_import(name: str = "") -> str:
    return f"openstack keypair create --public-key ~/.ssh/id_ed25519.pub {q(name) if name else '<name>'}"
