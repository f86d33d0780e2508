"""The pages against a real cloud: `python -m bench.realcloud [--clouds ADMIN,MEMBER] [--rounds N]`.

Not part of `make bench` (it needs a cloud; the default is ../shared/realcloud's realcloud-admin,realcloud-demo,
found through OS_CLIENT_CONFIG_FILE). gunicorn serves Stratus pointed at that cloud, its admin cloud as service
cloud; each page is timed as in bench.pages, alternating with its floor (the same calls through openstacksdk)
and the same calls as plain HTTP. A real cloud cannot count the calls it receives, so the web process reports
each render's calls itself (bench.counting). The member's project needs one server for the detail page: one is
booted if there is none, and deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import openstack
import requests

from bench.pages import PAGES, measure, page_table, sdk_connection
from bench.stack import Stack, dump, rss_peak_kb
from tests.cloudharness import real_cloud


def header_calls(stack: Stack, client: requests.Session, url: str) -> list[str]:
    return json.loads(client.get(url).headers.get("X-Bench-Cloud-Calls", "[]"))


def a_server(cloud) -> tuple[str, bool]:
    """(id of a server in the member's project, whether this benchmark booted it)."""
    conn = openstack.connect(cloud=cloud.member.name)
    try:
        existing = next(iter(conn.compute.servers(limit=1)), None)
        if existing is not None:
            return existing.id, False
        image = conn.image.find_image(cloud.image_name, ignore_missing=False)
        flavor = conn.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
        server = conn.compute.create_server(
            name="stratus-bench", image_id=image.id, flavor_id=flavor.id, networks="none"
        )
        conn.compute.wait_for_server(server, wait=300)
        return server.id, True
    finally:
        conn.close()


def run(spec: str, rounds: int) -> dict:
    cloud = real_cloud(spec)
    server_id, booted = a_server(cloud)
    stack = Stack.start(web_workers=1, cloud=cloud, app="bench.counting:application")
    try:
        clients = {"member": stack.session("member"), "admin": stack.session("admin")}
        conns = {who: sdk_connection(stack, who) for who in clients}
        plains = {}
        for who, conn in conns.items():
            plains[who] = requests.Session()
            plains[who].headers["X-Auth-Token"] = conn.auth_token
        page = clients["member"].get(stack.web_url + "/keypairs/").text
        static_url = re.search(r'href="(/static/[^"]+\.svg)"', page).group(1)
        pages = {}
        for name, path, who in PAGES:
            try:
                pages[name] = measure(
                    stack,
                    clients[who],
                    path.format(server_id=server_id),
                    conns[who],
                    rounds,
                    plain=plains[who],
                    static_url=static_url,
                    record=header_calls,
                )
            except Exception as exc:  # reported, not fatal
                pages[name] = {"path": path, "error": str(exc)[:200]}
        rss = {"web_kb": max(rss_peak_kb(pid) for pid in stack.web_pids())}
        return {"cloud": spec, "pages": pages, "rss": rss}
    finally:
        stack.stop()
        if booted:
            conn = openstack.connect(cloud=cloud.member.name)
            conn.compute.delete_server(server_id)
            conn.close()


def table(result: dict) -> str:
    lines = [f"Cloud: {result['cloud']}", ""]
    lines += page_table(
        result["pages"],
        [("least ms", lambda r: r.get("least_ms", "–")), ("least / floor", lambda r: r.get("least_ratio", "–"))],
    )
    lines.append(f"Peak RSS of the web process: {round(result['rss']['web_kb'] / 1024, 1)} MB.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clouds", default="realcloud-admin,realcloud-demo", help="ADMIN,MEMBER clouds.yaml names")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(Path.home() / ".realcloud" / "clouds.yaml"))
    result = run(args.clouds, args.rounds)
    print(table(result))
    print("JSON:", dump("realcloud", result))


if __name__ == "__main__":
    main()
