"""A running server of the member's project, made through openstacksdk, and waiting helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import openstack
import pytest

from tests import waiting
from tests.cloudharness import active


def wait_until(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    return waiting.wait_until(check, timeout=timeout, what=what)  # a snapshot takes longer: a minute


@pytest.fixture
def sdk(stratus) -> Iterator[openstack.connection.Connection]:
    conn = openstack.connect(cloud=stratus.member.name)
    yield conn
    conn.close()


@pytest.fixture
def server(sdk) -> Iterator[Any]:
    """A small ACTIVE server of the member's project; deleted afterwards."""
    cloud = active()
    flavor = sdk.compute.find_flavor(cloud.small_flavor, ignore_missing=False)
    image = sdk.image.find_image(cloud.image_name, ignore_missing=False)
    created = sdk.compute.create_server(
        name=f"snap-src-{uuid.uuid4().hex[:6]}", flavor_id=flavor.id, image_id=image.id, networks="none"
    )
    created = sdk.compute.wait_for_server(created, status="ACTIVE", interval=0.2, wait=120)
    yield created
    sdk.compute.delete_server(created, ignore_missing=True)


def snapshot_of(sdk, server, name: str) -> str:
    """Take a snapshot straight through Nova (for tests that are not about creating one); returns its id."""
    return sdk.compute.create_server_image(server, name, wait=False).id


def wait_image(sdk, image_id: str, status: str = "active", timeout: float = 60) -> Any:
    return wait_until(
        lambda: (img := sdk.image.get_image(image_id)).status == status and img,
        timeout=timeout,
        what=f"image {image_id} {status}",
    )
