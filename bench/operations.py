"""Operations benchmark (numbers only, never fails a build): `python -m bench.operations [--launches N]`.

N launches (default 50) are dispatched at once through `dispatch()` — as the launch view does — against a
real stack: devcloud (states move every 0.2 s), the embedded Redis, and one Celery worker process
(`--pool threads --concurrency 8`, as in the Procfile). Every launch must end ACTIVE, counted through the API.

Per operation the runner records where its time went: `cloud_seconds` (inside HTTP calls to the cloud) and
`wait_seconds` (sleeping between polls while the cloud works). The dashboard's own overhead is the rest of
its life (created → finished): queueing in Redis, waiting for a free worker slot, database writes,
decrypting the token, Python. It is reported whole and split into "queue" (created → a worker claims it) and
"in the worker" (claimed → finished, minus cloud and poll time).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, children, dump, rss_peak_kb  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(value: float) -> float:
    return round(value * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=5, help="launches one at a time first (no queueing)")
    args, _ = parser.parse_known_args()
    n = args.launches

    stack = Stack.start(worker=True)
    try:
        for key in ("STRATUS_STATE_DIR", "STRATUS_DEV_KEYS", "REDIS_URL", "OS_AUTH_URL", "OS_CLIENT_CONFIG_FILE"):
            os.environ[key] = stack.env[key]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
        import django

        django.setup()
        import openstack
        from django.contrib.sessions.backends.db import SessionStore

        from apps.accounts.session import read as read_account
        from apps.operations.models import FINAL_STATES, Operation, State
        from apps.operations.services import dispatch

        admin = openstack.connect(cloud="devcloud-admin")
        member = openstack.connect(cloud="devcloud-demo")
        project = member.current_project_id
        admin.compute.update_quota_set(project, instances=n + args.sequential + 10, cores=4 * n, ram=1024 * n)
        flavor = min(member.compute.flavors(), key=lambda f: (f.ram, f.vcpus))
        image = next(i for i in member.image.images() if i.status == "active" and (i.min_disk or 0) <= flavor.disk)

        # The member's credentials, as a signed-in session holds them (sign-in through the web process).
        web = stack.session()
        data = SessionStore(session_key=web.cookies.get("stratus_session")).load()
        creds = read_account(data)

        def launch(name: str) -> Operation:
            return dispatch(
                creds=creds,
                kind="server.launch",
                target_type="server",
                target_name=name,
                params={
                    "name": name,
                    "flavor_id": flavor.id,
                    "image_id": image.id,
                    "source_type": "image",
                    "networks": "none",
                },
            )

        def wait_all(ids: list) -> None:
            deadline = time.monotonic() + 600
            while Operation.objects.filter(id__in=ids).exclude(state__in=FINAL_STATES).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("operations did not finish in 600 s")
                time.sleep(0.05)

        # One at a time first: the overhead of an operation when nothing queues ahead of it.
        alone = []
        for i in range(args.sequential):
            op = launch(f"bench-seq-{i:03d}")
            wait_all([op.id])
            alone.append(Operation.objects.get(id=op.id))
        alone_overhead = [op.overhead_seconds for op in alone if op.state == State.SUCCEEDED]
        alone_queue = [(op.started_at - op.created_at).total_seconds() for op in alone if op.started_at]

        dispatch_times = []
        started = time.monotonic()
        ops = []
        for i in range(n):
            t0 = time.monotonic()
            ops.append(launch(f"bench-op-{i:03d}"))
            dispatch_times.append(time.monotonic() - t0)
        ids = [op.id for op in ops]
        wait_all(ids)
        wall = time.monotonic() - started
        rows = list(Operation.objects.filter(id__in=ids))
        succeeded = [op for op in rows if op.state == State.SUCCEEDED]
        active = [s for s in member.compute.servers(details=True, name="^bench-op-") if s.status == "ACTIVE"]
        total = [(op.finished_at - op.created_at).total_seconds() for op in succeeded]
        queue = [(op.started_at - op.created_at).total_seconds() for op in succeeded]
        cloud = [op.cloud_seconds for op in succeeded]
        waits = [op.wait_seconds for op in succeeded]
        overhead = [op.overhead_seconds for op in succeeded]
        in_worker = [max(0.0, o - q) for o, q in zip(overhead, queue, strict=True)]
        worker_log = (stack.tmp / "worker.log").read_text(errors="replace")
        data = {
            "launches": n,
            "succeeded": len(succeeded),
            "failed": [op.display_message for op in rows if op.state == State.FAILED][:5],
            "active_servers_counted_through_api": len(active),
            "wall_seconds_all": round(wall, 2),
            "dispatch_ms_median": ms(statistics.median(dispatch_times)),
            "dispatch_ms_p95": ms(pct(dispatch_times, 95)),
            "op_total_s_median": round(statistics.median(total), 2),
            "op_total_s_p95": round(pct(total, 95), 2),
            "cloud_calls_s_median": round(statistics.median(cloud), 3),
            "poll_wait_s_median": round(statistics.median(waits), 3),
            "overhead_ms_median": ms(statistics.median(overhead)),
            "overhead_ms_p95": ms(pct(overhead, 95)),
            "queue_ms_median": ms(statistics.median(queue)),
            "queue_ms_p95": ms(pct(queue, 95)),
            "in_worker_overhead_ms_median": ms(statistics.median(in_worker)),
            "in_worker_overhead_ms_p95": ms(pct(in_worker, 95)),
            "alone_overhead_ms_median": ms(statistics.median(alone_overhead)) if alone_overhead else None,
            "alone_queue_ms_median": ms(statistics.median(alone_queue)) if alone_queue else None,
            "token_in_worker_log": bool(re.search(re.escape(creds.token), worker_log)),
            "worker_peak_rss_mb": round(
                max(rss_peak_kb(pid) for pid in [stack.procs["worker"].pid, *children(stack.procs["worker"].pid)])
                / 1024,
                1,
            ),
        }
    finally:
        stack.stop()

    out = dump("operations", data)
    print(
        f"{n} launches dispatched at once (after {args.sequential} one at a time); "
        "one worker, 8 threads; devcloud transitions every 0.2 s\n"
    )
    rows = [
        (
            f"one launch at a time ({args.sequential}): overhead median (of which queue)",
            f"{data['alone_overhead_ms_median']} ms ({data['alone_queue_ms_median']} ms)",
        ),
        ("succeeded / ACTIVE servers counted through the API", f"{data['succeeded']} / {len(active)}"),
        (f"wall time, all {n}", f"{data['wall_seconds_all']} s"),
        ("dispatch() in the web process: median / p95", f"{data['dispatch_ms_median']} / {data['dispatch_ms_p95']} ms"),
        ("operation created → finished: median / p95", f"{data['op_total_s_median']} / {data['op_total_s_p95']} s"),
        ("in cloud HTTP calls (median)", f"{data['cloud_calls_s_median']} s"),
        ("sleeping between polls while the cloud works (median)", f"{data['poll_wait_s_median']} s"),
        (
            "**dashboard overhead per operation: median / p95**",
            f"{data['overhead_ms_median']} / {data['overhead_ms_p95']} ms",
        ),
        (
            "… of which queued (Redis, waiting for a free worker slot)",
            f"{data['queue_ms_median']} / {data['queue_ms_p95']} ms",
        ),
        (
            "… of which in the worker (database, decrypting, Python)",
            f"{data['in_worker_overhead_ms_median']} / {data['in_worker_overhead_ms_p95']} ms",
        ),
        ("token found in the worker log", "yes" if data["token_in_worker_log"] else "no"),
        ("peak RSS of the worker process after the run", f"{data['worker_peak_rss_mb']} MB"),
    ]
    print("| measure | value |")
    print("| --- | --- |")
    for label, value in rows:
        print(f"| {label} | {value} |")
    if data["failed"]:
        print("\nfailures:", *data["failed"], sep="\n- ")
    print(f"\n(raw: {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
