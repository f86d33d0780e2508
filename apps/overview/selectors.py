"""Reads for the overview page: quota usage from Nova's limits, servers by status, key pairs.

Three Nova calls at once, read as plain JSON (no per-server SDK objects): `/limits`, `/servers/detail` (first
1,000, statuses only) and `/os-keypairs` (Nova's limits give no key pair usage).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from apps.cloud.connection import Credentials, get_json_many


@dataclass(frozen=True)
class Quota:
    key: str
    used: int
    limit: int  # -1: unlimited

    @property
    def unlimited(self) -> bool:
        return self.limit < 0


@dataclass(frozen=True)
class Overview:
    quotas: list[Quota]
    servers_by_status: list[tuple[str, int]]
    server_count: int
    servers_truncated: bool


SERVER_SAMPLE = 1000


def get_overview(creds: Credentials) -> Overview:
    limits, listed, owned = get_json_many(
        creds,
        [
            ("compute", "/limits", None),
            ("compute", "/servers/detail", {"limit": SERVER_SAMPLE}),
            ("compute", "/os-keypairs", None),
        ],
    )
    absolute = limits.get("limits", {}).get("absolute", {})
    servers = listed.get("servers", [])
    keypairs = owned.get("keypairs", [])
    statuses = Counter(str(s.get("status") or "UNKNOWN").upper() for s in servers)

    def limit(key: str) -> int:
        value = absolute.get(key)
        return -1 if value is None else int(value)

    quotas = [
        Quota("instances", int(absolute.get("totalInstancesUsed") or 0), limit("maxTotalInstances")),
        Quota("cores", int(absolute.get("totalCoresUsed") or 0), limit("maxTotalCores")),
        Quota("ram", int(absolute.get("totalRAMUsed") or 0), limit("maxTotalRAMSize")),
        Quota("key_pairs", len(keypairs), limit("maxTotalKeypairs")),
        Quota("server_groups", int(absolute.get("totalServerGroupsUsed") or 0), limit("maxServerGroups")),
    ]
    return Overview(
        quotas=quotas,
        servers_by_status=sorted(statuses.items()),
        server_count=len(servers),
        servers_truncated=len(servers) >= SERVER_SAMPLE,
    )
