"""Reads for key pairs. Key pairs belong to the user (not the project): Nova lists the caller's own."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime

from apps.cloud.connection import Credentials, connection_for, get_json_list
from apps.cloud.errors import cloud_errors


@dataclass(frozen=True)
class Keypair:
    name: str
    type: str
    fingerprint: str
    algorithm: str = ""  # from the public key: ED25519, RSA 4096, ECDSA 256… ("" when it cannot be read)
    sha256: str = ""  # the fingerprint `ssh-keygen -l` prints today: SHA256:…


def describe_public_key(public_key: str, nova_type: str = "ssh") -> tuple[str, str]:
    """(algorithm, SHA256 fingerprint) of an OpenSSH public key line, as `ssh-keygen -l` names them: ED25519,
    RSA 4096, ECDSA 256, DSA 1024, ED25519-SK, ECDSA-SK 256; Nova's own `type` says only "ssh" or "x509"."""
    if nova_type == "x509":
        return "X.509", ""
    parts = (public_key or "").split()
    if len(parts) < 2:
        return "", ""
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return "", ""
    sha256 = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    kind = parts[0]
    fixed = {
        "ssh-ed25519": "ED25519",
        "sk-ssh-ed25519@openssh.com": "ED25519-SK",
        "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK 256",
    }
    if kind in fixed:
        return fixed[kind], sha256
    if kind.startswith("ecdsa-sha2-nistp"):
        return f"ECDSA {kind.removeprefix('ecdsa-sha2-nistp')}", sha256
    if kind in ("ssh-rsa", "ssh-dss"):
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
            bits = key.key_size  # type: ignore[union-attr]
        except (ValueError, UnsupportedAlgorithm):  # an unusual key still lists; only its size goes unsaid
            return ("RSA" if kind == "ssh-rsa" else "DSA"), sha256
        return f"{'RSA' if kind == 'ssh-rsa' else 'DSA'} {bits}", sha256
    return kind, sha256


@dataclass(frozen=True)
class KeypairDetail:
    name: str
    type: str
    fingerprint: str
    public_key: str
    created_at: datetime | None
    user_id: str
    algorithm: str = ""
    sha256: str = ""


def list_keypairs(*, creds: Credentials) -> list[Keypair]:
    """One `GET /os-keypairs` (Nova's list gives name, type and fingerprint; the creation time is on the detail)."""
    entries = get_json_list(  # Nova pages key pairs from 2.35
        creds, "/os-keypairs", "keypairs", marker_of=lambda e: (e.get("keypair") or {}).get("name", "")
    )
    keypairs = [e.get("keypair") or {} for e in entries]
    items = []
    for k in keypairs:
        algorithm, sha256 = describe_public_key(k.get("public_key") or "", k.get("type") or "ssh")
        items.append(
            Keypair(
                name=k.get("name", ""),
                type=k.get("type") or "ssh",
                fingerprint=k.get("fingerprint") or "",
                algorithm=algorithm,
                sha256=sha256,
            )
        )
    return sorted(items, key=lambda k: k.name.lower())


def get_keypair(*, creds: Credentials, name: str) -> KeypairDetail:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        k = conn.compute.get_keypair(name)
    created = parse_datetime(k.created_at) if isinstance(k.created_at, str) else None
    algorithm, sha256 = describe_public_key(k.public_key or "", k.type or "ssh")
    return KeypairDetail(
        algorithm=algorithm,
        sha256=sha256,
        name=k.name,
        type=k.type or "ssh",
        fingerprint=k.fingerprint or "",
        public_key=(k.public_key or "").strip(),
        created_at=created,
        user_id=k.user_id or "",
    )
