"""Instances list benchmark (numbers only, never fails a build): `python -m bench.instances [--servers N] [--rounds N]`.

1,000 ACTIVE servers in the member's project (devcloud `POST /devcloud/seed-servers`), then the list page
(first page, a later page by marker, sorted by name, filtered by status, the live-update poll) fetched through
gunicorn: median and p95 render time, and the cloud calls each render makes (devcloud `/devcloud/requests`),
which must stay at most 2 whatever the number of servers: one `servers/detail` and at most one Glance `id=in:`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, dump  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def calls_of(stack: Stack) -> list[str]:
    return stack.control("requests", method="GET").get("recent", [])


def measure(stack: Stack, client, path: str, rounds: int, headers: dict | None = None) -> dict:
    url = stack.web_url + path
    client.get(url, headers=headers)  # warm: version discovery per process, short name caches
    per_render: list[int] = []
    times: list[float] = []
    sample: list[str] = []
    for _ in range(rounds):
        stack.control("requests/reset")
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code in (200, 286), f"{path}: {response.status_code}"
        # The control call signs in first (its own Keystone call): not the page's.
        calls = [c for c in calls_of(stack) if not c.startswith("POST /identity/v3/auth/tokens")]
        per_render.append(len(calls))
        sample = calls
    return {
        "path": path,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(pct(times, 0.95) * 1000, 1),
        "cloud_calls_max": max(per_render),
        "cloud_calls_median": statistics.median(per_render),
        "calls": sample,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    stack = Stack.start(web_workers=1)
    try:
        stack.control("seed-servers", {"project_name": "demo", "count": args.servers, "name_prefix": "bench"})
        client = stack.session("member")
        first = client.get(stack.web_url + "/instances/?limit=50")
        marker = first.text.split("marker=", 1)[1].split('"', 1)[0].split("&", 1)[0] if "marker=" in first.text else ""
        paths = [
            ("first page (20)", "/instances/", None),
            ("first page (100)", "/instances/?limit=100", None),
            ("next page (marker)", f"/instances/?limit=50&marker={marker}", None),
            ("sorted by name", "/instances/?sort=name&dir=asc", None),
            ("status filter", "/instances/?status=ACTIVE", None),
            ("search box", "/instances/?q=bench-1", None),
            ("live poll (nothing changed)", f"/instances/poll/?since={time_now(stack)}&seen=", {"HX-Request": "true"}),
        ]
        results = [dict(measure(stack, client, path, args.rounds, headers), name=name) for name, path, headers in paths]
    finally:
        stack.stop()
    print(f"Instances list with {args.servers} servers in the project ({args.rounds} renders each)\n")
    print(f"{'view':32} {'median ms':>10} {'p95 ms':>8} {'cloud calls':>12} {'KB':>6}")
    for r in results:
        print(
            f"{r['name']:32} {r['median_ms']:>10} {r['p95_ms']:>8} {r['cloud_calls_max']:>12} {r['bytes'] // 1024:>6}"
        )
    print("\ncalls of the first page:", *results[0]["calls"], sep="\n  ")
    worst = max(r["cloud_calls_max"] for r in results if not r["name"].startswith("live"))
    print(f"\nmost cloud calls for one list render: {worst} (target: at most 2)")
    out = dump("instances", {"servers": args.servers, "rounds": args.rounds, "results": results})
    print(f"written: {out.relative_to(ROOT)}")


def time_now(stack: Stack) -> str:
    """Nova's clock, as the page would have it: the newest `updated` of the servers."""
    import requests

    token = stack.token("member")
    base = stack.cloud.base_url
    r = requests.get(
        base + "/compute/v2.1/servers/detail?limit=1&sort_key=updated_at&sort_dir=desc",
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.100"},
        timeout=30,
    )
    servers = r.json().get("servers", [])
    return servers[0]["updated"] if servers else "2000-01-01T00:00:00Z"


if __name__ == "__main__":
    main()
