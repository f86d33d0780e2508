"""Where devcloud answered differently from Nova 34 and Cinder 29 (issue 23), one test per behaviour, over raw
HTTP: the status, the body's shape, and what changed in the cloud (Glance's images, the server, the quotas).

Each test runs on devcloud and on a real cloud (`cloud` fixture) unless it needs devcloud's own seeded state.
What Nova does is read from its source: create_backup.py and manager._rotate_backups, compute.api.shelve and
manager._unshelve_instance, schemas/flavors.py, images.py and image_metadata.py (MAX_PROXY_API_SUPPORT_VERSION
2.35, metadata to 2.38), quota_classes.py, crypto.generate_winrm_x509_cert, versions.py, manager._tail_log, the
IPV6Address field; Cinder's v3 volume views and its API extensions (which extend show and detail only).
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import ssl
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Reply, Session, login
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def mv(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"compute {version}"}


@dataclass
class Env:
    cloud: TestCloud
    demo: Session
    admin: Session
    nova: str
    glance: str
    image_id: str
    flavor_id: str


@pytest.fixture(scope="module")
def env(cloud: TestCloud) -> Env:
    demo, admin = login(cloud.member), login(cloud.admin)
    nova, glance = demo.url("compute"), demo.url("image").rstrip("/")
    glance = glance if glance.endswith("/v2") else glance + "/v2"
    image = demo.call("GET", f"{glance}/images?name={cloud.image_name}").body["images"][0]
    flavors = demo.call("GET", f"{nova}/flavors").body["flavors"]
    flavor = next(f for f in flavors if f["name"] == cloud.small_flavor)
    return Env(cloud, demo, admin, nova, glance, image["id"], flavor["id"])


def _fault(reply: Reply, status: int, kind: str, *fragments: str) -> str:
    assert reply.status == status, (reply.status, reply.raw[:500])
    assert list(reply.body) == [kind] and reply.body[kind]["code"] == status, reply.body
    message = reply.body[kind]["message"]
    for fragment in fragments:
        assert fragment in message, message
    return message


def _name(prefix: str) -> str:
    return f"t-{prefix}-{uuid.uuid4().hex[:8]}"


def _server(env: Env, sid: str, version: str = "2.1") -> dict[str, Any] | None:
    reply = env.demo.call("GET", f"{env.nova}/servers/{sid}", headers=mv(version))
    return reply.body["server"] if reply.status == 200 else None


def _settled(env: Env, sid: str, status: str, timeout: float = 60) -> dict[str, Any]:
    """The server once it is in `status` with no task in flight."""

    def check() -> dict[str, Any] | None:
        s = _server(env, sid)
        assert s is None or s["status"] != "ERROR", s
        return s if s and s["status"] == status and not s.get("OS-EXT-STS:task_state") else None

    return wait_until(check, timeout=timeout, what=f"server {sid} {status}")


def _boot(env: Env, **extra: Any) -> str:
    body = {"name": _name("parity"), "imageRef": env.image_id, "flavorRef": env.flavor_id, "networks": "none", **extra}
    reply = env.demo.call("POST", f"{env.nova}/servers", {"server": body}, headers=mv("2.37"))
    assert reply.status == 202, reply.raw
    sid = reply.body["server"]["id"]
    _settled(env, sid, "ACTIVE")
    return sid


def _delete(env: Env, sid: str) -> None:
    env.demo.call("DELETE", f"{env.nova}/servers/{sid}")
    wait_until(lambda: _server(env, sid) is None, timeout=60, what=f"server {sid} deleted")


def _image(env: Env, image_id: str) -> dict[str, Any] | None:
    reply = env.demo.call("GET", f"{env.glance}/images/{image_id}")
    return reply.body if reply.status == 200 else None


def _action(env: Env, sid: str, body: dict[str, Any], version: str = "2.1", session: Session | None = None) -> Reply:
    return (session or env.demo).call("POST", f"{env.nova}/servers/{sid}/action", body, headers=mv(version))


# --- 1. createBackup -----------------------------------------------------------------------------------------


def _backup(env: Env, sid: str, name: str, backup_type: str, rotation: Any, version: str = "2.45") -> Reply:
    body = {"createBackup": {"name": name, "backup_type": backup_type, "rotation": rotation}}
    return _action(env, sid, body, version)


def _backups(env: Env, sid: str, backup_type: str) -> list[str]:
    query = f"instance_uuid={sid}&image_type=backup&backup_type={backup_type}&sort_key=created_at&sort_dir=asc"
    return [i["name"] for i in env.demo.call("GET", f"{env.glance}/images?{query}").body["images"]]


def test_create_backup_makes_backup_images_and_rotates_out_the_oldest(env: Env) -> None:
    sid = _boot(env)
    daily = "daily-" + uuid.uuid4().hex[:6]
    try:
        ids = []
        for n in (1, 2, 3):
            reply = _backup(env, sid, f"{daily}-{n}", daily, 2)
            assert reply.status == 202, reply.raw
            assert list(reply.body) == ["image_id"]  # 2.45: the image's id, no Location
            assert reply.header("Location") is None
            ids.append(reply.body["image_id"])
            _settled(env, sid, "ACTIVE")
            wait_until(lambda i=ids[-1]: (_image(env, i) or {}).get("status") == "active", what="the backup active")
        image = _image(env, ids[-1])
        assert image is not None
        assert (image["image_type"], image["backup_type"], image["instance_uuid"]) == ("backup", daily, sid)
        assert image["visibility"] == "private" and image["owner"] == env.demo.project_id
        # rotation 2: the oldest of the three is deleted once the third is uploaded
        wait_until(lambda: _image(env, ids[0]) is None, what="the oldest backup rotated out")
        assert _backups(env, sid, daily) == [f"{daily}-2", f"{daily}-3"]
        actions = env.demo.call("GET", f"{env.nova}/servers/{sid}/os-instance-actions").body["instanceActions"]
        assert [a["action"] for a in actions].count("createBackup") == 3

        # below 2.45: no body; the Location of the image in Nova's image API when rotation > 0, none for rotation 0
        weekly = "weekly-" + uuid.uuid4().hex[:6]
        old = _backup(env, sid, f"{weekly}-1", weekly, "1", version="2.44")
        assert old.status == 202 and old.raw == b""
        location = old.header("Location") or ""
        assert re.search(r"/v2\.1/images/[0-9a-f-]{36}$", location), location
        _settled(env, sid, "ACTIVE")
        wait_until(lambda: (_image(env, location.rsplit("/", 1)[1]) or {}).get("status") == "active", what="weekly")
        zero = _backup(env, sid, f"{weekly}-0", weekly + "-none", 0, version="2.44")
        assert zero.status == 202 and zero.header("Location") is None
        _settled(env, sid, "ACTIVE")
        # rotation 0 keeps none: the new backup itself is deleted after its upload
        wait_until(lambda: _backups(env, sid, weekly + "-none") == [], what="rotation 0 empties the type")
        assert _backups(env, sid, weekly) == [f"{weekly}-1"]
    finally:
        _delete(env, sid)


def test_create_backup_refuses_bad_requests_as_nova_does(env: Env) -> None:
    sid = _boot(env)
    try:
        before = _backups(env, sid, "bad")
        _fault(_backup(env, sid, "b", "bad", -1), 400, "badRequest", "-1 is less than the minimum of 0")
        _fault(_backup(env, sid, "b", "bad", "two"), 400, "badRequest", "does not match '^[0-9]*$'")
        missing = _action(env, sid, {"createBackup": {"name": "b", "rotation": 1}}, "2.45")
        _fault(missing, 400, "badRequest", "'backup_type' is a required property")
        extra = _action(env, sid, {"createBackup": {"name": "b", "backup_type": "bad", "rotation": 1, "x": 1}})
        _fault(extra, 400, "badRequest", "Additional properties are not allowed ('x' was unexpected)")
        _fault(_backup(env, sid, " b", "bad", 1), 400, "badRequest", "Invalid input for field/attribute name")
        assert _action(env, sid, {"os-stop": None}).status == 202
        _settled(env, sid, "SHUTOFF")
        # a stopped server can be backed up; a shelved one cannot
        assert _backup(env, sid, "b-stopped", "bad", 1).status == 202
        _settled(env, sid, "SHUTOFF")
        assert _backups(env, sid, "bad") == [*before, "b-stopped"]
    finally:
        _delete(env, sid)


def test_create_backup_of_a_volume_backed_server_is_400(env: Env) -> None:
    bdm = [
        {"uuid": env.image_id, "source_type": "image", "destination_type": "volume", "boot_index": 0,
         "volume_size": 1, "delete_on_termination": True},
    ]  # fmt: skip
    body = {"name": _name("bfv"), "flavorRef": env.flavor_id, "networks": "none", "block_device_mapping_v2": bdm}
    reply = env.demo.call("POST", f"{env.nova}/servers", {"server": body}, headers=mv("2.37"))
    assert reply.status == 202, reply.raw
    sid = reply.body["server"]["id"]
    try:
        _settled(env, sid, "ACTIVE")
        refused = _backup(env, sid, "bfv-backup", "daily", 1)
        _fault(refused, 400, "badRequest", "Backup is not supported for volume-backed instances.")
        assert _backups(env, sid, "daily") == []
    finally:
        _delete(env, sid)


# --- 2. Cinder's volume create answer ------------------------------------------------------------------------

_CINDER_BASE = {
    "id", "status", "size", "availability_zone", "created_at", "updated_at", "name", "description", "volume_type",
    "snapshot_id", "source_volid", "metadata", "links", "user_id", "bootable", "encrypted", "replication_status",
    "consistencygroup_id", "multiattach", "attachments",
}  # fmt: skip
_CINDER_371 = {"group_id", "service_uuid", "shared_targets", "volume_type_id", "consumes_quota"}


def test_volume_create_and_update_answer_only_cinders_keys(env: Env) -> None:
    volumes = env.demo.url("block-storage") + "/volumes"
    for version, keys in (("3.0", _CINDER_BASE), ("3.71", _CINDER_BASE | _CINDER_371)):
        headers = {"OpenStack-API-Version": f"volume {version}"}
        body = {"volume": {"size": 1, "imageRef": env.image_id, "name": _name("vol")}}
        created = env.demo.call("POST", volumes, body, headers=headers)
        assert created.status == 202, created.raw
        vol = created.body["volume"]
        assert set(vol) == keys, set(vol) ^ keys  # no volume_image_metadata, no tenant attribute
        assert vol["status"] == "creating" and vol["bootable"] in ("true", "false")

        def available(vid: str = vol["id"], h: dict[str, str] = headers) -> dict[str, Any] | None:
            shown = env.demo.call("GET", f"{volumes}/{vid}", headers=h).body["volume"]
            assert shown["status"] != "error", shown
            return shown if shown["status"] == "available" else None

        shown = wait_until(available, timeout=120, what="the volume available")
        # show is extended: the image's metadata, and the project for any reader of it
        assert set(shown) == keys | {"volume_image_metadata", "os-vol-tenant-attr:tenant_id"}, set(shown) ^ keys
        assert shown["volume_image_metadata"]["image_id"] == env.image_id and shown["bootable"] == "true"
        listed = env.demo.call("GET", f"{volumes}/detail?name={vol['name']}", headers=headers).body["volumes"]
        assert [set(v) for v in listed] == [set(shown)]
        updated = env.demo.call("PUT", f"{volumes}/{vol['id']}", {"volume": {"description": "d"}}, headers=headers)
        assert updated.status == 200 and set(updated.body["volume"]) == keys
        assert updated.body["volume"]["description"] == "d"
        assert env.demo.call("DELETE", f"{volumes}/{vol['id']}").status == 202


# --- 3. shelve's `<name>-shelved` image ----------------------------------------------------------------------


def _named(env: Env, name: str) -> list[dict[str, Any]]:
    return env.demo.call("GET", f"{env.glance}/images?name={name}").body["images"]


def test_shelve_snapshots_to_name_shelved_and_unshelve_deletes_it(env: Env) -> None:
    sid = _boot(env)
    name = _server(env, sid)["name"]  # type: ignore[index]
    try:
        assert _action(env, sid, {"shelve": None}).status == 202
        offloaded = _settled(env, sid, "SHELVED_OFFLOADED")
        assert offloaded["OS-EXT-STS:vm_state"] == "shelved_offloaded"
        [image] = _named(env, f"{name}-shelved")
        assert image["status"] == "active" and image["instance_uuid"] == sid and image["image_type"] == "snapshot"
        assert image["owner"] == env.demo.project_id and image["visibility"] == "private"
        assert _action(env, sid, {"unshelve": None}).status == 202
        _settled(env, sid, "ACTIVE")
        wait_until(lambda: _image(env, image["id"]) is None, what="the shelved image deleted on unshelve")
        assert _named(env, f"{name}-shelved") == []

        # shelved again, then deleted: Nova deletes the shelved image with the server
        assert _action(env, sid, {"shelve": None}).status == 202
        _settled(env, sid, "SHELVED_OFFLOADED")
        [again] = _named(env, f"{name}-shelved")
        assert again["id"] != image["id"]
    finally:
        _delete(env, sid)
    wait_until(lambda: _image(env, again["id"]) is None, what="the shelved image deleted with the server")


# --- 4. flavor create with a numeric id ----------------------------------------------------------------------


def test_flavor_create_takes_a_number_or_null_as_id(env: Env) -> None:
    flavors = env.admin.url("compute") + "/flavors"
    number = random.randint(10**8, 10**9)
    body = {"flavor": {"name": _name("flv"), "id": number, "ram": 128, "vcpus": 1, "disk": 1}}
    created = env.admin.call("POST", flavors, body)
    try:
        assert created.status == 200, created.raw
        assert created.body["flavor"]["id"] == str(number)  # stored and answered as a string
        assert env.admin.call("GET", f"{flavors}/{number}").body["flavor"]["name"] == body["flavor"]["name"]
        generated = env.admin.call("POST", flavors, {"flavor": {**body["flavor"], "name": _name("flv"), "id": None}})
        assert generated.status == 200 and uuid.UUID(generated.body["flavor"]["id"])
        env.admin.call("DELETE", f"{flavors}/{generated.body['flavor']['id']}")
        refused = env.admin.call("POST", flavors, {"flavor": {**body["flavor"], "name": _name("flv"), "id": True}})
        _fault(refused, 400, "badRequest", "True is not of type 'string', 'number', 'null'")
        dup = env.admin.call("POST", flavors, {"flavor": {**body["flavor"], "name": _name("flv"), "id": str(number)}})
        _fault(dup, 409, "conflictingRequest", f"Flavor with ID {number} already exists.")
    finally:
        env.admin.call("DELETE", f"{flavors}/{number}")
    assert env.admin.call("GET", f"{flavors}/{number}").status == 404


# --- 5. Nova's image proxy API -------------------------------------------------------------------------------


def test_image_proxy_answers_up_to_2_35_and_404_from_2_36(env: Env) -> None:
    images = f"{env.nova}/images"
    glance_image = _image(env, env.image_id)
    assert glance_image is not None
    for version in ("2.1", "2.35"):
        listed = env.demo.call("GET", f"{images}?name={env.cloud.image_name}", headers=mv(version))
        assert listed.status == 200
        [brief] = listed.body["images"]
        assert set(brief) == {"id", "name", "links"} and brief["id"] == env.image_id
        assert [link["rel"] for link in brief["links"]] == ["self", "bookmark", "alternate"]
        assert brief["links"][0]["href"].endswith(f"/v2.1/images/{env.image_id}")
        assert brief["links"][2]["type"] == "application/vnd.openstack.image"
        shown = env.demo.call("GET", f"{images}/{env.image_id}", headers=mv(version))
        assert shown.status == 200
        image = shown.body["image"]
        assert (image["status"], image["progress"], image["OS-EXT-IMG-SIZE:size"]) == (
            "ACTIVE", 100, glance_image["size"],
        )  # fmt: skip
        assert image["minDisk"] == glance_image["min_disk"] and image["minRam"] == glance_image["min_ram"]
        assert image["name"] == env.cloud.image_name and isinstance(image["metadata"], dict)
        assert "id" not in image["metadata"] and "status" not in image["metadata"]
        assert image["created"].endswith("Z") and "server" not in image
        detail = env.demo.call("GET", f"{images}/detail?name={env.cloud.image_name}", headers=mv(version))
        assert detail.body["images"] == [image]
    paged = env.demo.call("GET", f"{images}?limit=1", headers=mv("2.35")).body
    assert len(paged["images"]) == 1 and paged["images_links"][0]["rel"] == "next"
    assert f"marker={paged['images'][0]['id']}" in paged["images_links"][0]["href"]
    for path in ("", "/detail", f"/{env.image_id}"):
        _fault(env.demo.call("GET", images + path, headers=mv("2.36")), 404, "itemNotFound")
    _fault(
        env.demo.call("GET", f"{images}/{uuid.uuid4()}", headers=mv("2.35")), 404, "itemNotFound", "Image not found."
    )


def test_image_metadata_proxy_up_to_2_38_writes_glance(env: Env) -> None:
    name = _name("proxy")
    fields = {"name": name, "disk_format": "raw", "container_format": "bare", "flavour": "vanilla"}
    made = env.demo.call("POST", f"{env.glance}/images", fields)
    assert made.status == 201, made.raw
    image_id = made.body["id"]
    meta = f"{env.nova}/images/{image_id}/metadata"
    try:
        queued = env.demo.call("GET", f"{env.nova}/images/{image_id}", headers=mv("2.35")).body["image"]
        assert (queued["status"], queued["progress"], queued["OS-EXT-IMG-SIZE:size"]) == ("SAVING", 25, 0)
        assert env.demo.call("GET", meta, headers=mv("2.38")).body == {"metadata": {"flavour": "vanilla"}}
        merged = env.demo.call("POST", meta, {"metadata": {"colour": "red"}}, headers=mv("2.38"))
        assert merged.status == 200 and merged.body == {"metadata": {"flavour": "vanilla", "colour": "red"}}
        item = env.demo.call("PUT", f"{meta}/colour", {"meta": {"colour": "blue"}}, headers=mv("2.38"))
        assert item.status == 200 and item.body == {"meta": {"colour": "blue"}}
        assert env.demo.call("GET", f"{meta}/colour").body == {"meta": {"colour": "blue"}}
        mismatch = env.demo.call("PUT", f"{meta}/colour", {"meta": {"shade": "x"}})
        _fault(mismatch, 400, "badRequest", "Request body and URI mismatch")
        assert env.demo.call("DELETE", f"{meta}/flavour").status == 204
        glance = _image(env, image_id)
        assert glance is not None and glance["colour"] == "blue" and "flavour" not in glance
        _fault(env.demo.call("DELETE", f"{meta}/flavour"), 404, "itemNotFound", "Invalid metadata key")
        replaced = env.demo.call("PUT", meta, {"metadata": {"only": "this"}}, headers=mv("2.38"))
        assert replaced.body == {"metadata": {"only": "this"}}
        glance = _image(env, image_id)
        assert glance is not None and glance.get("only") == "this" and "colour" not in glance
        _fault(env.demo.call("GET", meta, headers=mv("2.39")), 404, "itemNotFound")
        # a public image the member does not own: Glance refuses, Nova answers 403
        public = env.demo.call("POST", f"{env.nova}/images/{env.image_id}/metadata", {"metadata": {"a": "b"}})
        _fault(public, 403, "forbidden", f"Not authorized for image {env.image_id}.")
        assert "a" not in (_image(env, env.image_id) or {})
        deleted = env.demo.call("DELETE", f"{env.nova}/images/{image_id}", headers=mv("2.35"))
        assert deleted.status == 204 and _image(env, image_id) is None
    finally:
        env.demo.call("DELETE", f"{env.glance}/images/{image_id}")


# --- 6. os-quota-class-sets ----------------------------------------------------------------------------------

_QUOTAS = {
    "cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
    "injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_groups", "security_group_rules",
}  # fmt: skip
_NETWORK = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
_FILES = {"injected_file_content_bytes", "injected_file_path_bytes", "injected_files"}
_GROUPS = {"server_groups", "server_group_members"}


def test_quota_class_sets_show_and_update_for_admins(env: Env) -> None:
    classes = env.admin.url("compute") + "/os-quota-class-sets"
    for version, keys in (
        ("2.1", _QUOTAS),
        ("2.50", (_QUOTAS - _NETWORK) | _GROUPS),
        ("2.57", (_QUOTAS - _NETWORK - _FILES) | _GROUPS),
    ):
        shown = env.admin.call("GET", f"{classes}/default", headers=mv(version))
        assert shown.status == 200 and set(shown.body["quota_class_set"]) == keys | {"id"}, shown.body
        assert shown.body["quota_class_set"]["id"] == "default"
    # a class of its own (the `default` one is every project's default quota: devcloud-only test below)
    name = _name("class")
    updated = env.admin.call(
        "PUT", f"{classes}/{name}", {"quota_class_set": {"cores": 7, "ram": "1024"}}, headers=mv("2.57")
    )
    assert updated.status == 200, updated.raw
    body = updated.body["quota_class_set"]
    assert set(body) == (_QUOTAS - _NETWORK - _FILES) | _GROUPS and (body["cores"], body["ram"]) == (7, 1024)
    again = env.admin.call("GET", f"{classes}/{name}", headers=mv("2.57")).body["quota_class_set"]
    assert (again["id"], again["cores"], again["ram"]) == (name, 7, 1024)
    _fault(
        env.admin.call("PUT", f"{classes}/{name}", {"quota_class_set": {"cores": -2}}),
        400, "badRequest", "-2 is less than the minimum of -1",
    )  # fmt: skip
    _fault(
        env.admin.call("PUT", f"{classes}/{name}", {"quota_class_set": {"floating_ips": 1}}, headers=mv("2.50")),
        400, "badRequest", "Additional properties are not allowed ('floating_ips' was unexpected)",
    )  # fmt: skip
    _fault(
        env.demo.call("GET", f"{env.nova}/os-quota-class-sets/default"),
        403, "forbidden", "os_compute_api:os-quota-class-sets:show",
    )  # fmt: skip
    member_put = env.demo.call("PUT", f"{env.nova}/os-quota-class-sets/default", {"quota_class_set": {"cores": 1}})
    _fault(member_put, 403, "forbidden", "os_compute_api:os-quota-class-sets:update")


def test_the_default_quota_class_is_every_projects_default(devcloud: TestCloud, env: Env) -> None:
    classes = env.admin.url("compute") + "/os-quota-class-sets/default"
    defaults = f"{env.nova}/os-quota-sets/{env.demo.project_id}/defaults"
    before = env.demo.call("GET", defaults).body["quota_set"]["metadata_items"]
    try:
        assert env.admin.call("PUT", classes, {"quota_class_set": {"metadata_items": 77}}).status == 200
        assert env.demo.call("GET", defaults).body["quota_set"]["metadata_items"] == 77
        limits = env.demo.call("GET", f"{env.nova}/limits").body["limits"]["absolute"]
        assert limits["maxServerMeta"] == 77
    finally:
        env.admin.call("PUT", classes, {"quota_class_set": {"metadata_items": before}})
    assert env.demo.call("GET", defaults).body["quota_set"]["metadata_items"] == before


# --- 7. x509 key pairs ---------------------------------------------------------------------------------------


def test_x509_key_pairs_are_generated_from_2_2_to_2_91(env: Env) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    keypairs = f"{env.nova}/os-keypairs"
    for version in ("2.2", "2.91"):
        name = _name("x509")
        reply = env.demo.call("POST", keypairs, {"keypair": {"name": name, "type": "x509"}}, headers=mv(version))
        try:
            assert reply.status == 201, reply.raw
            kp = reply.body["keypair"]
            assert set(kp) == {"name", "public_key", "fingerprint", "user_id", "type", "private_key"}
            assert kp["type"] == "x509" and kp["user_id"] == env.demo.user_id
            cert = x509.load_pem_x509_certificate(kp["public_key"].encode())
            assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == env.demo.user_id
            sha1 = hashlib.sha1(ssl.PEM_cert_to_DER_cert(kp["public_key"])).hexdigest()  # noqa: S324 - Nova's
            assert kp["fingerprint"] == ":".join(sha1[i : i + 2] for i in range(0, 40, 2))
            assert base64.b64decode(kp["private_key"])[:1] == b"\x30"  # a PKCS#12 (DER) blob
            shown = env.demo.call("GET", f"{keypairs}/{name}", headers=mv(version)).body["keypair"]
            assert (shown["type"], shown["public_key"], shown["fingerprint"]) == ("x509", kp["public_key"],
                                                                                  kp["fingerprint"])  # fmt: skip
        finally:
            env.demo.call("DELETE", f"{keypairs}/{name}")
    at_292 = env.demo.call("POST", keypairs, {"keypair": {"name": _name("x509"), "type": "x509"}}, headers=mv("2.92"))
    _fault(at_292, 400, "badRequest", "'public_key' is a required property")
    at_21 = env.demo.call("POST", keypairs, {"keypair": {"name": _name("x509"), "type": "x509"}})
    _fault(at_21, 400, "badRequest", "Additional properties are not allowed ('type' was unexpected)")


# --- 8. the compute version list -----------------------------------------------------------------------------


def test_the_compute_version_list_has_v2_0_and_v2_1(env: Env) -> None:
    from tests.devcloud import call

    root = env.nova.rsplit("/v2.1", 1)[0]
    reply = call("GET", root + "/")
    assert reply.status == 200
    versions = reply.body["versions"]
    assert [(v["id"], v["status"]) for v in versions] == [("v2.0", "DEPRECATED"), ("v2.1", "CURRENT")]
    for v in versions:
        assert set(v) == {"id", "status", "version", "min_version", "updated", "links"}
    assert versions[0]["links"] == [{"rel": "self", "href": root + "/v2/"}]
    assert versions[1]["links"] == [{"rel": "self", "href": root + "/v2.1/"}]
    assert (versions[0]["version"], versions[0]["min_version"]) == ("", "")
    assert versions[1]["min_version"] == "2.1" and versions[1]["version"].startswith("2.")
    legacy = call("GET", root + "/v2/")
    assert legacy.status == 200 and legacy.body["version"]["id"] == "v2.0"
    assert legacy.body["version"]["links"][0] == {"rel": "self", "href": root + "/v2/"}


# --- 9. os-getConsoleOutput `length` -------------------------------------------------------------------------


def test_console_output_length_is_novas_tail(env: Env) -> None:
    sid = _boot(env)
    try:
        whole = _action(env, sid, {"os-getConsoleOutput": {}})
        assert whole.status == 200 and set(whole.body) == {"output"}
        pieces = whole.body["output"].split("\n")
        assert len(pieces) > 3
        for length in (1, 2, 5, "3"):
            reply = _action(env, sid, {"os-getConsoleOutput": {"length": length}})
            assert reply.body["output"] == "\n".join(pieces[-int(length) :]), length
        assert _action(env, sid, {"os-getConsoleOutput": {"length": 0}}).body["output"] == ""
        # -1, "unlimited" in the API reference, is pieces[1:] in Nova's code: every line but the first
        assert _action(env, sid, {"os-getConsoleOutput": {"length": -1}}).body["output"] == "\n".join(pieces[1:])
        _fault(
            _action(env, sid, {"os-getConsoleOutput": {"length": -2}}),
            400, "badRequest", "-2 is less than the minimum of -1",
        )  # fmt: skip
    finally:
        _delete(env, sid)


# --- 10. accessIPv6 ------------------------------------------------------------------------------------------


def test_access_ipv6_is_stored_and_answered_compressed(env: Env) -> None:
    sid = _boot(env, accessIPv4="192.0.2.7", accessIPv6="2001:DB8:0:0:0:0:0:1")
    try:
        shown = _server(env, sid)
        assert shown is not None and (shown["accessIPv4"], shown["accessIPv6"]) == ("192.0.2.7", "2001:db8::1")
        updated = env.demo.call("PUT", f"{env.nova}/servers/{sid}", {"server": {"accessIPv6": "FE80:0:0:0:0:0:0:5"}})
        assert updated.status == 200 and updated.body["server"]["accessIPv6"] == "fe80::5"
        assert _server(env, sid)["accessIPv6"] == "fe80::5"  # type: ignore[index]
        for bad in ("not-an-ip", "", "192.0.2.1"):
            refused = env.demo.call("PUT", f"{env.nova}/servers/{sid}", {"server": {"accessIPv6": bad}})
            _fault(refused, 400, "badRequest", f"{bad!r} is not a 'ipv6'")
        _fault(
            env.demo.call("PUT", f"{env.nova}/servers/{sid}", {"server": {"accessIPv4": "2001:db8::1"}}),
            400, "badRequest", "'2001:db8::1' is not a 'ipv4'",
        )  # fmt: skip
        assert _server(env, sid)["accessIPv6"] == "fe80::5"  # type: ignore[index]
        rebuilt = _action(env, sid, {"rebuild": {"imageRef": env.image_id, "accessIPv6": "2001:0db8:0000::0002"}})
        assert rebuilt.status == 202 and rebuilt.body["server"]["accessIPv6"] == "2001:db8::2"
        _settled(env, sid, "ACTIVE")
    finally:
        _delete(env, sid)
    body = {"name": _name("v6"), "imageRef": env.image_id, "flavorRef": env.flavor_id, "networks": "none",
            "accessIPv6": "nope"}  # fmt: skip
    _fault(env.demo.call("POST", f"{env.nova}/servers", {"server": body}, headers=mv("2.37")), 400, "badRequest",
           "'nope' is not a 'ipv6'")  # fmt: skip
