"""The cloud the tests talk to: a devcloud started by the suite, or a real cloud named by STRATUS_TEST_CLOUD.

STRATUS_TEST_CLOUD="<admin cloud>,<member cloud>" names two clouds in the clouds.yaml that
OS_CLIENT_CONFIG_FILE points at (e.g. "realcloud-admin,realcloud-demo"). Unset: each pytest process starts
its own devcloud on a free loopback port with a fresh state directory, and talks to it over real HTTP.

Tests name the cloud's resources through TestCloud (`image_name`, `small_flavor`, `large_flavor`,
`second_project`), never devcloud's own names: devcloud's are fixed, a real cloud's are discovered from the cloud
(STRATUS_TEST_IMAGE and STRATUS_TEST_FLAVOR override the image and the small flavor; STRATUS_TEST_RESIZE=1 or 0
says whether servers can be resized, by default yes when the cloud has more than one hypervisor).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# The cloud this pytest process tests (set by the session's `cloud` fixture), for helpers called without fixtures.
ACTIVE: TestCloud | None = None


def worker_argv(*, name: str, queue: str | None = None, concurrency: int = 4) -> list[str]:
    """The Procfile's Celery worker, as the tests and benchmarks start it: the installed `celery` script (as the
    Procfile and systemd run it, not `python -m`, which would put the working directory on sys.path and hide
    import-path problems), without beat (one scheduler per run is the demo's; these start several workers), with
    their own concurrency, node name and, given one, queue, and no heartbeats (nothing here monitors them)."""
    import shlex

    from dashboard.run import read_procfile

    argv = shlex.split(read_procfile(ROOT / "dashboard" / "Procfile")["worker"])
    assert argv[:4] == ["celery", "-A", "dashboard", "worker"], argv
    out = [str(Path(sys.executable).parent / "celery"), *argv[1:4]]
    rest = iter(argv[4:])
    for arg in rest:
        if arg == "--beat":
            continue
        if arg in ("-s", "--concurrency", "--loglevel"):
            next(rest)  # its value: the schedule file is beat's; the other two are set below
            continue
        out.append(arg)
    out += ["--without-heartbeat", "--concurrency", str(concurrency), "--loglevel", "INFO"]
    out += ["-n", f"{name}@%h-{os.getpid()}"]
    return out + (["-Q", queue] if queue else [])


def active() -> TestCloud:
    assert ACTIVE is not None, "no cloud yet: use the `stratus` fixture"
    return ACTIVE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CloudCreds:
    name: str  # the clouds.yaml cloud name
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str = "RegionOne"

    def connect(self) -> Any:
        """An openstacksdk connection as this user: what the tests check the cloud with. From these fields alone
        (no clouds.yaml, no OS_* variables), so it works as well for the users a test makes itself."""
        import openstack

        return openstack.connect(
            auth_url=self.auth_url,
            username=self.username,
            password=self.password,
            project_name=self.project_name,
            user_domain_name=self.user_domain_name,
            project_domain_name=self.project_domain_name,
            region_name=self.region_name,
            identity_api_version="3",
            load_yaml_config=False,
            load_envvars=False,
        )


@dataclass
class TestCloud:
    is_devcloud: bool
    auth_url: str
    clouds_yaml: Path
    admin: CloudCreds
    member: CloudCreds
    base_url: str = ""  # devcloud's root URL (for /devcloud/ control calls)
    process: subprocess.Popen | None = None
    image_name: str = "cirros-0.6.3-x86_64-disk"  # a small public image every flavor below can boot
    small_flavor: str = "m1.nano"  # the smallest flavor: what tests boot their servers with
    large_flavor: str = "m1.xlarge"  # the flavor with the most vCPUs (over-quota and sorting tests)
    second_project: str | None = "demo-2"  # another project the member belongs to; None: the cloud has none
    # Two flavors a server of small_flavor can be resized to, in turn; None: the cloud cannot resize (one compute
    # host, and Nova's allow_resize_to_same_host is off by default).
    resize_flavors: tuple[str, str] | None = ("m1.micro", "m1.tiny")
    # Whether an instance's VNC console draws its screen and echoes typing (devcloud's does; a real cloud's guests
    # do when they are real VMs: STRATUS_TEST_CONSOLE_DRAWS=1; realcloud's fake VNC is a 1×1 screen that never
    # draws). Without it, console tests check the connection and where it goes, not the pixels.
    console_draws: bool = True

    def control(self, path: str, body: dict | None = None, method: str = "POST") -> dict:
        """Call devcloud's admin-only control API (fault injection). devcloud only."""
        assert self.is_devcloud, "fault injection needs devcloud"
        token = admin_token(self)
        data = json.dumps(body or {}).encode() if method != "GET" else None
        req = urllib.request.Request(
            f"{self.base_url}/devcloud/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"X-Auth-Token": token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_networks(conn: Any) -> Any:
    """What to boot a test server on so that it gets an address: the project's own network where Neutron is in the
    catalog (a project that also sees a shared network makes Nova refuse "auto" as ambiguous, as realcloud's demo
    project does); else "auto" where a shared network is there to take, or "none"; "auto" without Neutron (a cloud
    whose Nova gives addresses without it)."""
    if not conn.endpoint_for("network"):
        return "auto"
    project_id = conn.current_project_id
    own = [n for n in conn.network.networks(project_id=project_id) if not n.is_router_external]
    if own:
        return [{"uuid": own[0].id}]
    return "auto" if any(True for _ in conn.network.networks(is_shared=True)) else "none"


def admin_token(cloud: TestCloud) -> str:
    return password_token(cloud.admin)


def password_token(creds: CloudCreds) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": creds.username,
                        "password": creds.password,
                        "domain": {"name": creds.user_domain_name},
                    }
                },
            },
            "scope": {"project": {"name": creds.project_name, "domain": {"name": creds.project_domain_name}}},
        }
    }
    req = urllib.request.Request(
        creds.auth_url.rstrip("/") + "/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["X-Subject-Token"]


def start_devcloud(state_dir: Path, transition_seconds: float = 0.2) -> TestCloud:
    port = free_port()
    log = open(state_dir.parent / f"devcloud-{port}.log", "w")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devcloud",
            "serve",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
            "--reset",
            "--transition-seconds",
            str(transition_seconds),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"devcloud exited with {proc.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(base + "/identity/v3", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"devcloud did not start in 60 s; see {log.name}") from None
            time.sleep(0.1)
    auth_url = base + "/identity/v3"
    return TestCloud(
        is_devcloud=True,
        auth_url=auth_url,
        clouds_yaml=state_dir / "clouds.yaml",
        admin=CloudCreds("devcloud-admin", auth_url, "admin", "admin", "admin"),
        member=CloudCreds("devcloud-demo", auth_url, "demo", "demo", "demo"),
        base_url=base,
        process=proc,
    )


def real_cloud(spec: str) -> TestCloud:
    import openstack.config

    admin_name, member_name = (part.strip() for part in spec.split(","))
    loader = openstack.config.OpenStackConfig()

    def creds(name: str) -> CloudCreds:
        auth = loader.get_one(name).config["auth"]
        return CloudCreds(
            name=name,
            auth_url=auth["auth_url"].rstrip("/") + ("" if auth["auth_url"].rstrip("/").endswith("/v3") else "/v3"),
            username=auth["username"],
            password=auth["password"],
            project_name=auth["project_name"],
            user_domain_name=auth.get("user_domain_name", "Default"),
            project_domain_name=auth.get("project_domain_name", "Default"),
        )

    admin, member = creds(admin_name), creds(member_name)
    cloud = TestCloud(
        is_devcloud=False,
        auth_url=admin.auth_url,
        clouds_yaml=Path(os.environ.get("OS_CLIENT_CONFIG_FILE", "clouds.yaml")),
        admin=admin,
        member=member,
        console_draws=os.environ.get("STRATUS_TEST_CONSOLE_DRAWS", "0") == "1",
    )
    discover(cloud)
    return cloud


# Well-known names first (devstack's and realcloud's seeds), so that every pytest process picks the same ones
# even while other tests create and delete flavors of their own; otherwise the smallest or largest flavor.
_SMALL_FLAVORS = ("m1.nano", "cirros256", "m1.tiny")
_LARGE_FLAVORS = ("m1.xlarge", "m1.large", "m1.medium")


def discover(cloud: TestCloud) -> None:
    """Fill a real cloud's image, flavors and second project from the cloud itself (as the member sees them)."""
    import openstack

    conn = openstack.connect(cloud=cloud.member.name)
    try:
        image_name = os.environ.get("STRATUS_TEST_IMAGE")
        if not image_name:
            images = [i for i in conn.image.images() if i.status == "active" and i.visibility == "public"]
            if not images:
                raise RuntimeError(f"{cloud.member.name} has no active public image; set STRATUS_TEST_IMAGE")
            image = next((i for i in images if "cirros" in (i.name or "")), None) or min(
                images, key=lambda i: i.size or 0
            )
            image_name = image.name
        flavors = [f for f in conn.compute.flavors() if f.is_public]
        by_name = {f.name: f for f in flavors}
        small = os.environ.get("STRATUS_TEST_FLAVOR") or next((n for n in _SMALL_FLAVORS if n in by_name), None)
        if not small:
            small = min(flavors, key=lambda f: (f.ram, f.disk, f.vcpus)).name
        large = (
            next((n for n in _LARGE_FLAVORS if n in by_name), None) or max(flavors, key=lambda f: (f.vcpus, f.ram)).name
        )
        projects = [p["name"] for p in _auth_projects(cloud.member) if p["name"] != cloud.member.project_name]
        others = sorted((f for f in flavors if f.name != small), key=lambda f: (f.ram, f.disk, f.vcpus))
        resize = os.environ.get("STRATUS_TEST_RESIZE")
        if resize is None:
            admin = openstack.connect(cloud=cloud.admin.name)
            try:
                resize = "1" if len(list(admin.compute.hypervisors())) > 1 else "0"
            finally:
                admin.close()
        if resize == "1" and len(others) >= 2:
            cloud.resize_flavors = (others[0].name, others[1].name)
        else:
            cloud.resize_flavors = None
    finally:
        conn.close()
    cloud.image_name, cloud.small_flavor, cloud.large_flavor = image_name, small, large
    cloud.second_project = sorted(projects)[0] if projects else ensure_second_project(cloud)


SECOND_PROJECT = "stratus-test-2"


def ensure_second_project(cloud: TestCloud) -> str:
    """Give the member a role on a second project (created by the admin, kept for the next runs), so the
    project switch is tested on a cloud whose member has one project only."""
    import openstack
    from openstack import exceptions

    admin = openstack.connect(cloud=cloud.admin.name)
    try:
        domain = admin.identity.find_domain(cloud.member.project_domain_name, ignore_missing=False)
        project = admin.identity.find_project(SECOND_PROJECT, domain_id=domain.id)
        if project is None:
            try:
                project = admin.identity.create_project(
                    name=SECOND_PROJECT, domain_id=domain.id, description="Stratus tests: the member's second project"
                )
            except exceptions.ConflictException:  # another pytest process made it first
                project = admin.identity.find_project(SECOND_PROJECT, domain_id=domain.id, ignore_missing=False)
        user_domain = admin.identity.find_domain(cloud.member.user_domain_name, ignore_missing=False)
        user = admin.identity.find_user(cloud.member.username, domain_id=user_domain.id, ignore_missing=False)
        role = admin.identity.find_role("member", ignore_missing=False)
        admin.identity.assign_project_role_to_user(project, user, role)  # a PUT: idempotent
        return SECOND_PROJECT
    finally:
        admin.close()


def _auth_projects(creds: CloudCreds) -> list[dict]:
    req = urllib.request.Request(
        creds.auth_url.rstrip("/") + "/auth/projects", headers={"X-Auth-Token": password_token(creds)}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["projects"]


@contextmanager
def cloud_lock(spec: str, *, exclusive: bool) -> Iterator[None]:
    """Against a real cloud (`spec`: STRATUS_TEST_CLOUD), a readers-writer lock across the pytest processes: every
    test holds it shared, and a test that changes what every other test relies on (it disables the only compute
    service, lowers the project's quota) holds it alone — it waits for the running tests to end, and no test
    starts until it is done. A turnstile keeps a waiting exclusive test from being starved by shared ones."""
    where = os.environ.get("OS_CLIENT_CONFIG_FILE", "")
    key = hashlib.sha256(f"{spec} {where}".encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"stratus-test-cloud-{key}"
    with open(f"{base}.turnstile", "w") as turnstile, open(f"{base}.lock", "w") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)


@contextmanager
def project_lock(cloud: TestCloud, prefix: str = "t-") -> Iterator[None]:
    """Against a real cloud, one test at a time across the pytest processes for tests that clean up the member's
    project by name (xdist workers share that project there: the instances tests remove every `t-…` and
    `<script>…` server in it, the operations tests every `ops-…` one: `prefix` names the family); devcloud: every
    process has its own cloud, nothing to wait for."""
    if cloud.is_devcloud:
        yield
        return
    key = hashlib.sha256(f"{cloud.auth_url} {cloud.member.project_name} {prefix}".encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"stratus-test-project-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
