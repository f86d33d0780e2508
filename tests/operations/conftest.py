"""Helpers for the operations suite: the member's Credentials (through a real Keystone sign-in), the cloud
seen through openstacksdk, and waiting on an operation row with a deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import openstack
import pytest
from django.test import Client

from apps.accounts.session import read
from apps.cloud.connection import Credentials
from apps.operations.models import FINAL_STATES, Operation, State
from tests.cloudharness import active, project_lock
from tests.conftest import sign_in_client
from tests.waiting import wait_until  # noqa: F401 - the operation tests import it from here


@pytest.fixture
def member_creds(stratus, transactional_db) -> Credentials:
    client = sign_in_client(Client(), stratus.member)
    return read(client.session)


@pytest.fixture
def sdk(stratus) -> Iterator[openstack.connection.Connection]:
    """The member's own openstacksdk connection (clouds.yaml), to check the cloud's state independently.

    The servers and snapshot images a test leaves behind are deleted afterwards: the project's quota is shared
    by every test that runs on this cloud. Only `ops-…` ones: on a real cloud other tests share the project (and
    one operations test runs at a time there, see project_lock)."""
    with project_lock(stratus, "ops-"):
        yield from _sdk(stratus)


def _sdk(stratus) -> Iterator[openstack.connection.Connection]:
    conn = openstack.connect(cloud=stratus.member.name)
    servers_before = {s.id for s in conn.compute.servers()}
    images_before = {i.id for i in conn.image.images()}
    yield conn
    left = [s for s in conn.compute.servers() if s.id not in servers_before and (s.name or "").startswith("ops-")]
    for server in left:
        try:
            if server.is_locked:
                conn.compute.unlock_server(server)
            conn.compute.delete_server(server)
        except openstack.exceptions.SDKException:
            pass
    for server in left:
        try:
            conn.compute.wait_for_delete(server, interval=0.2, wait=60)
        except openstack.exceptions.SDKException:
            pass
    for image in conn.image.images():
        if (
            image.id not in images_before
            and image.owner == conn.current_project_id
            and (image.name or "").startswith("ops-")
        ):
            try:
                conn.image.delete_image(image)
            except openstack.exceptions.SDKException:
                pass
    conn.close()


@pytest.fixture
def boot(sdk) -> dict[str, str]:
    """The cloud's small flavor and test image (see tests/cloudharness.py)."""
    cloud = active()
    flavor = sdk.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
    image = sdk.image.find_image(cloud.image_name, ignore_missing=False)
    return {"flavor_id": flavor.id, "image_id": image.id}


def wait_op(op_id, *, timeout: float = 120, states=FINAL_STATES) -> Operation:
    deadline = time.monotonic() + timeout
    while True:
        op = Operation.objects.get(id=op_id)
        if op.state in states:
            return op
        if time.monotonic() > deadline:
            raise AssertionError(f"operation {op.kind} still {op.state} after {timeout} s: steps={op.steps}")
        time.sleep(0.1)


def servers_tagged(sdk, tag: str) -> list:
    return [s for s in sdk.compute.servers(details=True, tags=tag) if s.status != "DELETED"]


@pytest.fixture
def clear_faults(devcloud) -> Iterator[None]:
    devcloud.control("faults", method="DELETE")
    devcloud.control("build-failures", method="DELETE")
    yield
    devcloud.control("faults", method="DELETE")
    devcloud.control("build-failures", method="DELETE")


def make_server(sdk, boot: dict, name: str, status: str = "ACTIVE"):
    """A server made directly through openstacksdk (not through Stratus), in `status`."""
    server = sdk.compute.create_server(
        name=name, flavor_id=boot["flavor_id"], image_id=boot["image_id"], networks="none"
    )
    server = sdk.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
    if status == "SHUTOFF":
        sdk.compute.stop_server(server)
        server = sdk.compute.wait_for_server(server, status="SHUTOFF", interval=0.2, wait=60)
    return server


def server_gone(sdk, server_id: str) -> bool:
    from openstack import exceptions

    try:
        return sdk.compute.get_server(server_id).status == "DELETED"
    except exceptions.NotFoundException:
        return True


def operation_row(creds: Credentials, **fields) -> Operation:
    """An operation row of `creds`' user and project (a stop of web-1 that succeeded, unless `fields` say otherwise)."""
    base = {
        "user_id": creds.user_id,
        "user_name": creds.user_name,
        "project_id": creds.project_id,
        "project_name": creds.project_name,
        "kind": "server.stop",
        "target_type": "server",
        "target_id": str(uuid.uuid4()),
        "target_name": "web-1",
        "state": State.SUCCEEDED,
    }
    return Operation.objects.create(**(base | fields))
