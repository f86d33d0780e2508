"""Stratus beside Horizon on the same real cloud: `python -m bench.sidebyside --label 200 [--rounds 12]`.

Not part of `make bench` (it needs a real cloud and a running Horizon; `make bench-realcloud` runs it). Starts
Stratus under gunicorn (1 worker x 4 threads, DEBUG off, SQLite, the embedded Redis) against the cloud of
`--clouds` (clouds.yaml names, default realcloud-admin,realcloud-demo), then:

1. runs Horizon's side-by-side script (`$SBS_HORIZON_DIR/sidebyside.py`, default `../shared/horizon/` beside the
   repository or its main checkout) against it: for each page Horizon, Stratus and the floor (the one plain API
   call that gives the page its rows) alternate in the same rounds, and each dashboard's cloud calls are counted
   from the cloud's access logs;
2. times, the same way, what Stratus' pages load right after their first paint (the htmx `load` requests: the
   overview's counts, the hypervisor list's fresh usage, the snapshot list's server names when it has any), each
   alternating with the floor of its page, and counts their calls from the same logs.

Everything goes to one JSON (`--out`, default bench/results/sidebyside-<label>.json); `--table` prints the markdown
table of several such files (Horizon, Stratus, floor, calls, distance to the floor aim, geometric mean).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.stack import Stack

ROOT = Path(__file__).resolve().parent.parent


def horizon_dir() -> Path:
    if os.environ.get("SBS_HORIZON_DIR"):
        return Path(os.environ["SBS_HORIZON_DIR"])
    for base in (ROOT, *ROOT.parents):  # ../shared/horizon beside this checkout, or beside its main worktree
        if (base.parent / "shared" / "horizon" / "sidebyside.py").exists():
            return base.parent / "shared" / "horizon"
    raise SystemExit("no ../shared/horizon/sidebyside.py found: set SBS_HORIZON_DIR")


def load_sbs():
    spec = importlib.util.spec_from_file_location("sbs", horizon_dir() / "sidebyside.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# name, who, path (a function of the first paint's HTML: "" when the page asks for nothing after it), its page's
# floor (who, service, path: as in sidebyside.py's PAIRS)
def _overview_counts(html: str) -> str:
    found = re.search(r'hx-get="(/overview/counts/[^"]*)" hx-trigger="load"', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def _snapshot_names(html: str) -> str:
    found = re.search(r'hx-get="(/snapshots/server-names/[^"]*)" hx-trigger="load"', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def _hypervisor_usage(html: str) -> str:
    return "/admin/hypervisors/?usage=fresh"  # what a page with missing or old usage asks for


DEFERRED = [
    ("overview", "demo", "/overview/", _overview_counts, ("demo", "compute", "/limits")),
    ("images_snapshots", "demo", "/snapshots/", _snapshot_names, ("demo", "image", "/v2/images")),
    ("hypervisors", "admin", "/admin/hypervisors/", _hypervisor_usage, ("admin", "compute", "/os-hypervisors/detail")),
]


def deferred(sbs, label: str, rounds: int, warm: int) -> dict:
    sess = {who: sbs.stratus_login(who, who) for who in ("demo", "admin")}
    toks = {who: sbs.keystone_token(who, who, who) for who in ("demo", "admin")}
    plain = {}
    for who, (tok, _cat) in toks.items():
        plain[who] = __import__("requests").Session()
        plain[who].headers["X-Auth-Token"] = tok
    out = {}
    for name, who, page, find, (fwho, fsvc, fpath) in DEFERRED:
        html = sess[who].get(sbs.STRATUS + page, timeout=sbs.TIMEOUT).text
        path = find(html)
        if not path:
            out[name] = {"skipped": "the page asks for nothing after its first paint"}
            continue
        url, floor_url = sbs.STRATUS + path, toks[fwho][1][fsvc] + fpath
        samples: dict[str, list] = {"stratus": [], "floor": []}
        for i in range(warm + rounds):
            res, _ = sbs.one("stratus", sess[who], url, headers={"HX-Request": "true"})
            fres, _ = sbs.one("floor", plain[fwho], floor_url)
            if i >= warm:
                samples["stratus"].append(res)
                samples["floor"].append(fres)
        entry = {"path": path, "stratus": sbs.summary(samples["stratus"]), "floor": sbs.summary(samples["floor"])}
        time.sleep(1.5)
        client = sess[who]
        calls = sbs.read_window(lambda c=client, u=url: sbs.one("stratus", c, u, headers={"HX-Request": "true"}))
        entry["upstream"] = {"stratus": sbs.classify(calls, "stratus")}
        for key in ("stratus", "floor"):
            entry[key].pop("all_ms", None)
        out[name] = entry
        st = entry["stratus"]
        print(
            f"deferred {name:<17} S {st.get('median_ms')}/{st.get('p95_ms')}  F {entry['floor'].get('median_ms')}"
            f"  calls {entry['upstream']['stratus']['dashboard_calls']}",
            flush=True,
        )
    return out


def run(args: argparse.Namespace) -> Path:
    from tests.cloudharness import real_cloud

    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(Path.home() / ".realcloud" / "clouds.yaml"))
    cloud = real_cloud(args.clouds)
    stack = Stack.start(web_workers=1, cloud=cloud)
    out = Path(args.out or ROOT / "bench" / "results" / f"sidebyside-{args.label}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STRATUS_URL": stack.web_url,
        "KEYSTONE_URL": os.environ.get("KEYSTONE_URL", cloud.auth_url),
    }
    try:
        cmd = [sys.executable, str(horizon_dir() / "sidebyside.py"), "--label", args.label, "--out", str(out)]
        cmd += ["--rounds", str(args.rounds), "--warm", str(args.warm)]
        if args.count_calls:
            cmd.append("--count-calls")
        if args.only:
            cmd += ["--only", args.only]
        started = time.time()
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        result = json.loads(out.read_text())
        os.environ.update({"STRATUS_URL": stack.web_url, "KEYSTONE_URL": env["KEYSTONE_URL"]})
        sbs = load_sbs()
        result["deferred"] = deferred(sbs, args.label, args.rounds, args.warm)
        result["load_average"] = os.getloadavg()
        result["wall_seconds"] = round(time.time() - started)
        out.write_text(json.dumps(result, indent=1))
    finally:
        stack.stop()
    print("wrote", out)
    return out


# --- the table --------------------------------------------------------------------------------------------

PAGE_NAMES = {
    "instances": "instances",
    "overview": "overview",
    "instance_detail": "instance detail",
    "flavors_member": "flavors (member)",
    "flavors_admin": "flavors (admin)",
    "keypairs": "key pairs",
    "images_snapshots": "snapshots (Horizon: images)",
    "hypervisors": "hypervisors (admin)",
}


def _ms(d: dict) -> str:
    if not d or not d.get("median_ms"):
        return "–"
    return (
        f"{d['median_ms']:.1f} / {d['p95_ms']:.1f}"
        if d["median_ms"] < 100
        else f"{d['median_ms']:.0f} / {d['p95_ms']:.0f}"
    )


def _calls(p: dict, dash: str) -> str:
    u = p.get("upstream", {}).get(dash)
    return "–" if not u else str(u["dashboard_calls"])


def aim(floor_ms: float) -> float:
    """The issue's aim for a page: max(1.3 x floor, floor + 5 ms)."""
    return max(1.3 * floor_ms, floor_ms + 5)


