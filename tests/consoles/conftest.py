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
    name = os.environ.get("STRATUS_TEST_SERVICE_CLOUD", "")
    if not name:
        pytest.skip("direct console mode needs STRATUS_TEST_SERVICE_CLOUD (a service cloud in clouds.yaml)")
    return name


@pytest.fixture
def console_proxy(settings, stratus: TestCloud) -> Iterator[int]:  # noqa: ANN001 - pytest-django settings
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
