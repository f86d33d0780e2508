"""Glance v2: versions, list filters/sort/paging, show, create/upload/patch/delete, visibility, errors,
through raw HTTP, openstacksdk and the real `openstack` CLI."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, call, cli, cli_json, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


@pytest.fixture(scope="module")
def member(cloud: TestCloud) -> Session:
    return login(cloud.member)


def _images(s: Session) -> str:
    return s.url("image") + "/v2/images"


def _create(s: Session, **fields: Any) -> dict[str, Any]:
    body = {"name": "t-" + uuid.uuid4().hex[:8], "disk_format": "raw", "container_format": "bare", **fields}
    reply = s.call("POST", _images(s), body)
    assert reply.status == 201, reply.raw
    return reply.body


def _count(s: Session) -> int:
    return len(s.call("GET", _images(s) + "?limit=1000").body["images"])


def test_versions(cloud: TestCloud, member: Session) -> None:
    root = member.url("image")
    reply = call("GET", root)
    assert reply.status == 300
    ids = [v["id"] for v in reply.body["versions"]]
    assert "v2.0" in ids and any(v["status"] == "CURRENT" for v in reply.body["versions"])
    assert call("GET", root + "/versions").status == 200


def test_list_shape_and_base_images(cloud: TestCloud, member: Session) -> None:
    reply = member.call("GET", _images(member))
    assert reply.status == 200
    assert reply.body["schema"] == "/v2/schemas/images" and reply.body["first"].startswith("/v2/images")
    images = reply.body["images"]
    assert images
    for img in images:
        for key in ("id", "name", "status", "visibility", "owner", "disk_format", "container_format", "size",
                    "min_disk", "min_ram", "checksum", "os_hash_algo", "os_hash_value", "protected", "tags",
                    "created_at", "updated_at", "self", "file", "schema"):  # fmt: skip
            assert key in img, key
    if cloud.is_devcloud:
        by_name = {i["name"]: i for i in images}
        cirros = by_name["cirros-0.6.3-x86_64-disk"]
        assert cirros["visibility"] == "public" and cirros["status"] == "active"
        assert cirros["disk_format"] == "qcow2" and cirros["os_distro"] == "cirros"
        assert cirros["size"] > 0 and cirros["min_disk"] >= 1 and len(cirros["checksum"]) == 32
        assert {"debian-12-genericcloud-amd64", "ubuntu-24.04-minimal"} <= set(by_name)


def test_filters_sort_and_paging(member: Session) -> None:
    run = uuid.uuid4().hex[:6]
    a, b, c = (_create(member, name=f"page-{run}-{i}", tags=["paging"]) for i in range(3))
    try:
        ids = f"in:{a['id']},{b['id']},{c['id']}"
        listed = member.call("GET", f"{_images(member)}?id={ids}&sort=name:asc").body["images"]
        assert [i["id"] for i in listed] == [a["id"], b["id"], c["id"]]
        desc = member.call("GET", f"{_images(member)}?id={ids}&sort_key=name&sort_dir=desc").body["images"]
        assert [i["id"] for i in desc] == [c["id"], b["id"], a["id"]]

        first = member.call("GET", f"{_images(member)}?id={ids}&sort=name:asc&limit=2").body
        assert [i["id"] for i in first["images"]] == [a["id"], b["id"]]
        assert first["next"].startswith("/v2/images?") and "marker=" + b["id"] in first["next"]
        rest = member.call("GET", member.url("image") + first["next"]).body
        assert [i["id"] for i in rest["images"]] == [c["id"]]
        assert "next" not in rest

        by_name = member.call("GET", f"{_images(member)}?name={a['name']}").body["images"]
        assert [i["id"] for i in by_name] == [a["id"]]
        queued = member.call("GET", f"{_images(member)}?id={ids}&status=queued").body["images"]
        assert len(queued) == 3
        tagged = member.call("GET", f"{_images(member)}?tag=paging&id={ids}").body["images"]
        assert len(tagged) == 3
        public = member.call("GET", f"{_images(member)}?visibility=public").body["images"]
        assert all(i["visibility"] == "public" for i in public)

        bad_marker = member.call("GET", f"{_images(member)}?marker={uuid.uuid4()}")
        assert bad_marker.status == 400
        bad_sort = member.call("GET", f"{_images(member)}?sort_key=nonsense")
        assert bad_sort.status == 400
    finally:
        for img in (a, b, c):
            member.call("DELETE", f"{_images(member)}/{img['id']}")


def test_property_filters_find_snapshots(member: Session) -> None:
    instance = str(uuid.uuid4())
    snap = _create(member, image_type="snapshot", instance_uuid=instance)
    try:
        found = member.call("GET", f"{_images(member)}?image_type=snapshot&instance_uuid={instance}").body["images"]
        assert [i["id"] for i in found] == [snap["id"]]
        assert found[0]["image_type"] == "snapshot"
    finally:
        member.call("DELETE", f"{_images(member)}/{snap['id']}")


def test_create_upload_download_patch_delete(member: Session) -> None:
    img = _create(member, min_disk=1, os_distro="testos")
    assert img["status"] == "queued" and img["visibility"] == "shared"
    assert img["owner"] == member.project_id and img["os_distro"] == "testos"
    url = f"{_images(member)}/{img['id']}"

    data = b"devcloud image bytes" * 100
    up = member.call("PUT", url + "/file", raw=data, headers={"Content-Type": "application/octet-stream"})
    assert up.status == 204
    shown = member.call("GET", url).body
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["os_hash_algo"] == "sha512" and shown["checksum"]
    down = member.call("GET", url + "/file")
    assert down.status == 200 and down.raw == data

    again = member.call("PUT", url + "/file", raw=data, headers={"Content-Type": "application/octet-stream"})
    assert again.status == 409

    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
        {"op": "remove", "path": "/os_distro"},
    ]
    patched = member.call("PATCH", url, ops, headers=PATCH)
    assert patched.status == 200, patched.raw
    assert patched.body["name"] == "renamed" and patched.body["hw_disk_bus"] == "scsi"
    assert "os_distro" not in patched.body

    wrong_type = member.call("PATCH", url, ops, headers={"Content-Type": "application/json"})
    assert wrong_type.status == 415
    read_only = member.call("PATCH", url, [{"op": "replace", "path": "/status", "value": "active"}], headers=PATCH)
    assert read_only.status == 403
    missing = member.call("PATCH", url, [{"op": "remove", "path": "/no_such_prop"}], headers=PATCH)
    assert missing.status == 409
    publicize = member.call("PATCH", url, [{"op": "replace", "path": "/visibility", "value": "public"}], headers=PATCH)
    assert publicize.status == 403
    assert member.call("GET", url).body["name"] == "renamed"  # nothing changed by the refused patches

    assert member.call("DELETE", url).status == 204
    gone = member.call("GET", url)
    assert gone.status == 404
    assert gone.body["code"].startswith("404") and "message" in gone.body


def test_protected_image_cannot_be_deleted(member: Session) -> None:
    img = _create(member, protected=True)
    url = f"{_images(member)}/{img['id']}"
    refused = member.call("DELETE", url)
    assert refused.status == 403
    assert "protected" in refused.body["message"]
    assert member.call("GET", url).status == 200
    member.call("PATCH", url, [{"op": "replace", "path": "/protected", "value": False}], headers=PATCH)
    assert member.call("DELETE", url).status == 204


def test_bad_input_changes_nothing(member: Session) -> None:
    before = _count(member)
    malformed = member.call("POST", _images(member), raw=b"{oops", headers={"Content-Type": "application/json"})
    assert malformed.status == 400 and "message" in malformed.body
    bad_format = member.call("POST", _images(member), {"name": "x", "disk_format": "floppy"})
    assert bad_format.status == 400
    bad_min = member.call("POST", _images(member), {"name": "x", "min_disk": -1})
    assert bad_min.status == 400
    read_only = member.call("POST", _images(member), {"name": "x", "status": "active"})
    assert read_only.status == 403
    public = member.call("POST", _images(member), {"name": "x", "visibility": "public"})
    assert public.status == 403
    assert _count(member) == before


def test_visibility_between_projects(devcloud: TestCloud, member: Session) -> None:
    other = login(devcloud.member, project_name="demo-2")
    private = _create(member, visibility="private")
    shared = _create(member, visibility="shared")
    community = _create(member, visibility="community")
    try:
        assert other.call("GET", f"{_images(other)}/{private['id']}").status == 404
        assert other.call("GET", f"{_images(other)}/{community['id']}").status == 200
        listed = {i["id"] for i in other.call("GET", _images(other) + "?limit=1000").body["images"]}
        assert private["id"] not in listed and shared["id"] not in listed and community["id"] not in listed
        community_list = other.call("GET", _images(other) + "?visibility=community").body["images"]
        assert community["id"] in {i["id"] for i in community_list}
        # Share with demo-2: pending (hidden from the default list) until accepted.
        add = member.call("POST", f"{_images(member)}/{shared['id']}/members", {"member": other.project_id})
        assert add.status == 200 and add.body["status"] == "pending"
        assert other.call("GET", f"{_images(other)}/{shared['id']}").status == 200
        accept = other.call(
            "PUT", f"{_images(other)}/{shared['id']}/members/{other.project_id}", {"status": "accepted"}
        )
        assert accept.status == 200
        listed = {i["id"] for i in other.call("GET", _images(other) + "?limit=1000").body["images"]}
        assert shared["id"] in listed
        # Not the owner: may not delete.
        assert other.call("DELETE", f"{_images(other)}/{shared['id']}").status == 403
        # The admin sees everything.
        admin = login(devcloud.admin)
        assert admin.call("GET", f"{_images(admin)}/{private['id']}").status == 200
    finally:
        for img in (private, shared, community):
            member.call("DELETE", f"{_images(member)}/{img['id']}")


def test_schema(member: Session) -> None:
    schema = member.call("GET", member.url("image") + "/v2/schemas/image")
    assert schema.status == 200
    assert schema.body["name"] == "image"
    assert {"id", "name", "visibility", "disk_format"} <= set(schema.body["properties"])
    assert schema.body["additionalProperties"] == {"type": "string"}


def test_sdk_images(cloud: TestCloud) -> None:
    conn = cloud.member.connect()
    images = list(conn.image.images())
    assert images and all(i.id and i.status for i in images)
    first = conn.image.get_image(images[0].id)
    assert first.name == images[0].name
    paged = list(conn.image.images(limit=1))
    assert {i.id for i in paged} == {i.id for i in images}


def test_cli_image_list_show_delete(cloud: TestCloud, member: Session) -> None:
    mine = _create(member, name="cli-delete-" + uuid.uuid4().hex[:6])
    listed = cli_json(cloud, cloud.member.name, "image", "list")
    names = [i["Name"] for i in listed]
    assert mine["name"] in names
    target = names[0] if not cloud.is_devcloud else "cirros-0.6.3-x86_64-disk"
    shown = cli_json(cloud, cloud.member.name, "image", "show", target)
    assert shown["name"] == target and shown["status"] == "active"
    cli(cloud, cloud.member.name, "image", "delete", mine["name"])
    assert member.call("GET", f"{_images(member)}/{mine['id']}").status == 404
    missing = cli(cloud, cloud.member.name, "image", "show", "no-such-image-" + uuid.uuid4().hex[:6], check=False)
    assert missing.returncode != 0


def test_base_image_download_matches_checksum(devcloud: TestCloud, member: Session) -> None:
    import hashlib

    cirros = member.call("GET", _images(member) + "?name=cirros-0.6.3-x86_64-disk").body["images"][0]
    reply = member.call("GET", f"{_images(member)}/{cirros['id']}/file", timeout=60)
    assert reply.status == 200 and len(reply.raw) == cirros["size"]
    assert hashlib.md5(reply.raw, usedforsecurity=False).hexdigest() == cirros["checksum"]
    assert hashlib.sha512(reply.raw).hexdigest() == cirros["os_hash_value"]
