"""Fixtures of the security tests: project A (the demo member's project) and project B (a fresh project whose only
member is a fresh user), each with a server, a snapshot and a key pair; signed-in clients for both.

The objects are made once per test module (booting and snapshotting takes a few seconds) and removed after it,
together with project B and its user — on devcloud and on a real cloud alike (`make test-cloud`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.cloudharness import TestCloud
from tests.conftest import sign_in_client
from tests.security.helpers import Objects, OtherProject, create_other_project, make_objects


@pytest.fixture(scope="module")
def other_project(cloud: TestCloud) -> Iterator[OtherProject]:
    other = create_other_project(cloud)
    try:
        yield other
    finally:
        other.delete()


@pytest.fixture(scope="module")
def objects_a(cloud: TestCloud) -> Iterator[Objects]:
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    objects = make_objects(cloud.member, "alpha")
    try:
        yield objects
    finally:
        objects.cleanup()


@pytest.fixture(scope="module")
def objects_b(cloud: TestCloud, other_project: OtherProject) -> Iterator[Objects]:
    objects = make_objects(other_project.creds, "bravo")
    try:
        yield objects
    finally:
        objects.cleanup()


@pytest.fixture
def member_b_client(stratus: TestCloud, db: None, other_project: OtherProject) -> Client:
    """Signed in as the user who is a member of project B only."""
    return sign_in_client(Client(), other_project.creds)


@pytest.fixture
def project_a_client(member_client: Client, stratus: TestCloud) -> Client:
    """The demo member, working in project A (the member cloud's project, "demo" on devcloud)."""
    from apps.accounts.session import SESSION_KEY

    data = member_client.session[SESSION_KEY]
    if data["creds"]["body"]["project"]["name"] != stratus.member.project_name:
        project = next(p for p in data["projects"] if p["name"] == stratus.member.project_name)
        assert member_client.post("/auth/project/", {"project_id": project["id"]}).status_code == 302
    assert member_client.session[SESSION_KEY]["creds"]["body"]["project"]["name"] == stratus.member.project_name
    return member_client
