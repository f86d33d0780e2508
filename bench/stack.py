"""Start the pieces a benchmark needs — devcloud, the web server (gunicorn), a Celery worker — on free ports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cloudharness import free_port, password_token, start_devcloud, worker_argv  # noqa: E402


def rss_peak_kb(pid: int) -> int:
    """Peak resident set size (VmHWM) of a process, in kB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [int(p) for p in out.split()]


@dataclass
class Stack:
    tmp: Path
    cloud: object = None
    web_url: str = ""
    env: dict = field(default_factory=dict)
    procs: dict = field(default_factory=dict)

    @classmethod
    def start(
        cls, *, web_workers: int = 1, worker: bool = False, cloud: object = None, app: str = "dashboard.wsgi"
    ) -> Stack:
        """On devcloud, started here; or on `cloud`, a real cloud (tests.cloudharness.real_cloud), whose admin
        cloud is then the service cloud."""
        tmp = Path(tempfile.mkdtemp(prefix="stratus-bench-"))
        stack = cls(tmp=tmp)
        stack.cloud = cloud or start_devcloud(tmp / "devcloud", transition_seconds=0.2)
        state = tmp / "stratus"
        state.mkdir()
        stack.env = {
            **os.environ,
            "STRATUS_STATE_DIR": str(state),
            "OS_AUTH_URL": stack.cloud.auth_url,
            "OS_CLIENT_CONFIG_FILE": str(stack.cloud.clouds_yaml),
            "STRATUS_SERVICE_CLOUD": "devcloud-service" if cloud is None else stack.cloud.admin.name,
            "DEBUG": "false",
            # Keys generated in the stack's state directory (one for the web process and the worker), no TLS.
            "STRATUS_DEV_KEYS": "true",
            "PYTHONUNBUFFERED": "1",
        }
        # Generated keys and one embedded Redis for the web process and the worker (stopped with the stack, and
        # with this process if it dies).
        from dashboard import devstate, embedded_redis

        devstate.prepare(stack.env)
        stack.env["REDIS_URL"] = embedded_redis.ensure(state / "redis", tied=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=stack.env, check=True)
        port = free_port()
        stack.web_url = f"http://127.0.0.1:{port}"
        stack.procs["web"] = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                app,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(web_workers),
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=stack.env,
            stdout=open(tmp / "web.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(stack.web_url + "/auth/login/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError((tmp / "web.log").read_text()) from None
                time.sleep(0.2)
        if worker:
            stack.start_worker()
        return stack

    def start_worker(self) -> None:
        log = self.tmp / "worker.log"
        self.procs["worker"] = subprocess.Popen(
            worker_argv(name="bench", concurrency=8),
            cwd=ROOT,
            env=self.env,
            stdout=open(log, "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while "ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)

    def session(self, who: str = "member") -> requests.Session:
        creds = self.cloud.member if who == "member" else self.cloud.admin
        s = requests.Session()
        login = s.get(self.web_url + "/auth/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        r = s.post(
            self.web_url + "/auth/login/",
            data={
                "csrfmiddlewaretoken": token,
                "method": "password",
                "username": creds.username,
                "password": creds.password,
                "domain": "Default",
            },
            headers={"Referer": self.web_url + "/auth/login/"},
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text[:500]
        s.headers["X-CSRFToken"] = s.cookies.get("csrftoken", "")
        return s

    def control(self, path: str, body: dict | None = None, method: str = "POST") -> dict:
        """devcloud's control API with one cached admin token (so that it adds no counted Keystone call)."""
        if not getattr(self, "_admin_token", None):
            self._admin_token = self.token("admin")
        data = json.dumps(body or {}).encode() if method != "GET" else None
        req = urllib.request.Request(
            f"{self.cloud.base_url}/devcloud/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"X-Auth-Token": self._admin_token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def token(self, who: str = "member") -> str:
        return password_token(self.cloud.member if who == "member" else self.cloud.admin)

    def web_pids(self) -> list[int]:
        master = self.procs["web"].pid
        return children(master) or [master]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.cloud.stop()
        from dashboard import embedded_redis

        embedded_redis.stop(Path(self.env["STRATUS_STATE_DIR"]) / "redis")


def dump(name: str, data: dict) -> Path:
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2))
    return out
