"""Reads for the overview page, none of them growing with the project's size.

- First paint: one Nova call, `GET /limits` (quota usage: instances, vCPUs, RAM and server groups are Nova's own
  aggregates).
- After it (`counts`, loaded by htmx): the key pairs (`/os-keypairs`: Nova's limits give no key pair usage; the list
  is one user's, bounded by the key pair quota) and how many instances are in each of the commonest states, one
  brief `GET /servers?status=…&limit=` per state, each asking for at most `STATUS_CAP + 1` rows, all at once.
  A state with more than `STATUS_CAP` instances shows as "more than STATUS_CAP". What the counted states leave of
  the quota's instance total is shown as "other states" (rescued, resized, shelved…).

Nova's `status` filter selects by the server's vm_state, so "Active" also holds active servers being rebooted or
resized (as Nova's own list filter does).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.cloud.connection import Credentials, get_json, get_json_many


@dataclass(frozen=True)
class Quota:
    key: str
    used: int
    limit: int  # -1: unlimited

    @property
    def unlimited(self) -> bool:
        return self.limit < 0


@dataclass(frozen=True)
class Quotas:
    """The first paint: Nova's limits (`key_pairs` has its limit here, its usage comes with the counts)."""

    quotas: list[Quota]
    instances_used: int
    key_pairs_limit: int

    @property
    def key_pairs_pending(self) -> Quota:
        """The key pair card before its count has come (the `counts` request fills it)."""
        return Quota("key_pairs", 0, self.key_pairs_limit)


@dataclass(frozen=True)
class StatusCount:
    status: str  # Nova's code, or "" for "other states"
    count: int
    capped: bool  # more than `count`


@dataclass(frozen=True)
class Counts:
    key_pairs: int
    statuses: list[StatusCount]  # the non-empty ones, in COUNTED order, then "other states"
    cap: int

    @property
    def any_capped(self) -> bool:
        return any(s.capped for s in self.statuses)

    @property
    def empty(self) -> bool:
        return not self.statuses


# The states counted, in the order shown. Each is one bounded call.
COUNTED = ("ACTIVE", "SHUTOFF", "ERROR", "BUILD", "PAUSED", "SUSPENDED", "SHELVED_OFFLOADED")
STATUS_CAP = 100


def get_quotas(creds: Credentials) -> Quotas:
    absolute = get_json(creds, "compute", "/limits").get("limits", {}).get("absolute", {})

    def limit(key: str) -> int:
        value = absolute.get(key)
        return -1 if value is None else int(value)

    def used(key: str) -> int:
        return int(absolute.get(key) or 0)

    quotas = [
        Quota("instances", used("totalInstancesUsed"), limit("maxTotalInstances")),
        Quota("cores", used("totalCoresUsed"), limit("maxTotalCores")),
        Quota("ram", used("totalRAMUsed"), limit("maxTotalRAMSize")),
        Quota("server_groups", used("totalServerGroupsUsed"), limit("maxServerGroups")),
    ]
    return Quotas(quotas=quotas, instances_used=used("totalInstancesUsed"), key_pairs_limit=limit("maxTotalKeypairs"))


def get_counts(creds: Credentials, *, instances_used: int | None = None) -> Counts:
    """Key pairs and instances by state, from bounded calls; `instances_used` (the quota's total, from the first
    paint) lets "other states" be shown when no state reached the cap."""
    cap = STATUS_CAP
    answers = get_json_many(
        creds,
        [("compute", "/os-keypairs", None)]
        + [("compute", "/servers", {"status": status, "limit": cap + 1}) for status in COUNTED],
    )
    keypairs, by_status = answers[0], answers[1:]
    statuses = []
    for status, body in zip(COUNTED, by_status, strict=True):
        n = len(body.get("servers") or [])
        if n:
            statuses.append(StatusCount(status, min(n, cap), n > cap))
    if instances_used is not None and not any(s.capped for s in statuses):
        other = instances_used - sum(s.count for s in statuses)
        if other > 0:
            statuses.append(StatusCount("", other, False))
    return Counts(key_pairs=len(keypairs.get("keypairs") or []), statuses=statuses, cap=cap)
