"""Page benchmark: each page signed in, full HTTP requests to gunicorn, against devcloud.

For every page: median and p95 time, cloud calls per render (devcloud counts the requests it receives), HTML
bytes, and the floor — the same cloud calls replayed directly with the user's token, timed in the same run.
First at 50 servers with no added latency (the dashboard's own cost); then the size sweep: every page, and what
the pages load right after their first paint, at 0, 200, 1,000 and 5,000 servers with devcloud's latency model on
(`LATENCY`: a fixed cost per call plus a cost per row returned, so that a call fetching a whole collection grows
with it as on a real cloud). Also: first load in Chromium and peak RSS.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import openstack.connection
import requests

from bench.stack import Stack, dump, rss_peak_kb

# devcloud's latency model for the size sweep: per call, and per row of its answer (devcloud/control.py). Real
# Nova on this machine answers servers/detail in about 1 s for 200 servers (several objects a server); these are
# smaller, so a sweep to 5,000 servers stays short, but a page that lists a collection grows visibly with N.
LATENCY = {"seconds": 0.002, "per_row_seconds": 0.0001}

# What pages ask for right after their first paint (htmx `load`): name, path, who.
DEFERRED = [
    ("overview: counts (after paint)", "/overview/counts/?instances=0&key_pairs_limit=100", "member"),
    ("hypervisors: usage (after paint)", "/admin/hypervisors/?usage=fresh", "admin"),
]

PAGES = [
    ("overview", "/overview/", "member"),
    ("instances (50 a page)", "/instances/?limit=50", "member"),
    ("instance detail", "/instances/{server_id}/", "member"),
    ("launch form", "/instances/launch/", "member"),
    ("flavors", "/flavors/", "member"),
    ("key pairs", "/keypairs/", "member"),
    ("snapshots", "/snapshots/", "member"),
    ("hypervisors", "/admin/hypervisors/", "admin"),
    ("activity", "/activity/", "member"),
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def recorded_calls(stack: Stack) -> list[str]:
    return stack.control("requests", method="GET").get("recent", [])


def sdk_connection(stack: Stack, who: str) -> openstack.connection.Connection:
    creds = stack.cloud.member if who == "member" else stack.cloud.admin
    conn = openstack.connection.Connection(
        auth_url=creds.auth_url,
        username=creds.username,
        password=creds.password,
        project_name=creds.project_name,
        user_domain_name=creds.user_domain_name,
        project_domain_name=creds.project_domain_name,
        region_name=creds.region_name,
    )
    # authenticate and discover outside the timed part, as the dashboard does
    conn.bench_endpoints = {}
    for service in ("compute", "image", "placement", "block_storage", "network"):
        try:
            conn.bench_endpoints[service] = getattr(conn, service).get_endpoint().rstrip("/")
        except Exception:  # a cloud without this service
            continue
    return conn


def locate(conn: openstack.connection.Connection, url: str) -> tuple[str, str]:
    """(service, path relative to its versioned endpoint) of an absolute URL."""
    path = url.split("?", 1)[0]
    for service, endpoint in sorted(conn.bench_endpoints.items(), key=lambda item: -len(item[1])):
        if path.startswith(endpoint):
            rest = path[len(endpoint) :] or "/"
            if service == "image" and rest.startswith("/v2/"):  # an unversioned Glance endpoint
                rest = rest[3:]
            return service, rest
    raise ValueError(f"no endpoint of the catalog serves {url}")


def sdk_call(conn: openstack.connection.Connection, call: str) -> None:
    """Make one recorded cloud call ("GET <absolute URL>") through openstacksdk's own proxies (resources parsed,
    as a page needs); calls no proxy method covers go through the service's adapter."""
    method, _, url = call.partition(" ")
    query = url.partition("?")[2]
    params = {k: v for k, v in parse_qsl(query) if v != "None"}
    service, rest = locate(conn, url)
    if service == "compute" and rest == "/servers/detail":
        list(conn.compute.servers(details=True, paginated=False, **params))
    elif service == "compute" and rest == "/servers":
        list(conn.compute.servers(details=False, paginated=False, **params))
    elif service == "compute" and rest.startswith("/servers/") and rest.count("/") == 2:
        conn.compute.get_server(rest.split("/")[2])
    elif service == "compute" and rest == "/flavors/detail":
        list(conn.compute.flavors(details=True, paginated=False, **params))
    elif service == "compute" and rest == "/os-keypairs":
        list(conn.compute.keypairs())
    elif service == "compute" and rest == "/limits":
        conn.compute.get_limits()
    elif service == "compute" and rest == "/os-hypervisors/detail":
        list(conn.compute.hypervisors(details=True, paginated=False, **params))
    elif service == "compute" and rest == "/os-services":
        list(conn.compute.services(**params))
    elif service == "image" and rest == "/images":
        list(conn.image.images(paginated=False, **params))
    else:
        getattr(conn, service).request(url, method).json()


