"""The snapshot operation's reading of Nova's createImage record when the image is gone (no cloud, no worker)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.instances.operations import ServerFailed, snapshot_saved


def test_an_action_listed_then_missing_fails_with_a_clear_message_not_an_attribute_error():
    """A fake compute proxy: the fault (Nova lists the createImage action, then its record is gone, and
    openstacksdk's get_server_action answers None, its ignore_missing default) cannot be made on devcloud on demand."""
    action = SimpleNamespace(action="createImage", start_time="2026-12-01T23:00:00Z", request_id="req-1")
    compute = SimpleNamespace(
        server_actions=lambda server_id: [action],
        get_server_action=lambda request_id, server_id: None,
    )
    ctx = SimpleNamespace(conn=SimpleNamespace(compute=compute))
    with pytest.raises(ServerFailed) as failed:
        snapshot_saved(ctx, "server-1")
    assert "no longer shows its record" in str(failed.value)
    assert failed.value.service == "compute"
