"""Production settings, checked in a subprocess with the environment a deployment sets (DEBUG=false,
STRATUS_TLS=true, SECRET_KEY, ALLOWED_HOSTS, ...): `check --deploy` is clean, and the answers carry the
security headers and cookie flags.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.cloudharness import ROOT

PROBE = r"""
import json, logging
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="dash.example.org")
plain = client.get("/auth/login/")
secure = client.get("/auth/login/", secure=True)
logging.getLogger("stratus.probe").warning("probe %s", "password=hunter2")
logging.getLogger("stratus.probe").warning("keystone answered %s", {"X-Subject-Token": "PROBE_TOKEN_VALUE"})
print("RESULT " + json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "status": secure.status_code,
    "headers": dict(secure.headers),
    "cookies": {name: morsel.OutputString() for name, morsel in secure.cookies.items()},
    "debug": settings.DEBUG,
    "log_json": settings.LOG_JSON,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DEBUG": "false",
        "STRATUS_TLS": "true",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "STRATUS_FERNET_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "dash.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://dash.example.org",
        "STRATUS_STATE_DIR": str(tmp_path / "state"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never reached by these checks
        "OS_AUTH_URL": "https://keystone.example.org/v3",
        "STRATUS_MANIFEST_STATIC": "false",  # no collectstatic here; production runs it at build time
    }
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_warns_without_tls(tmp_path):
    """The check is not vacuous: a deployment without TLS gets told."""
    env = production_env(tmp_path, STRATUS_TLS="false")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("unset", "debug"),
    [
        (["SECRET_KEY"], "false"),
        (["STRATUS_FERNET_KEY"], "false"),
        (["SECRET_KEY", "STRATUS_FERNET_KEY"], None),  # DEBUG not set at all: off, so production too
    ],
)
def test_production_refuses_to_start_without_its_keys(tmp_path, unset, debug):
    """DEBUG off is production: no generated keys, no silent fallback to a laptop configuration."""
    env = production_env(tmp_path)
    for name in unset:
        del env[name]
    if debug is None:
        del env["DEBUG"]
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{' and '.join(unset)} must be set: with DEBUG off Stratus runs as production" in result.stderr
    assert "STRATUS_DEV_KEYS=true" in result.stderr  # how a demo or a test run asks for generated keys
    state = tmp_path / "state"
    assert not (state / "secret_key").exists() and not (state / "fernet_key").exists()


def test_a_malformed_fernet_key_is_refused_with_a_clear_message(tmp_path):
    result = run([sys.executable, "manage.py", "check"], production_env(tmp_path, STRATUS_FERNET_KEY="not-a-key"))
    assert result.returncode != 0
    assert "STRATUS_FERNET_KEY is not a Fernet key" in result.stderr


def test_dev_keys_are_generated_private_and_keep_production_off(tmp_path):
    """`make demo` and the tests (STRATUS_DEV_KEYS=true): keys made once under the state folder (by
    dashboard/devstate.py, before any process starts), which only its owner can enter, and an SQLite database only
    its owner can read, even under a permissive umask."""
    env = production_env(tmp_path, STRATUS_DEV_KEYS="true")
    for name in ("SECRET_KEY", "STRATUS_FERNET_KEY", "DATABASE_URL", "STRATUS_TLS"):
        del env[name]
    state = tmp_path / "state"
    probe = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print('RESULT ' + json.dumps([settings.SECRET_KEY, settings.STRATUS_FERNET_KEY, settings.PRODUCTION, "
        "settings.SESSION_COOKIE_SECURE]))"
    )

    def python(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o022),
        )

    def settings_seen() -> list:
        result = python("-c", probe)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.split("RESULT ", 1)[1])

    # The settings only read: before the state folder is prepared they say how to prepare it, and make nothing.
    unprepared = python("-c", probe)
    assert unprepared.returncode != 0 and "prepare the state folder with python -m dashboard.devstate" in (
        unprepared.stderr
    ), unprepared.stderr
    assert not state.exists()
    prepared = python("-m", "dashboard.devstate")
    assert prepared.returncode == 0, prepared.stderr
    first = settings_seen()
    assert first == settings_seen()  # made once, read back after
    secret_key, fernet_key, production, cookie_secure = first
    assert (state / "secret_key").read_text() == secret_key and (state / "fernet_key").read_text() == fernet_key
    Fernet(fernet_key)
    assert production is False and cookie_secure is False
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert migrate.returncode == 0, migrate.stderr
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in [state, *state.iterdir()] if p.is_file() or p == state}
    assert modes["state"] == "0o700", modes
    assert modes["stratus.sqlite3"] == "0o600", modes
    assert modes["secret_key"] == modes["fernet_key"] == "0o600", modes
    assert not [name for name in modes if name.startswith(".")], modes  # no temporary key file left behind


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("prod")
    result = run([sys.executable, "-c", PROBE], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    data["stderr"] = result.stderr
    return data


def test_production_redirects_to_https_and_sends_security_headers(probe):
    assert probe["debug"] is False
    assert probe["plain_status"] == 301 and probe["plain_location"].startswith("https://dash.example.org/")
    assert probe["status"] == 200
    headers = {k.lower(): v for k, v in probe["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["x-request-id"].startswith("req-")


def test_production_csp_forbids_inline_script(probe):
    csp = {k.lower(): v for k, v in probe["headers"].items()}["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"], csp
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert directives["connect-src"] == ["'self'"], csp  # the console page adds its proxy's origin, no page any host


def test_production_cookies_are_secure_and_httponly(probe):
    assert probe["session_cookie_secure"] and probe["session_cookie_httponly"]
    csrf = probe["cookies"]["csrftoken"]
    assert "Secure" in csrf and "HttpOnly" in csrf and "SameSite=Lax" in csrf


def test_production_logs_are_json_lines_without_secrets(probe):
    assert probe["log_json"] is True
    records = [json.loads(line) for line in probe["stderr"].splitlines() if line.startswith("{")]
    probe_record = next(r for r in records if r["logger"] == "stratus.probe")
    assert probe_record["level"] == "WARNING"
    assert "hunter2" not in probe["stderr"]
    assert "PROBE_TOKEN_VALUE" not in probe["stderr"] and "X-Subject-Token" in probe["stderr"]
    assert probe_record["request_id"] == "-"


def test_text_logs_are_scrubbed_too(tmp_path):
    """Outside JSON (STRATUS_LOG_JSON=false, the demo's and the tests' format), secrets are scrubbed just the same."""
    result = run([sys.executable, "-c", PROBE], production_env(tmp_path, STRATUS_LOG_JSON="false"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if " stratus.probe " in line]
    assert len(lines) == 2 and not lines[0].startswith("{"), result.stderr
    assert "password=***" in lines[0] and "hunter2" not in result.stderr
    assert "X-Subject-Token" in lines[1] and "PROBE_TOKEN_VALUE" not in result.stderr
