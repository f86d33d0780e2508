"""Real processes for deployment tests: gunicorn web processes and Celery workers started as the Procfile starts
them, with a deployment's environment, and a person's browser session over HTTP (cookies, CSRF token).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.cloudharness import ROOT, TestCloud, free_port, worker_argv


def deployment_env(cloud: TestCloud, state: Path, **extra: str) -> dict[str, str]:
    """What a deployment sets (docs/configuration.md), for processes on loopback without TLS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATUS_", "DJANGO_", "PYTEST_"))}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": extra.pop("SECRET_KEY", "test-" + secrets.token_urlsafe(40)),
            # Production refuses to start without it (dashboard/settings.py); the tests that start a worker pass
            # theirs, shared with the web process.
            "STRATUS_FERNET_KEY": extra.pop("STRATUS_FERNET_KEY", Fernet.generate_key().decode()),
            "STRATUS_TLS": "false",
            "STRATUS_MANIFEST_STATIC": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STRATUS_STATE_DIR": str(state),
            "OS_AUTH_URL": cloud.auth_url,
            "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml),
            "STRATUS_LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    # The state folder as `make run` prepares it (dashboard/devstate.py) before any process starts; without a Redis
    # of its own, the embedded one of that folder, started tied to this test process.
    from dashboard import devstate, embedded_redis

    state.mkdir(parents=True, exist_ok=True)
    devstate.prepare(env)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = embedded_redis.ensure(state / "redis", tied=True)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path, ready: str) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        # Appended to: a process started again under the same name (a restart) keeps one log.
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log_file = open(self.log_path, "a")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while ready not in self.log()[start:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{name} not ready in 60 s: {self.log()[-3000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log_file.close()


def start_web(env: dict[str, str], log_dir: Path, name: str = "web") -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        name,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "dashboard.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "60",
        ],
        env,
        log_dir,
        ready="Booting worker",
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(base + "/auth/login/", timeout=30)
            break
        except (requests.ConnectionError, requests.Timeout):
            assert time.monotonic() < deadline, proc.log()[-3000:]
            time.sleep(0.2)
    return proc, base


def start_worker(env: dict[str, str], log_dir: Path, name: str, queue: str) -> Proc:
    return Proc(
        name,
        worker_argv(name=name, queue=queue),
        env,
        log_dir,
        ready="ready.",
    )


class Person:
    """A browser session over plain HTTP: cookies, the CSRF token from the cookie, redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        token = self.http.cookies.get("csrftoken") or ""
        headers = {"X-CSRFToken": token, "Referer": self.base + path, **kwargs.pop("headers", {})}
        return self.http.post(self.base + path, data=data or {}, headers=headers, timeout=60, **kwargs)

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/auth/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        response = self.post(
            "/auth/login/",
            {
                "csrfmiddlewaretoken": match.group(1),
                "method": "password",
                "username": username,
                "password": password,
                "domain": "Default",
            },
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:2000]


def processes_naming(marker: Path) -> list[str]:
    """Processes (pid: command line) whose environment, command line or working folder names `marker`."""
    needle, found = str(marker).encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # already dead, waiting for its parent to read its status
            cwd = os.readlink(entry / "cwd").encode()
            if needle in command or needle in cwd or needle in (entry / "environ").read_bytes():
                found.append(entry.name + ": " + command.replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def none_left(marker: Path, within: float = 20) -> list[str]:
    """Waits up to `within` s for the processes naming `marker` to end; kills and returns those that did not."""
    deadline = time.monotonic() + within
    while processes_naming(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = processes_naming(marker)
    for line in left:  # leave nothing behind even when the test fails
        try:
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left
