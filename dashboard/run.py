"""`python -m dashboard.run` (`make run`): every Stratus process on this machine, from the Procfile.

The same processes as the demo: web (gunicorn), worker (Celery, with beat), console (the console proxy), and the
embedded Redis when `REDIS_URL` is unset; `make demo` adds devcloud (`python -m dashboard.run devcloud web worker
console`). Before starting them it brings the database up to date (`manage.py migrate`) and collects the static files
(`manage.py collectstatic`, into `STRATUS_STATIC_ROOT`: hashed names in production).

A small supervisor rather than honcho or foreman: honcho is a development tool (requirements-dev), and running
Stratus against a cloud needs only the runtime set. It reads the Procfile (the one list of processes, which
tests/deploy/test_docs.py compares with compose.yaml and the systemd units), runs each line with /bin/sh in its own
process group with the venv's `bin` first on PATH (so `gunicorn`, `celery` and `python` are this venv's), prefixes
every output line with the process' name, and stops everything — SIGTERM, then SIGKILL after `--stop-timeout` — on
Ctrl-C, SIGTERM, or when any process exits. The Procfile gives every port a default (`${WEB_PORT:-8000}`…), so
nothing has to be set; everything is read from the environment, as each process reads it.

No Django settings here (the standard library, and dashboard/devstate.py to prepare the state folder): the
processes it starts load the settings.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from dashboard import devstate, embedded_redis

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = Path(__file__).resolve().parent / "Procfile"  # inside the package: an installed Stratus has it too
# Started first and stopped last: what the others talk to.
SERVICES = ("devcloud", "redis")
DEFAULT_PROCESSES = ("web", "worker", "console")


def read_procfile(path: Path) -> dict[str, str]:
    """`name: command` lines (comments and blank lines skipped), in file order."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, command = line.split(":", 1)
        processes[name.strip()] = command.strip()
    return processes


def chosen(names: list[str], environ: dict[str, str]) -> list[str]:
    """The processes to run: those named (default web, worker, console), the embedded Redis added when `REDIS_URL`
    is unset, services (devcloud, redis) first."""
    names = list(names or DEFAULT_PROCESSES)
    if not environ.get("REDIS_URL") and "redis" not in names:
        names.append("redis")
    return [n for n in SERVICES if n in names] + [n for n in names if n not in SERVICES]


class Supervisor:
    def __init__(self, environ: dict[str, str], stop_timeout: float) -> None:
        self.environ = environ
        self.stop_timeout = stop_timeout
        self.cwd = ROOT  # the checkout; an installed package runs in its state folder (main)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.width = 8
        self.output = threading.Lock()
        self.wake = threading.Event()
        self.stopping = False

    def say(self, name: str, line: str) -> None:
        with self.output:
            sys.stdout.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {line}\n")
            sys.stdout.flush()

    def _pump(self, name: str, process: subprocess.Popen[bytes]) -> None:
        for raw in process.stdout or ():  # always a pipe (start)
            self.say(name, raw.decode(errors="replace").rstrip("\n"))
        process.wait()
        self.wake.set()

    def start(self, name: str, command: str) -> None:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=self.cwd,
            env=self.environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole (sh, and what it started)
        )
        self.children[name] = process
        self.say(name, f"started (pid {process.pid}): {command}")
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()

    def step(self, name: str, args: list[str]) -> bool:
        """Run one preparation command to its end, its output shown under `name`; True when it succeeded."""
        self.start(name, shlex.join(args))
        process = self.children[name]
        while process.poll() is None and not self.stopping:
            self.wake.wait(0.5)
            self.wake.clear()
        if process.poll() is None:  # stopped meanwhile
            self._stop([name])
            return False
        del self.children[name]
        if process.returncode != 0:
            self.say(name, f"failed with exit code {process.returncode}")
            return False
        return True

    def exited(self) -> tuple[str, int] | None:
        for name, process in self.children.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def _stop(self, names: list[str]) -> None:
        running = [n for n in names if n in self.children and self.children[n].poll() is None]
        for name in running:
            try:
                os.killpg(self.children[name].pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_timeout
        for name in running:
            process = self.children[name]
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(name, f"still running after {self.stop_timeout:g} s: killed")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        for name in running:
            try:  # what the process group left behind (a process that outlived its shell)
                os.killpg(self.children[name].pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        """The application processes first (a worker finishing a task still reaches Redis), the services last."""
        if any(p.poll() is None for p in self.children.values()):
            self.say("run", "stopping every process")
        self._stop([n for n in self.children if n not in SERVICES])
        self._stop([n for n in self.children if n in SERVICES])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.run",
        description="Run Stratus' processes from the Procfile until Ctrl-C (see README: Pointing it at a real cloud).",
    )
    parser.add_argument("names", nargs="*", help="Procfile processes (default: web worker console, + redis)")
    parser.add_argument("--procfile", type=Path, default=PROCFILE)
    parser.add_argument("--no-prepare", action="store_true", help="skip migrate and collectstatic")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    args = parser.parse_args(argv)

    procfile = read_procfile(args.procfile)
    environ = dict(os.environ)
    names = chosen(args.names, environ)
    unknown = [n for n in names if n not in procfile]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)}")
    # This venv's programs (gunicorn, celery, python) first, as `make` puts them; each line's output at once.
    environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environ.get("PATH", "")
    environ.setdefault("PYTHONUNBUFFERED", "1")
    # The state folder, generated keys (STRATUS_DEV_KEYS) and the embedded Redis' password, written before any
    # process reads the settings (which only read).
    state = devstate.prepare(environ)
    environ["STRATUS_STATE_DIR"] = str(state)
    if not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics adds up the series of every process here (gunicorn's workers, the Celery worker): their files,
        # in a folder emptied at each start (dashboard/metrics.py).
        metrics_dir = state / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    supervisor = Supervisor(environ, args.stop_timeout)
    if not devstate.IN_CHECKOUT:
        supervisor.cwd = state
    supervisor.width = max(len(n) for n in [*names, "migrate", "collectstatic"])
    supervisor.say("run", f"state folder {state}; processes: {', '.join(names)}")

    def on_signal(signum: int, frame: object) -> None:
        supervisor.stopping = True
        supervisor.wake.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    status = 0
    try:
        for name in names:
            if name in SERVICES:
                supervisor.start(name, procfile[name])
        python = [sys.executable, "-m", "dashboard", "manage"]  # no manage.py in an installed package
        prepared = args.no_prepare or (
            supervisor.step("migrate", [*python, "migrate", "--noinput"])
            and supervisor.step("collectstatic", [*python, "collectstatic", "--noinput", "--verbosity", "0"])
        )
        if not prepared:
            status = 0 if supervisor.stopping else 1
        else:
            for name in names:
                if name not in SERVICES:
                    supervisor.start(name, procfile[name])
            while not supervisor.stopping:
                ended = supervisor.exited()
                if ended:
                    name, code = ended
                    supervisor.say(name, f"exited with code {code}: stopping everything")
                    status = code or 1
                    break
                supervisor.wake.wait(1)
                supervisor.wake.clear()
    finally:
        supervisor.stop_all()
        if "redis" in names:
            # The embedded server runs detached (any process of this state folder may have started it): stop it.
            embedded_redis.stop(state / "redis")
    supervisor.say("run", "stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
