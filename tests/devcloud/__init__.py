"""Tests of devcloud's Keystone, Glance, Cinder, Placement and control APIs, over real HTTP.

Helpers shared by those tests: raw HTTP calls (so error shapes and status codes are visible), a signed-in
session that knows the catalog, and the real `openstack` CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cloudharness import CloudCreds, TestCloud


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def call(
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 15,
) -> Reply:
    hdrs = {"Accept": "application/json", **(headers or {})}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    if token:
        hdrs["X-Auth-Token"] = token
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers.items()), e.read())


def password_auth_body(creds: CloudCreds, project_name: str | None = None, scoped: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
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
            }
        }
    }
    if scoped:
        body["auth"]["scope"] = {
            "project": {"name": project_name or creds.project_name, "domain": {"name": creds.project_domain_name}}
        }
    return body


@dataclass
class Session:
    """A project-scoped token with its catalog."""

    auth_url: str
    token: str
    body: dict[str, Any]
    catalog: list[dict[str, Any]] = field(default_factory=list)

    @property
    def project_id(self) -> str:
        return self.body["token"]["project"]["id"]

    @property
    def user_id(self) -> str:
        return self.body["token"]["user"]["id"]

    def url(self, service_type: str, interface: str = "public") -> str:
        types = [service_type] + (["volumev3"] if service_type == "block-storage" else [])
        for stype in types:
            for service in self.catalog:
                if service["type"] == stype:
                    for ep in service["endpoints"]:
                        if ep["interface"] == interface:
                            return ep["url"].rstrip("/")
        raise LookupError(service_type)

    def call(self, method: str, url: str, body: Any = None, **kw: Any) -> Reply:
        return call(method, url, self.token, body, **kw)


def login(creds: CloudCreds, project_name: str | None = None) -> Session:
    reply = call("POST", creds.auth_url.rstrip("/") + "/auth/tokens", body=password_auth_body(creds, project_name))
    assert reply.status == 201, reply.raw[:500]
    token = reply.header("X-Subject-Token")
    assert token
    return Session(creds.auth_url.rstrip("/"), token, reply.body, reply.body["token"].get("catalog", []))


def root_of(url: str, marker: str) -> str:
    """The service root before `marker` (e.g. the image endpoint without a trailing version)."""
    return url.split(marker)[0] if marker in url else url


def cli(cloud: TestCloud, cloud_name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `openstack` CLI against the cloud (JSON output where the command supports it)."""
    exe = Path(sys.executable).with_name("openstack")
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    for key in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        del env[key]
    proc = subprocess.run(
        [str(exe), "--os-cloud", cloud_name, *args], capture_output=True, text=True, env=env, timeout=60
    )
    if check:
        assert proc.returncode == 0, f"openstack {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def cli_json(cloud: TestCloud, cloud_name: str, *args: str) -> Any:
    return json.loads(cli(cloud, cloud_name, *args, "-f", "json").stdout)


def settled(s: Session, sid: str, status: str = "ACTIVE", timeout: float = 90) -> dict[str, Any]:
    """The server once Nova shows it in `status` with no task under way (an ERROR fails at once)."""
    from tests.waiting import wait_until

    def check() -> dict[str, Any] | None:
        server = s.call("GET", f"{s.url('compute')}/servers/{sid}").body["server"]
        assert server["status"] != "ERROR", server
        return server if server["status"] == status and not server["OS-EXT-STS:task_state"] else None

    return wait_until(check, timeout=timeout, what=f"server {sid} {status}")
