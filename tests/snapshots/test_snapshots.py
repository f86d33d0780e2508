"""Snapshots through the Django test client (the create operation itself is in test_snapshot_browser.py)."""

from __future__ import annotations

import uuid

from tests.snapshots.conftest import snapshot_of, wait_image


def test_it_lists_the_projects_snapshots_in_two_calls_and_polls_while_saving(
    member_client, cloud_calls, sdk, server
) -> None:  # noqa: ANN001, E501
    name = f"snap-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    member_client.get("/snapshots/")  # warm: version discovery is cached per process
    with cloud_calls.recording() as calls:
        html = member_client.get("/snapshots/").content.decode()
    assert name in html and server.name in html
    if sdk.image.get_image(image_id).status != "active":
        assert 'hx-trigger="every 2s"' in html
    # Glance's snapshots and Nova's server names, asked at once (so in either order)
    assert sorted(c.split("?")[0] for c in calls) == ["GET compute /servers", "GET image /images"], calls

    wait_image(sdk, image_id)
    html = member_client.get("/snapshots/").content.decode()
    assert 'hx-trigger="every 2s"' not in html
    assert "Launch" in html or "instances:launch" not in html

    detail = member_client.get(f"/snapshots/{image_id}/").content.decode()
    assert "instance_uuid" not in detail or server.id in detail
    assert server.name in detail and "openstack image show" in detail

    partial = member_client.get(f"/snapshots/{image_id}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="snapshot-status"' in partial and "<html" not in partial

    response = member_client.post(f"/snapshots/{image_id}/delete/", {"name": name})
    assert response.status_code == 302
    assert sdk.image.find_image(image_id) is None


def test_it_filters_by_status_name_and_instance(member_client, sdk, server) -> None:  # noqa: ANN001
    name = f"filt-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    wait_image(sdk, image_id)
    assert name in member_client.get(f"/snapshots/?q={name[:7]}").content.decode()
    assert name not in member_client.get("/snapshots/?q=nothing-like-it").content.decode()
    assert name in member_client.get("/snapshots/?status=active").content.decode()
    assert name not in member_client.get("/snapshots/?status=queued").content.decode()
    assert name in member_client.get(f"/snapshots/?server={server.id}").content.decode()
    assert name in member_client.get("/snapshots/?sort=name").content.decode()
    sdk.image.delete_image(image_id)


def test_it_refuses_to_delete_a_protected_snapshot_with_the_reason(member_client, sdk, server) -> None:  # noqa: ANN001
    name = f"prot-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    wait_image(sdk, image_id)
    sdk.image.update_image(image_id, protected=True)
    response = member_client.post(f"/snapshots/{image_id}/delete/", {"name": name}, follow=True)
    html = response.content.decode()
    assert "was not deleted" in html and "protected" in html
    assert sdk.image.get_image(image_id).status == "active"
    sdk.image.update_image(image_id, protected=False)
    sdk.image.delete_image(image_id)


def test_the_create_page_preselects_the_instance(member_client, server) -> None:  # noqa: ANN001
    html = member_client.get(f"/snapshots/create/?server_id={server.id}").content.decode()
    assert f'value="{server.id}" selected' in html
    assert f"{server.name}-snapshot-" in html
    assert "openstack server image create" in html
    bad = member_client.post("/snapshots/create/", {"server_id": server.id, "name": " x"})
    assert bad.status_code == 400 and 'id="id_name-error"' in bad.content.decode()
    gone = member_client.get("/snapshots/create/?server_id=00000000-0000-0000-0000-000000000000").content.decode()
    assert "cannot be snapshotted now" in gone
