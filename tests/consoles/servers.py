"""Launching and waiting for servers through openstacksdk, as a person would from the CLI."""

from __future__ import annotations

import time

from openstack.compute.v2.server import Server
from openstack.connection import Connection

from tests.cloudharness import active


def launch(conn: Connection, name: str) -> Server:
    cloud = active()
    image = conn.image.find_image(cloud.image_name, ignore_missing=False)
    flavor = conn.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
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
