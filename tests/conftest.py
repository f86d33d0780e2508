"""Suite-wide fixtures: the cloud under test (devcloud over real HTTP, or a real cloud)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.cloudharness import TestCloud, real_cloud, start_devcloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCloud]:
    spec = os.environ.get("STRATUS_TEST_CLOUD")
    if spec:
        yield real_cloud(spec)
        return
    state = tmp_path_factory.mktemp("devcloud") / "state"
    c = start_devcloud(state)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def devcloud(cloud: TestCloud) -> TestCloud:
    """The cloud, when the test needs devcloud itself (fault injection): skipped against a real cloud."""
    if not cloud.is_devcloud:
        pytest.skip("needs devcloud's fault injection; cannot run against a real cloud")
    return cloud