def replay_once(conn: openstack.connection.Connection, calls: list[str]) -> float:
    """Time of making exactly these cloud calls directly with openstacksdk, once."""
    start = time.perf_counter()
    for call in calls:
        sdk_call(conn, call)
    return time.perf_counter() - start


def plain_once(plain: requests.Session, calls: list[str]) -> float:
    """The same calls as plain HTTP requests (the token in a header, the JSON parsed; no openstacksdk)."""
    start = time.perf_counter()
    for call in calls:
        method, _, url = call.partition(" ")
        plain.request(method, url, timeout=30).json()
    return time.perf_counter() - start


def devcloud_calls(stack: Stack, client: requests.Session, url: str) -> list[str]:
    """One render's cloud calls, as devcloud received them, with absolute URLs."""
    stack.control("requests/reset")
    client.get(url)
    return [f"{c.partition(' ')[0]} {stack.cloud.base_url}{c.partition(' ')[2]}" for c in recorded_calls(stack)]


def measure(
    stack: Stack,
    client: requests.Session,
    path: str,
    conn,
    rounds: int,
    *,
    plain=None,
    static_url: str = "",
    record=devcloud_calls,
    headers: dict | None = None,
) -> dict:
    """Page and floor rounds alternate, so that a slow spell of the machine weighs on both alike.

    With `plain` (a requests.Session carrying the token) and `static_url`, each round also times the same calls as
    plain HTTP and one static file from the web server: their sum is the least any server-rendered page making
    these calls could take (one round trip to the web server plus the calls themselves, no Python at all)."""
    url = stack.web_url + path
    if headers:  # an htmx request (what a page loads after its first paint)
        client = _with_headers(client, headers)
    for _ in range(3):
        response = client.get(url)
    calls = record(stack, client, url)
    if calls:
        replay_once(conn, calls)  # warm-up
    times, floors, plains, statics = [], [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        r = client.get(url)
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, f"{path}: {r.status_code}"
        if calls:
            floors.append(replay_once(conn, calls))
            if plain is not None:
                plains.append(plain_once(plain, calls))
        if static_url:
            start = time.perf_counter()
            client.get(stack.web_url + static_url).raise_for_status()
            statics.append(time.perf_counter() - start)
    floor = statistics.median(floors) if floors else 0.0
    median = statistics.median(times)
    out = {
        "path": path,
        "status": response.status_code,
        "median_ms": round(median * 1000, 1),
        "p95_ms": round(pct(times, 0.95) * 1000, 1),
        "cloud_calls": len(calls),
        "calls": calls,
        "html_bytes": len(response.content),
        "floor_ms": round(floor * 1000, 1),
        "ratio": round(median / floor, 2) if calls and floor else None,
    }
    if plains and statics:
        least = statistics.median(plains) + statistics.median(statics)
        out |= {
            "plain_http_ms": round(statistics.median(plains) * 1000, 1),
            "static_file_ms": round(statistics.median(statics) * 1000, 1),
            "least_ms": round(least * 1000, 1),
            "least_ratio": round(least / floor, 2) if floor else None,
        }
    return out


def _with_headers(client: requests.Session, headers: dict) -> requests.Session:
    other = requests.Session()
    other.cookies, other.headers = client.cookies, {**client.headers, **headers}
    return other


def sweep(stack: Stack, clients: dict, conns: dict, rounds: int, sizes: list[int], have: int) -> dict:
    """Every page (and what pages load after their first paint) at each size, devcloud's latency model on."""
    out: dict = {}
    stack.control("latency", LATENCY)
    try:
        for size in sizes:
            have = seed(stack, size, have) if size else have
            if size and have > size:
                continue  # cannot shrink: the sizes go up
            server_id = _a_server(stack, clients["member"])
            row = {}
            for name, path, who in PAGES + DEFERRED:
                if "{server_id}" in path and not server_id:
                    row[name] = {"path": path, "error": "no server"}
                    continue
                headers = {"HX-Request": "true"} if (name, path, who) in DEFERRED else None
                try:
                    row[name] = measure(
                        stack, clients[who], path.format(server_id=server_id), conns[who], rounds, headers=headers
                    )
                except Exception as exc:  # reported, not fatal
                    row[name] = {"path": path, "error": str(exc)[:200]}
            out[size] = row
    finally:
        stack.control("latency", {"seconds": 0})
    return out


def _a_server(stack: Stack, client: requests.Session) -> str:
    token = stack.token("member")
    servers = requests.get(
        stack.cloud.base_url + "/compute/v2.1/servers?limit=1", headers={"X-Auth-Token": token}, timeout=30
    ).json()["servers"]
    return servers[0]["id"] if servers else ""


def seed(stack: Stack, total: int, have: int) -> int:
    if total > have:
        stack.control(
            "seed-servers",
            {
                "project_name": "demo",
                "count": total - have,
                "flavor": "m1.tiny",
                "image": "cirros-0.6.3-x86_64-disk",
                "name_prefix": "bench",
            },
        )
    return max(total, have)


def first_load(stack: Stack) -> dict:
    from playwright.sync_api import sync_playwright

    creds = stack.cloud.member
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        context = browser.new_context()
        page = context.new_page()
        page.goto(stack.web_url + "/auth/login/")
        page.get_by_label("User name", exact=True).fill(creds.username)
        page.get_by_label("Password", exact=True).fill(creds.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/overview/**")
        # keep the session; drop the HTTP cache so the load is a first load
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        requests_seen: list[str] = []
        page.on("request", lambda req: requests_seen.append(req.url))
        page.goto(stack.web_url + "/instances/", wait_until="load")
        timing = page.evaluate(
            """() => { const n = performance.getEntriesByType('navigation')[0];
                 const r = performance.getEntriesByType('resource');
                 return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                         bytes: n.transferSize + r.reduce((a, e) => a + e.transferSize, 0)}; }"""
        )
        browser.close()
    own = [u for u in requests_seen if urlsplit(u).netloc == urlsplit(stack.web_url).netloc]
    return {
        "requests": len(own),
        "transferred_kb": round(timing["bytes"] / 1024, 1),
        "dom_content_loaded_ms": round(timing["dcl"], 1),
        "load_ms": round(timing["load"], 1),
        "urls": own,
    }


def run(rounds: int, sizes: list[int], sweep_rounds: int) -> dict:
    stack = Stack.start(web_workers=1)
    try:
        member, admin = stack.session("member"), stack.session("admin")
        tokens = {"member": stack.token("member"), "admin": stack.token("admin")}
        conns = {"member": sdk_connection(stack, "member"), "admin": sdk_connection(stack, "admin")}
        clients = {"member": member, "admin": admin}
        plains = {}
        for who, token in tokens.items():
            plains[who] = requests.Session()
            plains[who].headers["X-Auth-Token"] = token
        # The sweep first: it starts from an empty project.
        scaling = sweep(stack, clients, conns, sweep_rounds, sizes, 0) if sizes else {}
        # Then every page at 50 servers (or what the sweep left), no added latency: the dashboard's own cost.
        have = seed(stack, 50, max(sizes, default=0))
        server_id = _a_server(stack, member)
        # the smallest static file the pages link (the icon): the bare HTTP round trip to the web server
        static_url = re.search(r'href="(/static/[^"]+\.svg)"', member.get(stack.web_url + "/keypairs/").text).group(1)
        pages = {}
        for name, path, who in PAGES:
            client = clients[who]
            try:
                pages[name] = measure(
                    stack,
                    client,
                    path.format(server_id=server_id),
                    conns[who],
                    rounds,
                    plain=plains[who],
                    static_url=static_url,
                )
            except Exception as exc:  # a page that does not exist yet is reported, not fatal
                pages[name] = {"path": path, "error": str(exc)[:200]}
        try:
            browser = first_load(stack)
        except Exception as exc:
            browser = {"error": str(exc)[:300]}
        rss = {"web_kb": max(rss_peak_kb(pid) for pid in stack.web_pids())}
        return {
            "servers_for_pages": have,
            "pages": pages,
            "sweep": scaling,
            "latency_model": LATENCY,
            "first_load": browser,
            "rss": rss,
        }
    finally:
        stack.stop()


def page_table(pages: dict, extra: list[tuple[str, Callable[[dict], object]]]) -> list[str]:
    """Pages' timings as a markdown table, with `extra` columns (title, value from a page's result)."""
    titles = ["page", "median ms", "p95 ms", "cloud calls", "floor ms", "page / floor", *(t for t, _ in extra)]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for name, r in pages.items():
        if "error" in r:
            cells = [name, *["–"] * (len(titles) - 2), r["error"][:60]]
        else:
            cells = [name, r["median_ms"], r["p95_ms"], r["cloud_calls"], r["floor_ms"], r["ratio"]]
            cells += [value(r) for _, value in extra]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def _short(url: str) -> str:
    """A devcloud URL without its scheme and host: the service's path and query."""
    return "/" + url.split("://", 1)[-1].partition("/")[2]


def table(result: dict) -> str:
    lines = page_table(result["pages"], [("HTML KB", lambda r: round(r["html_bytes"] / 1024, 1))])
    lines += [
        "",
        "The least a page making these calls could take: the smallest static file from the web server (one HTTP",
        "round trip) plus the same calls as plain HTTP requests (no openstacksdk), in the same rounds:",
        "",
        "| page | static file ms | plain calls ms | least ms | least / floor | page / floor |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["pages"].items():
        if "least_ms" in r:
            lines.append(
                f"| {name} | {r['static_file_ms']} | {r['plain_http_ms']} | {r['least_ms']} | {r['least_ratio']} | "
                f"{r['ratio']} |"
            )
    for name in ("launch form", "instance detail"):  # the pages whose calls grow with the services (Neutron, Cinder)
        r = result["pages"].get(name, {})
        if r.get("calls"):
            lines += ["", f"The {name}'s cloud calls (one render, in order of arrival at devcloud):", ""]
            lines += [f"- `{c.partition(' ')[0]} {_short(c.partition(' ')[2])}`" for c in r["calls"]]
    if result.get("sweep"):
        sizes = list(result["sweep"])
        lines += [
            "",
            f"Every page as the project grows, devcloud's latency model on ({result['latency_model']}): median ms "
            "(cloud calls) and page / floor:",
            "",
            "| page | " + " | ".join(f"{n} servers" for n in sizes) + " | largest / smallest |",
            "|---|" + "---|" * (len(sizes) + 1),
        ]
        names = list(next(iter(result["sweep"].values())))
        for name in names:
            cells, medians = [], []
            for size in sizes:
                r = result["sweep"][size].get(name, {})
                if "error" in r or not r:
                    cells.append("–")
                    continue
                medians.append(r["median_ms"])
                cells.append(f"{r['median_ms']} ({r['cloud_calls']}) / {r['ratio']}")
            growth = round(medians[-1] / medians[0], 2) if len(medians) > 1 and medians[0] else "–"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth} |")
    fl = result["first_load"]
    if "error" not in fl:
        lines += [
            "",
            f"First load of /instances/ in Chromium: {fl['requests']} requests, {fl['transferred_kb']} KB "
            f"transferred, DOMContentLoaded {fl['dom_content_loaded_ms']} ms, load {fl['load_ms']} ms.",
        ]
    lines.append(f"Peak RSS of the web process: {round(result['rss']['web_kb'] / 1024, 1)} MB.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="0,200,1000,5000", help="project sizes of the sweep ('' for none)")
    parser.add_argument("--sweep-rounds", type=int, default=10)
    args = parser.parse_args()
    result = run(args.rounds, [int(s) for s in args.sizes.split(",") if s], args.sweep_rounds)
    print(table(result))
    print("JSON:", dump("pages", result))


if __name__ == "__main__":
    main()
