"""Where a page's milliseconds go, against a real cloud: `python -m bench.breakdown [--rounds 30] [--pages a,b]
[--py-spy PATH --profile PAGE]`.

Starts Stratus as bench.sidebyside does (gunicorn, 1 worker x 4 threads) but with bench.counting's application,
which reports for each render the time Django took (`X-Bench-View-Ms`) and the time during which a cloud call was
under way (`X-Bench-Cloud-Ms`). Each page alternates with its floor (the one plain call, as in sidebyside.py), and
the medians split the page's time into: the cloud calls, Django's own work (view − cloud: session, middleware,
template), and HTTP + gunicorn (client − view). With `--py-spy` (the path of a py-spy binary) and `--profile`, the
gunicorn worker is sampled while that page is requested in a loop, and the functions holding the most samples are
printed (inclusive share of the worker's samples in a request).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench.sidebyside import load_sbs
from bench.stack import Stack, dump

# name, who, path, floor (who, service, path): the pages of sidebyside.py, Stratus' side
PAGES = [
    ("overview", "demo", "/overview/", ("demo", "compute", "/limits")),
    ("instances", "demo", "/instances/", ("demo", "compute", "/servers/detail?limit=20")),
    ("key pairs", "demo", "/keypairs/", ("demo", "compute", "/os-keypairs")),
    ("flavors (member)", "demo", "/flavors/", ("demo", "compute", "/flavors/detail")),
    ("snapshots", "demo", "/snapshots/", ("demo", "image", "/v2/images")),
    ("hypervisors (admin)", "admin", "/admin/hypervisors/", ("admin", "compute", "/os-hypervisors/detail")),
]


def measure(sbs, sess: dict, plain: dict, toks: dict, rounds: int, wanted: set[str]) -> dict:
    out = {}
    for name, who, path, (fwho, fsvc, fpath) in PAGES:
        if wanted and name not in wanted:
            continue
        url, floor_url = sbs.STRATUS + path, toks[fwho][1][fsvc] + fpath
        rows: dict[str, list[float]] = {"client": [], "view": [], "cloud": [], "floor": []}
        for i in range(rounds + 2):
            start = time.perf_counter()
            r = sess[who].get(url, timeout=120)
            client = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            _ = plain[fwho].get(floor_url, timeout=120).content
            floor = (time.perf_counter() - start) * 1000
            if i < 2 or r.status_code != 200:
                continue
            rows["client"].append(client)
            rows["view"].append(float(r.headers.get("X-Bench-View-Ms", "nan")))
            rows["cloud"].append(float(r.headers.get("X-Bench-Cloud-Ms", "nan")))
            rows["floor"].append(floor)
        med = {k: round(statistics.median(v), 1) for k, v in rows.items() if v}
        if med:
            med["django_own"] = round(
                statistics.median([v - c for v, c in zip(rows["view"], rows["cloud"], strict=True)]), 1
            )
            med["http_gunicorn"] = round(
                statistics.median([c - v for c, v in zip(rows["client"], rows["view"], strict=True)]), 1
            )
        out[name] = med
        print(
            f"{name:<20} page {med.get('client')} = cloud {med.get('cloud')} + Django {med.get('django_own')} "
            f"+ HTTP/gunicorn {med.get('http_gunicorn')}  (floor {med.get('floor')})",
            flush=True,
        )
    return out


def profile(stack: Stack, py_spy: str, sess: requests.Session, url: str, seconds: int) -> list[tuple[str, float]]:
    """Sample the gunicorn worker while `url` is requested in a loop; the functions with the most samples."""
    raw = Path(tempfile.mkdtemp(prefix="stratus-pyspy-")) / "profile.txt"
    pid = stack.web_pids()[-1]
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250", "--format", "raw"]
        + ["--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop = time.monotonic() + seconds
    done = threading.Event()

    def loop() -> None:
        while time.monotonic() < stop and not done.is_set():
            sess.get(url, timeout=120)

    t = threading.Thread(target=loop)
    t.start()
    spy.wait()
    done.set()
    t.join()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        frames = stack_text.split(";")
        if not any("handle_request" in f for f in frames):  # only the worker's request threads
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
    return [(frame, round(100 * n / total, 1)) for frame, n in inclusive.most_common(40)] if total else []


def main() -> None:
    from tests.cloudharness import real_cloud

    parser = argparse.ArgumentParser()
    parser.add_argument("--clouds", default="realcloud-admin,realcloud-demo")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pages", default="")
    parser.add_argument("--py-spy", default="")
    parser.add_argument("--profile", default="overview", help="the page to sample with py-spy")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(Path.home() / ".realcloud" / "clouds.yaml"))
    cloud = real_cloud(args.clouds)
    stack = Stack.start(web_workers=1, cloud=cloud, app="bench.counting:application")
    os.environ.update({"STRATUS_URL": stack.web_url, "KEYSTONE_URL": os.environ.get("KEYSTONE_URL", cloud.auth_url)})
    try:
        sbs = load_sbs()
        sess = {who: sbs.stratus_login(who, who) for who in ("demo", "admin")}
        toks = {who: sbs.keystone_token(who, who, who) for who in ("demo", "admin")}
        plain = {}
        for who, (tok, _cat) in toks.items():
            plain[who] = requests.Session()
            plain[who].headers["X-Auth-Token"] = tok
        result: dict = {"load_average_before": os.getloadavg()}
        result["pages"] = measure(sbs, sess, plain, toks, args.rounds, set(filter(None, args.pages.split(","))))
        if args.py_spy:
            name, who, path, _ = next(p for p in PAGES if p[0] == args.profile)
            result["profile"] = {
                "page": name,
                "top": profile(stack, args.py_spy, sess[who], sbs.STRATUS + path, args.seconds),
            }
            for frame, share in result["profile"]["top"]:
                print(f"{share:5.1f}%  {frame}")
        result["load_average_after"] = os.getloadavg()
        print("JSON:", dump("breakdown", result))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
