"""Reads for key pairs. Key pairs belong to the user (not the project): Nova lists the caller's own."""

from __future__ import annotations

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


@dataclass(frozen=True)
class KeypairDetail:
    name: str
    type: str
    fingerprint: str
    public_key: str
    created_at: datetime | None
    user_id: str


def list_keypairs(*, creds: Credentials) -> list[Keypair]:
    """One `GET /os-keypairs` (Nova's list gives name, type and fingerprint; the creation time is on the detail)."""
    entries = get_json_list(  # Nova pages key pairs from 2.35
        creds, "/os-keypairs", "keypairs", marker_of=lambda e: (e.get("keypair") or {}).get("name", "")
    )
    keypairs = [e.get("keypair") or {} for e in entries]
    items = [
        Keypair(name=k.get("name", ""), type=k.get("type") or "ssh", fingerprint=k.get("fingerprint") or "")
        for k in keypairs
    ]
    return sorted(items, key=lambda k: k.name.lower())


def get_keypair(*, creds: Credentials, name: str) -> KeypairDetail:
    conn = connection_for(creds)
    with cloud_errors("compute"):
        k = conn.compute.get_keypair(name)
    created = parse_datetime(k.created_at) if isinstance(k.created_at, str) else None
    return KeypairDetail(
        name=k.name,
        type=k.type or "ssh",
        fingerprint=k.fingerprint or "",
        public_key=(k.public_key or "").strip(),
        created_at=created,
        user_id=k.user_id or "",
    )
