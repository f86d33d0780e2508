"""Suite-wide fixtures: the cloud under test (devcloud over real HTTP, or a real cloud), signed-in Django
clients, a real Celery worker process on the real (embedded) Redis, and signed-in browser pages.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import teststate

teststate.prepare()  # before anything imports the settings (pyproject.toml names no settings module for this)

import django
import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests import cloudharness
from tests.cloudharness import ROOT, CloudCreds, TestCloud, cloud_lock, project_lock, real_cloud, start_devcloud

django.setup()
# Not passed on to the xdist workers this process starts: pytest-django would load the settings there before their
# own conftest has made their own state (each worker sets the settings up itself, here). Processes the tests start
# (the Celery worker, gunicorn, manage.py) name the settings module themselves.
os.environ.pop("DJANGO_SETTINGS_MODULE", None)

CHROMIUM = "/usr/bin/chromium"

# What a page shows after an operation (a Celery worker's turn, then the page's 2-s poll) can take several seconds on
# a 2-core machine running three test processes and their browsers: Playwright's assertions wait up to 15 s (as the
# pages' own actions do), not its default 5 s. A wait, not a speed limit: an assertion ends as soon as it holds.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCloud]:
    spec = os.environ.get("STRATUS_TEST_CLOUD")
    if spec:
        cloudharness.ACTIVE = real_cloud(spec)
        yield cloudharness.ACTIVE
        return
    state = tmp_path_factory.mktemp("devcloud") / "state"
    c = cloudharness.ACTIVE = start_devcloud(state)
    try:
        yield c
    finally:
        c.stop()


class CloudCalls:
    """The cloud calls this process makes while `recording()` (the dashboard's, through keystoneauth), on devcloud
    and on a real cloud alike: `"GET compute /servers/detail?limit=21&…"` (service type, URL relative to the
    service's endpoint, query sorted)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: dict[str, str] = {}  # call → the name of the thread that made it (pool threads: "stratus-cloud…")
        self.on = False

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        self.calls.clear()
        self.threads.clear()
        self.on = True
        try:
            yield self.calls
        finally:
            self.on = False


@pytest.fixture
def cloud_calls(monkeypatch: pytest.MonkeyPatch) -> CloudCalls:
    import threading
    from urllib.parse import urlencode, urlsplit

    from keystoneauth1 import session as ks_session

    log, original = CloudCalls(), ks_session.Session.request
    lock = threading.Lock()

    def request(self, url, method, *args, **kwargs):
        if log.on:  # a page's calls: the Django test client renders in this thread (and its helper threads)
            endpoint_filter = kwargs.get("endpoint_filter") or {}
            service = endpoint_filter.get("service_type") or "-"
            shown = url  # only for the log: the request itself goes out as it came (Neutron's endpoint is versioned)
            if service != "-" and urlsplit(url).netloc:  # an absolute URL on the service's endpoint
                base = kwargs.get("endpoint_override") or self.get_endpoint(kwargs.get("auth"), **endpoint_filter) or ""
                shown = url[len(base.rstrip("/")) :] if url.startswith(base.rstrip("/")) else url
            target = "/" + shown.lstrip("/") if service != "-" else urlsplit(shown).path
            params = kwargs.get("params") or {}
            query = urlencode(sorted(params.items()) if isinstance(params, dict) else params, doseq=True)
            with lock:
                call = f"{method} {service} {target}" + (f"?{query}" if query else "")
                log.calls.append(call)
                log.threads[call] = threading.current_thread().name
        return original(self, url, method, *args, **kwargs)

    monkeypatch.setattr(ks_session.Session, "request", request)
    return log


@pytest.fixture
def devcloud(cloud: TestCloud) -> TestCloud:
    """The cloud, when the test needs devcloud itself (fault injection): skipped against a real cloud."""
    if not cloud.is_devcloud:
        pytest.skip("needs devcloud's fault injection (a failing or slow service on demand); not on a real cloud")
    return cloud


@pytest.fixture
def stratus(cloud: TestCloud) -> TestCloud:
    """The cloud under test, with the dashboard's settings pointing at it (use in every dashboard test)."""
    settings.OS_AUTH_URL = cloud.auth_url
    settings.OS_REGION_NAME = cloud.member.region_name
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    return cloud


@pytest.fixture
def project_locked(stratus: TestCloud) -> Iterator[None]:
    """No other test that cleans up the member's project by name runs meanwhile (see cloudharness.project_lock)."""
    with project_lock(stratus):
        yield


def sign_in_client(client: Client, creds: CloudCreds) -> Client:
    response = client.post(
        "/auth/login/",
        {"method": "password", "username": creds.username, "password": creds.password, "domain": "Default"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def member_client(stratus: TestCloud, db: None) -> Client:
    return sign_in_client(Client(), stratus.member)


@pytest.fixture
def admin_client(stratus: TestCloud, db: None) -> Client:
    return sign_in_client(Client(), stratus.admin)


# --- a real Celery worker process -------------------------------------------------------------------------


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Worker:
    """A `celery -A dashboard worker` subprocess sharing this test process' Redis, keys and test database."""

    def __init__(self, stratus: TestCloud, log_dir: Path, name: str = "w1") -> None:
        self.cloud = stratus
        self.log_path = log_dir / f"worker-{name}.log"
        self.name = name
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": _database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "OS_AUTH_URL": self.cloud.auth_url,
                "OS_CLIENT_CONFIG_FILE": str(self.cloud.clouds_yaml),
                "STRATUS_FERNET_KEY": settings.STRATUS_FERNET_KEY,
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def start(self) -> Worker:
        log = open(self.log_path, "a")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [
                *cloudharness.worker_argv(name=self.name, queue=settings.CELERY_TASK_DEFAULT_QUEUE),
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while "ready." not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready in 30 s: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_factory(
    request: pytest.FixtureRequest, stratus: TestCloud, transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []
    request.node.stratus_workers = started  # for the failure report (pytest_runtest_makereport)

    def make(name: str = "w1") -> Worker:
        w = Worker(stratus, tmp_path, name).start()
        started.append(w)
        return w

    yield make
    for w in started:
        w.stop()


@pytest.fixture
def worker(worker_factory: Callable[..., Worker]) -> Worker:
    """One real Celery worker process for this test (needs a transactional database)."""
    return worker_factory()


# --- browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}, "locale": "en-US"}


def sign_in_page(page, base_url: str, creds: CloudCreds) -> None:  # playwright Page
    page.goto(base_url + "/auth/login/")
    page.get_by_label("User name", exact=True).fill(creds.username)
    page.get_by_label("Password", exact=True).fill(creds.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/overview/**")


@pytest.fixture
def member_page(page, live_server, stratus: TestCloud):
    """A browser page signed in as the demo member (project demo)."""
    page.set_default_timeout(15000)
    sign_in_page(page, live_server.url, stratus.member)
    return page


@pytest.fixture
def admin_page(page, live_server, stratus: TestCloud):
    page.set_default_timeout(15000)
    sign_in_page(page, live_server.url, stratus.admin)
    return page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # a hook wrapper
    """A failing test with a worker reports what the worker did: the operations in the database and the end of
    the worker's log (a CI run leaves nothing else to read)."""
    outcome = yield
    report = outcome.get_result()
    workers = getattr(item, "stratus_workers", None)
    if report.when != "call" or not report.failed or not workers:
        return
    try:
        from apps.operations.models import Operation

        rows = [
            f"{op.created_at:%H:%M:%S.%f} {op.kind} {op.target_name or op.target_id} {op.state}"
            f" attempts={op.attempts} message={op.message!r} detail={op.error_detail[-300:]!r}"
            for op in Operation.objects.order_by("created_at")
        ]
        report.sections.append(("operations", "\n".join(rows) or "(none)"))
    except Exception as exc:  # the report must not fail the run
        report.sections.append(("operations", f"could not be read: {exc}"))
    for w in workers:
        report.sections.append((f"worker {w.name} log (end)", "\n".join(w.log().splitlines()[-80:])))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # a hook wrapper
    """Against a real cloud, tests marked `cloud_exclusive` run alone across the pytest processes (see
    cloudharness.cloud_lock); the lock covers setup and teardown, where module fixtures launch and delete servers.
    devcloud: every pytest process has its own cloud, nothing to share."""
    spec = os.environ.get("STRATUS_TEST_CLOUD")
    if not spec:
        yield
        return
    with cloud_lock(spec, exclusive=item.get_closest_marker("cloud_exclusive") is not None):
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`devcloud_only` tests are skipped against a real cloud (make test-cloud)."""
    if os.environ.get("STRATUS_TEST_CLOUD"):
        skip = pytest.mark.skip(reason="uses devcloud's fault injection; cannot run against a real cloud")
        for item in items:
            if "devcloud_only" in item.keywords:
                item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    teststate.finish()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which cloud the cloud-facing tests talk to."""
    spec = os.environ.get("STRATUS_TEST_CLOUD")
    if spec:
        where = os.environ.get("OS_CLIENT_CONFIG_FILE", "clouds.yaml")
        return f"cloud under test: {spec} (real cloud, from {where}); devcloud-only tests skip and say why"
    return "cloud under test: devcloud (a fresh one per pytest process, over HTTP)"
