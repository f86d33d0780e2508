"""`python -m dashboard.run` (`make run`, `make demo`): the Procfile's defaults, which processes it picks, and that it
stops everything when one process exits (real processes; test_readme_run.py runs the whole stack)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from dashboard import run
from tests.cloudharness import ROOT


def expanded(command: str, environ: dict[str, str]) -> list[str]:
    """A Procfile line as /bin/sh expands it (as the supervisor runs it), without running it."""
    out = subprocess.run(
        ["/bin/sh", "-c", f"printf '%s\\n' {command}"], env=environ, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def test_every_procfile_port_and_path_has_a_default():
    procfile = run.read_procfile(ROOT / "dashboard" / "Procfile")
    bare = {"PATH": "/usr/bin:/bin"}  # none of the Procfile's variables set
    web = expanded(procfile["web"], bare)
    assert web[web.index("--bind") + 1] == "127.0.0.1:8000"
    assert "--no-control-socket" in web
    devcloud = expanded(procfile["devcloud"], bare)
    assert devcloud[devcloud.index("--port") + 1] == "5000"
    assert devcloud[devcloud.index("--state-dir") + 1] == ".state/devcloud"
    worker = expanded(procfile["worker"], bare)
    assert worker[worker.index("-s") + 1] == ".state/celerybeat-schedule"
    redis = expanded(procfile["redis"], bare)
    assert redis[redis.index("--dir") + 1] == ".state/redis"
    # ...and each follows the environment when it is set.
    web = expanded(procfile["web"], {**bare, "WEB_HOST": "0.0.0.0", "WEB_PORT": "9000"})
    assert web[web.index("--bind") + 1] == "0.0.0.0:9000"
    worker = expanded(procfile["worker"], {**bare, "STRATUS_STATE_DIR": "/var/lib/stratus"})
    assert worker[worker.index("-s") + 1] == "/var/lib/stratus/celerybeat-schedule"
    assert "$" not in procfile["console"]  # the console proxy reads its port from the settings (default 6080)


def test_the_embedded_redis_runs_only_without_redis_url():
    assert run.chosen([], {}) == ["redis", "web", "worker", "console"]
    assert run.chosen([], {"REDIS_URL": "redis://redis.example.org:6379/0"}) == ["web", "worker", "console"]
    assert run.chosen(["devcloud", "web", "worker", "console"], {}) == ["devcloud", "redis", "web", "worker", "console"]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_one_process_exiting_stops_the_others(tmp_path: Path):
    pidfile = tmp_path / "sleeper.pid"
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"sleeper: echo $$ > {shlex.quote(str(pidfile))}; exec sleep 300\n"
        f"failing: while [ ! -s {shlex.quote(str(pidfile))} ]; do sleep 0.1; done; echo giving up; exit 3\n"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"}  # no embedded Redis for this one
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.run", "--procfile", str(procfile), "--no-prepare", "sleeper", "failing"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "giving up" in result.stdout
    assert "exited with code 3: stopping everything" in result.stdout
    assert not alive(int(pidfile.read_text()))
