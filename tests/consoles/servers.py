"""Launching and waiting for servers through openstacksdk, as a person would from the CLI."""

from __future__ import annotations

import time

from openstack.compute.v2.server import Server
from openstack.connection import Connection


def launch(conn: Connection, name: str) -> Server:
    images = [i for i in conn.image.images() if i.status == "active"]
    image = next((i for i in images if "cirros" in (i.name or "")), images[0])
    flavor = min(conn.compute.flavors(), key=lambda f: (f.ram, f.disk))
    return conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id, networks="none")


def wait_for_status(conn: Connection, server_id: str, status: str) -> Server:
    deadline = time.monotonic() + 120
    while True:
        server = conn.compute.get_server(server_id)
        if server.status == status:
            return server
        assert server.status != "ERROR", server.fault
        assert time.monotonic() < deadline, f"{server.name} stayed {server.status}"
        time.sleep(0.2)
