"""The Volumes page and an instance's Volumes section through the Django client, with a real worker, against the
cloud under test: create (blank, from an image), extend, delete, attach and detach, each an operation with its
`openstack` command on Activity; bad input refused next to the field with nothing changed in Cinder; Cinder's and
Nova's refusals (over quota, a volume attached elsewhere, the root volume of a server booted from a volume) failing
the operation in the cloud's words, naming the service, with nothing changed."""

from __future__ import annotations

import re

import pytest

from apps.operations.models import Operation, State
from tests.operations.conftest import wait_op
from tests.pagehelpers import field_errors, last_op, page_text
from tests.volumes.conftest import boot, new_volume, vol_name

pytestmark = [pytest.mark.worker]


def test_a_member_creates_extends_and_deletes_volumes(worker, member_client, vol_conn) -> None:
    conn = vol_conn
    page = page_text(member_client.get("/volumes/"))
    assert 'href="/volumes/"' in page and "openstack volume list --long" in page  # in the navigation, and its CLI

    # a blank volume
    blank = vol_name()
    response = member_client.post("/volumes/create/", {"name": blank, "source": "blank", "size": "1"})
    assert response.status_code == 302 and response["Location"] == "/volumes/"
    op = wait_op(last_op("volume.create").id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    vol = conn.block_storage.get_volume(op.target_id)
    assert (vol.name, vol.size, vol.status, vol.is_bootable) == (blank, 1, "available", False)
    assert f"openstack volume create --size 1 {blank}" in page_text(member_client.get(f"/activity/{op.id}/"))
    calm = member_client.get("/volumes/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="volume-table")
    assert calm.status_code == 286 and f'data-volume="{blank}"' in calm.content.decode()  # nothing in flux: stop

    # from an image: the size left empty is the image's
    imaged = vol_name()
    image = conn.image.find_image(worker.cloud.image_name, ignore_missing=False)
    form = page_text(member_client.get(f"/volumes/create/?image={image.id}"))
    assert re.search(r'name="source" value="image"[^>]*checked', form), form
    assert re.search(rf'<option value="{image.id}" selected>', form), form
    response = member_client.post("/volumes/create/", {"name": imaged, "source": "image", "image_id": image.id})
    assert response.status_code == 302
    made = wait_op(last_op("volume.create").id)
    assert made.state == State.SUCCEEDED, (made.display_message, made.steps)
    from_image = conn.block_storage.get_volume(made.target_id)
    assert from_image.is_bootable and from_image.size >= 1

    listing = page_text(member_client.get("/volumes/"))
    row = re.search(rf'<tr class="volume-row[^"]*" data-volume="{imaged}".*?</tr>', listing, re.S)
    assert row is not None, listing
    assert f"from the image {image.name}" in row.group(0) and "yes" in row.group(0) and "Available" in row.group(0)

    # extend: not larger is refused next to the field, Cinder's size unchanged; larger is an operation
    url = f"/volumes/{vol.id}/extend/"
    assert f"openstack volume set --size 2 {vol.id}" in page_text(member_client.get(url))
    refused = member_client.post(url, {"new_size": "1"})
    assert refused.status_code == 400
    assert "must be larger than the volume's 1 GiB" in field_errors(page_text(refused))["new_size"]
    assert not Operation.objects.filter(kind="volume.extend").exists()
    assert conn.block_storage.get_volume(vol.id).size == 1
    assert member_client.post(url, {"new_size": "2"}).status_code == 302
    # at once, the list marks the volume with its operation (or shows it extending) and keeps polling
    busy = page_text(member_client.get("/volumes/"))
    assert 'id="volume-table" hx-get' in busy or conn.block_storage.get_volume(vol.id).size == 2
    extended = wait_op(last_op("volume.extend").id)
    assert extended.state == State.SUCCEEDED, extended.message
    assert conn.block_storage.get_volume(vol.id).size == 2
    assert f"openstack volume set --size 2 {vol.id}" in page_text(member_client.get(f"/activity/{extended.id}/"))
    row = re.search(rf'data-volume="{blank}".*?</tr>', page_text(member_client.get("/volumes/")), re.S)
    assert row is not None and "2 GiB" in row.group(0)

    # delete both
    for volume_id in (vol.id, from_image.id):
        assert member_client.post(f"/volumes/{volume_id}/delete/").status_code == 302
        deleted = wait_op(last_op("volume.delete").id)
        assert deleted.state == State.SUCCEEDED, deleted.message
        assert conn.block_storage.find_volume(volume_id) is None
    assert f"openstack volume delete {from_image.id}" in page_text(member_client.get(f"/activity/{deleted.id}/"))
    listing = page_text(member_client.get("/volumes/"))
    assert blank not in listing and imaged not in listing


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_made(worker, member_client, vol_conn) -> None:
    before = {v.id for v in vol_conn.block_storage.volumes()}
    cases = [
        ({"name": "  ", "source": "blank", "size": "1"}, "name", "Give the volume a name."),
        ({"name": vol_name(), "source": "blank", "size": ""}, "size", "Give the size of the new volume."),
        ({"name": vol_name(), "source": "blank", "size": "0"}, "size", "greater than or equal to 1"),
        ({"name": vol_name(), "source": "image", "image_id": ""}, "image_id", "Choose an image."),
    ]
    for data, field, words in cases:
        response = member_client.post("/volumes/create/", data)
        assert response.status_code == 400, data
        assert words in field_errors(page_text(response)).get(field, ""), (data, field_errors(page_text(response)))
    assert not Operation.objects.filter(kind="volume.create").exists()
    assert {v.id for v in vol_conn.block_storage.volumes()} == before


def test_cinder_refusals_fail_the_operation_in_cinders_words(worker, member_client, vol_conn) -> None:
    """Over the gigabytes quota: Cinder refuses the create (413), the operation says so naming the service, and no
    volume is made. A volume attached to an instance cannot be deleted: Cinder's reason, the volume stays."""
    conn = vol_conn
    quota = conn.block_storage.get_quota_set(conn.current_project_id, usage=False)
    too_big = int(quota.gigabytes) + 1
    if quota.gigabytes < 0 or too_big > 16384:
        pytest.skip("the project's gigabytes quota is unlimited or above what the form offers")
    name = vol_name()
    data = {"name": name, "source": "blank", "size": str(too_big)}
    assert member_client.post("/volumes/create/", data).status_code == 302
    op = wait_op(last_op("volume.create").id)
    assert op.state == State.FAILED
    assert op.display_message.startswith("Block Storage (Cinder): "), op.display_message
    assert "gigabytes" in op.display_message and "quota" in op.display_message, op.display_message
    assert not list(conn.block_storage.volumes(name=name))

    server = boot(conn, vol_name("t-volsrv"))
    data = new_volume(conn, vol_name())
    conn.compute.create_volume_attachment(server, volume_id=data.id)
    conn.block_storage.wait_for_status(data, status="in-use", interval=0.3, wait=120)
    assert member_client.post(f"/volumes/{data.id}/delete/").status_code == 302
    refused = wait_op(last_op("volume.delete").id)
    assert refused.state == State.FAILED
    assert refused.display_message.startswith("Block Storage (Cinder): Invalid volume"), refused.display_message
    assert conn.block_storage.get_volume(data.id).status == "in-use"
    # the list offers neither Delete nor, while attached, anything but Extend; it links the instance
    row = re.search(rf'data-volume="{data.name}".*?</tr>', page_text(member_client.get("/volumes/")), re.S)
    assert row is not None and f'href="/instances/{server.id}/"' in row.group(0) and "Delete" not in row.group(0)


def test_attach_and_detach_from_the_instance_page(worker, member_client, vol_conn) -> None:
    conn = vol_conn
    server, other = boot(conn, vol_name("t-volsrv")), boot(conn, vol_name("t-volsrv"))
    data = new_volume(conn, vol_name())
    detail = f"/instances/{server.id}/"
    page = page_text(member_client.get(detail))
    assert 'id="volumes"' in page and "No volume is attached to this instance." in page
    assert f"openstack server volume list {server.id}" in page

    form = page_text(member_client.get(detail + "volumes/attach/"))
    assert f'<option value="{data.id}">{data.name} (1 GiB)</option>' in form
    assert f"openstack server add volume {server.id} <volume>" in form
    response = member_client.post(detail + "volumes/attach/", {"volume_id": data.id, "device": "/dev/vdc"})
    assert response.status_code == 302 and response["Location"] == detail
    op = wait_op(last_op("server.attach_volume").id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    attachments = list(conn.compute.volume_attachments(server))
    assert [a.volume_id for a in attachments] == [data.id]
    vol = conn.block_storage.get_volume(data.id)
    assert vol.status == "in-use" and vol.attachments[0]["server_id"] == server.id
    page = page_text(member_client.get(detail))
    row = re.search(rf'<tr class="attached-volume" data-volume="{data.name}".*?</tr>', page, re.S)
    assert row is not None, page
    assert "1 GiB" in row.group(0) and attachments[0].device in row.group(0) and "In use" in row.group(0)
    activity = page_text(member_client.get(f"/activity/{op.id}/"))
    assert f"openstack server add volume --device /dev/vdc {server.id} {data.id}" in activity

    # attached already: Nova refuses it for the other server, in its words; nothing changes on either
    assert member_client.post(f"/instances/{other.id}/volumes/attach/", {"volume_id": data.id}).status_code == 302
    refused = wait_op(last_op("server.attach_volume").id)
    assert refused.state == State.FAILED
    assert refused.display_message.startswith("Compute (Nova): "), refused.display_message
    assert "already attached" in refused.display_message or "in-use" in refused.display_message
    assert list(conn.compute.volume_attachments(other)) == []
    assert conn.block_storage.get_volume(data.id).attachments[0]["server_id"] == server.id

    # detach
    assert member_client.post(detail + f"volumes/{data.id}/detach/", {"next": detail}).status_code == 302
    detached = wait_op(last_op("server.detach_volume").id)
    assert detached.state == State.SUCCEEDED, detached.message
    assert list(conn.compute.volume_attachments(server)) == []
    assert conn.block_storage.get_volume(data.id).status == "available"
    assert "No volume is attached to this instance." in page_text(member_client.get(detail))
    activity = page_text(member_client.get(f"/activity/{detached.id}/"))
    assert f"openstack server remove volume {server.id} {data.id}" in activity


def test_the_root_volume_cannot_be_detached(worker, member_client, vol_conn) -> None:
    conn = vol_conn
    server = boot(conn, vol_name("t-volbfv"), boot_volume_gb=1)
    (root,) = [a.volume_id for a in conn.compute.volume_attachments(server)]
    detail = f"/instances/{server.id}/"
    page = page_text(member_client.get(detail))
    row = re.search(rf'data-volume-id="{root}".*?</tr>', page, re.S)
    assert row is not None and "boot volume" in row.group(0)
    assert member_client.post(detail + f"volumes/{root}/detach/").status_code == 302
    refused = wait_op(last_op("server.detach_volume").id)
    assert refused.state == State.FAILED
    assert refused.display_message == "Compute (Nova): Cannot detach a root device volume", refused.display_message
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [root]
    assert conn.block_storage.get_volume(root).status == "in-use"


def test_the_launch_form_offers_volumes_and_keeps_an_existing_one(member_client, vol_conn) -> None:
    conn = vol_conn
    available = list(conn.block_storage.volumes(status="available"))
    page = page_text(member_client.get("/instances/launch/"))
    if not available:
        assert 'data-role="no-volumes"' in page and 'href="/volumes/create/"' in page
    # the new volume made at launch goes with the instance by default; an existing one stays by default
    assert re.search(r'<input type="checkbox" name="delete_on_termination"[^>]*checked', page)
    assert re.search(r'<input type="checkbox" name="delete_volume"[^>]*>', page)
    assert not re.search(r'<input type="checkbox" name="delete_volume"[^>]*checked', page)
    vol = new_volume(conn, vol_name())
    page = page_text(member_client.get("/instances/launch/"))
    assert f'<option value="{vol.id}">{vol.name} (1 GiB)</option>' in page
    if not [v for v in conn.block_storage.volumes(status="available") if v.id != vol.id]:
        assert 'data-role="no-volumes"' not in page


def test_the_instance_page_reads_volumes_only_for_those_attached(member_client, vol_conn, cloud_calls) -> None:
    """The Volumes section takes the attached volumes' ids from the server Nova already gave the page: no Cinder call
    for a server without volumes, one `GET /volumes/{id}` for each attached one, never Nova's attachment list."""
    conn = vol_conn
    server = boot(conn, vol_name("t-volcalls"))
    detail = f"/instances/{server.id}/"
    member_client.get(detail)  # the first time also discovers the services' versions
    with cloud_calls.recording() as calls:
        assert member_client.get(detail).status_code == 200
    assert not [c for c in calls if "/volumes" in c or "os-volume_attachments" in c], calls

    data = new_volume(conn, vol_name())
    conn.compute.create_volume_attachment(server, volume_id=data.id)
    conn.block_storage.wait_for_status(data, "in-use", wait=60)
    with cloud_calls.recording() as calls:
        page = page_text(member_client.get(detail))
    assert re.search(rf'<tr class="attached-volume" data-volume="{data.name}"', page), page
    volume_calls = [c for c in calls if "/volumes" in c or "os-volume_attachments" in c]
    assert [c.split(" ", 1)[1] for c in volume_calls] == [f"block-storage /volumes/{data.id}"], calls
