"""Load: N concurrent signed-in users browse the list pages and poll, as the pages do, for S seconds against a
gunicorn on loopback (devcloud behind it). Prints p50/p95/p99 per page and overall, and the errors (there must be
none); writes bench/results/load.json. Not a test: `python -m bench.load [--users 50 --seconds 60]`.

Each user opens a list page every 3-6 s (think time) and, like an open page, polls every 2 s: the instance list's
live rows (`/instances/poll/`, htmx) and the activity tracker (`/activity/tracker/`, htmx).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections import defaultdict

import requests

from bench.stack import Stack, dump

PAGES = ["/overview/", "/instances/", "/flavors/", "/keypairs/", "/snapshots/", "/activity/"]
POLLS = ["/instances/poll/", "/activity/tracker/"]
OK = {200, 286}  # 286: htmx "stop polling", the answer of a calm poll


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.retried: list[str] = []

    def add(self, url: str, seconds: float, status: int | str) -> None:
        with self.lock:
            self.latency[url].append(seconds)
            if status not in OK:
                self.errors.append(f"{url}: {status}")


def user(stack: Stack, session: requests.Session, pages: list[str], polls: list[str], stop: float, out: Results):
    rng = random.Random()
    next_page = time.monotonic() + rng.uniform(0, 3)
    next_poll = time.monotonic() + rng.uniform(0, 2)
    while True:
        now = time.monotonic()
        if now >= stop:
            return
        if now >= next_page:
            urls, headers, next_page = [rng.choice(pages)], {}, now + rng.uniform(3, 6)
        elif now >= next_poll:
            urls, headers, next_poll = polls, {"HX-Request": "true"}, now + 2
        else:
            time.sleep(min(next_page, next_poll) - now)
            continue
        for url in urls:
            started = time.perf_counter()
            status: int | str
            for attempt in (1, 2):
                try:
                    status = session.get(stack.web_url + url, headers=headers, timeout=30).status_code
                    break
                except requests.ConnectionError as exc:
                    # The server closed an idle keep-alive connection just as it was reused; a browser retries
                    # such a GET once on a new connection, and so does this user (counted, not hidden).
                    status = f"{type(exc).__name__}: {exc}"[:200]
                    if attempt == 1:
                        with out.lock:
                            out.retried.append(f"{url}: {status}")
                except requests.RequestException as exc:
                    status = f"{type(exc).__name__}: {exc}"[:200]
                    break
            out.add(url, time.perf_counter() - started, status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes (4 threads each)")
    parser.add_argument("--servers", type=int, default=120, help="ACTIVE servers seeded in project demo")
    args = parser.parse_args()

    stack = Stack.start(web_workers=args.web_workers)
    try:
        stack.control("seed-servers", {"project_name": "demo", "count": args.servers})
        probe = stack.session()
        pages = [p for p in PAGES if probe.get(stack.web_url + p).status_code == 200]
        polls = [p for p in POLLS if probe.get(stack.web_url + p, headers={"HX-Request": "true"}).status_code in OK]
        sessions = [stack.session() for _ in range(args.users)]
        out = Results()
        stop = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=user, args=(stack, s, pages, polls, stop, out), daemon=True) for s in sessions
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        stack.stop()

    everything = [v for values in out.latency.values() for v in values]
    rows = {
        url: {
            "requests": len(values),
            "p50_ms": round(1000 * statistics.median(values), 1),
            "p95_ms": round(1000 * percentile(values, 95), 1),
            "p99_ms": round(1000 * percentile(values, 99), 1),
        }
        for url, values in sorted(out.latency.items())
    }
    summary = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "web_workers": args.web_workers,
        "servers": args.servers,
        "requests": len(everything),
        "requests_per_second": round(len(everything) / elapsed, 1),
        "errors": len(out.errors),
        "retried_on_a_closed_keepalive_connection": len(out.retried),
        "retry_samples": out.retried[:5],
        "error_samples": out.errors[:20],
        "p50_ms": round(1000 * statistics.median(everything), 1) if everything else 0,
        "p95_ms": round(1000 * percentile(everything, 95), 1),
        "p99_ms": round(1000 * percentile(everything, 99), 1),
        "pages": rows,
    }
    print(f"{args.users} users, {elapsed:.0f} s, {len(everything)} requests ({summary['requests_per_second']}/s), ")
    print(
        f"errors: {len(out.errors)}  p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  p99 {summary['p99_ms']} ms"
    )
    print("| page | requests | p50 ms | p95 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: |")
    for url, row in rows.items():
        print(f"| `{url}` | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} |")
    for line in out.errors[:20]:
        print("ERROR", line)
    print(f"GETs retried once on a new connection (idle keep-alive closed by the server): {len(out.retried)}")
    for line in out.retried[:3]:
        print("  e.g.", line)
    print(f"results: {dump('load', summary)}")
    raise SystemExit(1 if out.errors else 0)


if __name__ == "__main__":
    main()
