"""Console fixtures: Stratus' console proxy on a free port (in this process, the real server class) and servers."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import openstack
import pytest

from apps.consoles.proxy import ConsoleProxyServer
from tests.cloudharness import TestCloud
from tests.consoles.servers import launch, wait_for_status


def service_cloud(cloud: TestCloud) -> str:
    if cloud.is_devcloud:
        return "devcloud-service"
    # Direct mode needs credentials that may read console auth tokens: the admin cloud under test unless told.
    return os.environ.get("STRATUS_TEST_SERVICE_CLOUD") or cloud.admin.name


@pytest.fixture
def console_proxy(settings, stratus: TestCloud) -> Iterator[int]:  # pytest-django settings
    """Direct mode: service credentials configured and the console proxy listening; yields its port."""
    settings.STRATUS_SERVICE_CLOUD = service_cloud(stratus)
    server = ConsoleProxyServer("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    settings.STRATUS_CONSOLE_PROXY_PORT = server.server_address[1]
    settings.STRATUS_CONSOLE_URL = ""
    settings.STRATUS_CONSOLE_ALLOWED_ORIGINS = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Servers:
    a: openstack.compute.v2.server.Server  # running, project of the member
    b: openstack.compute.v2.server.Server  # running, project of the member
    stopped: openstack.compute.v2.server.Server  # SHUTOFF, project of the member
    foreign: openstack.compute.v2.server.Server  # running, the admin's project: the member cannot see it


@pytest.fixture(scope="module")
def servers(cloud: TestCloud) -> Iterator[Servers]:
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    member = openstack.connect(cloud=cloud.member.name)
    admin = openstack.connect(cloud=cloud.admin.name)
    tag = uuid.uuid4().hex[:6]
    made = [
        (member, launch(member, f"con-a-{tag}")),
        (member, launch(member, f"con-b-{tag}")),
        (member, launch(member, f"con-off-{tag}")),
        (admin, launch(admin, f"con-admin-{tag}")),
    ]
    ready = [wait_for_status(conn, s.id, "ACTIVE") for conn, s in made]
    member.compute.stop_server(ready[2])
    ready[2] = wait_for_status(member, ready[2].id, "SHUTOFF")
    yield Servers(*ready)
    for conn, s in made:
        conn.compute.delete_server(s.id, ignore_missing=True)


def nova_vnc_target(cloud: TestCloud, server: openstack.compute.v2.server.Server) -> str:
    """Where Nova says this instance's VNC server is ("host:port"), asked as the admin with a console of its own."""
    from apps.consoles.services import nova_console_token

    admin = openstack.connect(cloud=cloud.admin.name)
    try:
        console = admin.compute.create_console(server.id, console_type="novnc", console_protocol="vnc")
        info = admin.compute.validate_console_auth_token(nova_console_token(console["url"]))
        return f"{info.host}:{info.port}"
    finally:
        admin.close()


def assert_relayed(cloud: TestCloud, server: openstack.compute.v2.server.Server, desktop: str | None, log: str) -> None:
    """The proxy connected this console to the VNC server Nova names for `server` (never one the request named).

    `log` is the proxy's log ("console connect: ... server=<name> (<id>) vnc=<host>:<port>"). devcloud runs one RFB
    server per instance and names its desktop after the instance, so there the desktop name proves it too; a real
    cloud's desktop name is its hypervisor's (realcloud's fake VNC serves every instance on one port). `desktop`
    None: not known (a browser test)."""
    assert f"server={server.name} ({server.id}) vnc={nova_vnc_target(cloud, server)}" in log
    if desktop is not None:
        assert desktop, "the RFB handshake named no desktop"
        if cloud.is_devcloud:
            assert desktop == server.name
