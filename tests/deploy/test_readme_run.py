"""The README's "Pointing it at a real cloud" block, run as written in a fresh copy of the repository with a devcloud
standing in for the cloud: Stratus starts, a person signs in over HTTP, Ctrl-C stops every process it started, and
nothing was written into the checkout.

What the test changes is only the environment: the cloud's URL, its clouds.yaml and service cloud (devcloud's), free
ports (`WEB_PORT`, `STRATUS_CONSOLE_PROXY_PORT`, which the block does not set), a temporary `HOME` (so the block's
state folder, `$HOME/.local/state/stratus`, is the test's). The copy's `.venv` is this suite's venv (a fresh clone
would install its own: `make run` does on first use), already up to date with the lock.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.cloudharness import ROOT, free_port, start_devcloud
from tests.cloudharness import TestCloud as Cloud
from tests.deploy.procs import Person, none_left, processes_naming

pytestmark = pytest.mark.xdist_group("deploy-readme")


def readme_block() -> str:
    section = (ROOT / "README.md").read_text().split("\n## Pointing it at a real cloud\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    match = re.search(r"^```sh\n(.*?)^```$", section, re.S | re.M)
    assert match, "no ```sh block under README's 'Pointing it at a real cloud'"
    return match.group(1)


def with_values(block: str, values: dict[str, str]) -> str:
    """The block with the value assigned to each named variable replaced; each must be assigned exactly once."""
    for name, value in values.items():
        block, count = re.subn(rf"(?<![\w$]){name}=\S+", lambda m, n=name, v=value: f"{n}={shlex.quote(v)}", block)
        assert count == 1, f"the README block assigns {name} {count} times (expected once)"
    return block


def fresh_copy(target: Path) -> None:
    """The repository's files as a clone has them (tracked and new, not ignored), with this suite's venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    venv = (ROOT / ".venv").resolve()
    (target / ".venv").symlink_to(venv)
    # Installed from this lock: the stamp `make setup` leaves is newer than the lock files (as after `make setup`).
    stamp = venv / ".installed"
    assert stamp.exists(), "the suite's venv was not installed by `make setup` (no .venv/.installed)"
    older = stamp.stat().st_mtime - 60
    for lock in ("requirements.txt", "requirements-dev.txt"):
        os.utime(target / lock, (older, older))
    up_to_date = subprocess.run(["make", "-q", ".venv/.installed"], cwd=target, capture_output=True)
    assert up_to_date.returncode == 0, "make would reinstall the venv: refusing to touch the suite's venv"


def snapshot(tree: Path) -> dict[str, float]:
    """Every file and folder under `tree` (not into the venv) with its modification time."""
    seen: dict[str, float] = {}
    for folder, dirs, files in os.walk(tree):
        for name in dirs + files:
            path = Path(folder) / name
            seen[str(path.relative_to(tree))] = path.lstat().st_mtime
    return seen


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def stand_in_cloud(tmp_path: Path) -> Iterator[Cloud]:
    (tmp_path / "devcloud").mkdir()
    cloud = start_devcloud(tmp_path / "devcloud" / "state")
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.mark.timeout(600)  # a fresh state: migrate and collectstatic before the processes start, on a busy machine
def test_readme_real_cloud_block_runs_as_written(tmp_path: Path, stand_in_cloud: Cloud) -> None:
    checkout, home = tmp_path / "stratus", tmp_path / "home"
    checkout.mkdir()
    home.mkdir()
    fresh_copy(checkout)
    block = with_values(
        readme_block(),
        {
            "OS_AUTH_URL": stand_in_cloud.auth_url,
            "OS_CLIENT_CONFIG_FILE": str(stand_in_cloud.clouds_yaml),
            "STRATUS_SERVICE_CLOUD": "devcloud-service",
        },
    )
    web_port, console_port = free_port(), free_port()
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if "/.venv/" not in p + "/")
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "WEB_PORT": str(web_port),
        "STRATUS_CONSOLE_PROXY_PORT": str(console_port),
        "STRATUS_METRICS_TOKEN": "readme-metrics",  # to read /metrics below
    }
    script = tmp_path / "readme.sh"
    script.write_text(block)
    before = snapshot(checkout)
    log_path = tmp_path / "readme-run.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in finally
    shell = subprocess.Popen(
        ["bash", "-e", str(script)],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal's foreground job: Ctrl-C reaches bash, make and the supervisor
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert shell.poll() is None, f"the block ended ({shell.returncode}):\n{log_path.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"Stratus did not answer in 240 s:\n{log_path.read_text()[-4000:]}"
            try:
                if requests.get(base + "/auth/login/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)

        person = Person(base)
        person.sign_in(stand_in_cloud.member.username, stand_in_cloud.member.password)
        overview = person.get("/")
        assert overview.status_code == 200 and overview.url.endswith("/overview/"), overview.url
        assert stand_in_cloud.member.username in overview.text
        # Production static files: hashed names, collected into the state folder, served by whitenoise.
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', overview.text)
        assert stylesheet, "no hashed stylesheet link in the page"
        # What a load balancer asks: up, and ready (database, Redis and the cloud's Keystone answer).
        assert requests.get(base + "/healthz", timeout=30).json() == {"status": "ok"}
        ready = requests.get(base + "/readyz", timeout=30)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        # /metrics adds up both gunicorn workers' series (make run's PROMETHEUS_MULTIPROC_DIR, in the state folder).
        scraped = requests.get(base + "/metrics", headers={"Authorization": "Bearer readme-metrics"}, timeout=30)
        assert scraped.status_code == 200, scraped.text[:500]
        samples = [s for f in text_string_to_metric_families(scraped.text) for s in f.samples]
        assert any(
            s.name == "stratus_http_request_duration_seconds_count" and s.labels["view"] == "overview:index"
            for s in samples
        ), scraped.text[:3000]
        assert any(
            s.name == "stratus_cloud_request_duration_seconds_count" and s.labels["service"] == "identity"
            for s in samples
        ), scraped.text[:3000]
        css = person.get(stylesheet.group(1))
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css") and css.content
        state = home / ".local" / "state" / "stratus"
        assert (state / "static" / "staticfiles.json").exists()
        for key in ("secret_key", "fernet_key"):
            assert (state / key).stat().st_size > 0
        # The other processes: the console proxy listens, the worker (with beat) is ready, the embedded Redis runs.
        assert listening(console_port), log_path.read_text()[-4000:]
        deadline = time.monotonic() + 60
        while "celery@" not in log_path.read_text() or " ready." not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.5)
        assert any("valkey-server" in p for p in processes_naming(home)), "\n".join(processes_naming(home))
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGINT)  # Ctrl-C
        try:
            shell.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
        left = none_left(home)  # waits for them to end; kills what does not, even when the test fails
        log.close()

    output = log_path.read_text()
    assert not left, f"processes left behind after Ctrl-C: {left}\n{output[-3000:]}"
    assert not listening(web_port) and not listening(console_port)
    assert not (home / ".gunicorn").exists(), "gunicorn made its control socket in the home folder"
    after = snapshot(checkout)
    assert sorted(set(after) - set(before)) == [], "written into the checkout"
    assert sorted(k for k in before if after.get(k) != before[k]) == [], "changed in the checkout"
