"""os-simple-tenant-usage: per-project server hours over a period (what Horizon's overview charts read)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from devcloud.compute import servers
from devcloud.compute.common import ctx, next_link, page, parse_time, require_admin
from devcloud.compute.microversions import mv
from devcloud.state import store
from devcloud.web import Request, Response, json_response, router

API = "/compute/v2.1"


def _period(req: Request) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    start = parse_time(req.arg("start"), "start") if req.arg("start") else now - timedelta(days=1)
    end = parse_time(req.arg("end"), "end") if req.arg("end") else now
    return start, min(end, now)


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    return parse_time(value, "timestamp")


def _server_usage(s: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any] | None:
    launched = _ts(s.get("launched_at")) or _ts(s["created"])
    terminated = _ts(s.get("terminated_at"))
    assert launched is not None
    if launched > end or (terminated is not None and terminated < start):
        return None
    begin = max(launched, start)
    finish = min(terminated, end) if terminated else end
    hours = max(0.0, (finish - begin).total_seconds() / 3600)
    f = s["flavor"]
    state = "terminated" if s.get("deleted") else s["vm_state"]
    return {
        "instance_id": s["id"],
        "name": s["name"],
        "hours": hours,
        "memory_mb": f["ram"],
        "local_gb": f["disk"],
        "vcpus": f["vcpus"],
        "flavor": f["name"],
        "tenant_id": s["project_id"],
        "started_at": launched.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "ended_at": terminated.strftime("%Y-%m-%dT%H:%M:%S.%f") if terminated else None,
        "state": state,
        "uptime": int((end - launched).total_seconds()) if not terminated else 0,
    }


def _usages(req: Request, project_id: str | None, detailed: bool) -> list[dict[str, Any]]:
    start, end = _period(req)
    by_project: dict[str, dict[str, Any]] = {}
    with store.lock:
        items = sorted(servers.table().values(), key=lambda s: (s["created"], s["id"]))
        for s in items:
            if project_id and s["project_id"] != project_id:
                continue
            u = _server_usage(s, start, end)
            if u is None:
                continue
            t = by_project.setdefault(
                s["project_id"],
                {
                    "tenant_id": s["project_id"],
                    "total_local_gb_usage": 0.0,
                    "total_vcpus_usage": 0.0,
                    "total_memory_mb_usage": 0.0,
                    "total_hours": 0.0,
                    "start": start.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                    "stop": end.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                    "server_usages": [],
                },
            )
            t["total_hours"] += u["hours"]
            t["total_vcpus_usage"] += u["hours"] * u["vcpus"]
            t["total_memory_mb_usage"] += u["hours"] * u["memory_mb"]
            t["total_local_gb_usage"] += u["hours"] * u["local_gb"]
            t["server_usages"].append(u)
    out = list(by_project.values())
    if not detailed:
        for t in out:
            del t["server_usages"]
    return out


@router.route("GET", API + "/os-simple-tenant-usage")
def list_usage(req: Request) -> Response:
    require_admin(req, "os_compute_api:os-simple-tenant-usage:list")
    detailed = (req.arg("detailed") or "0").lower() in ("1", "true", "yes")
    usages = _usages(req, None, detailed)
    body: dict[str, Any] = {"tenant_usages": usages}
    if mv(req) >= 40 and req.arg("limit"):
        body["tenant_usages"], nxt = page(req, usages, key="tenant_id")
        if nxt:
            body["tenant_usages_links"] = next_link(req, "os-simple-tenant-usage", nxt)
    return json_response(200, body)


@router.route("GET", API + "/os-simple-tenant-usage/{project_id}")
def show_usage(req: Request, project_id: str) -> Response:
    if project_id != ctx(req)["project_id"]:
        require_admin(req, "os_compute_api:os-simple-tenant-usage:show")
    usages = _usages(req, project_id, True)
    return json_response(200, {"tenant_usage": usages[0] if usages else {}})
