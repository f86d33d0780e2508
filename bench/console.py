"""Console benchmark (numbers only, never fails a build): `python -m bench.console [--loads N] [--round-trips N]`.

1. Time from opening the console page to the first frame: Chromium opens /console/<id>/ and we wait (on every
   animation frame) until noVNC's canvas holds a drawn console; the figure is `performance.now()` at that
   moment, i.e. milliseconds since the navigation started. Also the number of requests the page makes.
2. The proxy's added latency: the median RFB round trip (a FramebufferUpdateRequest for an 8x8 region and its
   answer) through Stratus' console proxy versus straight to the VNC server, and the same for a full frame.

The stack is real: devcloud (its RFB servers), gunicorn, Redis, and `manage.py consoleproxy` in its own process.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, dump  # noqa: E402
from tests.cloudharness import free_port  # noqa: E402
from tests.consoles.wsclient import WebSocketClient, rfb_handshake  # noqa: E402

FIRST_FRAME = """() => {
  const c = document.querySelector('#console-screen canvas');
  if (!c || !c.width) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  for (let i = 0; i < d.length; i += 16) if (d[i] + d[i + 1] + d[i + 2] > 300) lit++;
  return lit > 100 ? performance.now() : false;
}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class RawRFB:
    """The same RFB conversation as through the proxy, on a plain TCP socket to the VNC server."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def recv_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


def read_update(conn, bpp: int = 4) -> None:  # RawRFB or WebSocketClient
    _, _, count = struct.unpack("!BBH", conn.recv_exactly(4))
    for _ in range(count):
        _, _, w, h, encoding = struct.unpack("!HHHHi", conn.recv_exactly(12))
        assert encoding == 0, encoding  # raw
        conn.recv_exactly(w * h * bpp)


def round_trips(conn, *, n: int, width: int, height: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        conn.send(struct.pack("!BBHHHH", 3, 0, 0, 0, width, height))  # non-incremental update request
        read_update(conn)
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure_latency(stack: Stack, server_id: str, *, n: int) -> dict:
    import openstack

    service = openstack.connect(cloud="devcloud-service")
    member = openstack.connect(cloud="devcloud-demo")
    remote = member.compute.create_console(server_id, console_type="novnc", console_protocol="vnc")
    from apps.consoles.services import nova_console_token

    info = service.compute.validate_console_auth_token(nova_console_token(remote["url"]))
    session = stack.session("member")

    def through_proxy() -> WebSocketClient:
        response = session.post(f"{stack.web_url}/console/{server_id}/token/")
        response.raise_for_status()
        cookie = f"stratus_session={session.cookies.get('stratus_session')}"
        return WebSocketClient(response.json()["url"], origin=stack.web_url, cookie=cookie)

    results: dict = {}
    for label, opener in (("direct", lambda: RawRFB(info.host, int(info.port))), ("proxy", through_proxy)):
        conn = opener()
        try:
            width, height, _ = rfb_handshake(conn)
            round_trips(conn, n=10, width=8, height=8)  # warm up
            small = round_trips(conn, n=n, width=8, height=8)
            full = round_trips(conn, n=max(10, n // 10), width=width, height=height)
        finally:
            conn.close()
        results[label] = {
            "rtt_8x8_median_ms": round(statistics.median(small), 3),
            "rtt_8x8_p95_ms": round(percentile(small, 95), 3),
            "full_frame_median_ms": round(statistics.median(full), 3),
            "full_frame_bytes": width * height * 4,
        }
    results["proxy_added_ms_median_8x8"] = round(
        results["proxy"]["rtt_8x8_median_ms"] - results["direct"]["rtt_8x8_median_ms"], 3
    )
    results["proxy_added_ms_median_full_frame"] = round(
        results["proxy"]["full_frame_median_ms"] - results["direct"]["full_frame_median_ms"], 3
    )
    return results


def measure_first_frame(stack: Stack, server_id: str, *, loads: int) -> dict:
    from playwright.sync_api import sync_playwright

    creds = stack.cloud.member
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(20000)
        page.goto(stack.web_url + "/auth/login/")
        page.get_by_label("User name", exact=True).fill(creds.username)
        page.get_by_label("Password", exact=True).fill(creds.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/overview/**")
        requests_seen: list[str] = []
        page.on("request", lambda r: requests_seen.append(r.url))
        times, counts, novnc = [], [], []
        for _ in range(loads):
            requests_seen.clear()
            page.goto(f"{stack.web_url}/console/{server_id}/", wait_until="commit")
            handle = page.wait_for_function(FIRST_FRAME, polling="raf")
            times.append(float(handle.json_value()))
            counts.append(len(requests_seen))
            novnc.append(sum("/vendor/novnc/" in url for url in requests_seen))
        browser.close()
    return {
        "loads": loads,
        "first_frame_cold_ms": round(times[0], 1),
        "first_frame_median_ms": round(statistics.median(times), 1),
        "first_frame_p95_ms": round(percentile(times, 95), 1),
        "requests": counts[0],
        "requests_novnc_modules": novnc[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=10, help="console page loads to time")
    parser.add_argument("--round-trips", type=int, default=300, help="RFB round trips per path")
    args, _ = parser.parse_known_args()

    proxy_port = free_port()
    os.environ["STRATUS_CONSOLE_PROXY_PORT"] = str(proxy_port)
    stack = Stack.start()
    proxy = None
    try:
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(stack.cloud.clouds_yaml)
        for key in ("STRATUS_STATE_DIR", "STRATUS_DEV_KEYS", "REDIS_URL", "OS_AUTH_URL", "STRATUS_SERVICE_CLOUD"):
            os.environ[key] = stack.env[key]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
        import django

        django.setup()
        proxy = subprocess.Popen(
            [sys.executable, "manage.py", "consoleproxy", "--port", str(proxy_port)],
            cwd=ROOT,
            env=stack.env,
            stdout=open(stack.tmp / "consoleproxy.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", proxy_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proxy.poll() is not None:
                    raise RuntimeError((stack.tmp / "consoleproxy.log").read_text()) from None
                time.sleep(0.1)

        import openstack

        conn = openstack.connect(cloud="devcloud-demo")
        image = next(i for i in conn.image.images() if "cirros" in (i.name or ""))
        server = conn.compute.create_server(name="bench-console", image_id=image.id, flavor_id="1", networks="none")
        conn.compute.wait_for_server(server, interval=0.2, wait=60)

        first = measure_first_frame(stack, server.id, loads=args.loads)
        latency = measure_latency(stack, server.id, n=args.round_trips)
    finally:
        if proxy is not None and proxy.poll() is None:
            proxy.terminate()
            proxy.wait(10)
        stack.stop()

    data = {"first_frame": first, "latency": latency}
    out = dump("console", data)
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| console page → first frame, first load (cold cache) | {first['first_frame_cold_ms']} ms |")
    print(f"| console page → first frame, median of {first['loads']} | {first['first_frame_median_ms']} ms |")
    print(f"| console page → first frame, p95 | {first['first_frame_p95_ms']} ms |")
    print(
        f"| requests per console page load | {first['requests']}"
        f" ({first['requests_novnc_modules']} noVNC ES modules, browser-cached) |"
    )
    for label in ("direct", "proxy"):
        r = latency[label]
        print(f"| RFB round trip 8x8, {label}: median / p95 | {r['rtt_8x8_median_ms']} / {r['rtt_8x8_p95_ms']} ms |")
        print(f"| full frame ({r['full_frame_bytes'] // 1024} KiB), {label}: median | {r['full_frame_median_ms']} ms |")
    print(f"| proxy's added latency (median, 8x8 round trip) | {latency['proxy_added_ms_median_8x8']} ms |")
    print(f"| proxy's added time (median, full frame) | {latency['proxy_added_ms_median_full_frame']} ms |")
    print(f"\n(JSON: {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
