"""Stratus as users install software: `make dist` builds a wheel from a fresh copy of the repository, pip installs it
away from any checkout, and its `stratus` command runs the site: templates, static files and both languages' compiled
catalogues come from the installed package, the state goes to the user's state folder, and Ctrl-C leaves no process.

The installed copy uses this suite's venv for its dependencies (`--no-deps --target`: the same pins a `pip install`
of the wheel would resolve, without a download), and runs with nothing of the checkout on `sys.path`.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from dashboard.version import __version__
from tests.cloudharness import TestCloud as Cloud
from tests.cloudharness import free_port, start_devcloud
from tests.deploy.procs import Person, none_left
from tests.deploy.test_readme_run import fresh_copy

pytestmark = pytest.mark.xdist_group("deploy-package")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("package") / "stratus"
    checkout.mkdir()
    fresh_copy(checkout)
    built = subprocess.run(["make", "dist"], cwd=checkout, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list((checkout / "dist").glob("stratus-*.whl"))
    assert len(wheels) == 1, wheels
    assert not (checkout / "build").exists() and not list(checkout.glob("*.egg-info")), "make dist left its build"
    return wheels[0]


def test_the_wheel_holds_the_site_and_its_translations(wheel: Path) -> None:
    assert wheel.name == f"stratus-{__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "dashboard/Procfile",
        "dashboard/templates/base.html",
        "dashboard/static/js/stratus.js",
        "dashboard/static/vendor/htmx/htmx.min.js",
        "dashboard/static/vendor/novnc/LICENSE.txt",
        "dashboard/locale/vi/LC_MESSAGES/django.mo",
        "apps/instances/locale/vi/LC_MESSAGES/django.mo",
        "apps/instances/templates/instances/list.html",
        "apps/operations/migrations/0001_initial.py",
    ):
        assert expected in names, f"{expected} not in the wheel"
    assert not any(n.startswith(("tests/", "devcloud/", "bench/")) for n in names), "test code in the wheel"
    entry_points = zipfile.ZipFile(wheel).read(f"stratus-{__version__}.dist-info/entry_points.txt").decode()
    assert "stratus = dashboard.__main__:main" in entry_points


@pytest.fixture
def stand_in_cloud(tmp_path: Path) -> Iterator[Cloud]:
    (tmp_path / "devcloud").mkdir()
    cloud = start_devcloud(tmp_path / "devcloud" / "state")
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.mark.timeout(600)
def test_the_installed_stratus_command_serves_the_site(wheel: Path, tmp_path: Path, stand_in_cloud: Cloud) -> None:
    site, home, elsewhere = tmp_path / "site", tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    stratus = site / "bin" / "stratus"
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "PYTHONPATH": str(site),  # the installed package only: no checkout on sys.path (cwd is elsewhere)
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "SECRET_KEY": secrets.token_urlsafe(50),  # production: hashed static names, no generated keys
        "STRATUS_FERNET_KEY": Fernet.generate_key().decode(),
        "STRATUS_TLS": "false",
        "OS_AUTH_URL": stand_in_cloud.auth_url,
        "WEB_PORT": str(free_port()),
        "WEB_WORKERS": "1",
    }
    version = subprocess.run([str(stratus), "version"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert version.stdout.strip() == f"stratus {__version__}", version.stdout + version.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import dashboard; print(dashboard.__file__)"],
        cwd=elsewhere,
        env=env,
        text=True,
        capture_output=True,
    )
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr

    log_path = tmp_path / "stratus-run.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in finally
    run = subprocess.Popen(
        [str(stratus), "run", "web"],
        cwd=elsewhere,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{env['WEB_PORT']}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert run.poll() is None, f"stratus run ended ({run.returncode}):\n{log_path.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"no answer in 240 s:\n{log_path.read_text()[-4000:]}"
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        person = Person(base)
        login = person.get("/auth/login/", headers={"Accept-Language": "vi"})
        assert login.status_code == 200 and "Đăng nhập" in login.text, login.text[:1000]  # the site's catalogue
        person.sign_in(stand_in_cloud.member.username, stand_in_cloud.member.password)
        instances = person.get("/instances/", headers={"Accept-Language": "vi"})
        assert instances.status_code == 200, instances.text[:1000]
        assert "Khởi chạy máy ảo" in instances.text  # an app's own catalogue ("Launch instance")
        # Production static files, collected from the package into the user's state folder, served by whitenoise.
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', instances.text)
        assert stylesheet, "no hashed stylesheet link in the page"
        css = person.get(stylesheet.group(1))
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css") and css.content
        state = home / ".local" / "state" / "stratus"
        assert (state / "static" / "staticfiles.json").exists()
        assert (state / "stratus.sqlite3").exists()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        try:
            run.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
        left = none_left(home)
        log.close()
    assert not left, f"processes left behind after Ctrl-C: {left}"
    assert not list(site.rglob("*.sqlite3")) and not (site / ".state").exists(), "it wrote into site-packages"
