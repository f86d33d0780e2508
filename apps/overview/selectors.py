"""Reads for the overview page: quota usage from Nova's limits, servers by status, key pairs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from apps.cloud.connection import Credentials, connection_for
from apps.cloud.errors import cloud_errors


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
    conn = connection_for(creds)
    with cloud_errors("compute"):
        absolute = conn.compute.get_limits().absolute
        servers = list(conn.compute.servers(details=True, limit=SERVER_SAMPLE, paginated=False))
        keypair_count = sum(1 for _ in conn.compute.keypairs())
    statuses = Counter((s.status or "UNKNOWN").upper() for s in servers)
    quotas = [
        Quota("instances", absolute.instances_used or 0, absolute.instances),
        Quota("cores", absolute.total_cores_used or 0, absolute.total_cores),
        Quota("ram", absolute.total_ram_used or 0, absolute.total_ram),
        Quota("key_pairs", keypair_count, absolute.keypairs),
        Quota("server_groups", absolute.server_groups_used or 0, absolute.server_groups),
    ]
    return Overview(
        quotas=quotas,
        servers_by_status=sorted(statuses.items()),
        server_count=len(servers),
        servers_truncated=len(servers) >= SERVER_SAMPLE,
    )
