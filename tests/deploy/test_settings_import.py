"""The settings only read, and nothing of Stratus outlives the command that started it.

Importing `dashboard.settings` creates no file and starts no process, whatever the environment (empty: production
refuses without its keys; a demo's: it reads the state folder dashboard/devstate.py prepared, and says how to
prepare one that is missing). After `make setup`, `make test` and a `make demo` stopped with Ctrl-C, no process of
theirs is left: each is run in a copy of the checkout with a `HOME` and a `TMPDIR` of the test's own, and every
process whose environment, command line or working folder names that place counts as theirs (valkey-server writes
its title over its command line and environment; it works in its state folder).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cloudharness import ROOT, free_port
from tests.deploy.procs import none_left, processes_naming
from tests.deploy.test_readme_run import fresh_copy, snapshot

pytestmark = pytest.mark.xdist_group("deploy-processes")


def import_settings(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import dashboard.settings"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_settings_with_an_empty_environment_creates_nothing(tmp_path: Path) -> None:
    had_state = (ROOT / ".state").exists()
    before = snapshot(tmp_path)
    result = import_settings({"HOME": str(tmp_path)}, tmp_path)
    # Production (DEBUG off) without its keys: refused, with what to set.
    assert result.returncode != 0
    assert "SECRET_KEY and STRATUS_FERNET_KEY must be set" in result.stderr, result.stderr
    assert snapshot(tmp_path) == before
    assert (ROOT / ".state").exists() == had_state, "the settings made the checkout's .state"
    assert none_left(tmp_path, within=0) == []


def test_the_settings_read_a_prepared_state_folder_and_write_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"HOME": str(tmp_path), "STRATUS_STATE_DIR": str(state), "STRATUS_DEV_KEYS": "true"}
    unprepared = import_settings(env, tmp_path)
    assert unprepared.returncode != 0
    assert "prepare the state folder with python -m dashboard.devstate" in unprepared.stderr, unprepared.stderr
    assert not state.exists(), "the settings made the state folder"
    prepared = subprocess.run(
        [sys.executable, "-m", "dashboard.devstate"], cwd=ROOT, env={**env, "PATH": "/usr/bin:/bin"}, check=False
    )
    assert prepared.returncode == 0
    assert {p.name for p in state.iterdir()} >= {"secret_key", "fernet_key", "redis"}
    before = snapshot(tmp_path)
    result = import_settings(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path) == before, "importing the settings wrote into the state folder"
    assert none_left(tmp_path, within=0) == [], "importing the settings started a process"


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _own_env(tmp_path: Path) -> dict[str, str]:
    """The suite's environment without its own state and without the services it may run on (the command makes its
    own, as on a fresh machine: CI's PostgreSQL and RabbitMQ runs set DATABASE_URL and CELERY_BROKER_URL), with a
    HOME and TMPDIR to find its processes by."""
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    dropped = {
        "STRATUS_STATE_DIR",
        "STRATUS_TEST_STATE_PID",
        "STRATUS_CELERY_QUEUE",
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "STRATUS_TEST_CLOUD",  # a `make test-cloud` run's: the small suite runs against its own devcloud
        "STRATUS_TEST_SERVICE_CLOUD",
        "OS_CLIENT_CONFIG_FILE",
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST_")}
    return {**env, "HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp"), "LANG": "C.UTF-8"}


@pytest.mark.timeout(600)
def test_make_setup_and_make_test_leave_no_process(tmp_path: Path) -> None:
    checkout = tmp_path / "stratus"
    checkout.mkdir()
    fresh_copy(checkout)
    env = _own_env(tmp_path)
    setup = _run(["make", "setup"], checkout, env, 120)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert none_left(tmp_path) == [], "make setup left processes"
    # A small part of the suite with what every part starts: a devcloud, an embedded Redis per pytest process, a
    # Celery worker, two xdist workers.
    test = _run(
        [
            "make",
            "test",
            "PYTEST_WORKERS=2",
            "PYTEST_ARGS=tests/operations/test_resilience.py -k 'worker_is_killed or transient'",
        ],
        checkout,
        env,
        480,
    )
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert " passed" in test.stdout, test.stdout[-2000:]
    assert none_left(tmp_path) == [], "make test left processes"


@pytest.mark.timeout(600)
def test_a_stopped_make_demo_leaves_no_process(tmp_path: Path) -> None:
    checkout = tmp_path / "stratus"
    checkout.mkdir()
    fresh_copy(checkout)
    env = _own_env(tmp_path)
    web, cloud, console = free_port(), free_port(), free_port()
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log:
        demo = subprocess.Popen(
            ["make", "demo", f"WEB_PORT={web}", f"DEVCLOUD_PORT={cloud}", f"CONSOLE_PORT={console}"],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's foreground job: Ctrl-C reaches make and the supervisor
        )
        try:
            deadline = time.monotonic() + 300
            while True:
                assert demo.poll() is None, f"make demo ended ({demo.returncode}):\n{log_path.read_text()[-4000:]}"
                assert time.monotonic() < deadline, "the demo did not answer in 300 s:\n" + log_path.read_text()[-4000:]
                try:
                    if requests.get(f"http://127.0.0.1:{web}/auth/login/", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.5)
            assert any("valkey-server" in p for p in processes_naming(tmp_path)), processes_naming(tmp_path)
        finally:
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C
            try:
                demo.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
            left = none_left(tmp_path)
    assert left == [], f"processes left after Ctrl-C: {left}\n{log_path.read_text()[-3000:]}"