def table(files: list[str]) -> str:
    lines = [
        "| servers | page | Horizon ms (median / p95) | Stratus ms | floor ms | Horizon / Stratus | Stratus − aim ms "
        "| calls Horizon / Stratus | after first paint: Stratus ms, calls |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    means = []
    for f in files:
        d = json.loads(Path(f).read_text())
        size = d.get("servers_in_demo", d["label"])
        ratios = []
        for name, p in d["pages"].items():
            if "skipped" in p:
                lines.append(f"| {size} | {PAGE_NAMES.get(name, name)} | skipped: {p['skipped']} |||||||")
                continue
            h, s, fl = p.get("horizon", {}), p.get("stratus", {}), p.get("floor", {})
            ratio = p.get("horizon_over_stratus")
            if ratio:
                ratios.append(ratio)
            gap = "–"
            if s.get("median_ms") and fl.get("median_ms"):
                gap = f"{s['median_ms'] - aim(fl['median_ms']):+.1f}"
            later = d.get("deferred", {}).get(name, {})
            after = "–"
            if later.get("stratus", {}).get("median_ms"):
                after = f"{_ms(later['stratus'])}, {_calls(later, 'stratus')}"
            lines.append(
                f"| {size} | {PAGE_NAMES.get(name, name)} | {_ms(h)} | {_ms(s)} | {_ms(fl)} | "
                f"{ratio or '–'} | {gap} | {_calls(p, 'horizon')} / {_calls(p, 'stratus')} | {after} |"
            )
        if ratios:
            gm = math.exp(statistics.mean(math.log(r) for r in ratios))
            means.append(f"{size} servers: {gm:.1f}× over {len(ratios)} pages (load average {d.get('load_average')})")
    lines += ["", "Geometric mean of Horizon / Stratus: " + "; ".join(means) + "."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="run", help="names the result file (the table shows the servers counted)")
    parser.add_argument("--clouds", default="realcloud-admin,realcloud-demo", help="ADMIN,MEMBER clouds.yaml names")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--count-calls", action="store_true", default=True)
    parser.add_argument("--only", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--table", nargs="*", help="print the table of these result files instead of measuring")
    args = parser.parse_args()
    if args.table is not None:
        print(table(args.table))
        return
    run(args)


if __name__ == "__main__":
    main()
