"""Snapshots through the Django test client (the create operation itself is in test_snapshot_browser.py)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

from django.core.cache import cache

from tests.snapshots.conftest import snapshot_of, wait_image


def _names_url(html: str) -> str:
    found = re.search(r'hx-get="(/snapshots/server-names/\?[^"]+)" hx-trigger="load"', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_it_lists_the_projects_snapshots_in_one_call_and_polls_while_saving(
    member_client, cloud_calls, sdk, server
) -> None:
    name = f"snap-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    cache.delete_many([f"snapshots:server-name:{sdk.current_project_id}:{server.id}"])
    member_client.get("/snapshots/?sort=name")  # warm: version discovery is cached per connection
    member_client.get("/overview/")
    with cloud_calls.recording() as calls:
        html = member_client.get("/snapshots/").content.decode()
    # Glance's list only: no list of the project's servers, whatever their number
    assert [c.split("?")[0] for c in calls] == ["GET image /images"], calls
    assert name in html and server.name not in html  # the server's name follows the page
    if sdk.image.get_image(image_id).status != "active":
        assert 'hx-trigger="every 2s"' in html
    url = _names_url(html)
    assert parse_qs(urlsplit(url).query)["id"] == [server.id] or server.id in url, url
    with cloud_calls.recording() as calls:
        names = member_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    # one per server of the page, not per row (a shared cloud may list other servers' snapshots too)
    ids = parse_qs(urlsplit(url).query)["id"]
    assert server.id in ids and sorted(calls) == sorted(f"GET compute /servers/{i}" for i in set(ids)), calls
    assert f"hx-swap-oob=\"outerHTML:[data-server-name='{server.id}']\"" in names and server.name in names
    assert f"innerHTML:[data-server-option='{server.id}']" in names  # the instance filter's option too
    # Remembered: the next render has the name at once, still with Glance's call only.
    with cloud_calls.recording() as calls:
        html = member_client.get("/snapshots/").content.decode()
    assert [c.split("?")[0] for c in calls] == ["GET image /images"], calls
    assert server.name in html and not _names_url(html)

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


def test_it_filters_by_status_name_and_instance(member_client, sdk, server) -> None:
    name = f"filt-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    wait_image(sdk, image_id)
    assert name in member_client.get(f"/snapshots/?q={name[:7]}").content.decode()
    assert name not in member_client.get("/snapshots/?q=nothing-like-it").content.decode()
    assert name in member_client.get("/snapshots/?status=active").content.decode()
    assert name not in member_client.get("/snapshots/?status=queued").content.decode()
    assert name in member_client.get(f"/snapshots/?server={server.id}").content.decode()
    # A search by the instance's name finds it (the names of the page's servers are asked for at once then).
    cache.delete_many([f"snapshots:server-name:{sdk.current_project_id}:{server.id}"])
    found = member_client.get(f"/snapshots/?q={server.name}").content.decode()
    assert name in found and server.name in found
    assert name in member_client.get("/snapshots/?sort=name").content.decode()
    sdk.image.delete_image(image_id)


def test_it_refuses_to_delete_a_protected_snapshot_with_the_reason(member_client, sdk, server) -> None:
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


def test_the_create_page_preselects_the_instance(member_client, server) -> None:
    html = member_client.get(f"/snapshots/create/?server_id={server.id}").content.decode()
    assert f'value="{server.id}" selected' in html
    assert f"{server.name}-snapshot-" in html
    assert "openstack server image create" in html
    bad = member_client.post("/snapshots/create/", {"server_id": server.id, "name": " x"})
    assert bad.status_code == 400 and 'id="id_name-error"' in bad.content.decode()
    gone = member_client.get("/snapshots/create/?server_id=00000000-0000-0000-0000-000000000000").content.decode()
    assert "cannot be snapshotted now" in gone


def test_a_snapshot_of_a_deleted_server_says_so(member_client, sdk, server) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}"
    image_id = snapshot_of(sdk, server, name)
    wait_image(sdk, image_id)
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, interval=0.2, wait=60)
    cache.delete_many([f"snapshots:server-name:{sdk.current_project_id}:{server.id}"])
    html = member_client.get("/snapshots/").content.decode()
    names = member_client.get(_names_url(html), HTTP_HX_REQUEST="true").content.decode()
    assert "deleted instance" in names and server.name not in names
    assert "deleted instance" in member_client.get("/snapshots/").content.decode()  # remembered as gone
    sdk.image.delete_image(image_id)


def test_server_names_outside_htmx_go_back_to_the_list(member_client) -> None:
    response = member_client.get("/snapshots/server-names/?id=x")
    assert response.status_code == 302 and response["Location"] == "/snapshots/"
