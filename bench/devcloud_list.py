"""Benchmark: how fast devcloud lists servers at scale (not a test).

Starts a devcloud, seeds N ACTIVE servers into the demo project through the admin-only
`POST /devcloud/seed-servers`, then times `GET /compute/v2.1/servers/detail?limit=1000` (microversion 2.100,
as the dashboard asks) several times as the demo member and prints the median.

    .venv/bin/python bench/devcloud_list.py [--count 2000] [--runs 7] [--url http://127.0.0.1:5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cloudharness import CloudCreds, password_token, start_devcloud  # noqa: E402


def _request(method: str, url: str, token: str, body: dict | None = None, mv: str = "2.100") -> tuple[int, bytes]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"X-Auth-Token": token, "Content-Type": "application/json", "OpenStack-API-Version": f"compute {mv}"},
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        return resp.status, resp.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="servers to seed (default 2000)")
    parser.add_argument("--runs", type=int, default=7, help="timed list calls (default 7)")
    parser.add_argument("--url", help="an already running devcloud (default: start one)")
    args = parser.parse_args()

    cloud = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        cloud = start_devcloud(Path(tempfile.mkdtemp(prefix="devcloud-bench-")) / "state", transition_seconds=0.2)
        base = cloud.base_url
    try:
        auth = base + "/identity/v3"
        admin = password_token(CloudCreds("admin", auth, "admin", "admin", "admin"))
        demo = password_token(CloudCreds("demo", auth, "demo", "demo", "demo"))
        started = time.perf_counter()
        _request("POST", base + "/devcloud/seed-servers", admin, {"project_name": "demo", "count": args.count})
        print(f"seeded {args.count} servers in {time.perf_counter() - started:.2f} s")

        url = base + "/compute/v2.1/servers/detail?limit=1000"
        timings, size = [], 0
        _request("GET", url, demo)  # warm-up
        for _ in range(args.runs):
            t0 = time.perf_counter()
            status, raw = _request("GET", url, demo)
            timings.append(time.perf_counter() - t0)
            assert status == 200
            size = len(raw)
        servers = len(json.loads(raw)["servers"])
        print(
            f"GET /compute/v2.1/servers/detail?limit=1000 (2.100, {servers} servers, {size / 1e6:.1f} MB): "
            f"median {statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms over {args.runs} runs"
        )
    finally:
        if cloud is not None:
            cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
